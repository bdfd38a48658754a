"""The FastAPI application, built from a ``Platform`` (nothing at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from lifeboat import __version__
from lifeboat.api.docs import mount_docs
from lifeboat.api.errors import install_error_handlers
from lifeboat.api.limits import BodyLimit, body_limit
from lifeboat.api.openapi import install_openapi
from lifeboat.api.requests import RequestContext
from lifeboat.api.routes import auth, bcp, continuity, entities, failback, health, metrics
from lifeboat.api.routes import platform as platform_routes
from lifeboat.bootstrap import Platform
from lifeboat.console.app import mount_console
from lifeboat.jobs import WorkerMode, start_background
from lifeboat.services.gauges import shared_state

API_PREFIX = "/api/v1"

DESCRIPTION = """Business continuity for a cloud contact center: a warm BCP tenant in a second
region, a one-way sync of the primary tenant's configuration, and a passkey-protected switch.

Authenticate with `POST /api/v1/auth/login`, then send `Authorization: Bearer <token>`.
Errors are `{"error": {"code", "message", "details"}}` with a stable `code`."""


def create_app(
    platform: Platform, *, run_jobs: bool = False, worker: WorkerMode = WorkerMode.PROCESS, access_log: bool = False
) -> FastAPI:
    """The API; with ``run_jobs`` the sync scheduler runs inside the process and a worker where
    ``worker`` says (a child process by default); with ``access_log`` one log line per request
    (else only for answers of 500 and up)."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        workers = 0 if worker == WorkerMode.OFF else 1
        stop = (
            start_background(platform, workers=workers, worker_process=worker == WorkerMode.PROCESS)
            if run_jobs
            else None
        )
        yield
        if stop:
            stop()

    app = FastAPI(
        title="lifeboat",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.platform = platform
    app.add_middleware(BodyLimit, limit=body_limit(platform.settings.max_file_bytes))
    # outermost: the id covers everything, and every answer is counted for /metrics
    app.add_middleware(RequestContext, access_log=access_log, metrics=platform.metrics)
    platform.metrics.read_shared_state_with(lambda: shared_state(platform))
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth.router, prefix=API_PREFIX)
    app.include_router(platform_routes.router, prefix=API_PREFIX)
    app.include_router(entities.build_router(), prefix=API_PREFIX)
    app.include_router(bcp.router, prefix=API_PREFIX)
    app.include_router(continuity.router, prefix=API_PREFIX)
    app.include_router(failback.router, prefix=API_PREFIX)
    mount_docs(app)
    mount_console(app)  # the web console at /, on the same services (SPEC §11)
    install_openapi(app, {"NewTenant": {"properties": {"region": {"enum": sorted(platform.regions)}}}})
    return app
