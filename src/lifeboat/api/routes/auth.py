"""POST /auth/login and /auth/logout."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field

from lifeboat.api.deps import BodyId, CurrentPrincipal, PlatformDep
from lifeboat.api.openapi import errors
from lifeboat.domain.fields import NOT_BLANK
from lifeboat.services.tenancy import auth
from lifeboat.services.tenancy import login as login_service
from lifeboat.views.tenants import login_view

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginBody(BaseModel):
    username: str = Field(min_length=1, pattern=NOT_BLANK, description="Not only spaces")
    password: str
    tenant_id: BodyId | None = Field(None, description="Which tenant, for BCP type multiple")


@router.post(
    "/login",
    responses=errors(401, 403, 429, 503),
    summary="Log in; returns a bearer token, or the tenants to choose from (BCP type multiple)",
)
def login(platform: PlatformDep, request: Request, body: LoginBody = Body()) -> dict[str, Any]:
    address = request.client.host if request.client else None  # behind a proxy: see README, Security
    return login_view(login_service.login(platform, body.username, body.password, body.tenant_id, address=address))


@router.post("/logout", status_code=204, summary="End this session")
def logout(platform: PlatformDep, principal: CurrentPrincipal) -> None:
    auth.logout(platform, principal)
