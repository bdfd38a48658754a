"""Field checks: each takes a raw JSON value and returns the normalised value or raises
``FieldError``. They are plain functions so that an entity type is described as data
(``lifeboat.domain.entities``) and validated by one loop.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from lifeboat.ids import MAX_ID, is_id

Check = Callable[[Any], Any]

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,127}$")
# Python's \s holds \x1c-\x1f and \x85 (str.strip() takes them off) and a JSON Schema
# pattern's does not: naming them keeps the published patterns and these checks one rule.
SPACE = r"\s\x1c-\x1f\x85"
EMAIL = re.compile(rf"^[^@{SPACE}]+@[^@{SPACE}]+\.[^@{SPACE}]+$")
PATH = re.compile(r"^[^/\x00-\x1f][^\x00-\x1f]{0,254}$")
NOT_BLANK = rf"[^{SPACE}]"  # schema pattern of text that is more than spaces (it is stripped)
ID_RANGE = {"minimum": 1, "maximum": MAX_ID}


class FieldError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Spec:
    """A field check plus the JSON schema shown in the API docs. ``free_form`` marks a field
    whose value is any JSON: ``"value"`` (depth and size limits) or ``"document"`` (a depth
    limit; the document's reader measures its size against its own limit)."""

    check: Check
    schema: dict[str, Any]
    free_form: str | None = None


JsonValue = TypeVar("JsonValue")


def storable(value: JsonValue) -> JsonValue:
    """``value`` if every string in it (keys too) can be stored: PostgreSQL refuses NUL
    characters and no UTF-8 encoder takes an unpaired surrogate, yet both are valid JSON."""
    stack = [value]
    while stack:  # a loop, not recursion: a script may nest deeply
        item = stack.pop()
        if isinstance(item, str):
            _check_storable_text(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _check_storable_text(text: str) -> None:
    if "\x00" in text:
        raise FieldError("bad_text", "must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("bad_text", "must not contain unpaired UTF-16 surrogates") from None


def shown(value: Any, limit: int) -> str:
    """``value`` as storable text of at most ``limit`` characters, for a record of what was
    sent (an audit entry): what cannot be stored is escaped instead of refused."""
    raw = value if isinstance(value, str) else repr(value)
    escaped = raw[:limit].encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return escaped[:limit]


def text(max_len: int = 200, *, min_len: int = 1) -> Spec:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise FieldError("not_a_string", "must be a string")
        cleaned = storable(value).strip()
        if not min_len <= len(cleaned) <= max_len:
            raise FieldError("bad_length", f"must be {min_len} to {max_len} characters")
        return cleaned

    return Spec(check, {"type": "string", "minLength": min_len, "maxLength": max_len, "pattern": NOT_BLANK})


def boolean() -> Spec:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldError("not_a_boolean", "must be true or false")
        return value

    return Spec(check, {"type": "boolean"})


def whole(value: Any) -> int | None:
    """An integer as JSON Schema counts them (``5``, and ``5.0`` too), else None."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def integer(low: int, high: int) -> Spec:
    def check(value: Any) -> int:
        number = whole(value)
        if number is None:
            raise FieldError("not_an_integer", "must be an integer")
        if not low <= number <= high:
            raise FieldError("out_of_range", f"must be between {low} and {high}")
        return number

    return Spec(check, {"type": "integer", "minimum": low, "maximum": high})


def choice(*options: str) -> Spec:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise FieldError("bad_choice", f"must be one of {', '.join(options)}")
        return value

    return Spec(check, {"type": "string", "enum": list(options)})


def pattern(regex: re.Pattern[str], code: str, message: str, *, lower: bool = False) -> Spec:
    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise FieldError("not_a_string", "must be a string")
        cleaned = value.strip().lower() if lower else value.strip()
        if not regex.match(cleaned):
            raise FieldError(code, message)
        return cleaned

    return Spec(check, {"type": "string", "pattern": _padded(regex, lower=lower)})


def _padded(regex: re.Pattern[str], *, lower: bool) -> str:
    """The schema pattern of what ``pattern()`` accepts: spaces around are stripped first,
    and with ``lower`` capitals are lowered first."""
    core = regex.pattern.removeprefix("^").removesuffix("$")
    if lower:
        core = core.replace("a-z", "a-zA-Z")
    return rf"^[{SPACE}]*(?={NOT_BLANK})(?:{core})[{SPACE}]*$"


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zone() -> Spec:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in _zones():
            raise FieldError("bad_time_zone", "must be an IANA time zone such as 'America/New_York'")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise FieldError("bad_time_zone", f"unknown time zone: {exc}") from None
        return value

    return Spec(check, {"type": "string", "enum": sorted(_zones()), "example": "America/New_York"})


def weekly() -> Spec:
    def check(value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list):
            raise FieldError("not_a_list", "must be a list of {day, open, close}")
        out = [_weekly_slot(i, slot) for i, slot in enumerate(value)]
        return sorted(out, key=lambda s: (DAYS.index(s["day"]), s["open"]))

    hhmm = {"type": "string", "pattern": HHMM.pattern}
    slot = {
        "type": "object",
        "required": ["day", "open", "close"],
        "additionalProperties": False,
        "properties": {
            "day": {"enum": list(DAYS)},
            "open": {**hhmm, "example": "08:00"},
            "close": {**hhmm, "example": "17:30"},
        },
        "description": "open must be before close",
    }
    return Spec(check, {"type": "array", "items": slot})


def _weekly_slot(index: int, slot: Any) -> dict[str, str]:
    if not isinstance(slot, dict) or set(slot) != {"day", "open", "close"}:
        raise FieldError("bad_slot", f"item {index} must have exactly day, open and close")
    if slot["day"] not in DAYS:
        raise FieldError("bad_day", f"item {index}: day must be one of {', '.join(DAYS)}")
    for key in ("open", "close"):
        if not isinstance(slot[key], str) or not HHMM.match(slot[key]):
            raise FieldError("bad_time", f"item {index}: {key} must be HH:MM (00:00 to 24:00)")
    if slot["open"] >= slot["close"]:
        raise FieldError("bad_time", f"item {index}: open must be before close")
    return {"day": slot["day"], "open": slot["open"], "close": slot["close"]}


def holidays() -> Spec:
    def check(value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list):
            raise FieldError("not_a_list", "must be a list of {date, name}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict) or set(item) != {"date", "name"}:
                raise FieldError("bad_holiday", f"item {i} must have exactly date and name")
            try:
                day = date.fromisoformat(item["date"]).isoformat()
            except (TypeError, ValueError):
                raise FieldError("bad_date", f"item {i}: date must be YYYY-MM-DD") from None
            out.append({"date": day, "name": text(100).check(item["name"])})
        return sorted(out, key=lambda h: h["date"])

    item = {
        "type": "object",
        "required": ["date", "name"],
        "additionalProperties": False,
        "properties": {"date": {"type": "string", "format": "date"}, "name": text(100).schema},
    }
    return Spec(check, {"type": "array", "items": item})


def string_set(options: frozenset[str]) -> Spec:
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise FieldError("not_a_list", "must be a list of strings")
        unknown = sorted(set(value) - options)
        if unknown:
            raise FieldError("unknown_permission", f"unknown: {', '.join(unknown)}")
        return sorted(set(value))

    return Spec(check, {"type": "array", "items": {"type": "string", "enum": sorted(options)}})


def json_object() -> Spec:
    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise FieldError("not_an_object", "must be a JSON object")
        return value

    return Spec(check, {"type": "object"}, free_form="value")


def reference() -> Spec:
    """An id of another entity; existence and tenant are checked by the service."""

    def check(value: Any) -> int | None:
        if value is None:
            return None
        number = whole(value)
        if number is None or not is_id(number):
            raise FieldError("bad_reference", "must be an entity id (positive integer below 2**53) or null")
        return number

    return Spec(check, {"type": ["integer", "null"], **ID_RANGE})


def references() -> Spec:
    def check(value: Any) -> list[int]:
        if not isinstance(value, list):
            raise FieldError("not_a_list", "must be a list of entity ids")
        ids = [reference().check(v) for v in value]
        if None in ids or len(set(ids)) != len(ids):
            raise FieldError("bad_reference", "must be distinct entity ids")
        return sorted(ids)

    return Spec(check, {"type": "array", "uniqueItems": True, "items": {"type": "integer", **ID_RANGE}})


def agent_skills() -> Spec:
    def check(value: Any) -> list[dict[str, int]]:
        if not isinstance(value, list):
            raise FieldError("not_a_list", "must be a list of {skill_id, proficiency}")
        out: dict[int, int] = {}
        for i, item in enumerate(value):
            if not isinstance(item, dict) or set(item) != {"skill_id", "proficiency"}:
                raise FieldError("bad_agent_skill", f"item {i} must have exactly skill_id and proficiency")
            skill_id = reference().check(item["skill_id"])
            if skill_id is None or skill_id in out:
                raise FieldError("bad_agent_skill", f"item {i}: skill_id must be a distinct skill id")
            try:
                out[skill_id] = integer(1, 20).check(item["proficiency"])
            except FieldError:
                raise FieldError("bad_proficiency", f"item {i}: proficiency must be an integer from 1 to 20") from None
        return [{"skill_id": k, "proficiency": v} for k, v in sorted(out.items())]

    item = {
        "type": "object",
        "required": ["skill_id", "proficiency"],
        "additionalProperties": False,
        "properties": {
            "skill_id": {"type": "integer", **ID_RANGE},
            "proficiency": {"type": "integer", "minimum": 1, "maximum": 20},
        },
        "description": "each skill_id once",
    }
    return Spec(check, {"type": "array", "items": item})


def base64_bytes(max_bytes_hint: str = "see max_file_bytes") -> Spec:
    def check(value: Any) -> bytes:
        if not isinstance(value, str):
            raise FieldError("not_base64", "must be base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise FieldError("not_base64", "must be valid base64") from None

    return Spec(check, {"type": "string", "format": "byte", "description": f"base64; size limit {max_bytes_hint}"})


def password() -> Spec:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not 8 <= len(value) <= 256:
            raise FieldError("weak_password", "must be 8 to 256 characters")
        return value

    return Spec(check, {"type": "string", "format": "password", "writeOnly": True, "minLength": 8, "maxLength": 256})


def script_content() -> Spec:
    """Shape only: the Studio reader (``domain.scripts``) checks the document itself."""

    def check(value: Any) -> dict[str, Any] | str:
        if not isinstance(value, (dict, str)):
            raise FieldError("bad_script", "must be a Studio JSON document (object) or Desktop Studio XML text")
        return value

    return Spec(check, {"oneOf": [{"type": "object"}, {"type": "string"}]}, free_form="document")
