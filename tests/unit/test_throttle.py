"""Login throttling rules (domain.throttle) with plain values and a hand-moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lifeboat.domain.throttle import Policy, address_key, after_failure, retry_after_s, username_key

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
POLICY = Policy(limit=3, window=timedelta(minutes=15), lockout=timedelta(minutes=1), lockout_max=timedelta(minutes=5))


def fail(times: list[datetime], known=None):
    for at in times:
        known = after_failure(known, at, POLICY)
    return known


def seconds(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in offsets]


def test_failures_below_the_limit_do_not_lock():
    known = fail(seconds(0, 1))

    assert known.count == 2 and retry_after_s(known, T0 + timedelta(seconds=2)) is None


def test_the_limit_within_the_window_locks_for_the_lockout():
    known = fail(seconds(0, 1, 2))

    assert known.locked_until == T0 + timedelta(seconds=62)
    assert retry_after_s(known, T0 + timedelta(seconds=2)) == 60
    assert retry_after_s(known, T0 + timedelta(seconds=61.5)) == 1  # rounded up, never 0
    assert retry_after_s(known, T0 + timedelta(seconds=62)) is None


def test_failures_spread_over_more_than_a_window_do_not_lock():
    known = fail(seconds(0, 600, 1000, 1400))  # never 3 within 15 minutes

    assert known.locks == 0 and known.locked_until is None


def test_after_a_lock_each_failure_locks_again_twice_as_long_up_to_the_maximum():
    known = fail(seconds(0, 1, 2))
    locks = []
    at = known.locked_until
    for _ in range(5):
        known = after_failure(known, at, POLICY)
        locks.append((known.locked_until - at).total_seconds())
        at = known.locked_until

    assert locks == [120, 240, 300, 300, 300]


def test_a_quiet_window_after_the_last_lock_forgets_everything():
    known = fail(seconds(0, 1, 2))
    later = known.locked_until + POLICY.window

    known = after_failure(known, later, POLICY)

    assert (known.count, known.locks, known.locked_until) == (1, 0, None)


def test_a_failure_just_before_the_quiet_window_ends_still_locks():
    known = fail(seconds(0, 1, 2))

    known = after_failure(known, known.locked_until + POLICY.window - timedelta(seconds=1), POLICY)

    assert known.locks == 2


def test_nothing_known_is_not_locked():
    assert retry_after_s(None, T0) is None


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),  # same /64: same client
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, None),
        ("", None),
    ],
)
def test_client_addresses_are_keyed_by_what_one_client_holds(address, key):
    assert address_key(address) == key


def test_usernames_are_keyed_as_logins_read_them():
    assert username_key("  Ada.Lovelace ") == "ada.lovelace"
    assert len(username_key("x" * 1000)) == 200
