"""Mount the console on the API's application: its pages, and an HTML 404 for unknown pages."""

from __future__ import annotations

from inspect import isawaitable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lifeboat.console.pages import (
    access,
    alerts,
    audit,
    checklist,
    config,
    drills,
    failback,
    login,
    overview,
    regions,
    switchover,
    sync,
    tenants,
)
from lifeboat.console.web import error_page

# Paths the console leaves to the API and the docs: their unknown URLs answer JSON as before.
NOT_CONSOLE = ("/api/", "/static/", "/docs", "/openapi.json")


def mount_console(app: FastAPI) -> None:
    for router in (
        login.router,
        overview.router,
        switchover.router,
        drills.router,
        failback.router,
        sync.router,
        checklist.router,
        access.router,
        config.router,
        audit.router,
        alerts.router,
        regions.router,
        tenants.router,
    ):
        app.include_router(router)
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def not_found_page(request: Request, exc: Exception) -> Response:
        if (
            isinstance(exc, StarletteHTTPException)
            and exc.status_code == 404
            and request.method == "GET"
            and not request.url.path.startswith(NOT_CONSOLE)
        ):
            return error_page(request, 404, "Page not found", f"There is no page at {request.url.path}.")
        answer = api_handler(request, exc)
        return await answer if isawaitable(answer) else answer

    app.add_exception_handler(StarletteHTTPException, not_found_page)
