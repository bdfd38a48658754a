"""Which values of a Studio script are references (SPEC §3), found in document order.

The table, compared case-insensitively; every action name starting with REQAGENT (e.g.
"REQAGENT (digital)") counts as REQAGENT:

    REQAGENT         Skill -> skills, TargetAgent -> users
    HOURS            Profile -> hours-of-operation
    SPAWN            Skill -> skills, ScriptName -> scripts (a path)
    SETDISPOSITION   Skill -> skills, Disposition -> dispositions
    SUPPRESSCALL     Disposition -> dispositions (CHECKCALLSUP has only DataValue: no reference)
    RUNSCRIPT/RUNSUB ScriptName -> scripts (a path)
    PLAY/MUSIC       Sequence, Prompt, Prompts, *File -> files (paths; a Sequence may name
                     several quoted files: "a.wav" "b.wav"; %"..." and other prefixed
                     tokens are spoken text, not files)
    SNIPPET          Data, Value: free text
    ASSIGN           every property: free text
    anything else    a whole value equal to a known id is a possible id (the safety net:
                     the table cannot know every action)

A property value is any JSON value; a list is read element by element (``position``), and
nothing deeper is read. An element of a reference property is one of: ``id`` (digits only,
or a non-negative JSON integer; the only kind that is remapped), ``empty`` ("" or null),
``default`` ("Default"), ``variable`` (contains "{"), ``name``; ``path`` for script and
file paths; ``other`` for any other JSON value (true, 1.5, -3, an object, a nested list).

Possible ids need ``known_ids`` (id -> API type of the primary's entities). In free text,
every whole integer literal (not part of a longer number, word or decimal; no leading zero)
that is a known id is one, and so is a JSON integer that is a known id. Elsewhere the whole
element must be the id: the integer itself, or its digits with nothing but spaces around.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:  # the reader imports this module; only its type is needed here
    from lifeboat.domain.scripts import ScriptDocument

Kind = Literal["id", "name", "default", "variable", "empty", "path", "other", "possible_id"]

# SPEC §3 as data: action -> property (lower case) -> the API type it refers to.
STRUCTURED_REFERENCES: dict[str, dict[str, str]] = {
    "REQAGENT": {"skill": "skills", "targetagent": "users"},
    "HOURS": {"profile": "hours-of-operation"},
    "SPAWN": {"skill": "skills", "scriptname": "scripts"},
    "SETDISPOSITION": {"skill": "skills", "disposition": "dispositions"},
    "SUPPRESSCALL": {"disposition": "dispositions"},
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
_WHOLE_ID = re.compile(r"\s*[1-9][0-9]*\s*")
# A whole integer literal: not inside a word or a longer number, not either side of a decimal point.
INTEGER_LITERAL = re.compile(r"(?<!\w)(?<![0-9]\.)[0-9]+(?!\w)(?!\.[0-9])")
# A token of a play sequence: "file", or a prefixed %"spoken text", #"123" ...
_SEQUENCE_TOKEN = re.compile(r'(?P<prefix>[^\s"]*)"(?P<body>[^"]*)"')


class Reference(NamedTuple):
    """One reference found in a script (a named tuple, as ``Slot``: a sync finds thousands)."""

    action_id: str
    action: str  # the action name as written, e.g. "REQAGENT (digital)"
    property: str
    value: Any  # the element as written (a string, an integer...), or a literal found in free text
    position: int | None  # index in the list when the property value is a list
    kind: Kind
    target: str  # API type name; for a possible_id the type of the entity with that id


class Slot(NamedTuple):
    """One property of one action, where references are looked for and written (a named
    tuple: a sync makes one per property of every script it reads)."""

    action_id: str
    action: str
    ordinal: int  # position of the property within its action
    property: str
    value: Any


def find_references(doc: ScriptDocument, *, known_ids: Mapping[int, str] | None = None) -> list[Reference]:
    """Every reference of SPEC §3 in ``doc``, in action then property order. ``known_ids``
    (entity id -> API type of the primary's entities) is used only for possible ids."""
    return [ref for slot in slots(doc) for ref in references_in(slot, known_ids or {})]


def slots(doc: ScriptDocument) -> Iterator[Slot]:
    for action_id, action in doc.actions.items():
        for ordinal, (prop, value) in enumerate(doc.properties.get(action_id, [])):
            yield Slot(action_id, action, ordinal, prop, value)


def references_in(slot: Slot, known_ids: Mapping[int, str]) -> list[Reference]:
    action_id, action, _, prop, value = slot
    rule = _rule(action, prop)
    if not isinstance(value, list):  # most properties: one element, no position
        found = _element_references(rule, value, known_ids)
        return [Reference(action_id, action, prop, v, None, k, t) for v, k, t in found]
    return [
        Reference(action_id, action, prop, v, position, k, t)
        for position, element in enumerate(value)
        for v, k, t in _element_references(rule, element, known_ids)
    ]


# What a property may hold, by action and property name: ("path" or "id", the API type it
# refers to), ("file", "files") or ("text", "free" or "whole": where possible ids are looked for).
Rule = tuple[str, str]


@lru_cache(maxsize=4096)  # a few hundred (action, property) pairs, asked for by every property of every script
def _rule(action_name: str, property_name: str) -> Rule:
    action, prop = canonical_action(action_name), property_name.casefold()
    target = STRUCTURED_REFERENCES.get(action, {}).get(prop)
    if target is not None:
        return ("path" if target in PATH_TARGETS else "id", target)
    if action in FILE_ACTIONS and (prop in FILE_PROPERTIES or prop.endswith("file")):
        return ("file", "files")
    return ("text", "free" if _is_free_text(action, prop) else "whole")


def _element_references(rule: Rule, element: Any, known_ids: Mapping[int, str]) -> list[tuple[Any, Kind, str]]:
    """(value, kind, target) of each reference in one element of a property's value."""
    what, target = rule
    if what == "path":
        return [(element, path_kind(element), target)]
    if what == "id":
        return [(element, id_kind(element), target)]
    if what == "file":
        return [
            (path, path_kind(path), target)
            for path in (sequence_paths(element) if isinstance(element, str) else [element])
        ]
    found = possible_ids(element, known_ids, free_text=target == "free")
    return [(value, "possible_id", known_ids[int(value)]) for value in found]


def _is_free_text(action: str, prop: str) -> bool:
    if action not in FREE_TEXT_PROPERTIES:
        return False
    names = FREE_TEXT_PROPERTIES[action]
    return names is None or prop in names


@lru_cache(maxsize=512)  # a few action names, asked for by every property of every script a sync reads
def canonical_action(name: str) -> str:
    """The name the reference table knows an action by ("REQAGENT (digital)" -> "REQAGENT")."""
    upper = name.strip().upper()
    return "REQAGENT" if upper.startswith("REQAGENT") else upper


def is_integer(value: Any) -> bool:
    """A JSON integer (``true`` is a bool in JSON, whatever Python makes of it)."""
    return isinstance(value, int) and not isinstance(value, bool)


def id_kind(value: Any) -> Kind:
    if value is None:
        return "empty"
    if is_integer(value):
        return "id" if value >= 0 else "other"
    if not isinstance(value, str):
        return "other"
    text = value.strip()
    if not text:
        return "empty"
    if _DIGITS.fullmatch(text):
        return "id"
    if text.casefold() == "default":
        return "default"
    return "variable" if "{" in text else "name"


def path_kind(value: Any) -> Kind:
    if value is None:
        return "empty"
    if not isinstance(value, str):
        return "other"
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


def possible_ids(element: Any, known_ids: Mapping[int, str], *, free_text: bool = True) -> list[Any]:
    """The known ids ``element`` holds: the integer itself; in free text each distinct whole
    integer literal, in order; elsewhere the whole text when it is nothing but the id."""
    if is_integer(element):
        return [element] if element in known_ids else []
    if not isinstance(element, str):
        return []
    if not free_text:
        return [element.strip()] if _WHOLE_ID.fullmatch(element) and int(element) in known_ids else []
    found: list[str] = []
    for match in INTEGER_LITERAL.finditer(element):
        literal = match.group()
        if literal[0] != "0" and literal not in found and int(literal) in known_ids:
            found.append(literal)
    return found
