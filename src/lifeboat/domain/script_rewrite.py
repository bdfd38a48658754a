"""The same Studio script with its ids translated, and what became of each reference (the
script checklist of SPEC §4.7).

Only ids are ever written, each in the type it came in: digits in a string are replaced in
place (the spaces around them kept), a JSON integer by the BCP integer. Everything else of
the document (header, branches, other properties, unknown fields) is copied as it came.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from lifeboat.domain import script_xml
from lifeboat.domain.script_references import INTEGER_LITERAL, Reference, Slot, is_integer, references_in, slots

if TYPE_CHECKING:  # the reader imports this module; only its type is needed here
    from lifeboat.domain.scripts import ScriptDocument

Status = Literal["remapped", "unchanged", "unresolved", "possible_id"]
Translate = Callable[[str, int], "int | None"]
# The slots of a document that hold references, each with them: found once, rewritten as often as needed.
SlotReferences = list[tuple[Slot, list[Reference]]]


class Rewrite(NamedTuple):
    """What became of one reference (a named tuple: one per reference of every script a sync writes)."""

    reference: Reference
    new_value: Any  # the BCP value, in the type of the primary's (for "unchanged", the value itself)
    status: Status
    written: bool  # True when new_value is in the returned document; False for "would be"


def rewrite_script(
    doc: ScriptDocument,
    translate: Translate,
    *,
    remap_structured: bool = True,
    remap_free_text: bool = False,
    known_ids: Mapping[int, str] | None = None,
    references: SlotReferences | None = None,
) -> tuple[dict[str, Any] | str, list[Rewrite]]:
    """The document with references translated by ``translate(type, primary_id)`` (None
    when there is no BCP counterpart), in the input's format, and one ``Rewrite`` per
    reference. ``remap_structured=False`` is the "keep" setting: nothing structured is
    written, but "remapped" rewrites still carry the BCP id with ``written=False``. Possible
    ids (found with ``known_ids``) are written only with ``remap_free_text``. ``references``:
    what ``referenced_slots(doc, known_ids)`` found before, not looked for again."""
    rewrites: list[Rewrite] = []
    changes: dict[tuple[str, int], Any] = {}
    if references is None:
        references = referenced_slots(doc, known_ids or {})
    for slot, found in references:
        decided = [_decide(ref, translate, remap_structured, remap_free_text) for ref in found]
        rewrites.extend(decided)
        new_value = _new_value(slot.value, [r for r in decided if r.written])
        if new_value != slot.value:
            changes[(slot.action_id, slot.ordinal)] = new_value
    return _with_changes(doc, changes), rewrites


def referenced_slots(doc: ScriptDocument, known_ids: Mapping[int, str]) -> SlotReferences:
    """The slots of ``doc`` that hold a reference, in document order, each with its references."""
    found = ((slot, references_in(slot, known_ids)) for slot in slots(doc))
    return [(slot, refs) for slot, refs in found if refs]


def _decide(ref: Reference, translate: Translate, remap_structured: bool, remap_free_text: bool) -> Rewrite:
    if ref.kind not in ("id", "possible_id"):
        return Rewrite(ref, ref.value, "unchanged", written=False)
    bcp_id = translate(ref.target, int(ref.value))
    new_value = bcp_id if bcp_id is None or is_integer(ref.value) else str(bcp_id)
    if ref.kind == "possible_id":
        return Rewrite(ref, new_value, "possible_id", written=remap_free_text and new_value is not None)
    if new_value is None:
        return Rewrite(ref, None, "unresolved", written=False)
    return Rewrite(ref, new_value, "remapped", written=remap_structured)


def _new_value(value: Any, written: list[Rewrite]) -> Any:
    """``value`` itself when nothing is written in it, else a new value."""
    if not written:
        return value
    if isinstance(value, list):
        return [
            _new_element(element, [r for r in written if r.reference.position == position])
            for position, element in enumerate(value)
        ]
    return _new_element(value, written)


def _new_element(element: Any, written: list[Rewrite]) -> Any:
    if not written:
        return element
    if is_integer(element):  # an integer is one id, whole
        return written[0].new_value
    for rewrite in written:
        if rewrite.reference.kind == "id":
            old = element.strip()
            if int(old) == int(rewrite.new_value):  # keep the text as written, e.g. "007"
                return element
            start = element.index(old)
            return element[:start] + rewrite.new_value + element[start + len(old) :]
    literals = {r.reference.value: r.new_value for r in written if r.reference.kind == "possible_id"}
    # One pass, so that swapped ids (a -> b, b -> a) do not overwrite each other.
    return INTEGER_LITERAL.sub(lambda match: literals.get(match.group(), match.group()), element)


def _with_changes(doc: ScriptDocument, changes: dict[tuple[str, int], Any]) -> dict[str, Any] | str:
    if isinstance(doc.raw, str):  # Desktop Studio XML text
        return script_xml.write_values(doc.raw, changes) if changes else doc.raw
    # Copy on write: the objects on the way to a changed value are new, the rest is shared with
    # the document, which is never changed (a whole copy was most of the cost of a rewrite).
    content = dict(doc.raw)
    if not changes:
        return content
    properties = content["properties"] = dict(content["properties"])
    keys: dict[str, list[str]] = {}
    for (action_id, ordinal), value in changes.items():
        if action_id not in keys:
            properties[action_id] = dict(properties[action_id])
            keys[action_id] = sorted(properties[action_id], key=int)  # index order, as the reader numbered them
        numbered = properties[action_id]
        key = keys[action_id][ordinal]
        numbered[key] = {**numbered[key], "value": value}
    return content
