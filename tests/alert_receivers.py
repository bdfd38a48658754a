"""Real far ends for alerts, started by a test: an HTTP receiver for webhooks and an SMTP
server (aiosmtpd) for email, both on 127.0.0.1 and a free port, each in its own thread.

    with WebhookReceiver() as hooks, SmtpSink() as mail:
        hooks.url                      # subscribe this as a webhook
        hooks.answer_next(500, 500)    # the next two POSTs get HTTP 500, then 200 again
        hooks.answer_body = b"..."     # what every answer carries (a 3xx also says Location: /redirected)
        hooks.wait_for("switched")     # -> the POSTs of that event (polls, with a timeout)
        mail.wait_for(lambda m: "switched" in m["Subject"])

The signature is checked here from its definition (HMAC-SHA256 with the subscription's
secret over ``<X-Lifeboat-Timestamp>.<raw body>``), not with lifeboat's own function, so
a wrong signature cannot pass by agreeing with itself.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar

from aiosmtpd.controller import Controller

WAIT_S = 30
T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition: threading.Condition, check: Callable[[], T], timeout: float, what: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    with condition:
        while not (value := check()):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what()}")
            condition.wait(left)
        return value


# ------------------------------------------------------------------------------ webhooks


@dataclass(frozen=True)
class Delivery:
    """One POST the receiver got, and the status it answered."""

    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    answered: int
    at: float  # time.time() when it arrived
    observed: Any = None  # what the receiver's ``observe`` saw while the sender waited

    @property
    def event(self) -> str:
        return self.json()["event"]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signature_is_valid(self, secret: str) -> bool:
        stamp = self.headers.get("x-lifeboat-timestamp", "")
        expected = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-lifeboat-signature", ""))


class WebhookReceiver:
    """``http.server`` in a thread: records every POST and answers 200, or the statuses
    queued with ``answer_next``. ``observe``, if set, is called as each POST arrives (before
    the answer), e.g. to read what the sender's database shows at that moment."""

    def __init__(self) -> None:
        self.observe: Callable[[], Any] | None = None
        self.answer_body = b""
        self.deliveries: list[Delivery] = []
        self._statuses: deque[int] = deque()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="webhook-receiver", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/lifeboat"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def answer_next(self, *statuses: int) -> None:
        with self._changed:
            self._statuses.extend(statuses)

    def of(self, event: str) -> list[Delivery]:
        with self._changed:
            return [d for d in self.deliveries if d.event == event]

    def wait_for(self, event: str, count: int = 1, timeout: float = WAIT_S) -> list[Delivery]:
        """The deliveries of ``event`` once there are at least ``count`` of them."""

        def enough() -> list[Delivery] | None:
            found = [d for d in self.deliveries if d.event == event]
            return found if len(found) >= count else None

        return _wait(
            self._changed,
            enough,
            timeout,
            lambda: f"{count} webhook POST(s) of {event!r} (got {[d.event for d in self.deliveries]})",
        )

    def _record(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        observed = self.observe() if self.observe else None
        with self._changed:
            status = self._statuses.popleft() if self._statuses else 200
        handler.send_response(status)
        if 300 <= status < 400:
            handler.send_header("Location", "/redirected")
        handler.send_header("Content-Length", str(len(self.answer_body)))
        handler.end_headers()
        handler.wfile.write(self.answer_body)
        delivery = Delivery(
            handler.path, {k.lower(): v for k, v in handler.headers.items()}, body, status, time.time(), observed
        )
        with self._changed:
            self.deliveries.append(delivery)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._record(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the test reports what matters

        return Handler


# ---------------------------------------------------------------------------------- email


class SmtpSink:
    """An aiosmtpd server that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._changed = threading.Condition()
        self.host, self.port = "127.0.0.1", free_port()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, match: Callable[[EmailMessage], bool], timeout: float = WAIT_S) -> EmailMessage:
        return _wait(
            self._changed,
            lambda: next((m for m in self.messages if match(m)), None),
            timeout,
            lambda: f"an email (got subjects {[m['Subject'] for m in self.messages]})",
        )
