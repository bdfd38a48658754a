"""The published ``/openapi.json``: every error an operation can answer, in lifeboat's shape.

FastAPI documents a ``422 HTTPValidationError`` of its own that lifeboat never sends (its
handler in ``api/errors.py`` answers ``{"error": {code, message, details}}``), and nothing
else. A client generated from that document would mis-read every error. Here the document
is rewritten once, when first asked for:

- FastAPI's validation schemas are dropped and ``Error`` is the one error schema;
- each operation lists the 4xx (and 503) answers it can give. Most follow from what the
  operation takes (a token: 401, 403 and 503; a path id: 404; parameters or a body: 422; a
  body: 400 and 413); a route adds the ones particular to it with ``responses=errors(...)``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z0-9_]+$", "description": "stable, snake_case"},
                "message": {"type": "string"},
                "details": {"type": "object", "description": "422: `errors` lists `{field, code, message}`"},
            },
        }
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

DESCRIPTIONS = {
    400: "Malformed request body (JSON, CSV or XML)",
    401: "No token, or an unknown or expired one",
    403: "A permission is missing, or the passkey is wrong",
    404: "No such tenant or entity (or not yours)",
    405: "Method not allowed",
    409: "Conflicts with the current state (a duplicate, an entity in use, already active, ...)",
    413: "Request body or document over a limit",
    415: "Unsupported content type",
    422: "Well-formed input that breaks a rule; `details.errors` lists each `{field, code, message}`",
    423: "Switching is locked after too many wrong passkeys",
    429: "Too many attempts; retry later",
    503: "A region whose database cannot be reached",
}
_FASTAPI_SCHEMAS = ("HTTPValidationError", "ValidationError")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: error statuses particular to it (the usual ones are added)."""
    return {
        status: {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": ERROR_REF}}}
        for status in statuses
    }


def install_openapi(app: FastAPI, tighten: dict[str, Any] | None = None) -> None:
    """Serve the rewritten document. ``tighten`` maps a component schema's name to extra
    keywords known only at run time (e.g. the configured region names)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = describe_errors(schema, tighten or {})
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe_errors(schema: dict[str, Any], tighten: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_SCHEMAS:
        components.pop(name, None)
    components["Error"] = ERROR_SCHEMA
    for name, extra in tighten.items():
        _deep_update(components[name], extra)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            _describe_operation(path, operation)
    return schema


def _describe_operation(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in _usual_statuses(operation):
        responses.setdefault(str(status), {})
    for status, answer in responses.items():
        if status[0] in "45":
            if answer.get("description") in (None, "", "Validation Error"):
                answer["description"] = DESCRIPTIONS.get(int(status), "Error")
            answer["content"] = {"application/json": {"schema": ERROR_REF}}


def _usual_statuses(operation: dict[str, Any]) -> set[int]:
    parameters = operation.get("parameters", [])
    statuses: set[int] = set()
    if operation.get("security"):
        statuses |= {401, 403, 503}
    if any(p["in"] == "path" for p in parameters):
        statuses |= {404, 422}
    if any(p["in"] == "query" for p in parameters):
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    return statuses


def _deep_update(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value
