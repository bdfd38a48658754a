"""/bcp/checklist (SPEC §4.7, §11): every reference in every synced script and what became of
it in the BCP tenant, paged, with a filter to the rows that need a look. Same service and
permission (``bcp.sync.view``) as GET /bcp/script-checklist."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from lifeboat.console.context import ConsoleDep
from lifeboat.console.pages.sync import paging
from lifeboat.console.web import ConsoleRoute, render
from lifeboat.services.bcp import sync

router = APIRouter(route_class=ConsoleRoute)

PATH = "/bcp/checklist"
ROWS_PER_PAGE = 25
SHOW = {"all": "Every reference", "look": "Needs a look"}
WHY = {
    "unresolved": "No BCP counterpart: the reference is empty or points nowhere in BCP.",
    "possible_id": "Free text that looks like an id of the primary; check whether it is one.",
    "unreadable": "The script could not be read; it was copied as it is.",
    "kept": "Script ids are kept as they are: this still holds the primary's id.",
}


def needs_look(row: dict[str, Any]) -> str | None:
    """Why a row needs someone to look at it, or None: a reference that did not resolve, a
    number in free text that may be an id, an unreadable script, or a primary id left as it
    was (``script_ids: keep``)."""
    if row["status"] in ("unresolved", "possible_id", "unreadable"):
        return str(row["status"])
    if row["status"] == "remapped" and not row.get("written", True):
        return "kept"
    return None


@router.get(PATH, include_in_schema=False)
def checklist_page(
    request: Request,
    ctx: ConsoleDep,
    show: str = "all",
    script: str = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    tenant_id = ctx.own_tenant("Operators: the checklist belongs to a tenant's plan; use the API for it.")
    show = show if show in SHOW else "all"
    rows = [{**row, "why": needs_look(row)} for row in sync.script_checklist(ctx.platform, ctx.principal, tenant_id)]
    looks = sum(1 for row in rows if row["why"])
    wanted = script.strip().lower()
    shown = [row for row in rows if (show == "all" or row["why"]) and wanted in (row["script"] or "").lower()]
    pages = paging(page, len(shown), ROWS_PER_PAGE)
    start = (page - 1) * ROWS_PER_PAGE
    return render(
        request,
        "checklist.html",
        title="Script checklist",
        ctx=ctx,
        rows=shown[start : start + ROWS_PER_PAGE],
        paging=pages,
        show=show,
        script=script.strip(),
        choices=SHOW,
        total=len(rows),
        looks=looks,
        why=WHY,
        scripts=len({row["primary_script_id"] for row in rows}),
        params={k: v for k, v in (("show", show), ("script", script.strip())) if v and v != "all"},
    )
