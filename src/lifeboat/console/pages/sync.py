"""/bcp/sync (SPEC §4, §11): the sync settings, Preview changes (the dry run), Sync now with
its progress, the run history and each run's drift, warnings and errors.

Reading needs ``bcp.sync.view`` and changing ``bcp.sync.edit``, checked by the services the
API calls. A run is carried out by the server's worker, not by this page: the page only
watches it (htmx polls a fragment; without JavaScript the page refreshes itself)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.web import ConsoleRoute, redirect, render, require_csrf
from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.domain.sync_settings import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES
from lifeboat.errors import Conflict, Invalid
from lifeboat.services.bcp import pairing, sync
from lifeboat.views.bcp import run_view, settings_view

router = APIRouter(route_class=ConsoleRoute)

PATH = "/bcp/sync"
RUNS_PER_PAGE = 20
ENTITIES_SHOWN_PER_TYPE = 200  # the preview lists at most this many entities of a type; counts say the rest
ENDED = ("succeeded", "failed", "held")
COUNT_KEYS = ("created", "updated", "adopted", "deactivated", "deleted", "unchanged", "failed")
PLANNED = {
    "created": "create",
    "updated": "update",
    "adopted": "adopt",
    "deactivated": "deactivate",
    "deleted": "delete",
    "unchanged": "unchanged",
    "failed": "failed",
}
# Where a validation error of the service is shown: the form field it belongs to.
ERROR_FIELDS = {
    "enabled": "enabled",
    "mode": "mode",
    "entity_types": "entity_types",
    "schedule": "schedule",
    "schedule.every_minutes": "every_minutes",
    "script_ids": "script_ids",
    "remap_free_text": "remap_free_text",
    "stale_after_minutes": "stale_after_minutes",
}


def type_label(name: str) -> str:
    return name.replace("-", " ").capitalize()


TYPE_CHOICES = [(name, type_label(name)) for name in sorted(ENTITY_TYPES)]


@dataclass
class SettingsForm:
    """The settings as the form shows them: from the plan, or as posted (to fix an error)."""

    enabled: bool
    mode: str
    entity_types: list[str]
    schedule: str
    every_minutes: str
    script_ids: str
    remap_free_text: bool
    stale_after_minutes: str = ""  # empty: the schedule's default threshold
    errors: dict[str, str] = field(default_factory=dict)
    other_errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, settings: dict[str, Any]) -> SettingsForm:
        schedule = settings.get("schedule") or {"kind": "daily"}
        return cls(
            enabled=bool(settings["enabled"]),
            mode=settings["mode"],
            entity_types=list(settings["entity_types"]),
            schedule=schedule["kind"],
            every_minutes=str(schedule.get("every_minutes", "")),
            script_ids=settings["script_ids"],
            remap_free_text=bool(settings["remap_free_text"]),
            stale_after_minutes=str(settings.get("stale_after_minutes") or ""),
        )

    def payload(self) -> dict[str, Any]:
        """The body of PUT /sync-settings: the service validates it as it validates the API's."""
        schedule: dict[str, Any] = {"kind": self.schedule}
        if self.schedule == "interval":
            schedule["every_minutes"] = _number(self.every_minutes)
        body: dict[str, Any] = {
            "enabled": self.enabled,
            "mode": self.mode,
            "schedule": schedule,
            "script_ids": self.script_ids,
            "remap_free_text": self.remap_free_text,
            "stale_after_minutes": _number(self.stale_after_minutes) if self.stale_after_minutes.strip() else None,
        }
        if self.mode == "custom":  # default mode selects every type itself
            body["entity_types"] = self.entity_types
        return body

    def with_errors(self, exc: Invalid) -> SettingsForm:
        for error in exc.details.get("errors", []):
            where = ERROR_FIELDS.get(error.get("field", ""))
            if where:
                self.errors.setdefault(where, error["message"])
            else:
                self.other_errors.append(f"{error.get('field')}: {error['message']}")
        if not exc.details.get("errors"):
            self.other_errors.append(exc.message)
        return self


def _number(text: str) -> Any:
    """An integer if the field holds one, else the text as typed (the service says what is wrong)."""
    stripped = text.strip()
    return int(stripped) if stripped.lstrip("-").isdigit() else stripped


def _tenant(ctx: Console) -> int:
    return ctx.own_tenant("Operators: sync belongs to a tenant's plan; use the API for it.")


def _page(
    request: Request,
    ctx: Console,
    *,
    page: int = 1,
    status: int = 200,
    form: SettingsForm | None = None,
    error: str | None = None,
    saved: bool = False,
) -> Response:
    tenant_id = _tenant(ctx)
    view = pairing.open_bcp_plan(ctx.platform, ctx.principal, tenant_id, "bcp.sync.view")  # as GET /sync-settings
    settings = settings_view(view.plan)
    page = max(page, 1)
    runs, total = sync.list_runs(
        ctx.platform, ctx.principal, tenant_id, limit=RUNS_PER_PAGE, offset=(page - 1) * RUNS_PER_PAGE
    )
    shown = [run_row(run_view(r)) for r in runs]
    open_run = _open_run(ctx, tenant_id, shown if page == 1 else None)
    return render(
        request,
        "sync.html",
        status=status,
        title="Sync",
        ctx=ctx,
        view=view,
        settings=settings,
        form=form or SettingsForm.of(settings),
        types=TYPE_CHOICES,
        runs=shown,
        paging=paging(page, total, RUNS_PER_PAGE),
        open_run=open_run,
        error=error,
        saved=saved,
        may_edit=ctx.principal.can("bcp.sync.edit"),
        paused=view.plan.active_side == "bcp",
        next_run_at=view.plan.next_run_at if view.plan.active_side == "primary" else None,
        min_minutes=MIN_INTERVAL_MINUTES,
        max_minutes=MAX_INTERVAL_MINUTES,
    )


def _open_run(ctx: Console, tenant_id: int, first_page: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The queued or running run, if any: runs are listed newest first, so it leads the first page."""
    if first_page is None:
        runs, _ = sync.list_runs(ctx.platform, ctx.principal, tenant_id, limit=1, offset=0)
        first_page = [run_row(run_view(r)) for r in runs]
    return first_page[0] if first_page and first_page[0]["status"] not in ENDED else None


def run_row(run: dict[str, Any]) -> dict[str, Any]:
    """A run as the pages show it: the API's view, plus totals and a duration while it runs."""
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for counts in run["counts"].values():
        for key in COUNT_KEYS:
            totals[key] += counts.get(key, 0)
    duration = run["duration_s"]
    if duration is None and run["started_at"] and not run["finished_at"]:
        duration = (datetime.now(UTC) - _aware(run["started_at"])).total_seconds()
    return {
        **run,
        "totals": {k: n for k, n in totals.items() if n},
        "duration": _duration(duration),
        "ended": run["status"] in ENDED,
        "requested_by": run["requested_by"].removeprefix("user:"),
    }


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest} s"


def paging(page: int, total: int, size: int) -> dict[str, Any]:
    pages = max((total + size - 1) // size, 1)
    return {
        "page": page,
        "pages": pages,
        "total": total,
        "previous": page - 1 if page > 1 else None,
        "next": page + 1 if page < pages else None,
    }


@router.get(PATH, include_in_schema=False)
def sync_page(
    request: Request, ctx: ConsoleDep, page: Annotated[int, Query(ge=1, le=100_000)] = 1, saved: bool = False
) -> Response:
    return _page(request, ctx, page=page, saved=saved)


@router.post(PATH + "/settings", include_in_schema=False, dependencies=[Depends(require_csrf)])
def save_settings(
    request: Request,
    ctx: ConsoleDep,
    enabled: Annotated[str | None, Form()] = None,
    mode: Annotated[str, Form()] = "default",
    entity_types: Annotated[list[str] | None, Form()] = None,
    schedule: Annotated[str, Form()] = "daily",
    every_minutes: Annotated[str, Form()] = "",
    script_ids: Annotated[str, Form()] = "remap",
    remap_free_text: Annotated[str | None, Form()] = None,
    stale_after_minutes: Annotated[str, Form()] = "",
) -> Response:
    form = SettingsForm(
        enabled=enabled is not None,
        mode=mode,
        entity_types=entity_types or [],
        schedule=schedule,
        every_minutes=every_minutes,
        script_ids=script_ids,
        remap_free_text=remap_free_text is not None,
        stale_after_minutes=stale_after_minutes,
    )
    try:
        _, first = pairing.update_settings(ctx.platform, ctx.principal, _tenant(ctx), form.payload())
    except Invalid as exc:
        return _page(request, ctx, status=exc.status, form=form.with_errors(exc))
    if first is not None:  # turning sync on started a first run: watch it
        return redirect(f"{PATH}/runs/{first.id}")
    return redirect(f"{PATH}?saved=true")


@router.post(PATH + "/runs", include_in_schema=False, dependencies=[Depends(require_csrf)])
def sync_now(request: Request, ctx: ConsoleDep, force: Annotated[str | None, Form()] = None) -> Response:
    try:
        run = sync.request_run(ctx.platform, ctx.principal, _tenant(ctx), force=force is not None)
    except Conflict as exc:
        return _page(request, ctx, status=exc.status, error=exc.message + " Nothing was started.")
    return redirect(f"{PATH}/runs/{run.id}")


@router.get(PATH + "/preview", include_in_schema=False)
def preview(request: Request, ctx: ConsoleDep) -> Response:
    """The dry run (POST /plan in the API: it writes nothing, so here it is a GET)."""
    planned = preview_of(sync.dry_run(ctx.platform, ctx.principal, _tenant(ctx)))
    template = "_sync_preview.html" if request.headers.get("HX-Request") else "sync_preview.html"
    return render(request, template, title="Preview changes", ctx=ctx, preview=planned)


def preview_of(plan: dict[str, Any]) -> dict[str, Any]:
    """The dry run per type (counts) and per entity (grouped by type, the first few hundred)."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for change in plan["changes"]:
        by_type.setdefault(change["type"], []).append(change)
    types = []
    for name in sorted(set(plan["counts"]) | set(by_type)):
        changes = by_type.get(name, [])
        types.append(
            {
                "name": name,
                "label": type_label(name),
                "counts": plan["counts"].get(name, {}),
                "changes": changes[:ENTITIES_SHOWN_PER_TYPE],
                "more": max(len(changes) - ENTITIES_SHOWN_PER_TYPE, 0),
            }
        )
    return {**plan, "types": types, "total_changes": len(plan["changes"]), "count_keys": COUNT_KEYS, "planned": PLANNED}


@router.get(PATH + "/runs/{run_id}", include_in_schema=False)
def run_page(request: Request, ctx: ConsoleDep, run_id: int) -> Response:
    run = run_row(run_view(sync.get_run(ctx.platform, ctx.principal, _tenant(ctx), run_id)))
    types = [
        {"name": name, "label": type_label(name), "counts": counts} for name, counts in sorted(run["counts"].items())
    ]
    return render(
        request, "sync_run.html", title=f"Sync run {run_id}", ctx=ctx, run=run, types=types, count_keys=COUNT_KEYS
    )


@router.get(PATH + "/runs/{run_id}/progress", include_in_schema=False)
def run_progress(request: Request, ctx: ConsoleDep, run_id: int) -> Response:
    """The fragment htmx polls while a run is open. Once it has ended, the whole page reloads
    (HX-Refresh) to show the result where it belongs: in the history, or in the run's details."""
    run = run_row(run_view(sync.get_run(ctx.platform, ctx.principal, _tenant(ctx), run_id)))
    response = render(request, "_sync_progress.html", ctx=ctx, run=run)
    if run["ended"]:
        response.headers["HX-Refresh"] = "true"
    return response
