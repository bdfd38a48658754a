"""Sync settings of a BCP plan and its schedule (``domain.sync_settings``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.domain.sync_settings import (
    DEFAULT_SETTINGS,
    fingerprint,
    next_run,
    validate_settings,
)
from lifeboat.errors import Invalid

ALL_TYPES = sorted(ENTITY_TYPES)
ENABLED_AT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def problems(payload, current=None) -> list[tuple[str, str]]:
    with pytest.raises(Invalid) as caught:
        validate_settings(payload, current or {})
    return [(e["field"], e["code"]) for e in caught.value.details["errors"]]


# --- validate_settings -------------------------------------------------------------------------


def test_no_change_gives_the_defaults_with_every_type_selected():
    enabled, settings = validate_settings({}, {})
    assert enabled is None
    assert settings == {**DEFAULT_SETTINGS, "entity_types": ALL_TYPES}


def test_enabling_is_returned_beside_the_settings():
    enabled, settings = validate_settings({"enabled": True}, {})
    assert enabled is True and "enabled" not in settings


def test_unknown_field_is_refused():
    assert problems({"mode": "default", "colour": "red"}) == [("colour", "unknown_field")]


def test_body_that_is_not_an_object_is_refused():
    with pytest.raises(Invalid) as caught:
        validate_settings(["mode"], {})
    assert caught.value.code == "not_an_object"


def test_custom_mode_keeps_the_chosen_types_sorted_once_each():
    _, settings = validate_settings({"mode": "custom", "entity_types": ["users", "skills", "users"]}, {})
    assert (settings["mode"], settings["entity_types"]) == ("custom", ["skills", "users"])


@pytest.mark.parametrize("types", [[], None, "skills"])
def test_custom_mode_needs_a_list_of_types(types):
    assert problems({"mode": "custom", "entity_types": types}) == [("entity_types", "empty_selection")]


def test_custom_mode_refuses_an_unknown_type():
    assert problems({"mode": "custom", "entity_types": ["skills", "widgets"]}) == [
        ("entity_types", "unknown_entity_type")
    ]


def test_default_mode_selects_every_type_whatever_was_sent():
    _, settings = validate_settings({"mode": "default", "entity_types": ["skills"]}, {})
    assert settings["entity_types"] == ALL_TYPES


def test_going_back_to_default_mode_selects_every_type_again():
    _, custom = validate_settings({"mode": "custom", "entity_types": ["skills"]}, {})
    _, settings = validate_settings({"mode": "default"}, custom)
    assert settings["entity_types"] == ALL_TYPES


def test_a_partial_change_keeps_the_other_current_settings():
    _, custom = validate_settings(
        {"mode": "custom", "entity_types": ["skills"], "schedule": {"kind": "interval", "every_minutes": 30}}, {}
    )
    _, settings = validate_settings({"script_ids": "keep"}, custom)
    assert settings == {**custom, "script_ids": "keep"}


@pytest.mark.parametrize("minutes", [5, 6, 1440])
def test_interval_of_five_minutes_or_more_is_accepted(minutes):
    _, settings = validate_settings({"schedule": {"kind": "interval", "every_minutes": minutes}}, {})
    assert settings["schedule"] == {"kind": "interval", "every_minutes": minutes}


@pytest.mark.parametrize("minutes", [4, 0, -5, True, "10", 7.5, None])
def test_interval_shorter_than_five_minutes_or_not_a_whole_number_is_refused(minutes):
    assert problems({"schedule": {"kind": "interval", "every_minutes": minutes}}) == [
        ("schedule.every_minutes", "interval_too_short")
    ]


@pytest.mark.parametrize("schedule", [{"kind": "hourly"}, "daily", None, {}])
def test_unknown_schedule_is_refused(schedule):
    assert problems({"schedule": schedule}) == [("schedule", "bad_schedule")]


def test_daily_schedule_drops_stray_keys():
    _, settings = validate_settings({"schedule": {"kind": "daily", "every_minutes": 5}}, {})
    assert settings["schedule"] == {"kind": "daily"}


def test_every_problem_is_listed_at_once():
    assert sorted(problems({"enabled": "yes", "mode": "sometimes", "script_ids": "rewrite", "remap_free_text": 1})) == [
        ("enabled", "not_a_boolean"),
        ("mode", "bad_choice"),
        ("remap_free_text", "not_a_boolean"),
        ("script_ids", "bad_choice"),
    ]


# --- next_run --------------------------------------------------------------------------------


def test_daily_run_is_at_the_time_of_day_sync_was_enabled():
    assert next_run({"kind": "daily"}, ENABLED_AT, datetime(2024, 3, 5, 14, 0, tzinfo=UTC)) == datetime(
        2024, 3, 6, 9, 30, tzinfo=UTC
    )
    assert next_run({"kind": "daily"}, ENABLED_AT, datetime(2024, 3, 5, 9, 0, tzinfo=UTC)) == datetime(
        2024, 3, 5, 9, 30, tzinfo=UTC
    )


def test_daily_run_due_exactly_now_is_followed_by_tomorrows():
    now = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    assert next_run({"kind": "daily"}, ENABLED_AT, now) == now + timedelta(days=1)


def test_first_daily_run_after_enabling_is_a_day_later():
    assert next_run({"kind": "daily"}, ENABLED_AT, ENABLED_AT) == ENABLED_AT + timedelta(days=1)


def test_interval_runs_every_n_minutes_from_enabling():
    schedule = {"kind": "interval", "every_minutes": 15}
    assert next_run(schedule, ENABLED_AT, ENABLED_AT + timedelta(minutes=16)) == ENABLED_AT + timedelta(minutes=30)
    assert next_run(schedule, ENABLED_AT, ENABLED_AT + timedelta(minutes=30)) == ENABLED_AT + timedelta(minutes=45)


@given(
    schedule=st.one_of(
        st.just({"kind": "daily"}),
        st.builds(lambda n: {"kind": "interval", "every_minutes": n}, st.integers(5, 10_000)),
    ),
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_next_run_is_the_first_scheduled_moment_strictly_after(schedule, offset):
    after = ENABLED_AT + offset
    step = timedelta(days=1) if schedule["kind"] == "daily" else timedelta(minutes=schedule["every_minutes"])
    due = next_run(schedule, ENABLED_AT, after)
    assert after < due <= after + step
    assert (due - ENABLED_AT) % step == timedelta(0)


# --- fingerprint -------------------------------------------------------------------------------


def settings_with(**changes) -> dict:
    return validate_settings(changes, {})[1]


def test_fingerprint_is_stable_for_the_same_settings():
    assert fingerprint(settings_with()) == fingerprint(settings_with())


@pytest.mark.parametrize(
    "changes",
    [
        {"mode": "custom", "entity_types": ["skills"]},
        {"script_ids": "keep"},
        {"remap_free_text": True},
    ],
)
def test_fingerprint_changes_with_what_a_run_result_depends_on(changes):
    assert fingerprint(settings_with(**changes)) != fingerprint(settings_with())


def test_fingerprint_ignores_the_schedule():
    assert fingerprint(settings_with(schedule={"kind": "interval", "every_minutes": 5})) == fingerprint(settings_with())


# --- limits the published schema states too (issue 7) -------------------------------------------


@pytest.mark.parametrize("minutes", [10_081, 2**31, 10**10, 2**63])
def test_interval_over_a_week_is_refused(minutes):
    assert problems({"schedule": {"kind": "interval", "every_minutes": minutes}}) == [
        ("schedule.every_minutes", "interval_too_long")
    ]


def test_interval_of_a_week_given_as_a_whole_float_is_accepted_as_an_integer():
    _, settings = validate_settings({"schedule": {"kind": "interval", "every_minutes": 10_080.0}}, {})
    assert settings["schedule"] == {"kind": "interval", "every_minutes": 10_080}
    assert type(settings["schedule"]["every_minutes"]) is int


def test_read_only_enabled_at_is_taken_back_unchanged_and_refused_changed():
    shown = {"enabled_at": "2024-03-01T09:30:00+00:00"}
    assert validate_settings({"enabled_at": shown["enabled_at"]}, {}, shown)[1] == validate_settings({}, {})[1]
    assert validate_settings({"enabled_at": None}, {}, {"enabled_at": None})[0] is None  # sync never enabled
    with pytest.raises(Invalid) as caught:
        validate_settings({"enabled_at": "2001-01-01T00:00:00+00:00"}, {}, shown)
    assert [(e["field"], e["code"]) for e in caught.value.details["errors"]] == [("enabled_at", "read_only")]


@pytest.mark.parametrize("types", [[], "skills", [["skills"]], [{"a": 1}]])
def test_entity_types_are_checked_in_default_mode_too(types):
    assert problems({"mode": "default", "entity_types": types})[0][0] == "entity_types"


def test_enabled_null_is_refused_rather_than_read_as_no_change():
    assert problems({"enabled": None}) == [("enabled", "not_a_boolean")]
