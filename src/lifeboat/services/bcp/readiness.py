"""Readiness of a BCP plan (SPEC §8): is the warm tenant ready to take the calls?

Every figure comes from the directory and the BCP region, so the report works while the
primary region is down. Each check is ``pass``, ``warn`` or ``fail`` with its figures.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.freshness import stale_after
from lifeboat.domain.records import FINISHED, RunStatus, SyncRun
from lifeboat.errors import Unavailable
from lifeboat.services.bcp.freshness import plan_stale_since
from lifeboat.services.bcp.pairing import PairedTenants, open_bcp_plan
from lifeboat.store.region import FieldIs
from lifeboat.store.tables import now

ACCESS = ("single", "multiple")
BCP_TYPE = FieldIs("bcp_type", default="none")


def readiness(platform: Platform, principal: Principal, tenant_id: int) -> dict[str, Any]:
    return readiness_of(platform, open_bcp_plan(platform, principal, tenant_id, "bcp.enablement.view"))


def readiness_of(platform: Platform, tenants: PairedTenants) -> dict[str, Any]:
    checks = _sync_checks(platform, tenants)
    try:
        checks += _bcp_checks(platform, tenants)
    except Unavailable as exc:
        checks.append(_check("bcp_region", "fail", exc.message, {"region": tenants.bcp.region}))
    statuses = {c["status"] for c in checks}
    worst = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
    return {
        "plan_id": tenants.plan.id,
        "status": worst,
        "active_side": tenants.plan.active_side,
        "checked_at": now().isoformat(),
        "checks": checks,
    }


def _check(name: str, status: str, message: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, **figures}


def _sync_checks(platform: Platform, tenants: PairedTenants) -> list[dict[str, Any]]:
    with platform.directory_unit(write=False) as uow:
        last_ok = uow.runs.last(tenants.plan.id, (RunStatus.SUCCEEDED,))
        last = next(
            (
                r
                for r in uow.runs.page(tenants.plan.id, limit=20, offset=0)[0]
                if r.status in FINISHED and not _paused(r)
            ),
            None,
        )
    age_check = _age_check(tenants, last_ok)
    if last is None:
        run_check = _check("last_run", "fail", "No sync has run yet.", {"run_id": None, "run_status": None})
    else:
        errors = len((last.report or {}).get("errors", []))
        status = {RunStatus.SUCCEEDED: "warn" if errors else "pass", RunStatus.HELD: "warn"}.get(last.status, "fail")
        said = f"Last run {last.id} {last.status}" + (f" with {errors} errors." if errors else ".")
        run_check = _check("last_run", status, said, {"run_id": last.id, "run_status": last.status, "errors": errors})
    return [age_check, run_check]


def _age_check(tenants: PairedTenants, last_ok: SyncRun | None) -> dict[str, Any]:
    """The age of the copy, and whether the RPO alarm counts it stale (at least a warning then)."""
    plan, at = tenants.plan, now()
    since = plan_stale_since(plan, last_ok.finished_at if last_ok else None, at)
    stale = {"stale": since is not None, "stale_since": since.isoformat() if since else None}
    said = (
        f" The copy is stale: older than {_human(stale_after(plan.sync_settings))} since {since.isoformat()}."
        if since
        else ""
    )
    if last_ok is None or last_ok.finished_at is None:
        message = "The BCP tenant has never been synced." + said
        return _check("last_successful_sync", "fail", message, {"at": None, "age_s": None, **stale})
    period = _period(plan.sync_settings.get("schedule", {}))
    age = at - last_ok.finished_at
    status = "pass" if age <= period + timedelta(hours=2) else "warn" if age <= 3 * period else "fail"
    if since is not None and status == "pass":
        status = "warn"  # a threshold set below the usual slack still rings
    return _check(
        "last_successful_sync",
        status,
        f"Last successful sync {_human(age)} ago.{said}",
        {"at": last_ok.finished_at.isoformat(), "age_s": int(age.total_seconds()), "run_id": last_ok.id, **stale},
    )


def _paused(run: SyncRun) -> bool:
    """A run that found the BCP tenant active wrote nothing and says nothing about readiness."""
    errors = (run.report or {}).get("errors") or [{}]
    return run.status == RunStatus.FAILED and errors[0].get("code") == "sync_paused"


def _period(schedule: dict[str, Any]) -> timedelta:
    if schedule.get("kind") == "interval":
        return timedelta(minutes=schedule["every_minutes"])
    return timedelta(days=1)


def _human(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _bcp_checks(platform: Platform, tenants: PairedTenants) -> list[dict[str, Any]]:
    """Counted by the database, or only the fields a check reads: with 10,000 users and their
    agent settings, loading each entity whole cost about a second per report."""
    with platform.region_unit(tenants.bcp_region, write=False, snapshot=True) as uow:
        bcp_id = tenants.bcp.id
        access = uow.entities.count_values(bcp_id, "users", BCP_TYPE)
        agents = uow.entities.agents_per_skill(bcp_id, BCP_TYPE, ACCESS)
        skills = uow.entities.fields_of(bcp_id, "skills", ("name", "media_type"), active_only=True)
        channels = uow.entities.fields_of(bcp_id, "points-of-contact", ("channel",), active_only=True)
        scripts = uow.correlations(tenants.bcp.id).tally_notes("scripts", "script_references", _script_figures)
    return [_script_check(scripts), _poc_check(channels), _user_check(access), _skill_check(agents, skills)]


def _script_figures(notes: list[dict[str, Any]]) -> dict[str, int]:
    """The script checklists' rows counted by status (remembered while the notes are unchanged)."""
    rows = [e for n in notes for e in (n["notes"] or {}).get("checklist", [])]
    unresolved = sum(1 for e in rows if e["status"] == "unresolved")
    kept = sum(1 for e in rows if e["status"] == "remapped" and not e.get("written", True))
    possible = sum(1 for e in rows if e["status"] == "possible_id" and not e.get("written", False))
    unreadable = sum(1 for n in notes if "unreadable" in (n["notes"] or {}))
    return {"unresolved": unresolved, "kept_ids": kept, "possible_ids": possible, "unreadable_scripts": unreadable}


def _script_check(figures: dict[str, int]) -> dict[str, Any]:
    """Warns on what surely points at nothing in BCP: ``unresolved`` rows, ids copied as they
    were (``script_ids: keep``) and unreadable scripts. Possible ids are counted, not warned
    on: they may be plain numbers, and the checklist lists them."""
    unresolved, kept, unreadable = figures["unresolved"], figures["kept_ids"], figures["unreadable_scripts"]
    if unresolved + kept + unreadable == 0:
        return _check("script_references", "pass", "Every script reference resolves in BCP.", figures)
    return _check(
        "script_references",
        "warn",
        f"Script references need a look (see the script checklist): {unresolved} unresolved, "
        f"{kept} ids kept from the primary, {unreadable} unreadable scripts.",
        figures,
    )


def _poc_check(channels: list[tuple[Any, ...]]) -> dict[str, Any]:
    """``channels``: (id, channel) of each active point of contact."""
    active = sum(1 for _, channel in channels if channel == "voice")
    return _check(
        "voice_points_of_contact",
        "pass" if active else "fail",
        f"{active} active voice points of contact in the BCP tenant.",
        {"active_voice": active},
    )


def _user_check(access: dict[str, int]) -> dict[str, Any]:
    """``access``: how many active users hold each BCP type."""
    single, multiple = access.get("single", 0), access.get("multiple", 0)
    return _check(
        "users_with_bcp_access",
        "fail" if not single + multiple else "warn" if not multiple else "pass",
        f"{single + multiple} users can log in to BCP ({multiple} with multiple access, who can switch "
        "while the primary is active)."
        if single + multiple
        else "No user has BCP access: nobody could log in to BCP.",
        {"single": single, "multiple": multiple},
    )


def _skill_check(agents: dict[int, int], skills: list[tuple[Any, ...]]) -> dict[str, Any]:
    """``agents``: skill id -> agents with BCP access; ``skills``: (id, name, media_type) of each active skill."""
    voice = sorted((name, skill_id) for skill_id, name, media in skills if media == "voice")
    per_skill = [{"skill_id": skill_id, "name": name, "agents": agents.get(skill_id, 0)} for name, skill_id in voice]
    empty = [s for s in per_skill if s["agents"] == 0]
    return _check(
        "voice_skill_agents",
        "pass" if voice and not empty else "warn" if voice else "fail",
        f"{len(empty)} of {len(voice)} voice skills have no agent with BCP access."
        if voice
        else "The BCP tenant has no active voice skill.",
        {"skills": per_skill},
    )
