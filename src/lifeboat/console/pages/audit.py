"""/audit (SPEC §8, §11): the tenant's trail, newest first, with the filters of GET /audit.

The filters travel in the query string (a GET form), so a page of results can be linked,
reloaded and left with the back button, and the pager keeps them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response

from lifeboat.console.context import ConsoleDep
from lifeboat.console.pages.access import tenant_of
from lifeboat.console.paging import Paging
from lifeboat.console.web import ConsoleRoute, render
from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.services.tenancy import audit

router = APIRouter(route_class=ConsoleRoute)

PATH = "/audit"
PAGE_SIZE = 50
SHOWN_CHARS = 120  # of one value in the changes column; the rest is cut
ACTIONS = (
    "users",
    "bcp",
    "bcp.switch_attempt",
    "bcp.sync_requested",
    "bcp.sync_settings",
    "login",
    "alerts",
    "tenant",
    "voice_token",
)  # offered in the action field; any text works
TEXT_FILTERS = {"actor": 200, "action": 60, "entity_type": 40}


@router.get(PATH, include_in_schema=False)
def audit_page(request: Request, ctx: ConsoleDep, page: int = 1) -> Response:
    tenant_id = tenant_of(ctx)
    filters, problems = _filters(dict(request.query_params))
    paging = Paging.at(page, Paging.size_of(filters.get("per"), PAGE_SIZE))
    rows, total = audit.list_audit(
        ctx.platform, ctx.principal, tenant_id, limit=paging.limit, offset=paging.offset, only=_audit_filter(filters)
    )
    return render(
        request,
        "audit.html",
        title="Audit log",
        ctx=ctx,
        filters=filters,
        problems=problems,
        rows=[_row(r) for r in rows],
        paging=paging.of(total, PATH, filters),
        actions=ACTIONS,
        entity_types=sorted(ENTITY_TYPES),
        status=400 if problems else 200,
    )


def _filters(query: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The filters given (blank ones dropped), and a message per date that is not one."""
    filters = {name: query[name].strip()[:size] for name, size in TEXT_FILTERS.items() if query.get(name, "").strip()}
    size = Paging.size_of(query.get("per"), PAGE_SIZE)
    if size != PAGE_SIZE:
        filters["per"] = str(size)
    problems: dict[str, str] = {}
    for name in ("since", "until"):
        value = query.get(name, "").strip()
        if not value:
            continue
        try:
            date.fromisoformat(value)
        except ValueError:
            problems[name] = "Enter a date as YYYY-MM-DD."
            continue
        filters[name] = value
    return filters, problems


def _audit_filter(filters: dict[str, str]) -> audit.AuditFilter:
    """The dates are whole UTC days, both included: 'until 2024-05-01' reads up to its midnight."""
    since = _midnight(filters["since"]) if "since" in filters else None
    until = _midnight(filters["until"]) + timedelta(days=1) if "until" in filters else None
    return audit.AuditFilter(
        actor=filters.get("actor"),
        action=filters.get("action"),
        entity_type=filters.get("entity_type"),
        since=since,
        until=until,
    )


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    entity = row["entity_type"] or ""
    if row["entity_id"] is not None:
        entity = f"{entity} #{row['entity_id']}".strip()
    return {
        **row,
        "entity": entity,
        "changes": _changes(row["before"], row["after"]),
        "details_shown": [(k, _short(v)) for k, v in (row["details"] or {}).items()],
    }


def _changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field that differs; a whole record when one side is missing."""
    if not isinstance(before, dict) and not isinstance(after, dict):
        return []
    old, new = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
    names = [k for k in {**old, **new} if old.get(k) != new.get(k)]
    return [(k, _short(old[k]) if k in old else "—", _short(new[k]) if k in new else "—") for k in names]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
