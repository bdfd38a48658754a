"""/login and /logout: the same session as POST /api/v1/auth/login, kept in an HttpOnly cookie."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from lifeboat.console.context import principal_of
from lifeboat.console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    forget_session,
    redirect,
    render,
    require_csrf,
    set_cookie,
)
from lifeboat.errors import Forbidden, Invalid, NotAuthenticated, TooManyRequests, Unavailable
from lifeboat.services.tenancy import auth
from lifeboat.services.tenancy import login as login_service

router = APIRouter(route_class=ConsoleRoute)

NOTICES = {
    "switched": "The switch is done. It ended every session of both tenants, yours too: log in again.",
    "ended": "Your session has ended: a switch between the primary and the BCP tenant, a logout or its expiry "
    "ends every session. Log in again.",
    "logged_out": "You are logged out.",
}


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never //host or a full URL (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", include_in_schema=False)
def login_page(request: Request, reason: str | None = None, next: str | None = None) -> Response:
    return render(
        request, "login.html", title="Log in", notice=NOTICES.get(reason or ""), next=_safe_next(next), username=""
    )


@router.post("/login", include_in_schema=False, dependencies=[Depends(require_csrf)])
async def log_in(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    tenant_id: Annotated[int | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    platform = request.app.state.platform
    address = request.client.host if request.client else None
    values: dict[str, Any] = {"username": username, "next": _safe_next(next), "title": "Log in"}
    try:
        result = await run_in_threadpool(login_service.login, platform, username, password, tenant_id, address=address)
    except (NotAuthenticated, Invalid) as exc:
        return render(request, "login.html", status=401, error=_failure(exc), **values)
    except (Forbidden, TooManyRequests, Unavailable) as exc:
        return render(request, "login.html", status=exc.status, error=exc.message, **values)
    if result.choose is not None:
        return render(request, "login.html", choose=result.choose, password=password, **values)
    response = redirect(values["next"])
    set_cookie(request, response, SESSION_COOKIE, result.token or "")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _failure(exc: NotAuthenticated | Invalid) -> str:
    if isinstance(exc, Invalid):
        return "Enter a username and a password."
    return "Unknown username or wrong password."


@router.post("/logout", include_in_schema=False, dependencies=[Depends(require_csrf)])
def log_out(request: Request) -> Response:
    platform = request.app.state.platform
    with suppress(NotAuthenticated):  # already ended: the cookie goes all the same
        auth.logout(platform, principal_of(platform, request))
    response = redirect("/login?reason=logged_out")
    forget_session(request, response)
    return response
