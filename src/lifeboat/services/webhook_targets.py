"""Where a webhook may go, checked when it is subscribed and again when it is sent.

At subscribe time the target's host is read the way the HTTP client reads it, and a
literal address in any spelling, a ``localhost`` name, or a name resolving to any address
the rules of ``domain.addresses`` refuse, is refused. At delivery time the client connects
through ``GuardedBackend``: it resolves the name once, checks every address, and connects
to an address it checked -- so a name that resolves elsewhere since (DNS rebinding) cannot
slip through between a check and the connection. The URL keeps its name, so the ``Host``
header and the TLS server name (SNI, certificate check) stay the name's. Redirects are
never followed: a 3xx is a failed delivery, not a second request to a place never checked.

What a tenant reads back about a failed delivery is its class only ("not delivered: HTTP
5xx", "... connection failed", "... timed out"): the body or the error of whatever
answered is exactly what would make the webhook a probe of the inside. The detail goes
to the server log.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2

from lifeboat.domain.addresses import IPAddress, allowed, is_local_name, literal_address
from lifeboat.errors import Invalid


class NotDelivered(Exception):
    """A delivery failed. ``str()`` is what the tenant may read; ``detail`` is for the log."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"not delivered: {reason}")
        self.detail = detail


class TargetNotAllowed(Exception):
    pass


def refuse_unless_allowed(url: str, *, allow_private: bool) -> None:
    """Subscribe time: 422 ``webhook_target_not_allowed`` for a target inside the network.

    A name that does not resolve now is accepted (its records may not be published yet);
    it is checked again, resolved, before every delivery."""
    try:
        parsed = httpx2.URL(url)
        host, port = parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)
        _allowed_addresses(host, port, allow_private=allow_private, unresolved_ok=True)
    except (TargetNotAllowed, httpx2.InvalidURL) as exc:
        raise Invalid(
            "Webhooks may only go to public internet addresses, not to loopback, private, link-local, multicast "
            "or reserved ones.",
            code="webhook_target_not_allowed",
            details={"errors": [{"field": "target", "code": "webhook_target_not_allowed", "message": str(exc)}]},
        ) from None


def _allowed_addresses(host: str, port: int, *, allow_private: bool, unresolved_ok: bool = False) -> list[IPAddress]:
    """Every address ``host`` stands for, all of them allowed; raises ``TargetNotAllowed``."""
    if not host or "%" in host or is_local_name(host):
        raise TargetNotAllowed(f"{host or 'an empty host'} names this machine or a local interface")
    literal = literal_address(host)
    addresses = [literal] if literal is not None else _resolve(host, port, unresolved_ok=unresolved_ok)
    for address in addresses:
        if not allowed(address, allow_private=allow_private):
            raise TargetNotAllowed(f"{host} is or resolves to an address that is not allowed")
    return addresses


def _resolve(host: str, port: int, *, unresolved_ok: bool) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        if unresolved_ok:
            return []
        raise OSError(f"cannot resolve {host}: {exc}") from None
    found: list[IPAddress] = []
    for *_, sockaddr in infos:
        address = literal_address(str(sockaddr[0]))
        if address is None:  # getaddrinfo only answers addresses; anything else is not trusted
            raise TargetNotAllowed(f"{host} resolved to something that is not an address")
        if address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore2.SyncBackend):
    """The client's only way to open a TCP connection: to an address checked just now."""

    def __init__(self, *, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        addresses = _allowed_addresses(host, port, allow_private=self.allow_private)
        last_error: Exception | None = None
        for address in addresses:  # like a resolver-driven connect: the next address when one refuses
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore2.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore2.ConnectError(f"no address for {host}")


class _GuardedTransport(httpx2.HTTPTransport):
    def __init__(self, *, allow_private: bool):
        super().__init__(trust_env=False)  # no proxy from the environment: the guard must see the real far end
        # httpx2's transport takes no network backend, so its pool is replaced by one that
        # connects only through the guard (same TLS settings as the transport's own).
        self._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(trust_env=False),
            network_backend=GuardedBackend(allow_private=allow_private),
        )


def post(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float, allow_private: bool) -> None:
    """POST once; raises ``NotDelivered`` unless the far end answered 2xx."""
    host = _host_for_log(url)
    try:
        with httpx2.Client(
            transport=_GuardedTransport(allow_private=allow_private),
            follow_redirects=False,
            trust_env=False,
            timeout=timeout_s,
        ) as client:
            response = client.post(url, content=body, headers=headers)
    except TargetNotAllowed as exc:
        raise NotDelivered("target not allowed", f"{host}: {exc}") from None
    except httpx2.TimeoutException as exc:
        raise NotDelivered("timed out", f"{host}: {type(exc).__name__} {exc}") from None
    except (httpx2.TransportError, OSError) as exc:
        raise NotDelivered("connection failed", f"{host}: {type(exc).__name__} {exc}") from None
    if not 200 <= response.status_code < 300:
        raise NotDelivered(
            f"HTTP {response.status_code // 100}xx",
            f"{host} answered HTTP {response.status_code}"
            + (" (redirects are not followed)" if 300 <= response.status_code < 400 else ""),
        )


def _host_for_log(url: str) -> str:
    """The host and port only: a URL's path or query may carry the receiver's own token."""
    try:
        parsed = httpx2.URL(url)
        return f"{parsed.host}:{parsed.port or parsed.scheme}"
    except httpx2.InvalidURL:
        return "an unreadable URL"
