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

from sqlalchemy import Connection

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.fields import shown
from lifeboat.domain.records import AlertEvent, Side
from lifeboat.domain.switchover import COUNTED, WINDOW, SwitchState, locked_until, transition
from lifeboat.domain.sync_settings import next_run
from lifeboat.errors import Forbidden, Invalid, LifeboatError, Locked
from lifeboat.services import alerts
from lifeboat.services.bcp.pairing import PlanView, open_plan
from lifeboat.services.bcp.readiness import readiness_of
from lifeboat.services.bcp.routing import invalidate_routes
from lifeboat.services.tenancy.auth import verify_password
from lifeboat.store.alerts import SwitchAttemptRepo
from lifeboat.store.audit import AuditRepo
from lifeboat.store.directory import SessionRepo
from lifeboat.store.plans import BcpPlan, PlanRepo
from lifeboat.store.tables import directory_audit, now

PERMISSION = "bcp.enablement.edit"
FIELDS = ("to", "passkey")


def switch_to(platform: Platform, principal: Principal, tenant_id: int, payload: Any) -> dict[str, Any]:
    """Switch (``{"to": "bcp"}``) or revert (``"primary"``) with ``passkey``; the answer carries
    readiness and timing. Every try is recorded, a malformed one too: it counts toward the
    lock like a wrong passkey, so that no shape of request escapes the count."""
    started = time.perf_counter()
    view = open_plan(platform, principal, tenant_id)
    to = payload.get("to") if isinstance(payload, dict) else None
    if not principal.can(PERMISSION):
        _record(platform, view, principal, to, "forbidden")
        raise Forbidden(f"Switching needs the permission {PERMISSION!r}.", code="permission_denied",
                        details={"permission": PERMISSION})
    problems = _problems(payload)
    passkey = payload["passkey"] if not problems else ""
    # Checked before the transaction, so a slow hash never holds the directory's write lock.
    correct = not problems and verify_password(platform, view.plan.passkey_hash, passkey)
    _, result = _attempt(platform, view, principal, to, passkey, correct, problems)
    if isinstance(result, LifeboatError):
        raise result
    invalidate_routes(platform)
    switched_ms = round((time.perf_counter() - started) * 1000, 1)
    return {**result, "switch_ms": switched_ms, "readiness": readiness_of(platform, open_plan(platform, principal, tenant_id))}


def _problems(payload: Any) -> list[dict[str, str]]:
    if not isinstance(payload, dict):
        return [{"field": "body", "code": "not_an_object", "message": "must be {to, passkey}"}]
    problems = [{"field": k, "code": "unknown_field", "message": "is not a field"} for k in payload if k not in FIELDS]
    if payload.get("to") not in tuple(Side):
        problems.append({"field": "to", "code": "bad_choice", "message": "must be bcp or primary"})
    passkey = payload.get("passkey")
    if not isinstance(passkey, str) or not passkey:
        problems.append({"field": "passkey", "code": "required", "message": "is required"})
    return problems


def _attempt(platform: Platform, view: PlanView, principal: Principal, to: Any, passkey: str,
             correct: bool, problems: list[dict[str, str]]) -> tuple[str, Any]:
    """One transaction; returns (outcome, answer or error). Errors are raised after commit,
    so that the try itself is always on record."""
    with platform.directory.write() as conn:
        plan = PlanRepo(conn).get(view.plan.id, lock=True)
        attempts = SwitchAttemptRepo(conn)
        unlock = locked_until(attempts.failed_since(plan.id, now() - 2 * WINDOW, COUNTED), now())
        if unlock is not None:
            outcome, result = "locked", _locked(unlock)
        elif problems:
            outcome, result = "bad_input", Invalid.fields(problems)
        elif not (correct if plan.passkey_hash == view.plan.passkey_hash else
                  verify_password(platform, plan.passkey_hash, passkey)):  # regenerated meanwhile
            outcome, result = "wrong_passkey", Forbidden("The passkey is wrong; nothing changed.", code="wrong_passkey")
        else:
            try:
                outcome, result = "switched", _apply(conn, view, plan, principal, to)
            except LifeboatError as exc:  # already active
                outcome, result = exc.code, exc
        attempts.record(plan.id, principal.actor, shown(to, 10), outcome)
        if outcome in COUNTED:
            _alert_if_now_locked(conn, view, attempts.failed_since(plan.id, now() - 2 * WINDOW, COUNTED))
        for tenant in (view.primary, view.bcp):
            AuditRepo(conn, directory_audit).record(
                actor=principal.actor, action="bcp.switch_attempt", tenant_id=tenant.id,
                before={"active_side": plan.active_side, "epoch": plan.epoch},
                after={"active_side": result["active_side"], "epoch": result["epoch"]} if outcome == "switched" else None,
                details={"to": shown(to, 20), "outcome": outcome})
    return outcome, result


def _alert_if_now_locked(conn, view: PlanView, failures: list[datetime]) -> None:  # noqa: ANN001
    unlock = locked_until(failures, now())
    if unlock is not None:
        alerts.emit(conn, [view.primary.id, view.bcp.id], AlertEvent.PASSKEY_LOCKED,
                    {"plan_id": view.plan.id, "unlock_at": unlock.isoformat(), "summary": f"switching locked for {view.primary.name}"})


def _locked(unlock: datetime) -> Locked:
    return Locked(f"Too many wrong passkeys: switching is locked until {unlock.isoformat()}.", code="passkey_locked",
                  details={"unlock_at": unlock.isoformat()})


def _apply(conn: Connection, view: PlanView, plan: BcpPlan, principal: Principal, to: str) -> dict[str, Any]:
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


def _record(platform: Platform, view: PlanView, principal: Principal, to: str, outcome: str) -> None:
    with platform.directory.write() as conn:
        SwitchAttemptRepo(conn).record(view.plan.id, principal.actor, shown(to, 10), outcome)
        for tenant in (view.primary, view.bcp):
            AuditRepo(conn, directory_audit).record(actor=principal.actor, action="bcp.switch_attempt", tenant_id=tenant.id,
                                                    details={"to": shown(to, 20), "outcome": outcome})
