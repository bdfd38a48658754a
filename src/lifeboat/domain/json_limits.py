"""How deep and how large a free-form JSON value (business-unit ``settings``, Studio script
content) may be.

Why: the API's JSON serialiser gives up a little over 250 levels down and Python's own
recursion a little under 1,000, so one value nested a few hundred levels deep, once stored,
broke every read of its list, the audit log and the sync. Values are checked on input
against the configured limits (``max_json_depth``, ``max_json_bytes``), and anything read
back is checked against ``READABLE_DEPTH``, a fixed ceiling every answer can carry.

Every walk here is a loop with its own stack, never recursion: the values it measures are
exactly those recursion cannot handle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from lifeboat.errors import Invalid, TooLarge

DEFAULT_MAX_DEPTH = 64
DEFAULT_MAX_BYTES = 262_144
# Deepest value an answer carries: the serialiser stops near 255 levels, and an answer
# wraps a stored value in a few levels of its own (items, entity, field).
READABLE_DEPTH = 200


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = DEFAULT_MAX_DEPTH
    max_bytes: int = DEFAULT_MAX_BYTES


DEFAULT_LIMITS = JsonLimits()


def depth_of(value: Any, *, stop_above: int | None = None) -> int:
    """Levels of objects and arrays in ``value`` (a scalar is 0, ``{}`` and ``[1]`` are 1).
    With ``stop_above`` the walk ends as soon as that depth is passed (the answer is then
    ``stop_above + 1``): refusing a value needs no more than that."""
    # Level by level: each level is the objects and arrays found in the one above, so a
    # node costs one isinstance and no (node, depth) pair (a script has thousands of them).
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if stop_above is not None and depth > stop_above:
            return depth
        below: list[Any] = []
        for item in level:
            children: Iterable[Any] = item.values() if isinstance(item, dict) else item
            below.extend([child for child in children if isinstance(child, (dict, list))])
        level = below
    return depth


def size_of(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON. Call it only on a value whose depth is
    known to be bounded (the encoder recurses)."""
    try:  # orjson writes the same compact UTF-8 several times faster (a sync measures every script)
        return len(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))
    except (TypeError, orjson.JSONEncodeError):  # an integer beyond 64 bits, a lone surrogate: as before
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        return len(text.encode("utf-8", "surrogatepass"))


def problem(value: Any, limits: JsonLimits, *, measure_size: bool = True) -> dict[str, Any] | None:
    """What is wrong with ``value`` under ``limits`` (``{code, limit, message}`` with code
    ``too_deep`` or ``value_too_large``), or None."""
    if depth_of(value, stop_above=limits.max_depth) > limits.max_depth:
        return {
            "code": "too_deep",
            "limit": limits.max_depth,
            "message": f"nested more than {limits.max_depth} levels deep",
        }
    if measure_size:
        size = size_of(value)
        if size > limits.max_bytes:
            return {
                "code": "value_too_large",
                "limit": limits.max_bytes,
                "size": size,
                "message": f"{size} bytes as JSON; at most {limits.max_bytes}",
            }
    return None


def check(field: str, value: Any, limits: JsonLimits, *, measure_size: bool = True) -> None:
    """Raise ``Invalid`` (422 ``too_deep``) or ``TooLarge`` (413 ``value_too_large``)."""
    found = problem(value, limits, measure_size=measure_size)
    if found is None:
        return
    details = {
        "field": field,
        **{k: v for k, v in found.items() if k not in ("code", "message")},
        "errors": [{"field": field, "code": found["code"], "message": found["message"]}],
    }
    message = f"{field} is {found['message']}."
    if found["code"] == "too_deep":
        raise Invalid(message, code="too_deep", details=details)
    raise TooLarge(message, code="value_too_large", details=details)


def readable(fields: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``fields`` with every value deeper than ``READABLE_DEPTH`` replaced by None, and one
    ``{field, code, message}`` per value withheld. Only values stored before the input limits
    existed (or written around the API) can be that deep."""
    withheld = [
        name
        for name, value in fields.items()
        if isinstance(value, (dict, list)) and depth_of(value, stop_above=READABLE_DEPTH) > READABLE_DEPTH
    ]
    if not withheld:
        return fields, []
    notes = [
        {
            "field": name,
            "code": "too_deep",
            "message": f"the stored value is nested more than {READABLE_DEPTH} levels deep and is not shown; "
            "`lifeboat check-stored` lists such values",
        }
        for name in withheld
    ]
    return {**fields, **dict.fromkeys(withheld)}, notes
