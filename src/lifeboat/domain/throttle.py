"""Login throttling: how failed logins of one key (a username, a client address) lock it.

    failures within a window  ──limit reached──▶  locked for `lockout`
    lock over, another failure before a quiet window  ──▶  locked again, twice as long
    (capped at `lockout_max`); a whole quiet window (no failure, no lock) forgets the key

A quiet window starts at the last failure or at the end of the last lock, whichever is
later. Counting restarts at a window's end, but the lock count does not: an attacker who
waits out a lock gets one guess per (growing) lock, not ``limit`` new ones. A successful
login forgets the username's key (not the address's). Pure values and functions.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

USERNAME, ADDRESS = "username", "address"
MAX_KEY = 200
IPV6_PREFIX = 64  # one subscriber usually holds a whole /64


@dataclass(frozen=True)
class Policy:
    limit: int  # failures within ``window`` that lock the key
    window: timedelta
    lockout: timedelta  # the first lock; each next one doubles
    lockout_max: timedelta


@dataclass(frozen=True)
class Failures:
    """What is remembered of one key."""

    count: int  # failures in the current counting window
    window_started_at: datetime
    locks: int  # locks since the key was last quiet
    locked_until: datetime | None
    last_failure_at: datetime

    def forgotten_at(self, window: timedelta) -> datetime:
        """When this key has been quiet for a whole window and can be forgotten."""
        return max(self.last_failure_at, self.locked_until or self.last_failure_at) + window


def after_failure(known: Failures | None, now: datetime, policy: Policy) -> Failures:
    """The key's state after one more failed login at ``now``."""
    if known is None or now >= known.forgotten_at(policy.window):
        known = Failures(0, now, 0, None, now)
    elif known.locks == 0 and now >= known.window_started_at + policy.window:
        known = Failures(0, now, 0, None, known.last_failure_at)
    count = known.count + 1
    if known.locks == 0 and count < policy.limit:
        return Failures(count, known.window_started_at, 0, None, now)
    locks = known.locks + 1
    lock = min(policy.lockout * 2 ** (locks - 1), policy.lockout_max)
    return Failures(count, known.window_started_at, locks, now + lock, now)


def retry_after_s(known: Failures | None, now: datetime) -> int | None:
    """Whole seconds until the key may try again, or None when it is not locked."""
    if known is None or known.locked_until is None or known.locked_until <= now:
        return None
    return max(1, math.ceil((known.locked_until - now).total_seconds()))


def username_key(username: str) -> str:
    return username.strip().lower()[:MAX_KEY]


def address_key(address: str | None) -> str | None:
    """The key of a client address: IPv4 as it is, IPv6 by its /64, anything else as given."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:MAX_KEY]  # a test client or a unix socket: still one client
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return str(ip)
