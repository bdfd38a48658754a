"""Sync settings of a BCP plan and its schedule. Pure values and functions.

Schedules: ``daily`` runs every day at the UTC time of day at which sync was enabled (the
default); ``interval`` runs every N minutes (N >= 5) counted from that moment.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.errors import Invalid

MODES = ("default", "custom")
SCRIPT_IDS = ("remap", "keep")
MIN_INTERVAL_MINUTES = 5


def default_settings() -> dict[str, Any]:
    """The settings of a new BCP plan: every entity type of the table as it is now (a type
    registered after import is synced by default too)."""
    return {
        "mode": "default",
        "entity_types": sorted(ENTITY_TYPES),
        "schedule": {"kind": "daily"},
        "script_ids": "remap",
        "remap_free_text": False,
    }


# The defaults as the table stood at import, for readers that compare against them (tests);
# code asks ``default_settings()``.
DEFAULT_SETTINGS: dict[str, Any] = default_settings()


def validate_settings(payload: Any, current: dict[str, Any]) -> tuple[bool | None, dict[str, Any]]:
    """(enabled, settings) from a PUT body merged over the current settings."""
    if not isinstance(payload, dict):
        raise Invalid("The body must be a JSON object.", code="not_an_object")
    defaults = default_settings()
    allowed = {"enabled", *defaults}
    errors = [_err(k, "unknown_field", "is not a sync setting") for k in payload if k not in allowed]
    merged = {**defaults, **current, **{k: v for k, v in payload.items() if k in defaults}}
    enabled = payload.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
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
    if errors:
        raise Invalid.fields(errors)
    if merged["mode"] == "default":
        merged["entity_types"] = sorted(ENTITY_TYPES)
    merged["entity_types"] = sorted(set(merged["entity_types"]))
    merged["schedule"] = schedule
    return enabled, merged


def _type_errors(merged: dict[str, Any]) -> list[dict[str, str]]:
    types = merged["entity_types"]
    if merged["mode"] != "custom":
        return []
    if not isinstance(types, list) or not types:
        return [_err("entity_types", "empty_selection", "a custom sync needs at least one entity type")]
    unknown = [t for t in types if t not in ENTITY_TYPES]
    if unknown:
        return [_err("entity_types", "unknown_entity_type", f"unknown: {', '.join(map(str, unknown))}")]
    return []


def _schedule(value: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    if not isinstance(value, dict) or value.get("kind") not in ("daily", "interval"):
        return {}, [_err("schedule", "bad_schedule", "must be {kind: daily} or {kind: interval, every_minutes: N}")]
    if value["kind"] == "daily":
        return {"kind": "daily"}, []
    minutes = value.get("every_minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < MIN_INTERVAL_MINUTES:
        return {}, [_err("schedule.every_minutes", "interval_too_short", f"must be an integer of at least {MIN_INTERVAL_MINUTES}")]
    return {"kind": "interval", "every_minutes": minutes}, []


def _err(field: str, code: str, message: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": message}


def next_run(schedule: dict[str, Any], enabled_at: datetime, after: datetime) -> datetime:
    """The first scheduled moment strictly after ``after``."""
    step = timedelta(days=1) if schedule.get("kind", "daily") == "daily" else timedelta(minutes=schedule["every_minutes"])
    if after < enabled_at:
        return enabled_at + step
    periods = (after - enabled_at) // step + 1
    return enabled_at + periods * step


def fingerprint(settings: dict[str, Any]) -> str:
    """What a run's result depends on; a change makes the next run compare everything."""
    relevant = {k: settings.get(k) for k in ("entity_types", "script_ids", "remap_free_text")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]
