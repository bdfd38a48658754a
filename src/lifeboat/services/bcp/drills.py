"""Drills (SPEC §14): prove the BCP tenant works without an outage.

While a drill runs, its test numbers (active voice points of contact of the primary) route
to their BCP copies, found through the correlations, and its pilot users log in to the BCP
tenant as if they were ``single``; every other number, user and session stays where it is
and sync keeps running. Starting needs ``bcp.enablement.edit`` and the plan's passkey,
checked and counted toward the lock exactly as for a switch (``services.bcp.passkey``).

A drill ends by hand, by a real switch (``services.bcp.switchover``) or at its time limit:
``end_overdue`` runs in every scheduler loop and ends it with a conditional update, so it
ends on time with any number of replicas and after a restart (no timer in a process).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.fields import E164
from lifeboat.domain.records import AlertEvent, Drill, Side
from lifeboat.errors import Conflict, Forbidden, Invalid, LifeboatError, NotFound
from lifeboat.ids import is_id
from lifeboat.services.bcp.drill_end import BY_TIME_LIMIT, end_drill
from lifeboat.services.bcp.edges import flush_edges
from lifeboat.services.bcp.pairing import PairedTenants, current_plan, open_bcp_plan, paired_tenants
from lifeboat.services.bcp.passkey import record_try
from lifeboat.services.bcp.passkey import refusal as passkey_refusal
from lifeboat.services.bcp.readiness import readiness_of
from lifeboat.services.bcp.routing import invalidate_routes
from lifeboat.services.tenancy.auth import verify_password
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

PERMISSION = "bcp.enablement.edit"
VIEW_PERMISSION = "bcp.enablement.view"
FIELDS = ("numbers", "users", "passkey", "minutes")
DEFAULT_MINUTES = 60
MIN_MINUTES, MAX_MINUTES = 1, 480  # a drill is a working session, not a standing state
MAX_NUMBERS = MAX_USERS = 100
TRIED = "drill"  # what switch_attempts records as tried


def start(platform: Platform, principal: Principal, tenant_id: int, payload: object) -> Drill:
    """Start a drill of the plan of ``tenant_id``; every try is recorded like a switch's."""
    tenants = open_bcp_plan(platform, principal, tenant_id)
    if not principal.can(PERMISSION):
        _record_refusal(platform, tenants, principal, "forbidden")
        raise Forbidden(
            f"Starting a drill needs the permission {PERMISSION!r}.",
            code="permission_denied",
            details={"permission": PERMISSION},
        )
    problems = _problems(payload)
    body: dict[str, Any] = payload if isinstance(payload, dict) and not problems else {}
    passkey = body.get("passkey", "")
    # Checked before the transaction, so a slow hash never holds the directory's write lock.
    correct = not problems and verify_password(platform, tenants.plan.passkey_hash, passkey)
    numbers = list(body.get("numbers", []))
    users = sorted({u.lower() for u in body.get("users", [])})
    routes, unknown = _resolve(platform, tenants, numbers, users) if correct else ({}, [])
    readiness = readiness_of(platform, tenants) if correct and not unknown else {}
    result = _attempt(platform, tenants, principal, passkey, correct, problems, unknown, readiness, body, routes)
    if isinstance(result, LifeboatError):
        raise result
    return result


def _problems(payload: object) -> list[dict[str, str]]:
    if not isinstance(payload, dict):
        return [{"field": "body", "code": "not_an_object", "message": "must be {numbers, users, passkey, minutes}"}]
    problems = [{"field": k, "code": "unknown_field", "message": "is not a field"} for k in payload if k not in FIELDS]
    numbers, users = payload.get("numbers"), payload.get("users", [])
    # as api/routes/continuity.DRILL_DOC says (no trimming); a number not in use is refused later
    if not _strings(numbers, MAX_NUMBERS) or not numbers or not all(E164.match(n) for n in numbers):
        message = f"must be 1 to {MAX_NUMBERS} E.164 numbers"
        problems.append({"field": "numbers", "code": "bad_numbers", "message": message})
    if not _strings(users, MAX_USERS) or not all(users):
        problems.append({"field": "users", "code": "bad_users", "message": f"must be up to {MAX_USERS} usernames"})
    minutes = payload.get("minutes", DEFAULT_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not MIN_MINUTES <= minutes <= MAX_MINUTES:
        message = f"must be a whole number from {MIN_MINUTES} to {MAX_MINUTES}"
        problems.append({"field": "minutes", "code": "out_of_range", "message": message})
    passkey = payload.get("passkey")
    if not isinstance(passkey, str) or not passkey:
        problems.append({"field": "passkey", "code": "required", "message": "is required"})
    return problems


def _strings(value: object, most: int) -> bool:
    return isinstance(value, list) and len(value) <= most and all(isinstance(v, str) and len(v) <= 200 for v in value)


def _resolve(
    platform: Platform, tenants: PairedTenants, numbers: list[str], users: list[str]
) -> tuple[dict[str, int], list[dict[str, str]]]:
    """Each test number's BCP copy, and what cannot be drilled (as field errors)."""
    with platform.region_unit(tenants.primary_region, write=False) as uow:
        contacts = uow.entities.data_of_type([tenants.primary.id], "points-of-contact")
        missing_users = [u for u in users if uow.entities.by_key(tenants.primary.id, "users", u) is None]
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        copies = {c.primary_id: c.bcp_id for c in uow.correlations(tenants.bcp.id).all(["points-of-contact"])}
    voice = {
        data["address"]: id_
        for _, id_, data in contacts
        if data.get("channel") == "voice" and data.get("is_active", True)
    }
    routes, unknown = {}, []
    for number in numbers:
        if number not in voice:
            message = f"{number} is not an active voice point of contact of the primary"
            unknown.append({"field": "numbers", "code": "not_a_voice_contact", "message": message})
        elif voice[number] not in copies:
            unknown.append({"field": "numbers", "code": "not_synced", "message": f"{number} has no BCP copy yet"})
        else:
            routes[number] = copies[voice[number]]
    for user in missing_users:
        unknown.append({"field": "users", "code": "unknown_user", "message": f"{user} is not a user of the primary"})
    return routes, unknown


def _attempt(
    platform: Platform,
    tenants: PairedTenants,
    principal: Principal,
    passkey: str,
    correct: bool,
    problems: list[dict[str, str]],
    unknown: list[dict[str, str]],
    readiness: dict[str, Any],
    body: dict[str, Any],
    routes: dict[str, int],
) -> Drill | LifeboatError:
    """One transaction; the try is on record whatever its outcome (errors are raised after commit)."""
    drill: Drill | None = None
    error: LifeboatError | None = None
    with platform.directory_unit() as uow:
        plan = current_plan(uow, tenants.plan.id, lock=True)
        refused = passkey_refusal(platform, uow, tenants, plan, passkey, correct, problems, now())
        if refused is not None:
            outcome, error = refused
        elif plan.active_side == Side.BCP:
            outcome, error = "bcp_active", Conflict("A drill cannot start while BCP is active.", code="bcp_active")
        elif unknown:
            outcome, error = "invalid", Invalid.fields(unknown)
        else:
            at = now()
            drill = uow.drills.start(
                plan.id,
                numbers=list(routes),
                routes=routes,
                users=sorted({u.strip().lower() for u in body["users"]}) if "users" in body else [],
                by=principal.actor,
                at=at,
                ends_at=at + timedelta(minutes=body.get("minutes", DEFAULT_MINUTES)),
                readiness=readiness,
            )
            outcome = "drill_started" if drill else "drill_running"
            if drill is None:
                error = Conflict("A drill of this plan is running already.", code="drill_running")
            else:
                _started(platform, uow, tenants, drill)
        record_try(platform, uow, tenants, principal.actor, TRIED, outcome, now())
        uow.audit(principal.actor, "bcp.drill_attempt", tenant_id=tenants.ids, details={"outcome": outcome})
    if drill is None:
        assert error is not None  # every outcome but "drill_started" has one
        return error
    return drill


def _started(platform: Platform, uow: DirectoryUnit, tenants: PairedTenants, drill: Drill) -> None:
    details = {"drill_id": drill.id, "numbers": drill.numbers, "users": drill.users, "ends_at": drill.ends_at}
    uow.audit(
        drill.started_by, "bcp.drill_start", tenant_id=tenants.ids, after={**details, "ends_at": str(drill.ends_at)}
    )
    uow.alert(
        tenants.ids,
        AlertEvent.DRILL_STARTED,
        {
            "plan_id": tenants.plan.id,
            "drill_id": drill.id,
            "numbers": drill.numbers,
            "users": drill.users,
            "ends_at": drill.ends_at.isoformat(),
            "by": drill.started_by,
            "summary": f"a drill of {tenants.primary.name} has started",
        },
    )
    _reroute_after_commit(platform, uow)


def _reroute_after_commit(platform: Platform, uow: DirectoryUnit) -> None:
    uow.after_commit(lambda: invalidate_routes(platform))
    uow.after_commit(lambda: flush_edges(platform))  # every edge forgets its cached routes


def _record_refusal(platform: Platform, tenants: PairedTenants, principal: Principal, outcome: str) -> None:
    with platform.directory_unit() as uow:
        record_try(platform, uow, tenants, principal.actor, TRIED, outcome, now())
        uow.audit(principal.actor, "bcp.drill_attempt", tenant_id=tenants.ids, details={"outcome": outcome})


def end(platform: Platform, principal: Principal, tenant_id: int, drill_id: int) -> Drill:
    """End a running drill by hand (``bcp.enablement.edit``; no passkey: ending only takes back)."""
    tenants = open_bcp_plan(platform, principal, tenant_id, PERMISSION)
    with platform.directory_unit() as uow:
        drill = _drill_of(uow, tenants, drill_id)
        ended = end_drill(uow, tenants, drill, principal.actor)
        if ended is None:
            raise Conflict(f"Drill {drill_id} has ended already.", code="drill_ended")
        _reroute_after_commit(platform, uow)
    return ended


def get(platform: Platform, principal: Principal, tenant_id: int, drill_id: int) -> Drill:
    tenants = open_bcp_plan(platform, principal, tenant_id, VIEW_PERMISSION)
    with platform.directory_unit(write=False) as uow:
        return _drill_of(uow, tenants, drill_id)


def running(platform: Platform, principal: Principal, tenant_id: int) -> Drill:
    """The plan's running drill, or NotFound ``no_running_drill``."""
    tenants = open_bcp_plan(platform, principal, tenant_id, VIEW_PERMISSION)
    with platform.directory_unit(write=False) as uow:
        drills = uow.drills.running(tenants.plan.id)
    if not drills:
        raise NotFound("No drill of this plan is running.", code="no_running_drill")
    return drills[0]


def page(
    platform: Platform, principal: Principal, tenant_id: int, *, limit: int, offset: int
) -> tuple[list[Drill], int]:
    tenants = open_bcp_plan(platform, principal, tenant_id, VIEW_PERMISSION)
    with platform.directory_unit(write=False) as uow:
        return uow.drills.of_plan(tenants.plan.id, limit=limit, offset=offset)


def _drill_of(uow: DirectoryUnit, tenants: PairedTenants, drill_id: int) -> Drill:
    drill = uow.drills.get(drill_id) if is_id(drill_id) else None
    if drill is None or drill.plan_id != tenants.plan.id:
        raise NotFound(f"Drill {drill_id} does not exist.", code="drill_not_found", details={"drill_id": drill_id})
    return drill


def end_overdue(platform: Platform) -> list[Drill]:
    """End every drill past its time limit (the scheduler loop, on every replica)."""
    with platform.directory_unit(write=False) as uow:
        overdue = uow.drills.overdue(now())
    ended = []
    for drill in overdue:
        with platform.directory_unit() as uow:
            tenants = paired_tenants(platform, uow, current_plan(uow, drill.plan_id))
            done = end_drill(uow, tenants, drill, BY_TIME_LIMIT)
            if done is not None:
                _reroute_after_commit(platform, uow)
                ended.append(done)
    return ended
