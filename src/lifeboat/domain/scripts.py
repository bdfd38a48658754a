"""Studio scripts: the ID references inside them, and the same script with those IDs rewritten.

A script is read once into a ``ScriptDocument`` (the Studio JSON shape of SPEC §3, or a
Desktop Studio XML export, see ``lifeboat.domain.script_xml``), then

    find_references(doc)               every reference of SPEC §3, in document order
                                       (``lifeboat.domain.script_references``: the table)
    rewrite_script(doc, translate)     a new document with ids translated, and what
                                       happened to each reference (the script checklist;
                                       ``lifeboat.domain.script_rewrite``)

This module reads and checks the document. A property is ``{"name": "...", "value": ...}``
where the value is any JSON value: real exports carry strings, lists and integers (BEGIN's
``"value": 0``), and the document is kept exactly as it came.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lifeboat.domain import json_limits, script_xml
from lifeboat.domain.script_references import Kind, Reference, find_references
from lifeboat.domain.script_rewrite import Rewrite, SlotReferences, Status, Translate, referenced_slots, rewrite_script
from lifeboat.errors import BadInput, Invalid, TooLarge

__all__ = [
    "DEFAULT_MAX_SCRIPT_BYTES",
    "Kind",
    "Reference",
    "Rewrite",
    "ScriptDocument",
    "SlotReferences",
    "Status",
    "Translate",
    "find_references",
    "parse_script",
    "referenced_slots",
    "rewrite_script",
]

DEFAULT_MAX_SCRIPT_BYTES = 1_048_576

_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class ScriptDocument:
    format: str  # "json" or "xml"
    actions: dict[str, str]  # action id -> action name, in document order
    properties: dict[str, list[tuple[str, Any]]]  # action id -> ordered (name, any JSON value)
    raw: dict[str, Any] | str  # the parsed JSON object, or the XML text


# --- reading -----------------------------------------------------------------------------


def parse_script(
    content: dict[str, Any] | str,
    *,
    max_bytes: int = DEFAULT_MAX_SCRIPT_BYTES,
    max_depth: int = json_limits.DEFAULT_MAX_DEPTH,
    checked: bool = False,
) -> ScriptDocument:
    """Read a script given as a Studio JSON object, JSON text, or Desktop Studio XML text.

    Raises ``BadInput`` (malformed_script, hostile_xml), ``Invalid`` (invalid_script, or
    too_deep past ``max_depth`` levels of JSON or XML elements) or ``TooLarge``
    (script_too_large, details ``{limit, size}``).

    ``checked``: a JSON object ``content`` was decoded from storage (so it is JSON already)
    and found within both limits by the caller; it is neither measured again nor copied, and
    the document reads it as it is (whoever rewrites it gets a new one, see ``rewrite_script``)."""
    if isinstance(content, str) and content.lstrip("\ufeff \t\r\n").startswith("<"):
        _check_size(len(content.encode("utf-8", "surrogatepass")), max_bytes)
        return _xml_document(content, max_depth)
    if isinstance(content, str):
        content = _load_json_text(content)
        checked = False  # what was measured is the text, not the document it holds
    if not isinstance(content, dict):
        raise _invalid("script", "a script must be a JSON object (or Desktop Studio XML text)")
    if checked:
        raw = content
    else:
        json_limits.check("content", content, json_limits.JsonLimits(max_depth, max_bytes), measure_size=False)
        raw = _normalised(content, max_bytes)
    actions, properties = _read_json_shape(raw)
    return ScriptDocument("json", actions, properties, raw)


def _xml_document(text: str, max_depth: int) -> ScriptDocument:
    actions = script_xml.read_actions(text, max_depth=max_depth)
    return ScriptDocument(
        "xml",
        {action.action_id: action.name for action in actions},
        {action.action_id: action.parameters for action in actions},
        text,
    )


def _check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise TooLarge(
            f"The script is {size} bytes; scripts may be at most {max_bytes} bytes.",
            code="script_too_large",
            details={"limit": max_bytes, "size": size},
        )


def _load_json_text(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a JSON value")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"The script is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            code="malformed_script",
            details={"line": exc.lineno, "column": exc.colno},
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"The script is not valid JSON: {exc}.", code="malformed_script") from exc


def _normalised(content: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """A JSON-pure copy of ``content`` (string keys, lists), after checking its size."""
    try:
        text = json.dumps(content, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _invalid("script", f"the script is not a JSON document ({exc})") from exc
    _check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes)
    normalised: dict[str, Any] = json.loads(text)  # the text of a dict: a dict again
    return normalised


def _read_json_shape(raw: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[tuple[str, Any]]]]:
    actions: dict[str, str] = {}
    for action_id, action in _object_at(raw, "actions").items():
        if not isinstance(action, dict) or not isinstance(action.get("name"), str):
            raise _invalid(f"actions.{action_id}", "an action must be an object with a string 'name'")
        actions[action_id] = action["name"]
    all_properties = _object_at(raw, "properties")
    for action_id in all_properties:
        if action_id not in actions:
            raise _invalid(f"properties.{action_id}", "properties of an action that is not in 'actions'")
    properties = {action_id: _json_properties(action_id, all_properties.get(action_id, {})) for action_id in actions}
    return actions, properties


def _object_at(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise _invalid(key, f"'{key}' must be an object keyed by action id")
    return value


def _json_properties(action_id: str, numbered: object) -> list[tuple[str, Any]]:
    if not isinstance(numbered, dict):
        raise _invalid(f"properties.{action_id}", "must be an object keyed by property index")
    result: list[tuple[str, Any]] = []
    for key in _ordered_keys(action_id, numbered):
        where, prop = f"properties.{action_id}.{key}", numbered[key]
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
            raise _invalid(where, "a property must be an object with a string 'name'")
        if "value" not in prop:
            raise _invalid(f"{where}.value", "a property must have a 'value' (any JSON value)")
        result.append((prop["name"], prop["value"]))
    return result


def _ordered_keys(action_id: str, numbered: dict[str, Any]) -> list[str]:
    """Property keys in index order ("2" before "10")."""
    indexes: dict[int, str] = {}
    for key in numbered:
        if not _DIGITS.fullmatch(key):
            raise _invalid(f"properties.{action_id}.{key}", "a property index must be a non-negative integer")
        if int(key) in indexes:
            raise _invalid(f"properties.{action_id}.{key}", f"index {int(key)} is used twice")
        indexes[int(key)] = key
    return [indexes[index] for index in sorted(indexes)]


def _invalid(where: str, problem: str) -> Invalid:
    return Invalid(
        f"Invalid script: {where}: {problem}.",
        code="invalid_script",
        details={"errors": [{"field": where, "code": "invalid_script", "message": problem}]},
    )
