"""The failback report: what administrators changed in the BCP tenant since the last switch
to it, field by field, and those changes turned back into the primary's ids (SPEC §14).

Pure values in, values out. The store gives the BCP tenant's entities, the correlations and
the primary's entities; ``report`` compares, ``to_primary`` translates one item's fields.

Which entities: a correlated BCP entity whose version moved since the sync last wrote it
(the correlation keeps that version) and that was last written after the switch is
*updated* (or *deactivated*, when that is what changed); a correlated BCP entity that is
gone is *deleted*; an uncorrelated one created after the switch is *created*.

``before`` is the primary counterpart as it is now, translated into BCP ids through the
correlations, the way the sync translates it. While the primary has not changed since the
last sync (its version equals the correlation's) that is exactly what the sync wrote, and
it is in any case exactly what applying the item changes in the primary. The store keeps no
copy of what the sync wrote, so a recorded "before" could only come from audit rows, which
are written for people and may be pruned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES, Entity, Link
from lifeboat.domain.graph import map_links, type_order
from lifeboat.domain.records import Correlation
from lifeboat.domain.script_references import references_in, slots
from lifeboat.domain.scripts import parse_script, rewrite_script

SECRET = "(secret)"  # what a report shows for a stored secret (a password hash) that changed


@dataclass(frozen=True)
class FailbackItem:
    id: str  # "<type>:<bcp_id>": stable while the entity exists in BCP
    type: str
    action: str  # created / updated / deactivated / deleted
    bcp_id: int
    primary_id: int | None
    name: str
    changes: tuple[dict[str, Any], ...]
    bcp_version: int = 0  # the BCP entity's version when reported (0: deleted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "action": self.action,
            "bcp_id": self.bcp_id,
            "primary_id": self.primary_id,
            "name": self.name,
            "changes": [dict(c) for c in self.changes],
        }


def item_id(type_name: str, bcp_id: int) -> str:
    return f"{type_name}:{bcp_id}"


def in_bcp_ids(entity: Entity, to_bcp: Mapping[int, int]) -> dict[str, Any]:
    """A primary entity's fields with every reference mapped to its BCP copy (left out, or
    None, where there is none: what the sync writes for an unresolved reference)."""
    data = dict(entity.data)
    map_links(entity.kind, data, lambda link, value: to_bcp.get(value))
    return data


def report(
    bcp: Mapping[int, Entity],
    primary: Mapping[int, Entity],
    correlations: Iterable[Correlation],
    switched_at: datetime,
) -> list[FailbackItem]:
    """Every BCP entity changed since ``switched_at``, in type order, then by name."""
    correlations = list(correlations)
    to_bcp = {c.primary_id: c.bcp_id for c in correlations}
    items: list[FailbackItem] = []
    for c in correlations:
        source = primary.get(c.primary_id)
        if source is None:  # gone from the primary too: nothing to copy back
            continue
        before = in_bcp_ids(source, to_bcp)
        target = bcp.get(c.bcp_id)
        if target is None:
            items.append(_item("deleted", c.type, c.bcp_id, c.primary_id, source.natural_key, before, None, 0))
        elif target.version != c.bcp_version and target.updated_at >= switched_at:
            action = "deactivated" if before.get("is_active", True) and not target.is_active else "updated"
            item = _item(action, c.type, c.bcp_id, c.primary_id, target.natural_key, before, target, target.version)
            if item.changes:
                items.append(item)
    correlated = {c.bcp_id for c in correlations}
    for entity in bcp.values():
        if entity.id not in correlated and entity.created_at >= switched_at:
            items.append(_item("created", entity.type, entity.id, None, entity.natural_key, None, entity, 1))
    rank = {name: i for i, name in enumerate(type_order())}
    return sorted(items, key=lambda i: (rank[i.type], i.name, i.bcp_id))


def _item(
    action: str,
    type_name: str,
    bcp_id: int,
    primary_id: int | None,
    name: str,
    before: dict[str, Any] | None,
    after: Entity | None,
    version: int,
) -> FailbackItem:
    changes = _changes(type_name, before, after.data if after else None)
    return FailbackItem(item_id(type_name, bcp_id), type_name, action, bcp_id, primary_id, name, changes, version)


def _changes(type_name: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[dict[str, Any], ...]:
    kind = ENTITY_TYPES[type_name]
    hidden = {f.name for f in kind.fields if f.write_only} | kind.stored_secrets
    old, new = before or {}, after or {}
    out = []
    for name in sorted(set(old) | set(new)):
        if before is not None and after is not None and old.get(name) == new.get(name):
            continue
        if name in hidden:  # say that it changed, never what it is
            out.append(
                {"field": name, "before": SECRET if name in old else None, "after": SECRET if name in new else None}
            )
        else:
            out.append({"field": name, "before": old.get(name), "after": new.get(name)})
    return tuple(out)


def to_primary(entity: Entity, to_primary_ids: Mapping[int, int]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A BCP entity's fields in the primary's ids, and the references that have no primary
    counterpart (each ``{field, target, bcp_id}``): an item with any of those is not applied."""
    data = dict(entity.data)
    missing: list[dict[str, Any]] = []

    def back(link: Link, value: Any) -> Any:
        found = to_primary_ids.get(value)
        if found is None:
            missing.append({"field": link.field, "target": link.target, "bcp_id": value})
        return found

    map_links(entity.kind, data, back)
    return data, missing


def script_to_primary(
    data: dict[str, Any],
    to_primary_ids: Mapping[int, int],
    bcp_types: Mapping[int, str],
    *,
    remap_free_text: bool,
    max_bytes: int,
    max_depth: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A BCP script's fields with every id in its content turned back into the primary's,
    and the ids that stay as they are (each ``{field, target, bcp_id}``; the caller decides
    which of those are BCP entities without a counterpart).

    Ids are unique across regions, so a value is a BCP id only if the correlations know it:
    whatever the sync's ``script_ids`` setting was, a correlated BCP id goes back to its
    primary id and anything else (a primary id the sync kept, a name, a variable) is kept.
    Free-text ids go back only where the sync remapped them (``remap_free_text``).
    ``bcp_types`` is BCP id -> type of the correlated entities. Raises what ``parse_script``
    raises for an unreadable script."""
    document = parse_script(data["content"], max_bytes=max_bytes, max_depth=max_depth)
    unresolved: list[dict[str, Any]] = []

    def translate(target: str, bcp_id: int) -> int | None:
        found = to_primary_ids.get(bcp_id) if bcp_types.get(bcp_id) == target else None
        if found is None:
            unresolved.append({"field": "content", "target": target, "bcp_id": bcp_id})
        return found

    content, _ = rewrite_script(document, translate, remap_free_text=remap_free_text, known_ids=bcp_types)
    return {**data, "content": content}, unresolved


def content_ids(data: dict[str, Any], max_bytes: int, max_depth: int) -> set[int]:
    """Every numeric id a script's content names in a reference property (SPEC §3)."""
    document = parse_script(data["content"], max_bytes=max_bytes, max_depth=max_depth)
    return {int(ref.value) for slot in slots(document) for ref in references_in(slot, {}) if ref.kind == "id"}
