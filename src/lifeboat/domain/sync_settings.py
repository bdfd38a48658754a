"""Sync settings of a BCP plan and its schedule. Pure values and functions.

Schedules: ``daily`` runs every day at the UTC time of day at which sync was enabled (the
default); ``interval`` runs every N minutes (5 <= N <= 10080, a week) counted from that moment.

``stale_after_minutes`` (null by default) overrides how old the last successful sync may get
before the RPO alarm ``sync_stale`` rings (``domain.freshness``); it may not be shorter than
one period of the schedule, or every run would end and start an alarm.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.domain.fields import whole
from lifeboat.domain.records import BcpPlan
from lifeboat.errors import Invalid

MODES = ("default", "custom")
SCRIPT_IDS = ("remap", "keep")
MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60  # a week: anything longer is a mistake, not a schedule
MAX_STALE_AFTER_MINUTES = 30 * 24 * 60  # a month: a copy older than that is not a continuity plan
READ_ONLY = ("enabled_at",)  # shown by GET; a PUT may send it back unchanged


def default_settings() -> dict[str, Any]:
    """The settings of a new BCP plan: every entity type of the table as it is now (a type
    registered after import is synced by default too)."""
    return {
        "mode": "default",
        "entity_types": sorted(ENTITY_TYPES),
        "schedule": {"kind": "daily"},
        "script_ids": "remap",
        "remap_free_text": False,
        "stale_after_minutes": None,  # None: the schedule's default threshold
    }


def shown_settings(plan: BcpPlan) -> dict[str, Any]:
    """The plan's sync settings as a GET shows them: what a PUT may send back unchanged
    (the ``READ_ONLY`` fields included) and what the audit log keeps as "before"."""
    return {
        "enabled": plan.sync_enabled,
        **plan.sync_settings,
        "enabled_at": plan.sync_enabled_at.isoformat() if plan.sync_enabled_at else None,
    }


# The defaults as the table stood at import, for readers that compare against them (tests);
# code asks ``default_settings()``.
DEFAULT_SETTINGS: dict[str, Any] = default_settings()


def validate_settings(
    payload: Any, current: dict[str, Any], read_only: dict[str, Any] | None = None
) -> tuple[bool | None, dict[str, Any]]:
    """(enabled, settings) from a PUT body merged over the current settings.

    ``read_only`` holds the current values of the fields a GET shows but a PUT cannot change
    (``enabled_at``): the object as GET returned it may be sent back as it is.
    """
    if not isinstance(payload, dict):
        raise Invalid("The body must be a JSON object.", code="not_an_object")
    defaults = default_settings()
    allowed = {"enabled", *defaults, *READ_ONLY}
    errors = [_err(k, "unknown_field", "is not a sync setting") for k in payload if k not in allowed]
    errors += [
        _err(k, "read_only", "cannot be changed")
        for k in READ_ONLY
        if k in payload and payload[k] != (read_only or {}).get(k)
    ]
    merged = {**defaults, **current, **{k: v for k, v in payload.items() if k in defaults}}
    enabled = payload.get("enabled")
    if "enabled" in payload and not isinstance(enabled, bool):
        errors.append(_err("enabled", "not_a_boolean", "must be true or false"))
    if merged["mode"] not in MODES:
        errors.append(_err("mode", "bad_choice", "must be default or custom"))
    if merged["script_ids"] not in SCRIPT_IDS:
        errors.append(_err("script_ids", "bad_choice", "must be remap or keep"))
    if not isinstance(merged["remap_free_text"], bool):
        errors.append(_err("remap_free_text", "not_a_boolean", "must be true or false"))
    errors += _type_errors(merged)
    schedule, schedule_errors = _schedule(merged["schedule"])
    errors += schedule_errors
    if schedule:
        errors += _stale_after_errors(merged["stale_after_minutes"], schedule)
    if errors:
        raise Invalid.fields(errors)
    if merged["mode"] == "default":
        merged["entity_types"] = sorted(ENTITY_TYPES)
    merged["entity_types"] = sorted(set(merged["entity_types"]))
    merged["schedule"] = schedule
    merged["stale_after_minutes"] = whole(merged["stale_after_minutes"])  # 90.0 is kept as 90; None stays None
    return enabled, merged


def _type_errors(merged: dict[str, Any]) -> list[dict[str, str]]:
    """Checked in either mode (``default`` then selects every type): what the published
    schema refuses, the server refuses too."""
    types = merged["entity_types"]
    if not isinstance(types, list) or not types:
        return [_err("entity_types", "empty_selection", "a custom sync needs at least one entity type")]
    unknown = [t for t in types if not isinstance(t, str) or t not in ENTITY_TYPES]
    if unknown:
        return [_err("entity_types", "unknown_entity_type", f"unknown: {', '.join(map(str, unknown))}")]
    return []


def _schedule(value: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if not isinstance(value, dict) or value.get("kind") not in ("daily", "interval"):
        return {}, [_err("schedule", "bad_schedule", "must be {kind: daily} or {kind: interval, every_minutes: N}")]
    if value["kind"] == "daily":
        return {"kind": "daily"}, []
    minutes = whole(value.get("every_minutes"))
    if minutes is None or minutes < MIN_INTERVAL_MINUTES:
        return {}, [
            _err(
                "schedule.every_minutes", "interval_too_short", f"must be an integer of at least {MIN_INTERVAL_MINUTES}"
            )
        ]
    if minutes > MAX_INTERVAL_MINUTES:
        return {}, [
            _err(
                "schedule.every_minutes",
                "interval_too_long",
                f"must be at most {MAX_INTERVAL_MINUTES} (a week); use a daily schedule for less often",
            )
        ]
    return {"kind": "interval", "every_minutes": minutes}, []


def _stale_after_errors(value: Any, schedule: dict[str, Any]) -> list[dict[str, str]]:
    if value is None:
        return []
    minutes, shortest = whole(value), int(period(schedule).total_seconds() // 60)
    if minutes is None or not shortest <= minutes <= MAX_STALE_AFTER_MINUTES:
        return [
            _err(
                "stale_after_minutes",
                "bad_stale_after",
                f"must be null (the default) or an integer from {shortest} (one period of the schedule) "
                f"to {MAX_STALE_AFTER_MINUTES} (30 days)",
            )
        ]
    return []


def schema() -> dict[str, Any]:
    """The PUT body as JSON schema, for the API docs: the same limits as ``validate_settings``."""
    interval = {
        "type": "object",
        "required": ["kind", "every_minutes"],
        "properties": {
            "kind": {"const": "interval"},
            "every_minutes": {"type": "integer", "minimum": MIN_INTERVAL_MINUTES, "maximum": MAX_INTERVAL_MINUTES},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "enabled": {"type": "boolean"},
            "mode": {"enum": list(MODES)},
            "entity_types": {
                "type": "array",
                "minItems": 1,
                "items": {"enum": sorted(ENTITY_TYPES)},
                "description": "Used in custom mode; default mode selects every type",
            },
            "schedule": {
                "oneOf": [
                    {"type": "object", "required": ["kind"], "properties": {"kind": {"const": "daily"}}},
                    interval,
                ]
            },
            "script_ids": {"enum": list(SCRIPT_IDS)},
            "remap_free_text": {"type": "boolean"},
            "stale_after_minutes": {
                "type": ["integer", "null"],
                "minimum": MIN_INTERVAL_MINUTES,
                "maximum": MAX_STALE_AFTER_MINUTES,
                "description": "How old the last successful sync may get before sync_stale is raised; "
                "null: 26 h for a daily schedule, 3 intervals otherwise. At least one period of the schedule.",
            },
            "enabled_at": {
                "type": ["string", "null"],
                "readOnly": True,
                "description": "Shown by GET; may be sent back unchanged, not changed",
            },
        },
    }


def _err(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def period(schedule: dict[str, Any]) -> timedelta:
    """The time between two scheduled runs."""
    if schedule.get("kind", "daily") == "daily":
        return timedelta(days=1)
    return timedelta(minutes=schedule["every_minutes"])


def next_run(schedule: dict[str, Any], enabled_at: datetime, after: datetime) -> datetime:
    """The first scheduled moment strictly after ``after``."""
    step = period(schedule)
    if after < enabled_at:
        return enabled_at + step
    periods = (after - enabled_at) // step + 1
    return enabled_at + periods * step


def fingerprint(settings: dict[str, Any]) -> str:
    """What a run's result depends on; a change makes the next run compare everything."""
    relevant = {k: settings.get(k) for k in ("entity_types", "script_ids", "remap_free_text")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
