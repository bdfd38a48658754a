"""A resumed run tells the truth: its counts add up over the attempts of the run.

A run killed part way has committed some steps in the BCP region; the attempt that
resumes it plans again and would see those entities as already there -- ``unchanged`` --
though this very run created them. What an earlier attempt wrote is therefore read back
from the region's audit log: ``apply`` records one audit row per written entity (actor
``sync:run <id>``, action ``<type>.sync_<action>``) *in the same transaction as the write*,
so the log holds exactly the committed steps, whatever instant the worker died at. No
count kept on the side (in the directory, after the step) can promise that: a crash
between the region's commit and the directory's would lose or double a step.

The resumed attempt then
  * compares those entities field by field (``Options.revisit``), so that their warnings
    are found again and their outcome is known per entity, not only as a total;
  * counts each entity of the run once, as what the run first did to it: created by the
    first attempt and found unchanged (or updated again) by the second is ``created``;
  * keeps the drift the earlier attempt overwrote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lifeboat.domain.records import ChangeAction
from lifeboat.sync.model import COUNT_KEYS, Plan, Row

SYNC_ACTION = ".sync_"


def actor_of(run_id: int) -> str:
    """The audit actor of every write of a run (all its attempts)."""
    return f"sync:run {run_id}"


@dataclass(frozen=True)
class Written:
    """An entity an earlier attempt of the run wrote, and what it did first."""

    type: str
    primary_id: int
    bcp_id: int
    action: ChangeAction
    drift: tuple[str, ...]


def earlier_writes(audit_rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, int], Written]:
    """The run's audit rows, oldest first -> the first write of each entity."""
    found: dict[tuple[str, int], Written] = {}
    for row in audit_rows:
        details = row["details"] or {}
        if SYNC_ACTION not in row["action"] or "primary_id" not in details:
            continue
        key = (row["entity_type"], details["primary_id"])
        if key not in found:
            action = ChangeAction(row["action"].split(SYNC_ACTION, 1)[1])
            found[key] = Written(key[0], key[1], row["entity_id"], action, tuple(details.get("drift") or ()))
    return found


def revisit(earlier: Mapping[tuple[str, int], Written]) -> frozenset[int]:
    return frozenset(w.primary_id for w in earlier.values() if w.action != ChangeAction.DELETE)


def add_earlier(
    report: dict[str, Any],
    plan: Plan,
    failed_at_write: list[dict[str, Any]],
    earlier: Mapping[tuple[str, int], Written],
    bcp_rows: Mapping[int, Row],
) -> None:
    """Fold what earlier attempts wrote into this attempt's ``report`` (counts and drift).

    ``report["counts"]`` already holds this attempt's plan, corrected for the changes that
    failed at write time (``failed_at_write``)."""
    changes = {(c.type, c.primary_id): c for c in plan.changes}
    failed = {(f["type"], f["primary_id"]) for f in failed_at_write}
    found_unchanged = {(r.type, r.primary_id) for r in plan.refreshes}  # revisited and equal
    drift = report.setdefault("drift", [])
    drifted = {(d["type"], d["primary_id"]) for d in drift}
    for key, written in earlier.items():
        counts = report["counts"].setdefault(written.type, dict.fromkeys(COUNT_KEYS, 0))
        change = changes.get(key)
        if change is not None and key not in failed:
            counts[change.action.past] -= 1  # written again now: it counts once, as what the run first did
        elif change is None and key in found_unchanged:
            counts["unchanged"] -= 1  # unchanged only because this run wrote it before
        counts[written.action.past] += 1
        if written.drift and key not in drifted:
            row = bcp_rows.get(written.bcp_id)
            drift.append(
                {
                    "type": written.type,
                    "name": row.natural_key if row else None,
                    "primary_id": written.primary_id,
                    "bcp_id": written.bcp_id,
                    "fields": list(written.drift),
                }
            )
