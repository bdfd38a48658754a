"""Is the BCP copy fresh? The RPO alarm of SPEC §13, as pure functions.

A plan's copy is *stale* when its last successful sync is older than the plan's threshold:
``stale_after_minutes`` of its sync settings when set, else 26 h for a daily schedule (a
day and two hours of slack for a long run) and three intervals for an interval schedule.

The clock starts at the later of the last successful sync and the moment sync was turned
on, so turning sync on (or on again, after months off) gives the first run a whole
threshold to succeed. Only a plan with sync on and the primary active is judged: while BCP
is active sync is paused on purpose (the switch said so with ``switched``), and the copy
is the live tenant, so "stale" would mean nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from lifeboat.domain.records import Side
from lifeboat.domain.sync_settings import period

DAILY_THRESHOLD = timedelta(hours=26)
INTERVALS_BEFORE_STALE = 3


def stale_after(settings: dict[str, Any]) -> timedelta:
    """How old the last successful sync may get before the copy counts as stale."""
    override = settings.get("stale_after_minutes")
    if override is not None:
        return timedelta(minutes=override)
    schedule = settings.get("schedule") or {"kind": "daily"}
    if schedule.get("kind", "daily") == "daily":
        return DAILY_THRESHOLD
    return INTERVALS_BEFORE_STALE * period(schedule)


def judged(sync_enabled: bool, active_side: Side) -> bool:
    """Whether the plan's freshness is judged at all: sync on and not paused by a switch."""
    return sync_enabled and active_side == Side.PRIMARY


def stale_since(
    settings: dict[str, Any], enabled_at: datetime | None, last_success_at: datetime | None, at: datetime
) -> datetime | None:
    """The moment the copy became stale, or None while it is fresh at ``at`` (or sync never
    was on: nothing to measure from)."""
    starts = [t for t in (enabled_at, last_success_at) if t is not None]
    if not starts:
        return None
    since = max(starts) + stale_after(settings)
    return since if at > since else None
