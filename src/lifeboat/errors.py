"""One exception tree for everything a user can see.

    LifeboatError                 (code, message, details)
    ├── BadInput          400     malformed JSON / CSV / XML, hostile documents
    ├── NotAuthenticated  401     no token, expired token, bad credentials
    ├── Forbidden         403     missing permission, BCP access denied
    ├── NotFound          404     unknown tenant, entity, number
    ├── Conflict          409     duplicate natural key, username taken, entity in use
    ├── TooLarge          413     request or document over a documented limit
    ├── Invalid           422     well-formed input that breaks a rule (field details)
    ├── Locked            423     passkey locked
    ├── TooManyRequests   429
    └── Unavailable       503     a region whose database cannot be reached

Each error carries a stable snake_case ``code``. The HTTP mapping lives in
``lifeboat.api.errors``; the classes only name their status so that the mapping
is one lookup, not a chain of isinstance checks.
"""

from __future__ import annotations

from typing import Any

MAX_LISTED_ERRORS = 1000  # per-item problems listed in one answer


class LifeboatError(Exception):
    status = 500
    default_code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code or self.default_code
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the body."""
        return {}


class BadInput(LifeboatError):
    status = 400
    default_code = "bad_input"


class NotAuthenticated(LifeboatError):
    status = 401
    default_code = "not_authenticated"


class Forbidden(LifeboatError):
    status = 403
    default_code = "permission_denied"


class NotFound(LifeboatError):
    status = 404
    default_code = "not_found"


class Conflict(LifeboatError):
    status = 409
    default_code = "conflict"


class TooLarge(LifeboatError):
    status = 413
    default_code = "content_too_large"


class Invalid(LifeboatError):
    """A rule was broken. ``details["errors"]`` lists ``{field, code, message}``."""

    status = 422
    default_code = "validation_failed"

    @classmethod
    def fields(cls, errors: list[dict[str, str]]) -> Invalid:
        """At most ``MAX_LISTED_ERRORS`` are listed (a body of 100,000 unknown fields must
        not answer 100,000 errors); ``errors_total`` then counts them all."""
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        details: dict[str, Any] = {"errors": errors[:MAX_LISTED_ERRORS]}
        if len(errors) > MAX_LISTED_ERRORS:
            details.update(errors_total=len(errors), errors_truncated=True)
        return cls(f"Invalid input: {summary}", details=details)


class Locked(LifeboatError):
    status = 423
    default_code = "locked"


class TooManyRequests(LifeboatError):
    """``details["retry_after_s"]`` becomes the ``Retry-After`` header."""

    status = 429
    default_code = "too_many_requests"

    @property
    def headers(self) -> dict[str, str]:
        retry = self.details.get("retry_after_s")
        return {"Retry-After": str(retry)} if retry is not None else {}


class Unavailable(LifeboatError):
    status = 503
    default_code = "region_unavailable"
