"""The switchover state machine and the passkey lockout (lifeboat.domain.switchover, SPEC §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lifeboat.domain.switchover import SwitchState, locked_until, transition
from lifeboat.errors import Conflict, Invalid

T0 = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def minutes(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


# --------------------------------------------------------------------------- transitions


def test_switching_from_primary_to_bcp_is_a_switch_and_raises_the_epoch():
    state, event = transition(SwitchState("primary", 0), "bcp")

    assert (state, event) == (SwitchState("bcp", 1), "switched")


def test_reverting_from_bcp_to_primary_is_a_revert_and_raises_the_epoch():
    state, event = transition(SwitchState("bcp", 7), "primary")

    assert (state, event) == (SwitchState("primary", 8), "reverted")


def test_switch_and_revert_raise_the_epoch_every_time():
    state = SwitchState("primary", 0)
    events = []
    for to in ("bcp", "primary", "bcp", "primary"):
        state, event = transition(state, to)
        events.append(event)

    assert state == SwitchState("primary", 4)
    assert events == ["switched", "reverted", "switched", "reverted"]


def test_transition_leaves_the_state_it_was_given_alone():
    before = SwitchState("primary", 3)

    transition(before, "bcp")

    assert before == SwitchState("primary", 3)


@pytest.mark.parametrize("side", ["primary", "bcp"])
def test_switching_to_the_side_already_active_is_a_conflict(side):
    with pytest.raises(Conflict) as raised:
        transition(SwitchState(side, 5), side)

    assert raised.value.code == "already_active"
    assert raised.value.details == {"active_side": side, "epoch": 5}


@pytest.mark.parametrize("target", ["BCP", "Primary", "", "sideways", None, 1, ["bcp"]])
def test_a_target_that_is_not_a_side_is_invalid(target):
    with pytest.raises(Invalid) as raised:
        transition(SwitchState("primary", 0), target)

    assert raised.value.code == "validation_failed"
    assert [e["field"] for e in raised.value.details["errors"]] == ["to"]


# --------------------------------------------------------------------------- lockout


def test_no_wrong_passkey_locks_nothing():
    assert locked_until([], T0) is None


def test_four_wrong_passkeys_do_not_lock():
    tries = minutes(0, 1, 2, 3)

    assert locked_until(tries, T0 + timedelta(minutes=3, seconds=1)) is None


def test_five_wrong_passkeys_within_15_minutes_lock_for_15_minutes_from_the_fifth():
    tries = minutes(0, 3, 6, 9, 14)
    fifth = tries[-1]

    assert locked_until(tries, fifth) == fifth + timedelta(minutes=15)
    assert locked_until(tries, fifth + timedelta(minutes=14, seconds=59)) == fifth + timedelta(minutes=15)


def test_five_quick_wrong_passkeys_lock():
    tries = [T0 + timedelta(seconds=s) for s in range(5)]

    assert locked_until(tries, tries[-1]) == tries[-1] + timedelta(minutes=15)


def test_the_lock_ends_15_minutes_after_the_fifth_wrong_passkey():
    tries = minutes(0, 1, 2, 3, 4)

    assert locked_until(tries, tries[-1] + timedelta(minutes=15)) is None
    assert locked_until(tries, tries[-1] + timedelta(hours=3)) is None


def test_five_wrong_passkeys_spread_over_16_minutes_do_not_lock():
    tries = minutes(0, 4, 8, 12, 16)

    assert locked_until(tries, tries[-1]) is None


def test_a_sixth_wrong_passkey_within_15_minutes_of_the_second_locks_from_the_sixth():
    tries = minutes(0, 10, 11, 12, 16, 20)  # 0..16 spans 16 minutes; 10..20 spans 10

    assert locked_until(tries, tries[-1]) == tries[-1] + timedelta(minutes=15)


def test_the_order_in_which_wrong_tries_are_given_does_not_matter():
    tries = minutes(0, 1, 2, 3, 4)

    assert locked_until(list(reversed(tries)), tries[-1]) == tries[-1] + timedelta(minutes=15)
