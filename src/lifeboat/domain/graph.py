"""A tenant's entities as a graph: the order in which types are written, and references
mapped from one id space to another. Shared by every writer of many entities at once: the
sync (``sync.apply``) and the bulk loader (``services.entities.drafts``).

A type comes after the types it refers to. Where links form a cycle (teams name a lead
user, users name a team) the link that closes the cycle is *deferred*, and the types of the
cycle form one *write group*: a writer gives ids to every new entity of the group first, so
that their references to each other resolve at once, then maps each entity's links through
those ids (``map_links``). A reference whose target still has no id is left out and the
field reported as waiting, to be filled in once the target exists. ``IdBook`` keeps that
bookkeeping (ids given, references waiting) for both writers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar

from lifeboat.domain.entities import ENTITY_TYPES, EntityType, Link

# What a script's content names, as the table says (``EntityType.content_targets``); the
# graph reads every type's own, this name is for the tests that speak of scripts.
SCRIPT_TARGETS = ENTITY_TYPES["scripts"].content_targets

# A link value mapped to its id in the other space, or None while its target has none. The
# sync's planner maps to a placeholder (``sync.model.Pending``) for an entity the run creates:
# a list holding one is left in its order, to be sorted once apply knows every id.
MapId = Callable[[Link, Any], Any]

K = TypeVar("K", bound=Hashable)  # how a writer names an entity that may have no id yet
W = TypeVar("W")  # what a writer keeps of an entity written with references still to fill


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
    for link in kind.links:  # a plain loop, no closure per field: it runs for every entity a sync copies
        value = data.get(link.field)
        if value is None:
            continue
        if link.shape == "one":
            found = map_id(link, value)
            if found is None:
                waiting.add(link.field)
            data[link.field] = found
        elif isinstance(value, list):
            mapped, complete = _mapped_list(link, value, map_id)
            if not complete:
                waiting.add(link.field)
            data[link.field] = mapped
    return waiting


def _mapped_list(link: Link, value: list[Any], map_id: MapId) -> tuple[list[Any], bool]:
    """A ``many`` or ``nested`` list mapped, and whether every item found its id."""
    if link.shape == "many":
        found = [map_id(link, item) for item in value]
        kept = [item for item in found if item is not None]
        return _by_id(kept), len(kept) == len(found)
    key = link.key or ""
    if not all(isinstance(item, dict) and key in item for item in value):
        return value, True
    items = [{**item, key: map_id(link, item[key])} for item in value]
    kept = [item for item in items if item[key] is not None]
    return _by_id(kept, lambda item: item[key]), len(kept) == len(items)


def _by_id(items: list[Any], id_of: Callable[[Any], Any] | None = None) -> list[Any]:
    """``items`` sorted by id; ``id_of`` None: the items are the ids (sorted with no key to call)."""
    if all(isinstance(item if id_of is None else id_of(item), int) for item in items):
        return sorted(items, key=id_of)
    return items  # something else than an id: validation names it


class IdBook(Generic[K, W]):
    """The ids of the entities a writer creates, given out a write group at a time, and the
    entities written with references that wait for a target still without an id.

    A writer names an entity by a key of its own (the sync: its primary id; the bulk loader:
    the draft's local key). Pure: ids come from the ``allocate`` each ``give`` is handed (a
    write step's id counter, in that step's transaction)."""

    def __init__(self, known: Mapping[K, int] | None = None):
        self.ids: dict[K, int] = dict(known or {})  # key -> id, known before or given here
        self._waiting: list[W] = []

    def give(self, keys: Sequence[K], allocate: Callable[[int], range]) -> range:
        """New ids for ``keys``, in their order, from one ``allocate`` call (none if no keys)."""
        new_ids = allocate(len(keys)) if keys else range(0)
        self.ids.update(zip(keys, new_ids))
        return new_ids

    def know(self, key: K, entity_id: int) -> None:
        """An entity that exists already under ``key`` (the sync adopts it, the loader skips it)."""
        self.ids[key] = entity_id

    def resolve(self, kind: EntityType, data: dict[str, Any], ref_key: Callable[[Link, Any], K | None]) -> set[str]:
        """``map_links`` through the book, in place: a link value whose ``ref_key`` is None is
        left as it is (an id already, or something for validation to name); a key is replaced
        by its id, or left out while it has none. Returns the fields that wait."""

        def map_id(link: Link, value: Any) -> Any:
            key = ref_key(link, value)
            return value if key is None else self.ids.get(key)

        return map_links(kind, data, map_id)

    def wait(self, item: W) -> None:
        """Keep ``item`` (written with references still waiting) to be filled in later."""
        self._waiting.append(item)

    def waiting(self) -> list[W]:
        return list(self._waiting)

    def settle(self, fill: Callable[[W], bool]) -> None:
        """Offer every waiting item to ``fill`` (True: filled in, done); the rest keep waiting."""
        self._waiting = [item for item in self._waiting if not fill(item)]
