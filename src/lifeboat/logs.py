"""How lifeboat writes its logs: readable lines (the default) or one JSON object per line
(``--log-format json``), each carrying the request it belongs to.

A request's id, route and actor live in a context variable set by the API's request
middleware (``api/requests.py``), so a line logged deep inside a service still says which
request it served. Nothing here ever formats a request body or a header: passwords,
passkeys and tokens never reach a log line because no log line is built from them.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMATS = ("text", "json")  # the choices of --log-format
_configured: list[str] = []  # the format configure() last set, for a child process to set the same


@dataclass
class RequestInfo:
    """The request being served; filled in as it goes (the actor once a token is read)."""

    id: str
    method: str = ""
    route: str | None = None
    actor: str | None = None


CURRENT: ContextVar[RequestInfo | None] = ContextVar("lifeboat_request", default=None)

# The extras a request line carries; any other ``extra=`` key is ignored by the formatters.
FIELDS = ("route", "method", "status", "duration_ms")


def note_actor(actor: str) -> None:
    """Remember who is acting for the request under way (no-op outside a request)."""
    info = CURRENT.get()
    if info is not None:
        info.actor = actor


def _context(record: logging.LogRecord) -> dict[str, Any]:
    info = CURRENT.get()
    out: dict[str, Any] = {}
    if info is not None:
        out = {"request_id": info.id, "method": info.method or None, "route": info.route, "actor": info.actor}
    for key in FIELDS:
        value = getattr(record, key, None)
        if value is not None:
            out[key] = value
    return {k: v for k, v in out.items() if v is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger message key=value …``: what a person reads in a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in _context(record).items())
        return f"{text}  {extras}" if extras else text


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """Send every logger (lifeboat's and uvicorn's) to stderr in the chosen format."""
    if fmt not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" at every start
    _configured[:] = [fmt]


def configured_format() -> str | None:
    """The format ``configure`` set in this process (None: never called, logging left as it is)."""
    return _configured[0] if _configured else None
