"""Sync use cases: ask for a run, carry one out (the worker's part), preview one, and read
the history, the correlations and the script checklist."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.records import (
    FINISHED,
    AlertEvent,
    BcpPlan,
    ChangeAction,
    Correlation,
    RunStatus,
    Side,
    SyncRun,
    Trigger,
)
from lifeboat.domain.sync_settings import fingerprint
from lifeboat.errors import Conflict, LifeboatError, NotFound
from lifeboat.services.bcp.pairing import PairedTenants, current_plan, open_bcp_plan, paired_tenants
from lifeboat.store.units import DirectoryUnit
from lifeboat.sync import collector, resume
from lifeboat.sync.apply import apply_plan
from lifeboat.sync.model import Options, Plan
from lifeboat.sync.model import Progress as Progress  # re-exported: jobs.py may not import sync/ itself
from lifeboat.sync.plan import Side as TenantRows
from lifeboat.sync.plan import diff
from lifeboat.sync.snapshot import read_sides

log = logging.getLogger("lifeboat.sync")
# How far before a run's start its audit rows are looked for: the rows carry the clock of
# the worker that wrote them, the start the clock of the worker that first claimed the run.
CLOCK_SKEW = timedelta(minutes=10)


def request_run(platform: Platform, principal: Principal, tenant_id: int, *, force: bool = False) -> SyncRun:
    """ "Sync now": queue a manual run (or return the one already queued or running)."""
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.edit")
    with platform.directory_unit() as uow:
        plan = current_plan(uow, tenants.plan.id, lock=True)
        _refuse_if_paused(plan)
        run = uow.runs.open_for_plan(plan.id) or uow.runs.enqueue(
            plan.id, trigger=Trigger.MANUAL, force=force, requested_by=principal.actor
        )
        assert run is not None  # only a scheduled occurrence can be queued already
        uow.audit(
            principal.actor, "bcp.sync_requested", tenant_id=tenant_id, details={"run_id": run.id, "force": force}
        )
    return run


def _refuse_if_paused(plan: BcpPlan) -> None:
    if plan.active_side == Side.BCP:
        raise Conflict(
            "The BCP tenant is active, so sync is paused until you revert to the primary.",
            code="sync_paused",
            details={"plan_id": plan.id, "epoch": plan.epoch},
        )


def options_for(plan: BcpPlan, last_fingerprint: str | None, *, full: bool) -> Options:
    settings = plan.sync_settings
    changed = last_fingerprint != fingerprint(settings)
    return Options(
        types=frozenset(settings["entity_types"]),
        script_ids=settings["script_ids"],
        remap_free_text=settings["remap_free_text"],
        full=full or changed,
    )


Sides = tuple[TenantRows, TenantRows, list[Correlation]]  # primary, BCP, their correlations


def plan_sync(
    platform: Platform, tenants: PairedTenants, *, full: bool, revisit: frozenset[int] = frozenset()
) -> tuple[Plan, Options, Sides]:
    """What a run would change now: both sides read, compared under the plan's settings."""
    with platform.directory_unit(write=False) as uow:
        last = uow.runs.last(tenants.plan.id, (RunStatus.SUCCEEDED,))
    options = options_for(tenants.plan, (last.report or {}).get("settings_fingerprint") if last else None, full=full)
    options = replace(
        options,
        adopt=last is None,
        revisit=revisit,  # adoption belongs to the first run
        json_limits=platform.json_limits(),
    )
    sides = read_sides(tenants.primary_region, tenants.primary.id, tenants.bcp_region, tenants.bcp.id, options)
    plan = diff(*sides, options, max_script_bytes=platform.settings.max_script_bytes)
    return plan, options, sides


def dry_run(platform: Platform, principal: Principal, tenant_id: int) -> dict[str, Any]:
    """Exactly what a manual run would do now, per entity, writing nothing."""
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view")
    with collector.paused():
        plan, options, _ = plan_sync(platform, tenants, full=False)
        return {**plan.to_dict(), "full_compare": options.full, "paused": tenants.plan.active_side == Side.BCP}


def execute_run(platform: Platform, run: SyncRun, *, owner: str, progress: Progress = lambda s, n: None) -> SyncRun:
    """Carry out a claimed run and record how it ended. Never raises for a run's failure."""
    started = time.monotonic()
    with platform.directory_unit(write=False) as uow:
        tenants = paired_tenants(platform, uow, current_plan(uow, run.plan_id))
    try:
        _refuse_if_paused(tenants.plan)
        with collector.paused():
            status, report = _carry_out(platform, tenants, run, progress)
    except LifeboatError as exc:
        status, report = RunStatus.FAILED, {"errors": [{"code": exc.code, "message": exc.message, **exc.details}]}
    except Exception as exc:  # a bug must end the run visibly, not leave it running
        log.exception("sync run %s failed", run.id)
        error = {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}
        status, report = RunStatus.FAILED, {"errors": [error]}
    duration_s = time.monotonic() - started
    report["duration_s"] = round(duration_s, 3)
    with platform.directory_unit() as uow:
        if uow.runs.finish(run.id, status, report, owner=owner):  # else another worker owns the run now
            counts = report.get("counts", {}) if status == RunStatus.SUCCEEDED else {}
            uow.after_commit(lambda: platform.metrics.sync_run_ended(status, duration_s, counts))
        _alert_if_failed(uow, tenants, run, status, report)
        uow.audit(
            "sync", f"bcp.sync_{status}", tenant_id=tenants.ids, details={"run_id": run.id, "trigger": run.trigger}
        )
        return stored_run(uow, run.id)


def _alert_if_failed(
    uow: DirectoryUnit, tenants: PairedTenants, run: SyncRun, status: RunStatus, report: dict[str, Any]
) -> None:
    first = (report.get("errors") or [{}])[0]
    if status in (RunStatus.FAILED, RunStatus.HELD) and first.get("code") != "sync_paused":  # a pause is no failure
        uow.alert(
            tenants.ids,
            AlertEvent(f"sync_{status}"),
            {
                "plan_id": tenants.plan.id,
                "run_id": run.id,
                "trigger": run.trigger,
                "error": first.get("code"),
                "summary": f"sync of {tenants.primary.name} {status}: {first.get('message', '')}"[:300],
            },
        )


def stored_run(uow: DirectoryUnit, run_id: int) -> SyncRun:
    """A run known to exist (runs are never deleted), as it is now in ``uow``."""
    run = uow.runs.get(run_id)
    assert run is not None, run_id
    return run


def _carry_out(
    platform: Platform, tenants: PairedTenants, run: SyncRun, progress: Progress
) -> tuple[RunStatus, dict[str, Any]]:
    earlier = _earlier_writes(platform, tenants, run)
    full = run.trigger in (Trigger.SCHEDULED, Trigger.ENABLE)
    plan, options, (primary, bcp, correlations) = plan_sync(
        platform, tenants, full=full, revisit=resume.revisit(earlier)
    )
    report = {
        **plan.summary(),
        "full_compare": options.full,
        "settings_fingerprint": fingerprint(tenants.plan.sync_settings),
    }
    progress("planned", len(plan.changes))
    try:
        plan.raise_if_unsafe(force=run.force)
    except Conflict as exc:
        report["errors"] = report["errors"] + [{"code": exc.code, "message": exc.message}]
        return RunStatus.HELD, report
    applied = apply_plan(
        plan,
        region=tenants.bcp_region,
        bcp=bcp,
        correlations=correlations,
        options=options,
        known_ids=primary.types,
        actor=resume.actor_of(run.id),
        max_script_bytes=platform.settings.max_script_bytes,
        progress=progress,
        known_names=primary.names,
    )
    for failure in applied.failed:  # planned, then refused at write time
        counts = report["counts"][failure["type"]]
        counts[ChangeAction(failure["action"]).past] -= 1
        counts["failed"] += 1
    if earlier:
        resume.add_earlier(report, plan, applied.failed, earlier, bcp.rows)
    report["errors"] = report["errors"] + applied.failed
    return RunStatus.SUCCEEDED, report


def _earlier_writes(platform: Platform, tenants: PairedTenants, run: SyncRun) -> dict[tuple[str, int], resume.Written]:
    """What earlier attempts of this run committed in BCP (nothing on a first attempt)."""
    if run.attempts <= 1 or run.started_at is None:
        return {}
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        rows = uow.audit_log.of_actor_since(tenants.bcp.id, resume.actor_of(run.id), run.started_at - CLOCK_SKEW)
    return resume.earlier_writes(rows)


def list_runs(
    platform: Platform, principal: Principal, tenant_id: int, *, limit: int, offset: int
) -> tuple[list[SyncRun], int]:
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view")
    with platform.directory_unit(write=False) as uow:
        return uow.runs.page(tenants.plan.id, limit=limit, offset=offset)


def get_run(platform: Platform, principal: Principal, tenant_id: int, run_id: int) -> SyncRun:
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view")
    with platform.directory_unit(write=False) as uow:
        run = uow.runs.get(run_id)
    if run is None or run.plan_id != tenants.plan.id:
        raise NotFound(f"Sync run {run_id} does not exist for this plan.", code="sync_run_not_found")
    return run


def wait_for_run(
    platform: Platform,
    principal: Principal,
    tenant_id: int,
    run_id: int,
    *,
    work: Callable[[], object],
    poll_s: float = 0.5,
) -> SyncRun:
    """The run once it has ended. While it is queued, ``work`` is called to carry out a run
    here (the caller's worker: services do not start workers); while another worker runs
    it, the run is watched every ``poll_s`` seconds."""
    while True:
        run = get_run(platform, principal, tenant_id, run_id)
        if run.status in FINISHED:
            return run
        if run.status == RunStatus.QUEUED:
            work()
        else:
            time.sleep(poll_s)


def list_correlations(
    platform: Platform, principal: Principal, tenant_id: int, type_name: str | None, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view")
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        rows, total = uow.correlations(tenants.bcp.id).page(type_name, limit=limit, offset=offset)
        names = uow.entities.many(tenants.bcp.id, [r["bcp_id"] for r in rows])
    items = [
        {
            "type": r["type"],
            "primary_id": r["primary_id"],
            "bcp_id": r["bcp_id"],
            "name": names[r["bcp_id"]].natural_key if r["bcp_id"] in names else None,
            "synced_at": r["synced_at"].isoformat(),
            "complete": r["primary_version"] != 0,
        }
        for r in rows
    ]
    return items, total


def script_checklist(platform: Platform, principal: Principal, tenant_id: int) -> list[dict[str, Any]]:
    """Every reference of every synced script: what it was, what it is in BCP, what to fix."""
    tenants = open_bcp_plan(platform, principal, tenant_id, "bcp.sync.view")
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        rows = uow.correlations(tenants.bcp.id).notes_of("scripts")
        scripts = uow.entities.many(tenants.bcp.id, [r["bcp_id"] for r in rows])
    items = []
    for row in rows:
        notes = row["notes"] or {}
        path = scripts[row["bcp_id"]].data["path"] if row["bcp_id"] in scripts else None
        if "unreadable" in notes:
            items.append(
                {
                    "script": path,
                    "primary_script_id": row["primary_id"],
                    "bcp_script_id": row["bcp_id"],
                    "status": "unreadable",
                    **notes["unreadable"],
                }
            )
        for entry in notes.get("checklist", []):
            items.append(
                {"script": path, "primary_script_id": row["primary_id"], "bcp_script_id": row["bcp_id"], **entry}
            )
    return items
