"""Tenants, and the answer to a login."""

from __future__ import annotations

from typing import Any, Protocol

from lifeboat.domain.access import Principal
from lifeboat.domain.entities import Entity
from lifeboat.domain.records import Tenant
from lifeboat.views.entities import public_view


def tenant_view(tenant: Tenant) -> dict[str, Any]:
    return {"id": tenant.id, "name": tenant.name, "region": tenant.region, "created_at": tenant.created_at.isoformat()}


class LoginAnswer(Protocol):
    """What a login tells (``services.tenancy.login.LoginResult``): a session, or the tenants
    to choose from."""

    @property
    def token(self) -> str | None: ...
    @property
    def principal(self) -> Principal | None: ...
    @property
    def tenant(self) -> Tenant | None: ...
    @property
    def user(self) -> Entity | None: ...
    @property
    def choose(self) -> list[dict[str, Any]] | None: ...


def login_view(result: LoginAnswer) -> dict[str, Any]:
    """The token with who logged in and where; or, for an employee of BCP type multiple who
    named no tenant, the tenants to choose from."""
    if result.choose is not None:
        return {"choose": result.choose}
    tenant = result.tenant
    return {
        "token": result.token,
        "user": public_view(result.user) if result.user else _operator(result.principal),
        "tenant": {"id": tenant.id, "name": tenant.name, "region": tenant.region} if tenant else None,
    }


def _operator(principal: Principal | None) -> dict[str, Any]:
    assert principal is not None, "a login that is no choice has a principal"
    return {"id": principal.id, "username": principal.name, "operator": True}
