"""Which network addresses a webhook may reach: pure rules over ``ipaddress`` values.

A tenant administrator chooses webhook targets, and lifeboat's servers make the request,
so a target inside the platform's own network (loopback, a private range, the cloud
metadata service on link-local) would let a tenant probe what lifeboat can reach. These
rules decide per address; ``services.webhook_targets`` applies them to every address a
name resolves to, at subscribe time and again just before connecting.

An address is judged by what it finally reaches: an IPv4-mapped IPv6 address
(``::ffff:127.0.0.1``), a NAT64 address (``64:ff9b::7f00:1``) and a 6to4 address
(``2002:7f00:1::``) all carry an IPv4 address that decides with the address itself.

``edge_rpc_problem`` is the rule for a voice edge's RPC address, which lifeboat calls on
every switch: the inverse case, an address that must be inside the operator's networks.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Verdict = Literal["public", "private", "forbidden"]

NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the embedded IPv4 address decides
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: translation inside a site
# Ranges a receiver on the operator's own network may use when private networks are allowed.
PRIVATE_V4 = [
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8")
]
PRIVATE_V6 = [ipaddress.IPv6Network(n) for n in ("fc00::/7", "::1/128")]
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def verdict(ip: IPAddress) -> Verdict:
    """``public``: reachable on the internet; ``private``: a loopback or private range that
    an operator may allow for on-premises receivers; ``forbidden``: never (link-local and
    so the metadata service, multicast, unspecified, reserved, documentation ranges)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return _verdict_v4(ip)
    embedded = _embedded_v4(ip)
    if embedded is None:
        return verdict_of_v6(ip)
    transparent = ip.ipv4_mapped is not None or ip in NAT64_WELL_KNOWN  # 6to4 is judged as both
    return _worst(verdict(embedded), "public" if transparent else verdict_of_v6(ip))


def verdict_of_v6(ip: ipaddress.IPv6Address) -> Verdict:
    if ip.scope_id or ip in NAT64_LOCAL_USE:
        return "forbidden"
    if any(ip in net for net in PRIVATE_V6):
        return "private"
    if (
        ip.is_link_local
        or ip.is_site_local
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or not ip.is_global
    ):
        return "forbidden"
    return "public"


def _verdict_v4(ip: ipaddress.IPv4Address) -> Verdict:
    if any(ip in net for net in PRIVATE_V4):
        return "private"
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "forbidden"
    return "public"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour  # None unless 2002::/16


def _worst(*verdicts: Verdict) -> Verdict:
    order: tuple[Verdict, ...] = ("forbidden", "private", "public")
    return next(v for v in order if v in verdicts)


def allowed(ip: IPAddress, *, allow_private: bool) -> bool:
    found = verdict(ip)
    return found == "public" or (found == "private" and allow_private)


def is_local_name(host: str) -> bool:
    """Names that mean this machine whatever the resolver says (RFC 6761 ``.localhost``)."""
    name = host.lower().rstrip(".")
    return name in _LOCAL_NAMES or name.endswith(".localhost")


def literal_address(host: str) -> IPAddress | None:
    """The address a host names by itself, in any spelling a resolver accepts: dotted,
    decimal (``2130706433``), hex (``0x7f000001``), octal (``0177.0.0.1``), short
    (``127.1``), IPv6 with or without brackets. None for a name."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    return _inet_aton(text)


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    """The classic BSD ``inet_aton`` forms: 1 to 4 parts, each decimal, octal (leading 0)
    or hex (0x); the last part fills the bytes that are left."""
    parts = text.split(".")
    if text.endswith(".") and len(parts) > 1:
        parts = parts[:-1]  # "127.0.0.1." is a fully qualified spelling of the same address
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [n for n in (_number(p) for p in parts) if n is not None]
    if len(numbers) < len(parts):
        return None  # a part that is not a number
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    return ipaddress.IPv4Address((value << (8 * (5 - len(numbers)))) | last)


def _number(part: str) -> int | None:
    lowered = part.lower()
    try:
        if lowered.startswith("0x"):
            return int(lowered[2:] or "0", 16)
        if len(lowered) > 1 and lowered.startswith("0"):
            return int(lowered[1:], 8)
        return int(lowered, 10) if lowered.isdigit() else None
    except ValueError:
        return None


def edge_rpc_problem(host: str, networks: list[str]) -> str | None:
    """Why a voice edge's RPC may not be at ``host``, or None when it may.

    Any holder of a voice token registers an edge, and lifeboat calls the edge's RPC on every
    switch: the address is an IP literal in its plain spelling (no name to resolve elsewhere
    later, no ``0177.1`` to read twice) inside one of the operator's ``networks``.
    Link-local (the metadata service), multicast and unspecified addresses never are."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"{host or 'an empty host'} is not an IP address (an edge registers with its address, not a name)"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
        return f"{ip} is a link-local, multicast or unspecified address"
    if not any(ip in ipaddress.ip_network(n, strict=False) for n in networks):
        return f"{ip} is not in the networks an operator allows for edges (setting edge_rpc_networks)"
    return None
