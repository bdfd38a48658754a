"""Switching to the BCP tenant and reverting to the primary (SPEC §6).

Manual only, passkey required. Everything that a switch changes is in the directory, so
it works while the primary region is down, and it changes in one transaction: the active
side, the epoch, every session of both tenants, the sync pause, and the alerts to send.
Routing follows because it reads the active side; the voice edges are told to flush
their cached routes once the switch has committed. Every try is recorded and audited.
"""

from __future__ import annotations

import time
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.fields import shown
from lifeboat.domain.records import BcpPlan, Side
from lifeboat.domain.switchover import SwitchState, transition
from lifeboat.domain.sync_settings import next_run
from lifeboat.errors import Forbidden, LifeboatError
from lifeboat.services.bcp.drill_end import end_running_drill
from lifeboat.services.bcp.edges import flush_edges
from lifeboat.services.bcp.pairing import PairedTenants, current_plan, open_bcp_plan
from lifeboat.services.bcp.passkey import record_try
from lifeboat.services.bcp.passkey import refusal as passkey_refusal
from lifeboat.services.bcp.readiness import readiness_of
from lifeboat.services.bcp.routing import invalidate_routes
from lifeboat.services.bcp.switch_history import record_switch, record_switch_ms
from lifeboat.services.tenancy.auth import verify_password
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

PERMISSION = "bcp.enablement.edit"
FIELDS = ("to", "passkey")


def switch_to(platform: Platform, principal: Principal, tenant_id: int, payload: object) -> dict[str, Any]:
    """Switch (``{"to": "bcp"}``) or revert (``"primary"``) with ``passkey``; the answer carries
    readiness and timing. Every try is recorded, a malformed one too: it counts toward the
    lock like a wrong passkey, so that no shape of request escapes the count."""
    started = time.perf_counter()
    tenants = open_bcp_plan(platform, principal, tenant_id)
    to = payload.get("to") if isinstance(payload, dict) else None
    if not principal.can(PERMISSION):
        _record(platform, tenants, principal, to, "forbidden")
        raise Forbidden(
            f"Switching needs the permission {PERMISSION!r}.",
            code="permission_denied",
            details={"permission": PERMISSION},
        )
    problems = _problems(payload)
    passkey = payload["passkey"] if isinstance(payload, dict) and not problems else ""
    # Checked before the transaction, so a slow hash never holds the directory's write lock.
    correct = not problems and verify_password(platform, tenants.plan.passkey_hash, passkey)
    result = _attempt(platform, tenants, principal, to, passkey, correct, problems, asked_in=tenant_id)
    if isinstance(result, LifeboatError):
        raise result
    switched_s = time.perf_counter() - started
    platform.metrics.switched(result["active_side"], switched_s)
    record_switch_ms(platform, result["switch_id"], switched_s)
    readiness = readiness_of(platform, open_bcp_plan(platform, principal, tenant_id))
    return {**result, "switch_ms": round(switched_s * 1000, 1), "readiness": readiness}


def _problems(payload: object) -> list[dict[str, str]]:
    if not isinstance(payload, dict):
        return [{"field": "body", "code": "not_an_object", "message": "must be {to, passkey}"}]
    problems = [{"field": k, "code": "unknown_field", "message": "is not a field"} for k in payload if k not in FIELDS]
    if payload.get("to") not in tuple(Side):
        problems.append({"field": "to", "code": "bad_choice", "message": "must be bcp or primary"})
    passkey = payload.get("passkey")
    if not isinstance(passkey, str) or not passkey:
        problems.append({"field": "passkey", "code": "required", "message": "is required"})
    return problems


def _attempt(
    platform: Platform,
    tenants: PairedTenants,
    principal: Principal,
    to: object,
    passkey: str,
    correct: bool,
    problems: list[dict[str, str]],
    *,
    asked_in: int,
) -> dict[str, Any] | LifeboatError:
    """One transaction; returns the answer or the error. Errors are raised after commit, so
    that the try itself is always on record. A switch makes the routing table stale once it
    has committed (never after a rollback)."""
    with platform.directory_unit() as uow:
        plan = current_plan(uow, tenants.plan.id, lock=True)
        answer: dict[str, Any] | None = None
        error: LifeboatError | None = None
        refused = passkey_refusal(platform, uow, tenants, plan, passkey, correct, problems, now())
        if refused is not None:
            outcome, error = refused
        else:
            try:
                outcome, answer = "switched", _apply(uow, tenants, plan, principal, Side(str(to)))  # checked: _problems
                answer["switch_id"] = record_switch(uow, plan, answer, principal, asked_in)
                uow.after_commit(lambda: invalidate_routes(platform))
                uow.after_commit(lambda: flush_edges(platform))  # every edge forgets its cached routes
            except LifeboatError as exc:  # already active
                outcome, error = exc.code, exc
        record_try(platform, uow, tenants, principal.actor, shown(to, 10), outcome, now())
        uow.audit(
            principal.actor,
            "bcp.switch_attempt",
            tenant_id=tenants.ids,
            before={"active_side": plan.active_side, "epoch": plan.epoch},
            after={"active_side": answer["active_side"], "epoch": answer["epoch"]} if answer else None,
            details={"to": shown(to, 20), "outcome": outcome},
        )
    if answer is None:
        assert error is not None  # every outcome but "switched" has one
        return error
    return answer


def _apply(uow: DirectoryUnit, tenants: PairedTenants, plan: BcpPlan, principal: Principal, to: Side) -> dict[str, Any]:
    state, event = transition(SwitchState(plan.active_side, plan.epoch), to)
    values: dict[str, Any] = {"active_side": state.active_side, "epoch": state.epoch}
    if state.active_side == Side.PRIMARY and plan.sync_enabled and plan.sync_enabled_at:
        values["next_run_at"] = next_run(plan.sync_settings["schedule"], plan.sync_enabled_at, now())
    uow.plans.update(plan.id, **values)
    ended = uow.sessions.end_for_tenants(tenants.ids)
    end_running_drill(uow, tenants, "switch")  # a real switch ends a drill, in the same transaction
    active = tenants.bcp if state.active_side == Side.BCP else tenants.primary
    uow.alert(
        tenants.ids,
        event,
        {
            "plan_id": plan.id,
            "active_side": state.active_side,
            "active_tenant_id": active.id,
            "epoch": state.epoch,
            "by": principal.actor,
            "summary": f"{active.name} ({active.region}) is now active",
        },
    )
    return {
        "plan_id": plan.id,
        "event": event,
        "from": plan.active_side,
        "active_side": state.active_side,
        "active_tenant_id": active.id,
        "epoch": state.epoch,
        "sessions_ended": ended,
        "sync_paused": state.active_side == Side.BCP,
    }


def _record(platform: Platform, tenants: PairedTenants, principal: Principal, to: object, outcome: str) -> None:
    with platform.directory_unit() as uow:
        uow.switch_attempts.record(tenants.plan.id, principal.actor, shown(to, 10), outcome)
        uow.audit(
            principal.actor,
            "bcp.switch_attempt",
            tenant_id=tenants.ids,
            details={"to": shown(to, 20), "outcome": outcome},
        )
