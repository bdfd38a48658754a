"""Studio scripts: the ID references inside them, and the same script with those IDs rewritten.

A script is read once into a ``ScriptDocument`` (the Studio JSON shape of SPEC §3, or a
Desktop Studio XML export, see ``lifeboat.domain.script_xml``), then

    find_references(doc)               every reference of SPEC §3, in document order
    rewrite_script(doc, translate)     a new document with ids translated, and what
                                       happened to each reference (the script checklist)

Which properties hold references (SPEC §3). Action names are compared case-insensitively
and every name starting with REQAGENT (e.g. "REQAGENT (digital)") counts as REQAGENT:

    REQAGENT         Skill -> skills, TargetAgent -> users
    HOURS            Profile -> hours-of-operation
    SPAWN            Skill -> skills, ScriptName -> scripts (a path)
    SETDISPOSITION   Skill -> skills, Disposition -> dispositions
    CHECKCALLSUP     Disposition -> dispositions
    RUNSCRIPT/RUNSUB ScriptName -> scripts (a path)
    PLAY/MUSIC       Sequence, Prompt, Prompts, *File -> files (paths; a Sequence may name
                     several quoted files: "a.wav" "b.wav"; %"..." and other prefixed
                     tokens are spoken text, not files)
    SNIPPET          Data, Value: free text
    ASSIGN           every property: free text

A value (or each element of a list value) is one of: ``id`` (digits only; the only kind
that is remapped), ``empty``, ``default`` ("Default"), ``variable`` (contains "{"),
``name``; ``path`` for script and file paths. In free text, every whole integer literal
(not part of a longer number, word or decimal; no leading zero) that equals a known id of
the primary is a ``possible_id``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lifeboat.domain import json_limits, script_xml
from lifeboat.errors import BadInput, Invalid, TooLarge

DEFAULT_MAX_SCRIPT_BYTES = 1_048_576

PropertyValue = str | list[str]
Kind = Literal["id", "name", "default", "variable", "empty", "path", "possible_id"]
Status = Literal["remapped", "unchanged", "unresolved", "possible_id"]
Translate = Callable[[str, int], "int | None"]

# SPEC §3 as data: action -> property (lower case) -> the API type it refers to.
STRUCTURED_REFERENCES: dict[str, dict[str, str]] = {
    "REQAGENT": {"skill": "skills", "targetagent": "users"},
    "HOURS": {"profile": "hours-of-operation"},
    "SPAWN": {"skill": "skills", "scriptname": "scripts"},
    "SETDISPOSITION": {"skill": "skills", "disposition": "dispositions"},
    "CHECKCALLSUP": {"disposition": "dispositions"},
    "RUNSCRIPT": {"scriptname": "scripts"},
    "RUNSUB": {"scriptname": "scripts"},
}
FILE_ACTIONS = frozenset({"PLAY", "MUSIC"})
FILE_PROPERTIES = frozenset({"musicfile", "sequence", "prompt", "prompts"})
# action -> free-text properties (lower case); None means every property.
FREE_TEXT_PROPERTIES: dict[str, frozenset[str] | None] = {
    "SNIPPET": frozenset({"data", "value"}),
    "ASSIGN": None,
}
PATH_TARGETS = frozenset({"scripts", "files"})

_DIGITS = re.compile(r"[0-9]+")
# A whole integer literal: not inside a word or a longer number, not either side of a decimal point.
_INTEGER_LITERAL = re.compile(r"(?<!\w)(?<![0-9]\.)[0-9]+(?!\w)(?!\.[0-9])")
# A token of a play sequence: "file", or a prefixed %"spoken text", #"123" ...
_SEQUENCE_TOKEN = re.compile(r'(?P<prefix>[^\s"]*)"(?P<body>[^"]*)"')


@dataclass(frozen=True)
class ScriptDocument:
    format: str  # "json" or "xml"
    actions: dict[str, str]  # action id -> action name, in document order
    properties: dict[str, list[tuple[str, PropertyValue]]]  # action id -> ordered (name, value)
    raw: object  # the parsed JSON object, or the XML text


@dataclass(frozen=True)
class Reference:
    action_id: str
    action: str  # the action name as written, e.g. "REQAGENT (digital)"
    property: str
    value: str  # the raw value, or one element of a list value, or a literal in free text
    position: int | None  # index in the list when the property value is a list
    kind: Kind
    target: str  # API type name; for a possible_id the type of the entity with that id


@dataclass(frozen=True)
class Rewrite:
    reference: Reference
    new_value: str | None  # the BCP value (for "unchanged", the value itself)
    status: Status
    written: bool  # True when new_value is in the returned document; False for "would be"


@dataclass(frozen=True)
class _Slot:
    action_id: str
    action: str
    ordinal: int  # position of the property within its action
    property: str
    value: PropertyValue


# --- reading -----------------------------------------------------------------------------


def parse_script(content: dict | str, *, max_bytes: int = DEFAULT_MAX_SCRIPT_BYTES,
                 max_depth: int = json_limits.DEFAULT_MAX_DEPTH) -> ScriptDocument:
    """Read a script given as a Studio JSON object, JSON text, or Desktop Studio XML text.

    Raises ``BadInput`` (malformed_script, hostile_xml), ``Invalid`` (invalid_script, or
    too_deep past ``max_depth`` levels of JSON or XML elements) or ``TooLarge``
    (script_too_large, details ``{limit, size}``)."""
    if isinstance(content, str) and content.lstrip("\ufeff \t\r\n").startswith("<"):
        _check_size(len(content.encode("utf-8", "surrogatepass")), max_bytes)
        return _xml_document(content, max_depth)
    if isinstance(content, str):
        content = _load_json_text(content)
    if not isinstance(content, dict):
        raise _invalid("script", "a script must be a JSON object (or Desktop Studio XML text)")
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
            code="script_too_large", details={"limit": max_bytes, "size": size},
        )


def _load_json_text(text: str) -> Any:
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not a JSON value")

    try:
        return json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"The script is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            code="malformed_script", details={"line": exc.lineno, "column": exc.colno},
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise BadInput(f"The script is not valid JSON: {exc}.", code="malformed_script") from exc


def _normalised(content: dict, max_bytes: int) -> dict:
    """A JSON-pure copy of ``content`` (string keys, lists), after checking its size."""
    try:
        text = json.dumps(content, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _invalid("script", f"the script is not a JSON document ({exc})") from exc
    _check_size(len(text.encode("utf-8", "surrogatepass")), max_bytes)
    return json.loads(text)


def _read_json_shape(raw: dict) -> tuple[dict[str, str], dict[str, list[tuple[str, PropertyValue]]]]:
    actions: dict[str, str] = {}
    for action_id, action in _object_at(raw, "actions").items():
        if not isinstance(action, dict) or not isinstance(action.get("name"), str):
            raise _invalid(f"actions.{action_id}", "an action must be an object with a string 'name'")
        actions[action_id] = action["name"]
    all_properties = _object_at(raw, "properties")
    for action_id in all_properties:
        if action_id not in actions:
            raise _invalid(f"properties.{action_id}", "properties of an action that is not in 'actions'")
    properties = {
        action_id: _json_properties(action_id, all_properties.get(action_id, {})) for action_id in actions
    }
    return actions, properties


def _object_at(raw: dict, key: str) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise _invalid(key, f"'{key}' must be an object keyed by action id")
    return value


def _json_properties(action_id: str, numbered: object) -> list[tuple[str, PropertyValue]]:
    if not isinstance(numbered, dict):
        raise _invalid(f"properties.{action_id}", "must be an object keyed by property index")
    result: list[tuple[str, PropertyValue]] = []
    for key in _ordered_keys(action_id, numbered):
        where, prop = f"properties.{action_id}.{key}", numbered[key]
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str):
            raise _invalid(where, "a property must be an object with a string 'name'")
        value = prop.get("value")
        if not (isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))):
            raise _invalid(f"{where}.value", "a property value must be a string or a list of strings")
        result.append((prop["name"], list(value) if isinstance(value, list) else value))
    return result


def _ordered_keys(action_id: str, numbered: dict) -> list[str]:
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


# --- finding references ------------------------------------------------------------------


def find_references(doc: ScriptDocument, *, known_ids: Mapping[int, str] | None = None) -> list[Reference]:
    """Every reference of SPEC §3 in ``doc``, in action then property order. ``known_ids``
    (entity id -> API type of the primary's entities) is used only for free text."""
    return [ref for slot in _slots(doc) for ref in _references_in(slot, known_ids or {})]


def _slots(doc: ScriptDocument) -> Iterator[_Slot]:
    for action_id, action in doc.actions.items():
        for ordinal, (prop, value) in enumerate(doc.properties.get(action_id, [])):
            yield _Slot(action_id, action, ordinal, prop, value)


def _references_in(slot: _Slot, known_ids: Mapping[int, str]) -> list[Reference]:
    elements = list(enumerate(slot.value)) if isinstance(slot.value, list) else [(None, slot.value)]
    return [ref for position, text in elements for ref in _element_references(slot, position, text, known_ids)]


def _element_references(
    slot: _Slot, position: int | None, text: str, known_ids: Mapping[int, str]
) -> Iterator[Reference]:
    def ref(value: str, kind: Kind, target: str) -> Reference:
        return Reference(slot.action_id, slot.action, slot.property, value, position, kind, target)

    action, prop = canonical_action(slot.action), slot.property.casefold()
    target = STRUCTURED_REFERENCES.get(action, {}).get(prop)
    if target in PATH_TARGETS:
        yield ref(text, path_kind(text), target)
    elif target is not None:
        yield ref(text, id_kind(text), target)
    elif action in FILE_ACTIONS and (prop in FILE_PROPERTIES or prop.endswith("file")):
        for path in sequence_paths(text):
            yield ref(path, path_kind(path), "files")
    elif _is_free_text(action, prop):
        for literal in possible_ids(text, known_ids):
            yield ref(literal, "possible_id", known_ids[int(literal)])


def _is_free_text(action: str, prop: str) -> bool:
    if action not in FREE_TEXT_PROPERTIES:
        return False
    names = FREE_TEXT_PROPERTIES[action]
    return names is None or prop in names


def canonical_action(name: str) -> str:
    """The name the reference table knows an action by ("REQAGENT (digital)" -> "REQAGENT")."""
    upper = name.strip().upper()
    return "REQAGENT" if upper.startswith("REQAGENT") else upper


def id_kind(value: str) -> Kind:
    text = value.strip()
    if not text:
        return "empty"
    if _DIGITS.fullmatch(text):
        return "id"
    if text.casefold() == "default":
        return "default"
    return "variable" if "{" in text else "name"


def path_kind(value: str) -> Kind:
    text = value.strip()
    if not text:
        return "empty"
    return "variable" if "{" in text else "path"


def sequence_paths(value: str) -> list[str]:
    """The file paths named by a play value: each unprefixed quoted token, or the whole
    value when nothing is quoted."""
    tokens = list(_SEQUENCE_TOKEN.finditer(value))
    if not tokens:
        return [value.strip()]
    return [token["body"] for token in tokens if not token["prefix"]]


def possible_ids(text: str, known_ids: Mapping[int, str]) -> list[str]:
    """The distinct whole integer literals of ``text`` that are known ids, in order."""
    found: list[str] = []
    for match in _INTEGER_LITERAL.finditer(text):
        literal = match.group()
        if literal[0] != "0" and literal not in found and int(literal) in known_ids:
            found.append(literal)
    return found


# --- rewriting ---------------------------------------------------------------------------


def rewrite_script(
    doc: ScriptDocument,
    translate: Translate,
    *,
    remap_structured: bool = True,
    remap_free_text: bool = False,
    known_ids: Mapping[int, str] | None = None,
) -> tuple[dict | str, list[Rewrite]]:
    """The document with references translated by ``translate(type, primary_id)`` (None
    when there is no BCP counterpart), in the input's format, and one ``Rewrite`` per
    reference. ``remap_structured=False`` is the "keep" setting: nothing structured is
    written, but "remapped" rewrites still carry the BCP id with ``written=False``. Free-text
    possible ids (found with ``known_ids``) are written only with ``remap_free_text``."""
    rewrites: list[Rewrite] = []
    changes: dict[tuple[str, int], PropertyValue] = {}
    for slot in _slots(doc):
        decided = [
            _decide(ref, translate, remap_structured, remap_free_text)
            for ref in _references_in(slot, known_ids or {})
        ]
        rewrites.extend(decided)
        new_value = _new_value(slot.value, [r for r in decided if r.written])
        if new_value != slot.value:
            changes[(slot.action_id, slot.ordinal)] = new_value
    return _with_changes(doc, changes), rewrites


def _decide(ref: Reference, translate: Translate, remap_structured: bool, remap_free_text: bool) -> Rewrite:
    if ref.kind not in ("id", "possible_id"):
        return Rewrite(ref, ref.value, "unchanged", written=False)
    bcp_id = translate(ref.target, int(ref.value))
    new_value = None if bcp_id is None else str(bcp_id)
    if ref.kind == "possible_id":
        return Rewrite(ref, new_value, "possible_id", written=remap_free_text and new_value is not None)
    if new_value is None:
        return Rewrite(ref, None, "unresolved", written=False)
    return Rewrite(ref, new_value, "remapped", written=remap_structured)


def _new_value(value: PropertyValue, written: list[Rewrite]) -> PropertyValue:
    if not written:
        return value
    if isinstance(value, list):
        return [
            _new_text(text, [r for r in written if r.reference.position == position])
            for position, text in enumerate(value)
        ]
    return _new_text(value, written)


def _new_text(text: str, written: list[Rewrite]) -> str:
    for rewrite in written:
        if rewrite.reference.kind == "id":
            old = text.strip()
            if int(old) == int(rewrite.new_value):  # keep the text as written, e.g. "007"
                return text
            start = text.index(old)
            return text[:start] + rewrite.new_value + text[start + len(old):]
    literals = {r.reference.value: r.new_value for r in written if r.reference.kind == "possible_id"}
    if not literals:
        return text
    # One pass, so that swapped ids (a -> b, b -> a) do not overwrite each other.
    return _INTEGER_LITERAL.sub(lambda match: literals.get(match.group(), match.group()), text)


def _with_changes(doc: ScriptDocument, changes: dict[tuple[str, int], PropertyValue]) -> dict | str:
    if doc.format == "xml":
        return script_xml.write_values(doc.raw, changes) if changes else doc.raw
    # A JSON round trip copies without Python recursion, whatever the nesting.
    content = json.loads(json.dumps(doc.raw, ensure_ascii=False))
    keys: dict[str, list[str]] = {}
    for (action_id, ordinal), value in changes.items():
        numbered = content["properties"][action_id]
        if action_id not in keys:
            keys[action_id] = _ordered_keys(action_id, numbered)
        numbered[keys[action_id][ordinal]]["value"] = value
    return content
