"""Failed logins slow guessing down, per username and per client address.

The rules are ``domain.throttle``'s; what they remember lives in the directory
(``login_failures``), so every replica sees the same locks. A locked key is answered
``429 too_many_attempts`` with ``Retry-After`` before any password is checked, and that
refusal records nothing more (else a lock would never end). Unknown usernames are counted
like known ones: a lock tells nothing about whether a name exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lifeboat.bootstrap import Platform
from lifeboat.config import Settings
from lifeboat.domain.throttle import (
    ADDRESS,
    USERNAME,
    Failures,
    Policy,
    address_key,
    after_failure,
    retry_after_s,
    username_key,
)
from lifeboat.errors import TooManyRequests
from lifeboat.store.tables import now
from lifeboat.store.throttle import Key
from lifeboat.store.units import DirectoryUnit


def policies(settings: Settings) -> dict[str, Policy]:
    window, lockout = timedelta(seconds=settings.login_window_s), timedelta(seconds=settings.login_lockout_s)
    longest = timedelta(seconds=settings.login_lockout_max_s)
    return {
        USERNAME: Policy(settings.login_max_failures_per_username, window, lockout, longest),
        ADDRESS: Policy(settings.login_max_failures_per_address, window, lockout, longest),
    }


@dataclass
class LoginGuard:
    """The throttle around one login attempt: ``check`` before, then ``failed`` or ``succeeded``."""

    platform: Platform
    username: str
    keys: list[Key]
    known: dict[Key, Failures] = field(default_factory=dict)

    @classmethod
    def of(cls, platform: Platform, username: str, address: str | None) -> LoginGuard:
        keys = [(USERNAME, username_key(username))]
        if (client := address_key(address)) is not None:
            keys.append((ADDRESS, client))
        return cls(platform, username, sorted(keys))  # one locking order for every replica

    def check(self) -> None:
        with self.platform.directory_unit(write=False) as uow:
            self.known = uow.login_failures.of(self.keys)
        stamp = now()
        waits = {key[0]: retry_after_s(self.known.get(key), stamp) for key in self.keys}
        locked = {scope: wait for scope, wait in waits.items() if wait is not None}
        if locked:
            wait = max(locked.values())
            raise TooManyRequests(
                f"Too many failed logins from this {' and '.join(sorted(locked))}; try again in {wait} seconds.",
                code="too_many_attempts",
                details={"retry_after_s": wait, "scopes": sorted(locked)},
            )

    def failed(self) -> None:
        rules = policies(self.platform.settings)
        stamp = now()
        with self.platform.directory_unit() as uow:
            repo = uow.login_failures
            for key in self.keys:
                before = repo.locked(key, stamp)
                after = after_failure(before, stamp, rules[key[0]])
                repo.put(key, after, after.forgotten_at(rules[key[0]].window))
                if after.locked_until is not None and (before is None or before.locked_until != after.locked_until):
                    self._audit_lock(uow, key, after.locked_until, after)
            repo.prune(stamp)

    def succeeded(self) -> None:
        """A right password forgets the username's failures (not the address's: one good
        account must not buy an address more guesses at others)."""
        key = (USERNAME, username_key(self.username))
        if key in self.known:
            with self.platform.directory_unit() as uow:
                uow.login_failures.forget(key)

    def _audit_lock(self, uow: DirectoryUnit, key: Key, until: datetime, failures: Failures) -> None:
        uow.audit(
            f"login:{self.username[:200]}",
            "login.locked",
            details={"scope": key[0], "key": key[1], "until": until.isoformat(), "locks": failures.locks},
        )
