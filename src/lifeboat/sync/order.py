"""The order in which entity types are synced, derived from their links.

A type comes after the types it refers to. Where links form a cycle (teams name a lead
user, users name a team) the link that closes the cycle is *deferred*: the entity is
written first without it, and the reference is filled in once its target exists.
"""

from __future__ import annotations

from functools import lru_cache

from lifeboat.domain.entities import ENTITY_TYPES, Link

# Scripts refer to other entities from inside their content, not through links.
SCRIPT_TARGETS = ("skills", "users", "hours-of-operation", "dispositions", "files")


def _dependencies(type_name: str) -> list[tuple[Link | None, str]]:
    deps = [(link, link.target) for link in ENTITY_TYPES[type_name].links]
    if type_name == "scripts":
        deps += [(None, target) for target in SCRIPT_TARGETS]
    return deps


@lru_cache(maxsize=1)
def sync_order() -> tuple[tuple[str, ...], frozenset[tuple[str, str]]]:
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
    return sync_order()[0]


def is_deferred(type_name: str, field: str) -> bool:
    return (type_name, field) in sync_order()[1]


@lru_cache(maxsize=1)
def write_groups() -> tuple[tuple[str, ...], ...]:
    """Types in dependency order, with the types of a cycle together: they are written in one
    transaction, ids given out first, so a cycle's references need no second write."""
    order, deferred = sync_order()
    group_of = {name: {name} for name in order}
    for type_name, field in deferred:
        target = next(link.target for link in ENTITY_TYPES[type_name].links if link.field == field)
        merged = group_of[type_name] | group_of[target]
        for name in merged:
            group_of[name] = merged
    groups, seen = [], set()
    for name in order:
        if name not in seen:
            members = tuple(n for n in order if n in group_of[name])
            seen.update(members)
            groups.append(members)
    return tuple(groups)
