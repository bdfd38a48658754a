"""Logging in and out, and turning a bearer token back into a ``Principal``.

Tokens are random and shown once; the directory keeps only their SHA-256. Passwords are
argon2 hashes, checked against the record of the tenant being entered.

Sessions that belong to no tenant (voice-edge and operator tokens) are remembered in the
process for ``SESSION_CACHE_TTL_S``: the voice edge asks for a route on every call, and
reading its session each time was most of the cost of a lookup over HTTP. A logout in
this process forgets the token at once; one on another replica is seen there within the
TTL (the same delay as the routing table's). User sessions are always read, so a switch
ends them on every replica at once.

While the directory cannot be read (a failover), a voice-edge token this process read
before stays valid for up to ``route_stale_max_s`` after the directory last confirmed it:
routing answers from memory then, and the edge must be let in to ask. Every other token
gets 503 ``directory_unavailable``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import Entity
from lifeboat.domain.records import Operator, Session, Tenant
from lifeboat.errors import Conflict, Forbidden, Invalid, NotAuthenticated, Unavailable
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit, RegionUnit

BAD_CREDENTIALS = "Unknown username or wrong password."
SESSION_CACHE = "sessions"
SESSION_CACHE_TTL_S = 1.0
SESSION_CACHE_SIZE = 10_000

# principal, expiry, when this process last read it, when the directory last confirmed it
_Remembered = tuple[Principal, datetime, float, float]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_operator(platform: Platform, name: str, password: str) -> int:
    if not name or len(password) < 8:
        raise Invalid("An operator needs a name and a password of at least 8 characters.", code="weak_password")
    with platform.directory_unit() as uow:
        if uow.operators.by_name(name) or uow.logins.lookup(name):
            raise Conflict(f"The name {name!r} is taken.", code="username_taken", details={"username": name})
        operator = uow.operators.create(name, platform.passwords.hash(password))
        uow.audit("cli", "operator.create", after={"name": name})
    return operator.id


def find_operator(platform: Platform, name: str) -> Operator | None:
    """The operator account of that name, if there is one (the demo makes its own once)."""
    with platform.directory_unit(write=False) as uow:
        return uow.operators.by_name(name)


def verify_password(platform: Platform, password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return platform.passwords.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def user_permissions(platform: Platform, tenant: Tenant, user: Entity) -> frozenset[str]:
    if user.data.get("role_id") is None:
        return frozenset()  # no role to read: no transaction either
    with platform.region_unit(tenant.region, write=False) as uow:
        return _permissions(uow, tenant, user)


def _permissions(uow: RegionUnit, tenant: Tenant, user: Entity) -> frozenset[str]:
    role_id = user.data.get("role_id")
    role = uow.entities.get(tenant.id, "roles", role_id) if role_id is not None else None
    if role is None or not role.data.get("is_active", True):
        return frozenset()
    return frozenset(role.data.get("permissions", []))


def create_voice_token(platform: Platform, principal: Principal, name: str, *, days: int = 365) -> str:
    """A long-lived token for the carrier / voice edge: it may ask for routes, nothing else.
    Switches do not end it (it belongs to no tenant)."""
    if not principal.is_operator:
        raise Forbidden("Only an operator may create voice tokens.", code="operator_required")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Invalid("A voice token needs a name (who uses it).", code="validation_failed")
    with platform.directory_unit() as uow:  # the token and its audit record commit together
        token = _new_session(uow, Principal("voice", 0, name.strip()), timedelta(days=days))
        uow.audit(principal.actor, "voice_token.create", details={"name": name})
    return token


def open_session(platform: Platform, principal: Principal, ttl: timedelta | None = None) -> str:
    with platform.directory_unit() as uow:
        return _new_session(uow, principal, ttl or timedelta(minutes=platform.settings.session_ttl_minutes))


def _new_session(uow: DirectoryUnit, principal: Principal, ttl: timedelta) -> str:
    token = secrets.token_urlsafe(32)
    uow.sessions.create(
        Session(hash_token(token), principal.kind, principal.id, principal.tenant_id, principal.name, now() + ttl)
    )
    return token


def logout(platform: Platform, principal: Principal) -> None:
    token_hash = principal.token_hash
    if token_hash is None:  # a principal not read from a token (SYSTEM): no session to end
        return
    with platform.directory_unit() as uow:
        uow.sessions.end(token_hash)
        # Forgotten only once the end has committed: a failed logout leaves the token live here too.
        uow.after_commit(lambda: platform.caches.get(SESSION_CACHE, {}).pop(token_hash, None))


def authenticate(platform: Platform, token: str | None) -> Principal:
    """The principal behind a bearer token, with live permissions."""
    if not token:
        raise NotAuthenticated("Log in and send 'Authorization: Bearer <token>'.", code="not_authenticated")
    token_hash = hash_token(token)
    remembered = _remembered(platform, token_hash)
    if remembered is not None:
        return remembered
    try:
        with platform.directory_unit(write=False) as uow:
            session = uow.sessions.get(token_hash)
            tenant = uow.tenants.get(session.tenant_id) if session and session.tenant_id else None
    except Unavailable:
        principal = _voice_token_during_outage(platform, token_hash)
        if principal is None:
            raise
        return principal
    if session is None:
        raise NotAuthenticated("The session has ended or the token is unknown; log in again.", code="invalid_token")
    if session.expires_at <= now():
        raise NotAuthenticated("The session has expired; log in again.", code="session_expired")
    if session.kind in ("operator", "voice"):
        principal = Principal(session.kind, session.principal_id, session.name, token_hash=token_hash)
        _remember(platform, principal, session.expires_at)
        return principal
    if tenant is None:
        raise _user_gone()
    user, permissions = _user_and_permissions(platform, tenant, session.principal_id)
    return Principal("user", user.id, session.name, tenant.id, permissions, token_hash)


def remembered_principal(platform: Platform, token: str | None) -> Principal | None:
    """The principal of a token this process read less than a second ago, without any I/O."""
    return _remembered(platform, hash_token(token)) if token else None


def _remembered(platform: Platform, token_hash: str) -> Principal | None:
    entry: _Remembered | None = platform.caches.get(SESSION_CACHE, {}).get(token_hash)
    if entry is None:
        return None
    principal, expires_at, read_at, _ = entry
    if time.monotonic() - read_at > SESSION_CACHE_TTL_S or expires_at <= now():
        return None  # read it again: ended, expired or still there
    return principal


def _remember(platform: Platform, principal: Principal, expires_at: datetime) -> None:
    cache = platform.caches.setdefault(SESSION_CACHE, {})
    if len(cache) >= SESSION_CACHE_SIZE:
        cache.clear()  # crude but bounded; it refills from the directory within a second
    read_at = time.monotonic()
    cache[principal.token_hash] = (principal, expires_at, read_at, read_at)


def _voice_token_during_outage(platform: Platform, token_hash: str) -> Principal | None:
    entry: _Remembered | None = platform.caches.get(SESSION_CACHE, {}).get(token_hash)
    if entry is None:
        return None
    principal, expires_at, _, confirmed_at = entry
    if principal.kind != "voice" or expires_at <= now():
        return None
    if time.monotonic() - confirmed_at > platform.settings.route_stale_max_s:
        return None
    # Answered from memory for the next TTL: one request a second tries the directory, not each.
    platform.caches[SESSION_CACHE][token_hash] = (principal, expires_at, time.monotonic(), confirmed_at)
    return principal


def _user_and_permissions(platform: Platform, tenant: Tenant, user_id: int) -> tuple[Entity, frozenset[str]]:
    """The session's user, active, and its role's permissions: one read of the region."""
    with platform.region_unit(tenant.region, write=False) as uow:
        user = uow.entities.get(tenant.id, "users", user_id)
        if user is None or not user.data.get("is_active", True):
            raise _user_gone()
        return user, _permissions(uow, tenant, user)


def _user_gone() -> NotAuthenticated:
    return NotAuthenticated("This user no longer exists or is inactive.", code="invalid_token")
