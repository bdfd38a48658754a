"""The one place where errors become HTTP answers: ``{"error": {code, message, details}}``."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lifeboat.errors import MAX_LISTED_ERRORS, LifeboatError

log = logging.getLogger("lifeboat.api")

HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "content_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": details or {}}},
        status_code=status,
        headers=headers or None,
    )


def _allowed(request: Request) -> str:
    """The methods the published document lists for the path. (Starlette's 405 names only
    the first route that matched, and ``/tenants/{t}/skills`` has a route per method.)"""
    path = request.scope.get("path", "")
    methods = {
        method.upper()
        for template, operations in request.app.openapi()["paths"].items()
        if re.fullmatch(re.sub(r"\{\w+\}", "[0-9]+", template), path)
        for method in operations
    }  # ids
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LifeboatError)
    async def _lifeboat(_: Request, exc: LifeboatError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            where = next(e for e in errors if e.get("type") == "json_invalid")
            return error_response(
                400,
                "malformed_json",
                "The request body is not valid JSON.",
                {"position": (where.get("ctx") or {}).get("error")},
            )
        shaped = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body",
                "code": e.get("type", "invalid"),
                "message": e.get("msg", ""),
            }
            for e in errors[:MAX_LISTED_ERRORS]
        ]
        details: dict[str, Any] = {"errors": shaped}
        if len(errors) > MAX_LISTED_ERRORS:
            details.update(errors_total=len(errors), errors_truncated=True)
        return error_response(422, "validation_failed", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if _unparsable_body(exc):
            return error_response(
                400,
                "malformed_json",
                "The request body is not valid JSON: it is not UTF-8 text or it nests deeper than the parser goes.",
                {"reason": type(exc.__cause__).__name__},
            )
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = {**(exc.headers or {}), "Allow": _allowed(request)} if exc.status_code == 405 else exc.headers
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "internal_error", "Something went wrong inside lifeboat; it is logged.")


def _unparsable_body(exc: StarletteHTTPException) -> bool:
    """FastAPI answers 400 "There was an error parsing the body" when decoding the body
    fails before the JSON parser can say where: bytes that are not UTF-8, or nesting deep
    enough to exhaust Python's recursion. Both are malformed JSON to a client."""
    return exc.status_code == 400 and isinstance(exc.__cause__, (UnicodeDecodeError, RecursionError, ValueError))
