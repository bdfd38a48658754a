"""Switching to the BCP tenant and reverting to the primary (SPEC §6).

Manual only, passkey required. Everything that a switch changes is in the directory, so
it works while the primary region is down, and it changes in one transaction: the active
side, the epoch, every session of both tenants, the sync pause, and the alerts to send.
Routing follows because it reads the active side. Every try is recorded and audited.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.records import AlertEvent, Side
from lifeboat.domain.switchover import WINDOW, SwitchState, locked_until, transition
from lifeboat.domain.sync_settings import next_run
from lifeboat.errors import Forbidden, Invalid, LifeboatError, Locked
from lifeboat.services import alerts
from lifeboat.services.auth import verify_password
from lifeboat.services.bcp import PlanView, open_plan
from lifeboat.services.readiness import readiness_of
from lifeboat.services.routing import invalidate_routes
from lifeboat.store.alerts import SwitchAttemptRepo
from lifeboat.store.audit import AuditRepo
from lifeboat.store.directory import SessionRepo
from lifeboat.store.plans import PlanRepo
from lifeboat.store.tables import directory_audit, now

PERMISSION = "bcp.enablement.edit"


def switch_to(platform: Platform, principal: Principal, tenant_id: int, to: Any, passkey: Any) -> dict[str, Any]:
    """Switch (``to="bcp"``) or revert (``to="primary"``); the answer carries readiness and timing."""
    started = time.perf_counter()
    view = open_plan(platform, principal, tenant_id)
    if not principal.can(PERMISSION):
        _record(platform, view, principal, to, "forbidden")
        raise Forbidden(f"Switching needs the permission {PERMISSION!r}.", code="permission_denied",
                        details={"permission": PERMISSION})
    if not isinstance(passkey, str) or not passkey:
        raise Invalid("The passkey is required.", code="validation_failed",
                      details={"errors": [{"field": "passkey", "code": "required", "message": "is required"}]})
    # Checked before the transaction, so a slow hash never holds the directory's write lock.
    correct = verify_password(platform, view.plan.passkey_hash, passkey)
    outcome, result = _attempt(platform, view, principal, to, passkey, correct)
    if isinstance(result, LifeboatError):
        raise result
    invalidate_routes(platform)
    switched_ms = round((time.perf_counter() - started) * 1000, 1)
    return {**result, "switch_ms": switched_ms, "readiness": readiness_of(platform, open_plan(platform, principal, tenant_id))}


def _attempt(platform: Platform, view: PlanView, principal: Principal, to: Any, passkey: str,
             correct: bool) -> tuple[str, Any]:
    """One transaction; returns (outcome, answer or error). Errors are raised after commit,
    so that the try itself is always on record."""
    with platform.directory.write() as conn:
        plan = PlanRepo(conn).get(view.plan.id, lock=True)
        attempts = SwitchAttemptRepo(conn)
        unlock = locked_until(attempts.wrong_since(plan.id, now() - 2 * WINDOW), now())
        if unlock is not None:
            outcome, result = "locked", _locked(unlock)
        elif not (correct if plan.passkey_hash == view.plan.passkey_hash else
                  verify_password(platform, plan.passkey_hash, passkey)):  # regenerated meanwhile
            attempts.record(plan.id, principal.actor, str(to), "wrong_passkey")
            unlock = locked_until(attempts.wrong_since(plan.id, now() - 2 * WINDOW), now())
            if unlock is not None:
                alerts.emit(conn, [view.primary.id, view.bcp.id], AlertEvent.PASSKEY_LOCKED,
                            {"plan_id": plan.id, "unlock_at": unlock.isoformat(), "summary": f"switching locked for {view.primary.name}"})
            outcome, result = "wrong_passkey", Forbidden("The passkey is wrong; nothing changed.", code="wrong_passkey")
        else:
            try:
                outcome, result = "switched", _apply(conn, view, plan, principal, to)
            except LifeboatError as exc:  # already active, bad target
                outcome, result = exc.code, exc
        if outcome != "wrong_passkey":
            attempts.record(plan.id, principal.actor, str(to), outcome)
        for tenant in (view.primary, view.bcp):
            AuditRepo(conn, directory_audit).record(
                actor=principal.actor, action="bcp.switch_attempt", tenant_id=tenant.id,
                before={"active_side": plan.active_side, "epoch": plan.epoch},
                after={"active_side": result["active_side"], "epoch": result["epoch"]} if outcome == "switched" else None,
                details={"to": str(to)[:20], "outcome": outcome})
    return outcome, result


def _locked(unlock: datetime) -> Locked:
    return Locked(f"Too many wrong passkeys: switching is locked until {unlock.isoformat()}.", code="passkey_locked",
                  details={"unlock_at": unlock.isoformat()})


def _apply(conn, view: PlanView, plan, principal: Principal, to: Any) -> dict[str, Any]:  # noqa: ANN001
    state, event = transition(SwitchState(plan.active_side, plan.epoch), to)
    values: dict[str, Any] = {"active_side": state.active_side, "epoch": state.epoch}
    if state.active_side == Side.PRIMARY and plan.sync_enabled and plan.sync_enabled_at:
        values["next_run_at"] = next_run(plan.sync_settings["schedule"], plan.sync_enabled_at, now())
    PlanRepo(conn).update(plan.id, **values)
    ended = SessionRepo(conn).end_for_tenants([view.primary.id, view.bcp.id])
    active = view.bcp if state.active_side == Side.BCP else view.primary
    alerts.emit(conn, [view.primary.id, view.bcp.id], event, {
        "plan_id": plan.id, "active_side": state.active_side, "active_tenant_id": active.id, "epoch": state.epoch,
        "by": principal.actor, "summary": f"{active.name} ({active.region}) is now active"})
    return {"plan_id": plan.id, "event": event, "from": plan.active_side, "active_side": state.active_side,
            "active_tenant_id": active.id, "epoch": state.epoch, "sessions_ended": ended,
            "sync_paused": state.active_side == Side.BCP}


def _record(platform: Platform, view: PlanView, principal: Principal, to: Any, outcome: str) -> None:
    with platform.directory.write() as conn:
        SwitchAttemptRepo(conn).record(view.plan.id, principal.actor, str(to), outcome)
        for tenant in (view.primary, view.bcp):
            AuditRepo(conn, directory_audit).record(actor=principal.actor, action="bcp.switch_attempt", tenant_id=tenant.id,
                                                    details={"to": str(to)[:20], "outcome": outcome})
