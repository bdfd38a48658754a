"""Counts over a tenant's entities, remembered while those entities are unchanged.

Counting 10,000 users by a field of their JSON data makes the database read every document
(~40 ms on SQLite); the Overview and the BCP access page ask for the same counts on every
request. ``remembered`` keeps each count with a fingerprint of the rows it was counted from
(how many, the sum of their versions, the highest id), read in the same transaction: every
write bumps a version, a delete lowers the count, and a new row takes a new highest id, so a
changed tenant never gets an old count. Reading the fingerprint touches no JSON (~8 ms).
Per process, bounded; a replica that has not seen a count yet counts it.

``remembered_notes`` does the same for figures drawn from correlation notes (a script's
checklist: decoding 300 scripts' notes cost ~35 ms a request). Their fingerprint is how many
rows, the sums of their versions and the oldest and newest ``synced_at``: every write of a
correlation (``CorrelationRepo.put_many``, the only writer of notes) stamps ``synced_at`` with
the time of the write, and a removal lowers the count.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, func, select

from lifeboat.store.tables import correlations, entities

T = TypeVar("T")
Fingerprints = dict[tuple[int, str], tuple[int, ...]]
MAX_REMEMBERED = 512
_remembered: OrderedDict[Hashable, tuple[tuple[Any, ...], Any]] = OrderedDict()
_lock = threading.Lock()


def remembered(
    conn: Connection,
    tenant_id: int,
    types: Sequence[str],
    what: Hashable,
    count: Callable[[], T],
    *,
    seen: Fingerprints | None = None,
) -> T:
    """``count()``, or what it answered before if the tenant's entities of ``types`` are unchanged
    since. The caller must not change what it gets back (it may be handed out again).

    ``seen``: the fingerprints a read-only transaction has read already, by (tenant, type), so
    that two counts over the same rows read them once (the Overview's readiness reads the users
    for two counts). Never a writing transaction's: a count read after its own uncommitted write
    would be remembered under the fingerprint read before it, and survive a rollback."""
    key = ("entities", str(conn.engine.url), tenant_id, tuple(types), what)
    return _remember(key, _fingerprint(conn, tenant_id, types, {} if seen is None else seen), count)


def remembered_notes(conn: Connection, bcp_tenant_id: int, type_: str, what: Hashable, count: Callable[[], T]) -> T:
    """``count()``, or what it answered before if the BCP tenant's correlations of ``type_`` are
    unchanged since (the same terms as ``remembered``)."""
    key = ("correlations", str(conn.engine.url), bcp_tenant_id, type_, what)
    return _remember(key, _notes_fingerprint(conn, bcp_tenant_id, type_), count)


def _remember(key: Hashable, fingerprint: tuple[Any, ...], count: Callable[[], T]) -> T:
    with _lock:
        hit = _remembered.get(key)
    if hit is not None and hit[0] == fingerprint:
        return cast(T, hit[1])
    value = count()
    with _lock:
        _remembered[key] = (fingerprint, value)
        _remembered.move_to_end(key)
        while len(_remembered) > MAX_REMEMBERED:
            _remembered.popitem(last=False)
    return value


def _fingerprint(conn: Connection, tenant_id: int, types: Sequence[str], seen: Fingerprints) -> tuple[Any, ...]:
    """(how many, the sum of their versions, the highest id) of each type's rows, in the order of the type names."""
    c = entities.c
    for type_ in sorted(set(types)):
        if (tenant_id, type_) not in seen:
            stmt = select(func.count(), func.coalesce(func.sum(c.version), 0), func.coalesce(func.max(c.id), 0))
            row = conn.execute(stmt.where(c.tenant_id == tenant_id, c.type == type_)).one()
            seen[(tenant_id, type_)] = tuple(int(v) for v in row)
    return tuple(seen[(tenant_id, type_)] for type_ in sorted(set(types)))


def _notes_fingerprint(conn: Connection, bcp_tenant_id: int, type_: str) -> tuple[Any, ...]:
    c = correlations.c
    stmt = select(
        func.count(),
        func.coalesce(func.sum(c.primary_version), 0),
        func.coalesce(func.sum(c.bcp_version), 0),
        func.min(c.synced_at),
        func.max(c.synced_at),
    ).where(c.bcp_tenant_id == bcp_tenant_id, c.type == type_)
    return tuple(conn.execute(stmt).one())
