"""One row of a tenant's audit log."""

from __future__ import annotations

from typing import Any

from lifeboat.domain import json_limits


def audit_row_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": row["at"].isoformat(),
        "actor": row["actor"],
        "action": row["action"],
        "entity_type": row["entity_type"],
        "entity_id": row["entity_id"],
        "before": _readable(row["before"]),
        "after": _readable(row["after"]),
        "details": row["details"] or {},
    }


def _readable(fields: Any) -> Any:
    """An entity's fields as recorded, less any value too deep to answer with (kept from
    before the input limits, see ``domain.json_limits``)."""
    if not isinstance(fields, dict):
        return fields
    shown, withheld = json_limits.readable(fields)
    return {**shown, "withheld": withheld} if withheld else shown
