"""The RPO alarm's rule (``domain.freshness``) and its override in the sync settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lifeboat.domain.freshness import judged, stale_after, stale_since
from lifeboat.domain.records import Side
from lifeboat.domain.sync_settings import default_settings, validate_settings
from lifeboat.errors import Invalid

ENABLED_AT = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
SYNCED_AT = ENABLED_AT + timedelta(minutes=2)
DAILY = {"schedule": {"kind": "daily"}}


def every(minutes: int, **more: object) -> dict[str, object]:
    return {"schedule": {"kind": "interval", "every_minutes": minutes}, **more}


def test_a_daily_schedule_goes_stale_after_26_hours():
    assert stale_after(DAILY) == timedelta(hours=26)
    assert stale_since(DAILY, ENABLED_AT, SYNCED_AT, SYNCED_AT + timedelta(hours=26)) is None
    late = SYNCED_AT + timedelta(hours=26, seconds=1)
    assert stale_since(DAILY, ENABLED_AT, SYNCED_AT, late) == SYNCED_AT + timedelta(hours=26)


@pytest.mark.parametrize("minutes", [5, 60, 600])
def test_an_interval_schedule_goes_stale_after_three_intervals(minutes):
    settings = every(minutes)
    three = timedelta(minutes=3 * minutes)

    assert stale_after(settings) == three
    assert stale_since(settings, ENABLED_AT, SYNCED_AT, SYNCED_AT + three - timedelta(seconds=1)) is None
    assert stale_since(settings, ENABLED_AT, SYNCED_AT, SYNCED_AT + three + timedelta(seconds=1)) == SYNCED_AT + three


def test_the_override_replaces_the_schedules_threshold():
    assert stale_after({**DAILY, "stale_after_minutes": 48 * 60}) == timedelta(hours=48)
    assert stale_after(every(60, stale_after_minutes=90)) == timedelta(minutes=90)
    assert stale_after({**DAILY, "stale_after_minutes": None}) == timedelta(hours=26)


def test_a_plan_never_synced_counts_from_the_moment_sync_was_turned_on():
    assert stale_since(DAILY, ENABLED_AT, None, ENABLED_AT + timedelta(hours=25)) is None
    assert stale_since(DAILY, ENABLED_AT, None, ENABLED_AT + timedelta(hours=27)) == ENABLED_AT + timedelta(hours=26)
    assert stale_since(DAILY, None, None, ENABLED_AT) is None


def test_turning_sync_on_again_gives_the_first_run_a_whole_threshold():
    long_ago = ENABLED_AT - timedelta(days=90)
    assert stale_since(DAILY, ENABLED_AT, long_ago, ENABLED_AT + timedelta(hours=1)) is None


def test_only_a_plan_with_sync_on_and_the_primary_active_is_judged():
    assert judged(True, Side.PRIMARY)
    assert not judged(True, Side.BCP)  # paused by the switch, on purpose
    assert not judged(False, Side.PRIMARY)


def test_the_override_is_null_by_default_and_kept_as_an_integer():
    assert default_settings()["stale_after_minutes"] is None
    _, settings = validate_settings({"stale_after_minutes": 90.0, **every(60)}, {})
    assert settings["stale_after_minutes"] == 90 and isinstance(settings["stale_after_minutes"], int)
    _, cleared = validate_settings({"stale_after_minutes": None}, settings)
    assert cleared["stale_after_minutes"] is None


@pytest.mark.parametrize(
    ("payload", "current"),
    [
        ({"stale_after_minutes": 60}, {}),  # shorter than a day: every daily run would start an alarm
        ({"stale_after_minutes": 30, **every(60)}, {}),
        ({"stale_after_minutes": "90"}, {}),
        ({"stale_after_minutes": True}, {}),
        ({"stale_after_minutes": 30 * 24 * 60 + 1}, {}),
        ({**every(120)}, {**every(60), "stale_after_minutes": 90}),  # a longer interval outgrows the override
    ],
)
def test_a_bad_override_is_refused(payload, current):
    with pytest.raises(Invalid) as caught:
        validate_settings(payload, {**default_settings(), **current})
    assert [(e["field"], e["code"]) for e in caught.value.details["errors"]] == [
        ("stale_after_minutes", "bad_stale_after")
    ]
