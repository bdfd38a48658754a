"""Global login (SPEC §5): one username and password, and the BCP type decides where it goes.

The password is always checked against the user record of the tenant being entered, and
that record is read from that tenant's own region, so logging in to the BCP tenant works
while the primary region is down. Which tenant a user may enter is decided by
``domain.access.decide_login`` from the record of the *active* tenant when it can be read.

Guessing is slowed down by ``services.tenancy.throttle`` (per username and per client address), and
an unknown username costs the same argon2 verification as a known one, against a dummy hash
made with the same parameters, so the time of an answer does not tell whether a name exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal, decide_login
from lifeboat.domain.entities import Entity
from lifeboat.domain.fields import FieldError, storable
from lifeboat.domain.records import BcpPlan, Operator, Side, Tenant
from lifeboat.errors import Forbidden, Invalid, NotAuthenticated, TooManyRequests, Unavailable
from lifeboat.services.switch_firsts import note_first_login
from lifeboat.services.tenancy.auth import BAD_CREDENTIALS, open_session, user_permissions, verify_password
from lifeboat.services.tenancy.throttle import LoginGuard
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit


@dataclass(frozen=True)
class LoginResult:
    token: str | None = None
    principal: Principal | None = None
    tenant: Tenant | None = None
    user: Entity | None = None
    choose: list[dict[str, Any]] | None = None


@dataclass
class _Attempt:
    platform: Platform
    username: str
    password: str
    home: Tenant
    plan: BcpPlan | None
    tenants: dict[str, Tenant]  # side -> tenant
    records: dict[str, Entity | None]
    drill_id: int | None = None  # the running drill this user is a pilot of

    def record(self, side: str) -> Entity | None:
        if side not in self.records:
            tenant = self.tenants[side]
            with self.platform.region_unit(tenant.region, write=False) as uow:
                self.records[side] = uow.entities.by_key(tenant.id, "users", self.username)
        return self.records[side]


def login(
    platform: Platform, username: Any, password: Any, tenant_id: Any = None, *, address: str | None = None
) -> LoginResult:
    """Log in from the client ``address`` (None when unknown: then only the username is throttled)."""
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip():
        raise Invalid("username and password are required strings.", code="validation_failed")
    try:  # no stored name holds such text, and neither the databases nor argon2 take it
        storable([username, password])
    except FieldError as exc:
        raise Invalid(f"username and password {exc.message}.", code="validation_failed") from None
    if tenant_id is not None and (isinstance(tenant_id, bool) or not isinstance(tenant_id, int)):
        raise Invalid("tenant_id must be a tenant id.", code="validation_failed")
    name = username.strip()
    guard = LoginGuard.of(platform, name, address)
    try:
        guard.check()
    except TooManyRequests as exc:
        platform.metrics.login(exc.code)
        raise
    try:
        result = _login(platform, name, password, tenant_id)
    except NotAuthenticated:
        guard.failed()
        raise
    guard.succeeded()
    platform.metrics.login("choose_tenant" if result.choose else "ok")
    return result


def _login(platform: Platform, name: str, password: str, tenant_id: int | None) -> LoginResult:
    with platform.directory_unit(write=False) as uow:
        operator = uow.operators.by_name(name)
        owner = uow.logins.lookup(name.lower())
        home = uow.tenants.get(owner[0]) if owner and owner[1] else None
        plan = uow.plans.of_tenant(home.id) if home else None
        tenants = _sides(uow, home, plan)
        drill_id = _pilot_of(uow, plan, name.lower()) if home and plan and home.id == plan.primary_tenant_id else None
    if operator is not None and home is None:
        return _operator_login(platform, operator, password)
    if home is None:
        _pretend_to_verify(platform, password)
        _refuse(platform, name, None, "unknown_username")
    attempt = _Attempt(platform, name.lower(), password, home, plan, tenants, {}, drill_id)
    result = _user_login(attempt, tenant_id)
    if drill_id is not None and result.tenant is not None and result.tenant.id == tenants[Side.BCP].id:
        _count_pilot_login(platform, drill_id)
    return result


def _pilot_of(uow: DirectoryUnit, plan: BcpPlan, username: str) -> int | None:
    """The running drill of the plan that has this user among its pilots (SPEC §14)."""
    return next((d.id for d in uow.drills.running(plan.id) if username in d.users), None)


def _count_pilot_login(platform: Platform, drill_id: int) -> None:
    with platform.directory_unit() as uow:
        uow.drills.count_login(drill_id, now())


def _sides(uow: DirectoryUnit, home: Tenant | None, plan: BcpPlan | None) -> dict[str, Tenant]:
    if home is None:
        return {}
    if plan is None:
        return {Side.PRIMARY: home}
    primary, bcp = uow.tenants.get(plan.primary_tenant_id), uow.tenants.get(plan.bcp_tenant_id)
    assert primary is not None and bcp is not None  # a paired tenant is never deleted
    return {Side.PRIMARY: primary, Side.BCP: bcp}


FOREIGN = "foreign"  # a tenant_id that is neither tenant of the user's plan


def _requested_side(attempt: _Attempt, tenant_id: int | None) -> str | None:
    if tenant_id is None:
        return None
    return next((side for side, tenant in attempt.tenants.items() if tenant.id == tenant_id), FOREIGN)


def _user_login(attempt: _Attempt, tenant_id: int | None) -> LoginResult:
    plan = attempt.plan
    origin = Side.BCP if plan and attempt.home.id == plan.bcp_tenant_id else Side.PRIMARY
    # A drill's pilot enters the BCP tenant as a ``single`` user does while BCP is active.
    active = Side.BCP if attempt.drill_id is not None else plan.active_side if plan else None
    deciding_side, deciding = _deciding_record(attempt, origin, active)
    requested = _requested_side(attempt, tenant_id)
    decision = decide_login(
        bcp_type="single" if attempt.drill_id is not None else deciding.data.get("bcp_type", "none"),
        active_side=active,
        origin=origin,
        requested=None if requested == FOREIGN else requested,
    )
    entering = decision.enter if requested != FOREIGN and not decision.denied else None
    user = (deciding if entering == deciding_side else attempt.record(entering)) if entering else None
    # The password of the tenant entered decides; with nothing to enter (a refusal, a choice),
    # the active tenant's. Either way a wrong password is 401 before any refusal is told.
    if entering is not None and user is not None:
        _check_password(attempt, user, entering)
    else:
        _check_password(attempt, deciding, deciding_side)
    if requested == FOREIGN:
        _deny(attempt, f"Tenant {tenant_id} is not a tenant of this user.")
    if decision.denied:
        _deny(attempt, decision.denied)
    if decision.choose:
        return LoginResult(choose=_choices(attempt))
    if entering is None or user is None:
        _deny(attempt, f"This user has not been synced to the {entering} tenant yet.")
    tenant = attempt.tenants[entering]
    permissions = user_permissions(attempt.platform, tenant, user)
    principal = Principal("user", user.id, attempt.username, tenant.id, permissions)
    token = open_session(attempt.platform, principal)
    if plan is not None:  # the first login into the tenant a switch made active (once per process)
        note_first_login(attempt.platform, tenant.id, plan.epoch)
    return LoginResult(token, principal, tenant, user)


def _deciding_record(attempt: _Attempt, origin: Side, active: Side | None) -> tuple[Side, Entity]:
    """The active tenant's record of the user, or the other one's if that region is down."""
    if active is None or origin == Side.BCP:
        order = [origin]
    else:
        order = [active, Side.BCP if active == Side.PRIMARY else Side.PRIMARY]
    down: Unavailable | None = None
    for side in order:
        try:
            record = attempt.record(side)
        except Unavailable as exc:
            down = down or exc
            continue
        if record is not None:
            return side, record
    if down is not None:
        raise down
    _pretend_to_verify(attempt.platform, attempt.password)
    _refuse(attempt.platform, attempt.username, attempt.home.id, "unknown_username")


def _check_password(attempt: _Attempt, user: Entity, side: str) -> None:
    password_hash = user.data.get("password_hash")
    if password_hash is None:
        _pretend_to_verify(attempt.platform, attempt.password)
    if not verify_password(attempt.platform, password_hash, attempt.password):
        _refuse(attempt.platform, attempt.username, attempt.tenants[side].id, "wrong_password")
    if not user.data.get("is_active", True):
        _refuse(attempt.platform, attempt.username, attempt.tenants[side].id, "user_inactive")


def _choices(attempt: _Attempt) -> list[dict[str, Any]]:
    active = attempt.plan.active_side if attempt.plan else None
    return [
        {"tenant_id": t.id, "name": t.name, "kind": side, "region": t.region, "active": side == active}
        for side, t in attempt.tenants.items()
    ]


def _operator_login(platform: Platform, operator: Operator, password: str) -> LoginResult:
    if not verify_password(platform, operator.password_hash, password):
        _refuse(platform, operator.name, None, "wrong_password")
    principal = Principal("operator", operator.id, operator.name)
    return LoginResult(open_session(platform, principal), principal)


DUMMY_HASH = "login_dummy_hash"


def _pretend_to_verify(platform: Platform, password: str) -> None:
    """Spend the time of a real verification when there is no hash to verify against."""
    dummy = platform.caches.get(DUMMY_HASH)
    if dummy is None:
        dummy = platform.caches.setdefault(DUMMY_HASH, platform.passwords.hash(secrets.token_urlsafe(16)))
    verify_password(platform, dummy, password)


def _refuse(platform: Platform, username: str, tenant_id: int | None, reason: str) -> NoReturn:
    _audit(platform, username, tenant_id, reason)
    raise NotAuthenticated(BAD_CREDENTIALS, code="invalid_credentials")


def _deny(attempt: _Attempt, message: str) -> NoReturn:
    _audit(attempt.platform, attempt.username, attempt.home.id, "bcp_access_denied")
    raise Forbidden(message, code="bcp_access_denied")


def _audit(platform: Platform, username: str, tenant_id: int | None, reason: str) -> None:
    with platform.directory_unit() as uow:
        uow.audit(f"login:{username[:200]}", "login.failed", tenant_id=tenant_id, details={"reason": reason})
    platform.metrics.login(reason)
