"""Every HTTP request gets an id (taken from ``X-Request-ID`` when the caller sent a sane
one, made up otherwise), returned in the answer's ``X-Request-ID`` and carried by every log
line written while it is served. With ``access_log`` on, one line per request says route
template, method, status and duration — never the query string, where a careless client
might have put a secret. Every request is also counted for ``/metrics`` by the same route
template (never the path with its ids), method and status, with its latency."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lifeboat.logs import CURRENT, RequestInfo
from lifeboat.metrics import Metrics

HEADER = "x-request-id"
# What we echo back and log: short, and nothing a log reader's terminal could be tricked by.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger("lifeboat.requests")


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == HEADER.encode():
            text: str = value.decode("latin-1")
            if SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str | None:
    """``/api/v1/tenants/{tenant_id}/skills``, not the path with its ids; None before routing.

    The matched route knows its own template without the prefix of the router it was
    included with (``/tenants/{tenant_id}/skills``); that prefix is the rest of the path, as
    many segments shorter as the template has."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if not isinstance(template, str):
        return None
    if isinstance(route, Mount):
        return template + "/{path}"
    parts = str(scope.get("path", "")).split("/")
    return "/".join(parts[: len(parts) - template.count("/")]) + template


class RequestContext:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would copy the context away)."""

    def __init__(self, app: ASGIApp, *, access_log: bool = False, metrics: Metrics | None = None) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics  # counts every request by route template and status, with its latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id(scope), method=scope.get("method", ""))
        token = CURRENT.set(info)
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before starting a response

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER.encode(), info.id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            info.route = route_template(scope)
            duration_s = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.http_request(info.route, info.method, status, duration_s)
            if self.access_log or status >= 500:
                log.log(
                    logging.ERROR if status >= 500 else logging.INFO,
                    "%s %s %s",
                    info.method,
                    info.route or "(no route)",
                    status,
                    extra={"status": status, "duration_ms": round(duration_s * 1000, 1)},
                )
            CURRENT.reset(token)
