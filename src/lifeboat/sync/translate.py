"""Turning a primary entity's fields into the BCP tenant's: every reference through the
correlation map (``domain.graph.map_links``), every numeric id inside a Studio script by the ``script_ids`` setting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES, Link
from lifeboat.domain.graph import map_links
from lifeboat.domain.scripts import Rewrite, parse_script, referenced_slots, rewrite_script
from lifeboat.errors import LifeboatError
from lifeboat.sync.model import Options, ParsedScript, Pending

Ref = int | Pending | None


class Translator:
    """Primary ids to BCP ids, learning the ids of adopted entities as planning goes."""

    def __init__(
        self,
        mapping: dict[int, int],
        will_exist: Mapping[int, str],
        known_ids: Mapping[int, str],
        options: Options,
        known_names: Mapping[int, str] | None = None,
    ):
        self.mapping = mapping  # primary id -> bcp id (correlated, or adopted in this run)
        self.will_exist = will_exist  # primary id -> type, for every entity this run keeps in BCP
        self.known_ids = known_ids  # primary id -> type, for possible ids in scripts
        self.known_names = known_names or {}  # primary id -> name (natural key), to say what a possible id matched
        self.options = options
        self._pending: dict[int, Pending] = {}  # one value per entity waited for, not one per reference

    def ref(self, target: str, primary_id: int) -> Ref:
        if primary_id in self.mapping:
            return self.mapping[primary_id]
        if self.will_exist.get(primary_id) != target:
            return None
        pending = self._pending.get(primary_id)
        if pending is None:
            pending = self._pending[primary_id] = Pending(target, primary_id)
        return pending

    def fields(self, type_name: str, data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """BCP fields and the references that could not be resolved.

        A shallow copy is enough: every link field is replaced by a new value, never changed
        in place, and the other fields are shared read-only with ``data``."""
        out = dict(data)
        unresolved: list[dict[str, Any]] = []

        def bcp_id(link: Link, primary_id: int) -> Ref:
            found = self.ref(link.target, primary_id)
            if found is None:
                unresolved.append(
                    {
                        "code": "unresolved_reference",
                        "field": link.field,
                        "target": link.target,
                        "primary_value": primary_id,
                    }
                )
            return found

        # Lists come out sorted by BCP id, as the store keeps them, so that equal lists compare
        # equal; one that holds a Pending keeps its order, for apply to sort once ids are known.
        map_links(ENTITY_TYPES[type_name], out, bcp_id)
        return out, unresolved

    def parse(self, content: Any, max_bytes: int, *, checked: bool = False) -> ParsedScript:
        """A script's content read, and its references found, once for plan and apply alike.
        ``checked``: see ``parse_script`` (the planner has measured the stored content)."""
        try:
            document = parse_script(
                content, max_bytes=max_bytes, max_depth=self.options.json_limits.max_depth, checked=checked
            )
        except LifeboatError as exc:
            return ParsedScript(None, unreadable={"code": exc.code, "message": exc.message})
        return ParsedScript(document, referenced_slots(document, self.known_ids))

    def script(
        self, data: dict[str, Any], max_bytes: int, parsed: ParsedScript | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The BCP script and its checklist. An unreadable script is copied as it is.
        ``parsed``: ``data["content"]`` as ``parse`` read it (else it is read here)."""
        out = dict(data)  # only "content" is replaced (see ``fields``)
        if parsed is None:
            parsed = self.parse(data["content"], max_bytes)
        if parsed.document is None:
            return out, {"checklist": [], "unreadable": parsed.unreadable}
        pending: list[int] = []

        def translate(target: str, primary_id: int) -> int | None:
            found = self.ref(target, primary_id)
            if isinstance(found, Pending):
                pending.append(primary_id)
                return None
            return found

        content, rewrites = rewrite_script(
            parsed.document,
            translate,
            remap_structured=self.options.script_ids == "remap",
            remap_free_text=self.options.remap_free_text,
            known_ids=self.known_ids,
            references=parsed.references,
        )
        out["content"] = content
        checklist = [_checklist_row(r, self.known_names) for r in rewrites]
        return out, {"checklist": checklist, "pending": sorted(set(pending))}


def _checklist_row(rewrite: Rewrite, names: Mapping[int, str]) -> dict[str, Any]:
    """One checklist row. Values keep their JSON type (an integer id stays an integer); a
    possible id says which primary entity it matched, since it may only look like an id."""
    ref = rewrite.reference
    row = {
        "action_id": ref.action_id,
        "action": ref.action,
        "property": ref.property,
        "position": ref.position,
        "kind": ref.kind,
        "target": ref.target,
        "primary_value": ref.value,
        "bcp_value": rewrite.new_value,
        "status": rewrite.status,
        "written": rewrite.written,
    }
    if ref.kind == "possible_id":
        row["matched"] = {"type": ref.target, "id": int(ref.value), "name": names.get(int(ref.value))}
    return row


def has_pending_link(type_name: str, data: dict[str, Any]) -> bool:
    """Whether a reference in ``data`` still waits for its target. Only link fields can hold
    one (``Translator.fields`` puts them there; ``script`` never does), so a script's content
    or a file's bytes are not walked for nothing."""
    return any(has_pending(data.get(link.field)) for link in ENTITY_TYPES[type_name].links)


def has_pending(value: Any) -> bool:
    stack = [value]
    while stack:  # a loop, not recursion: fields may hold deeply nested free-form values
        item = stack.pop()
        if isinstance(item, Pending):
            return True
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return False
