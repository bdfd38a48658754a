"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.services.auth import authenticate

bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/login")


def _platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(_platform)]


def _principal(platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    return authenticate(platform, credentials.credentials if credentials else None)


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _page(limit: Annotated[int, Query(ge=1, le=1000)] = 100, offset: Annotated[int, Query(ge=0)] = 0) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(_page)]


def page_of(items: list, total: int) -> dict:
    return {"items": items, "total": total}
