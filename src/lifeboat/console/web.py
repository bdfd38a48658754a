"""What every console response shares: templates, security headers, the session cookie, CSRF.

The session cookie holds the same bearer token the API hands out (``services.tenancy.auth``),
so a switch, a logout or expiry ends a console session exactly as it ends an API one.

CSRF: a form that changes something carries ``csrf_token``; an htmx request sends the same
value in ``X-CSRF-Token``. Signed in, the token is an HMAC of the session token (which the
page's script cannot read: the cookie is HttpOnly), so only a page the console rendered for
that session knows it. Before login there is no session: the login form uses a random value
kept in its own HttpOnly cookie (double submit), which SameSite=Strict keeps first-party.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from lifeboat.errors import Forbidden, LifeboatError, NotAuthenticated, NotFound

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "lifeboat_session"
LOGIN_CSRF_COOKIE = "lifeboat_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

# No 'unsafe-inline' anywhere: every script and stylesheet is a file under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages show tenant data and carry CSRF tokens
}


def _utc(value: Any) -> str:
    return _as_datetime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _iso(value: Any) -> str:
    return _as_datetime(value).isoformat() if value else ""


def _as_datetime(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


templates = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True
)
templates.filters.update(utc=_utc, iso=_iso)


def secure_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("csrf", csrf_token(request))
    html = templates.get_template(template).render(request=request, **values)
    response = HTMLResponse(html, status_code=status)
    secure_headers(response)
    if not request.cookies.get(SESSION_COOKIE) and not request.cookies.get(LOGIN_CSRF_COOKIE):
        set_cookie(request, response, LOGIN_CSRF_COOKIE, values["csrf"])
    return response


def redirect(url: str) -> Response:
    return secure_headers(RedirectResponse(url, status_code=303))


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/")


def forget_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="strict", secure=request.url.scheme == "https", path="/"
    )


# --------------------------------------------------------------------------- CSRF


def csrf_token(request: Request) -> str:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return hmac.new(session.encode(), b"lifeboat console csrf", hashlib.sha256).hexdigest()
    token = getattr(request.state, "login_csrf", None)
    if token is None:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.login_csrf = token
    return str(token)


async def require_csrf(request: Request) -> None:
    """Refuse (403, nothing done) a change without this session's token; a dependency of every POST."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    expected = csrf_token(request)
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(
            "The form is missing its security token or it is stale; reload the page and try again.", code="csrf_failed"
        )


# --------------------------------------------------------------------------- errors as pages


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    from_context = getattr(request.state, "console", None)
    return render(request, "error.html", status=status, title=title, message=message, ctx=from_context)


def login_url(request: Request, reason: str | None = None) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = f"next={quote(target, safe='')}" if request.method == "GET" and target != "/" else ""
    if reason:
        query = f"reason={reason}" + (f"&{query}" if query else "")
    return "/login" + (f"?{query}" if query else "")


class ConsoleRoute(APIRoute):
    """A page route: service errors become pages (403, 404) or a way back to /login, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except NotAuthenticated:
                response = redirect(login_url(request, "ended" if request.cookies.get(SESSION_COOKIE) else None))
                if request.cookies.get(SESSION_COOKIE):
                    forget_session(request, response)
                if request.headers.get("HX-Request"):
                    response.headers["HX-Redirect"] = response.headers["location"]
                return response
            except Forbidden as exc:
                return error_page(request, 403, "Not allowed", exc.message)
            except NotFound as exc:
                return error_page(request, 404, "Not found", exc.message)
            except RequestValidationError:
                return error_page(request, 400, "Bad request", "The form was incomplete; go back and try again.")
            except LifeboatError as exc:
                return error_page(request, exc.status, "Something is in the way", exc.message)

        return page
