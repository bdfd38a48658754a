"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator, Field
from starlette.concurrency import run_in_threadpool

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.fields import whole
from lifeboat.ids import MAX_ID
from lifeboat.logs import note_actor
from lifeboat.services.tenancy.auth import authenticate, remembered_principal

bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/login")


async def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(_platform)]


async def _principal(
    platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    token = credentials.credentials if credentials else None
    # A token read a moment ago needs no database: answer on the event loop (the voice
    # edge asks on every call); anything else reads the directory in the thread pool.
    principal = remembered_principal(platform, token)
    if principal is None:
        principal = await run_in_threadpool(authenticate, platform, token)
    note_actor(principal.actor)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _whole_number(value: object) -> object:
    number = whole(value)
    if number is None:
        raise ValueError("must be an integer")
    return number


# An id in a body, read as JSON Schema reads an integer: 5 and 5.0, never "5" or true
# (pydantic's lax mode takes those, its strict mode refuses 5.0).
BodyId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_whole_number)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


MAX_PAGE = 1000
# Offsets stop where ids do (2^53 - 1, what a JSON client keeps exactly), far below the
# 2^63 at which the databases' integers overflow.


def _page(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100, offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(_page)]


def page_of(items: list[Any], total: int) -> dict[str, Any]:
    return {"items": items, "total": total}
