"""Interactive API docs at ``/docs``, served entirely from lifeboat's own static files.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN; a contact center's network
may not reach one, and the docs must work during an outage anyway. The app is created with
``docs_url=None, redoc_url=None`` and calls :func:`mount_docs`, which serves the vendored
copy (``api/static/``, refreshed by ``scripts/vendor-frontend.sh``) under ``/static``.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"
SWAGGER_UI = f"{STATIC_URL}/swagger-ui"

# Swagger UI would otherwise post the spec to validator.swagger.io for a badge.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def mount_docs(app: FastAPI) -> None:
    """Serve ``/static`` (vendored front-end files) and the Swagger UI page at ``/docs``."""
    if app.openapi_url is None:
        raise ValueError("mount_docs needs the app's OpenAPI schema (openapi_url is None)")
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        # Behind a proxy that mounts lifeboat under a prefix, every URL needs that prefix.
        prefix = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=prefix + app.openapi_url,
            title=html.escape(f"{app.title} — API docs"),
            swagger_js_url=f"{prefix}{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{prefix}{SWAGGER_UI}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
