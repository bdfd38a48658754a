"""``lifeboat sync …`` and ``checklist``: thin commands over the sync services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from lifeboat.bootstrap import Platform
from lifeboat.cli.common import (
    CLI_OPERATOR,
    ConfigFile,
    DataDir,
    TenantOpt,
    app,
    console,
    fail,
    open_platform,
    pick_tenant,
    sync_app,
)
from lifeboat.errors import LifeboatError

if TYPE_CHECKING:
    from lifeboat.domain.records import SyncRun


@sync_app.command("plan")
def sync_plan(
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    all_rows: Annotated[bool, typer.Option("--all", help="List every change, not the first 50.")] = False,
) -> None:
    """Dry run: what a sync would do now, per entity, writing nothing."""
    from lifeboat.services.bcp.sync import dry_run

    platform = open_platform(data_dir, config)
    try:
        result = dry_run(platform, CLI_OPERATOR, pick_tenant(platform, tenant))
    except LifeboatError as exc:
        fail(exc)
    console.print(counts_table(result["counts"], title="Planned changes"))
    changes = result["changes"] if all_rows else result["changes"][:50]
    if changes:
        table = Table("action", "type", "name", "primary id", "bcp id", "fields", title="Changes")
        for c in changes:
            table.add_row(
                c["action"],
                c["type"],
                c["name"],
                str(c["primary_id"] or ""),
                str(c["bcp_id"] or "new"),
                ", ".join(c["fields"])[:60],
            )
        console.print(table)
        if len(result["changes"]) > len(changes):
            console.print(f"… and {len(result['changes']) - len(changes)} more (--all shows them)")
    print_issues(console, result)
    if result["unsafe"]:
        console.print(
            "[yellow]held if scheduled:[/yellow] over 30% removals in "
            + ", ".join(u["type"] for u in result["unsafe"])
            + "; use `lifeboat sync run --force`."
        )


@sync_app.command("run")
def sync_run(
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    force: Annotated[bool, typer.Option("--force", help="Proceed past the 30% removal safety hold.")] = False,
) -> None:
    """Sync now, showing progress, and print the result."""
    from lifeboat.domain.records import RunStatus
    from lifeboat.services.bcp.sync import request_run
    from lifeboat.views.bcp import run_view

    platform = open_platform(data_dir, config)
    try:
        tenant_id = pick_tenant(platform, tenant)
        run = request_run(platform, CLI_OPERATOR, tenant_id, force=force)
        finished = wait_for_run(platform, tenant_id, run.id, console)
    except LifeboatError as exc:
        fail(exc)
    view = run_view(finished)
    colour = {RunStatus.SUCCEEDED: "green", RunStatus.HELD: "yellow"}.get(view["status"], "red")
    console.print(f"run {view['id']}: [{colour}]{view['status']}[/{colour}] in {view['duration_s']} s")
    console.print(counts_table(view["counts"], title="Result"))
    print_issues(console, view)
    if view["status"] != RunStatus.SUCCEEDED:
        raise typer.Exit(1)


@sync_app.command("status")
def sync_status(tenant: TenantOpt = None, data_dir: DataDir = None, config: ConfigFile = None) -> None:
    """The plan: tenants, active side, settings, last and next run."""
    from lifeboat.services.bcp.pairing import open_bcp_plan
    from lifeboat.services.bcp.status import plan_status
    from lifeboat.views.bcp import plan_view

    platform = open_platform(data_dir, config)
    try:
        plan = plan_view(plan_status(platform, open_bcp_plan(platform, CLI_OPERATOR, pick_tenant(platform, tenant))))
    except LifeboatError as exc:
        fail(exc)
    table = Table("", "", show_header=False)
    table.add_row("primary", f"{plan['primary']['name']} ({plan['primary']['tenant_id']}, {plan['primary']['region']})")
    table.add_row("BCP", f"{plan['bcp']['name']} ({plan['bcp']['tenant_id']}, {plan['bcp']['region']})")
    table.add_row("active side", f"{plan['active_side']} (epoch {plan['epoch']})")
    s = plan["sync_settings"]
    paused = " — paused while BCP is active" if plan["sync_paused"] else ""
    table.add_row("sync", ("enabled" if s["enabled"] else "disabled") + paused)
    schedule = s["schedule"]
    table.add_row("schedule", "daily" if schedule["kind"] == "daily" else f"every {schedule['every_minutes']} min")
    table.add_row("types", s["mode"] + ("" if s["mode"] == "default" else ": " + ", ".join(s["entity_types"])))
    table.add_row("script ids", s["script_ids"] + (" (+ free text)" if s["remap_free_text"] else ""))
    last = plan["last_run"]
    table.add_row("last run", f"{last['id']} {last['status']} at {last['finished_at']}" if last else "none")
    table.add_row("last success", plan["last_successful_run_at"] or "never")
    if plan["stale"]:
        table.add_row("copy", f"STALE since {plan['stale_since']} (sync_stale)")
    table.add_row("next run", plan["next_run_at"] or "—")
    console.print(table)


@sync_app.command("history")
def sync_history(
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    limit: Annotated[int, typer.Option(help="How many runs.")] = 20,
) -> None:
    """Past runs, newest first."""
    from lifeboat.services.bcp.sync import list_runs
    from lifeboat.views.bcp import run_view

    platform = open_platform(data_dir, config)
    try:
        runs, total = list_runs(platform, CLI_OPERATOR, pick_tenant(platform, tenant), limit=limit, offset=0)
    except LifeboatError as exc:
        fail(exc)
    table = Table("run", "trigger", "status", "started", "seconds", "changed", "drift", "errors", title=f"{total} runs")
    for run in map(run_view, runs):
        changed = sum(v for c in run["counts"].values() for k, v in c.items() if k not in ("unchanged", "failed"))
        table.add_row(
            str(run["id"]),
            run["trigger"],
            run["status"],
            (run["started_at"] or "")[:19],
            str(run["duration_s"] or ""),
            str(changed),
            str(len(run["drift"])),
            str(len(run["errors"])),
        )
    console.print(table)


@app.command("checklist")
def checklist(
    tenant: TenantOpt = None,
    data_dir: DataDir = None,
    config: ConfigFile = None,
    todo: Annotated[bool, typer.Option("--todo", help="Only what a script developer must look at.")] = False,
) -> None:
    """The script checklist: each id reference of each synced script and what became of it."""
    from lifeboat.services.bcp.sync import script_checklist

    platform = open_platform(data_dir, config)
    try:
        items = script_checklist(platform, CLI_OPERATOR, pick_tenant(platform, tenant))
    except LifeboatError as exc:
        fail(exc)
    if todo:
        # To look at: what could not be remapped, free-text ids, and ids kept as they were
        # (script_ids: keep). Names, paths, variables and Default ("unchanged") need nothing.
        items = [
            i
            for i in items
            if i["status"] in ("unresolved", "possible_id", "unreadable")
            or (i["status"] == "remapped" and not i.get("written", True))
        ]
    table = Table(
        "script", "action", "property", "primary", "BCP", "status", "matches", title=f"{len(items)} references"
    )
    for i in items:
        status = i["status"] if i.get("written", True) or i["status"] != "remapped" else "to fix (keep)"
        table.add_row(
            i["script"] or "",
            i.get("action", ""),
            i.get("property", ""),
            str(i.get("primary_value", "")),
            str(i.get("bcp_value") or ""),
            status,
            _matches(i.get("matched")),
        )
    console.print(table)


def _matches(matched: dict[str, Any] | None) -> str:
    """What a free-text id equals among the synced entities: "skills Sales (12)"."""
    if not matched:
        return ""
    return f"{matched['type']} {matched.get('name') or ''} ({matched['id']})".replace("  ", " ")


def wait_for_run(platform: Platform, tenant_id: int, run_id: int, console: Console) -> SyncRun:
    """Work on the run here (or watch another worker do it) until it ends, with a spinner."""
    from lifeboat.jobs import work_once
    from lifeboat.services.bcp.sync import wait_for_run as wait

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task(f"sync run {run_id}: waiting for a worker")

        def show(step: str, n: int) -> None:
            progress.update(task, description=f"sync run {run_id}: {step} ({n})")

        return wait(platform, CLI_OPERATOR, tenant_id, run_id, work=lambda: work_once(platform, progress=show))


def counts_table(counts: dict[str, Any], title: str) -> Table:
    keys = ("created", "adopted", "updated", "deactivated", "deleted", "unchanged", "failed")
    table = Table("type", *keys, title=title)
    for type_name, c in counts.items():
        table.add_row(type_name, *(str(c.get(k, 0)) for k in keys))
    return table


def print_issues(console: Console, result: dict[str, Any]) -> None:
    kinds = (("drift", "drift", "yellow"), ("warning", "warnings", "yellow"), ("error", "errors", "red"))
    for label, key, colour in kinds:
        items = result.get(key, [])
        for item in items[:20]:
            text = item.get("message") or item.get("code") or ""
            what = f"{item.get('type', '')} {item.get('name', '')}".strip()
            extra = f" fields: {', '.join(item['fields'])}" if key == "drift" else ""
            console.print(f"[{colour}]{label}[/{colour}] {item.get('code', '')} {what} {text}{extra}".rstrip())
        if len(items) > 20:
            console.print(f"… {len(items) - 20} more {key}")
