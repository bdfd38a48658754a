"""A tenant's entities as a graph: the order in which types are written, and references
mapped from one id space to another. Shared by every writer of many entities at once: the
sync (``sync.apply``) and the bulk loader (``services.entities.drafts``).

A type comes after the types it refers to. Where links form a cycle (teams name a lead
user, users name a team) the link that closes the cycle is *deferred*, and the types of the
cycle form one *write group*: a writer gives ids to every new entity of the group first, so
that their references to each other resolve at once, then maps each entity's links through
those ids (``map_links``). A reference whose target still has no id is left out and the
field reported as waiting, to be filled in once the target exists.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES, EntityType, Link

# What a script's content names, as the table says (``EntityType.content_targets``); the
# graph reads every type's own, this name is for the tests that speak of scripts.
SCRIPT_TARGETS = ENTITY_TYPES["scripts"].content_targets

# A link value mapped to its id in the other space, or None while its target has none.
MapId = Callable[[Link, Any], "int | None"]


def _dependencies(type_name: str) -> list[tuple[Link | None, str]]:
    kind = ENTITY_TYPES[type_name]
    deps: list[tuple[Link | None, str]] = [(link, link.target) for link in kind.links]
    return deps + [(None, target) for target in kind.content_targets]


@lru_cache(maxsize=1)
def write_order() -> tuple[tuple[str, ...], frozenset[tuple[str, str]]]:
    """(types in dependency order, deferred links as (type, field))."""
    order: list[str] = []
    deferred: set[tuple[str, str]] = set()
    on_stack: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        on_stack.add(name)
        for link, target in _dependencies(name):
            if target in on_stack:
                if link is not None:
                    deferred.add((name, link.field))
                continue
            visit(target)
        on_stack.discard(name)
        order.append(name)

    for name in ENTITY_TYPES:
        visit(name)
    return tuple(order), frozenset(deferred)


def type_order() -> tuple[str, ...]:
    return write_order()[0]


def is_deferred(type_name: str, field: str) -> bool:
    return (type_name, field) in write_order()[1]


@lru_cache(maxsize=1)
def write_groups() -> tuple[tuple[str, ...], ...]:
    """Types in dependency order, with the types of a cycle together: they are written in one
    transaction, ids given out first, so a cycle's references need no second write."""
    order, deferred = write_order()
    group_of = {name: {name} for name in order}
    for type_name, field in deferred:
        target = next(link.target for link in ENTITY_TYPES[type_name].links if link.field == field)
        merged = group_of[type_name] | group_of[target]
        for name in merged:
            group_of[name] = merged
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for name in order:
        if name not in seen:
            members = tuple(n for n in order if n in group_of[name])
            seen.update(members)
            groups.append(members)
    return tuple(groups)


def map_links(kind: EntityType, data: dict[str, Any], map_id: MapId) -> set[str]:
    """Replace, in place, every id in ``data``'s link fields by ``map_id(link, value)``; returns
    the fields where some target has no id yet (a ``one`` link is then None, and a list
    leaves that item out). Lists come out sorted by id, as the store keeps them. A field whose
    value has not the link's shape is left as it is, for validation to name."""
    waiting: set[str] = set()
    for link in kind.links:
        value = data.get(link.field)
        if value is None or (link.shape != "one" and not isinstance(value, list)):
            continue

        def one(item: Any, link: Link = link) -> int | None:
            found = map_id(link, item)
            if found is None:
                waiting.add(link.field)
            return found

        data[link.field] = _mapped(link, value, one)
    return waiting


def _mapped(link: Link, value: Any, one: Callable[[Any], int | None]) -> Any:
    if link.shape == "one":
        return one(value)
    if link.shape == "many":
        return _by_id([found for found in map(one, value) if found is not None], lambda found: found)
    key = link.key or ""
    if not all(isinstance(item, dict) and key in item for item in value):
        return value
    items = [{**item, key: one(item[key])} for item in value]
    return _by_id([item for item in items if item[key] is not None], lambda item: item[key])


def _by_id(items: list[Any], id_of: Callable[[Any], Any]) -> list[Any]:
    if all(isinstance(id_of(item), int) for item in items):
        return sorted(items, key=id_of)
    return items  # something else than an id: validation names it
