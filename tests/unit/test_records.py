"""The shared records' enums (lifeboat.domain.records): each member is the very string the
database, the JSON and the CLI held before there were enums."""

from __future__ import annotations

import json

import pytest

from lifeboat.domain.records import FINISHED, AlertEvent, ChangeAction, RunStatus, Side, Trigger
from lifeboat.domain.switchover import SwitchState, transition
from lifeboat.sync.model import COUNT_KEYS, Change, Plan


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (RunStatus, ["queued", "running", "succeeded", "failed", "held"]),
        (Trigger, ["manual", "scheduled", "enable"]),
        (ChangeAction, ["delete", "adopt", "create", "update", "deactivate"]),
        (Side, ["primary", "bcp"]),
        (
            AlertEvent,
            [
                "sync_failed",
                "sync_held",
                "sync_stale",
                "sync_fresh",
                "switched",
                "reverted",
                "region_down",
                "region_up",
                "passkey_locked",
                "test",
                "drill_started",
                "drill_ended",
            ],
        ),
    ],
)
def test_every_member_is_the_string_stored_before(enum, values):
    assert [m.value for m in enum] == values
    for member, value in zip(enum, values):
        assert member == value and enum(value) is member
        assert f"{member}" == str(member) == value
        assert json.dumps({"k": member, "l": [member]}) == json.dumps({"k": value, "l": [value]})


def test_a_run_is_finished_once_it_succeeded_failed_or_was_held():
    assert {s for s in RunStatus if s.is_finished} == set(FINISHED) == {"succeeded", "failed", "held"}


def test_each_action_has_its_past_tense_and_the_counts_have_a_key_for_it():
    assert [a.past for a in ChangeAction] == ["deleted", "adopted", "created", "updated", "deactivated"]
    assert {a.past for a in ChangeAction} <= set(COUNT_KEYS)


def test_a_change_given_a_plain_string_holds_the_action():
    change = Change("create", "skills", "Sales", 1, None)

    assert change.action is ChangeAction.CREATE
    assert change.to_dict()["action"] == "create"
    with pytest.raises(ValueError):
        Change("recreate", "skills", "Sales", 1, None)


def test_the_counts_keep_the_order_the_report_always_had():
    plan = Plan(changes=[Change(ChangeAction.DELETE, "skills", "Old", 1, 101)])

    assert json.dumps(plan.counts()) == (
        '{"skills": {"created": 0, "updated": 0, "adopted": 0, "deactivated": 0, '
        '"deleted": 1, "unchanged": 0, "failed": 0}}'
    )


def test_a_switch_answers_a_side_and_an_alert_event():
    state, event = transition(SwitchState(Side.PRIMARY, 0), "bcp")

    assert state.active_side is Side.BCP and event is AlertEvent.SWITCHED
