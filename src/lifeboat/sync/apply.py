"""Carrying out a plan: the only sync code that writes.

Everything happens in the BCP region's database, one transaction per step, and each step
writes entities together with their correlations, so a run killed at any point leaves no
entity without its correlation and the next run picks up where this one stopped:

1. deletions, referrers first;
2. per type, in dependency order: creates, adoptions and updates (an entity edited in
   BCP since it was planned is left for the next run, never overwritten blind); the types
   of a cycle (users and the teams they lead) share one step, with every id given out
   first, so their references to each other are written once, already resolved;
3. references that still had to wait for their target are filled in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from lifeboat.domain.entities import ENTITY_TYPES, Entity, Link
from lifeboat.domain.graph import IdBook, type_order, write_groups
from lifeboat.domain.records import ChangeAction
from lifeboat.store.audit import AuditRepo
from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.database import Region
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now, region_audit
from lifeboat.sync.model import Change, Correlation, Options, Pending, Plan, Progress, Refresh
from lifeboat.sync.plan import Side
from lifeboat.sync.translate import Translator

# An entity written with references still waiting for their targets, and the change it came from.
Written = tuple[Change, Entity]


@dataclass
class Applied:
    failed: list[dict[str, Any]] = field(default_factory=list)
    checklist: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # bcp script id -> rows


@dataclass
class _Run:
    region: Region
    tenant_id: int
    actor: str
    book: IdBook[int, Written]  # primary id -> BCP id: correlated, adopted, or created by this run
    correlated: set[int]  # primary ids with a correlation row when the run was planned
    translator: Translator  # reads the book's ids: a script is rewritten with the ids given so far
    bcp: Side
    progress: Progress
    max_script_bytes: int
    result: Applied = field(default_factory=Applied)


def apply_plan(
    plan: Plan,
    *,
    region: Region,
    bcp: Side,
    correlations: list[Correlation],
    options: Options,
    known_ids: Mapping[int, str],
    actor: str,
    max_script_bytes: int,
    progress: Progress = lambda step, n: None,
    known_names: Mapping[int, str] | None = None,
) -> Applied:
    book: IdBook[int, Written] = IdBook({c.primary_id: c.bcp_id for c in correlations if c.bcp_id in bcp.rows})
    run = _Run(
        region,
        bcp.tenant_id,
        actor,
        book,
        {c.primary_id for c in correlations},
        Translator(book.ids, {}, known_ids, options, known_names),
        bcp,
        progress,
        max_script_bytes,
    )
    deletes: dict[str, list[Change]] = defaultdict(list)
    writes: dict[str, list[Change]] = defaultdict(list)
    for change in plan.changes:  # sorted by type, then action: each type's batch keeps that order
        (deletes if change.action == ChangeAction.DELETE else writes)[change.type].append(change)
    refreshes_of: dict[str, list[Refresh]] = defaultdict(list)
    for refresh in plan.refreshes:
        refreshes_of[refresh.type].append(refresh)
    for type_name in reversed(type_order()):
        if deletes[type_name]:
            _delete(run, deletes[type_name])
    for group in write_groups():
        batches = {t: writes[t] for t in group}
        refreshes = {t: refreshes_of[t] for t in group}
        if any(batches.values()) or any(refreshes.values()):
            _upsert(run, group, batches, refreshes)
    if book.waiting():
        _fill_waiting(run)
    if plan.forget:
        with region.db.write() as conn:
            CorrelationRepo(conn, run.tenant_id).remove_many([(c.type, c.primary_id) for c in plan.forget])
    return run.result


def _delete(run: _Run, batch: list[Change]) -> None:
    with run.region.db.write() as conn:
        repo = EntityRepo(conn, run.region.id_block)
        blocked = _local_referrers(repo, run, {c.existing_id for c in batch})
        versions = repo.lock_versions(run.tenant_id, [c.existing_id for c in batch])
        gone = []
        for change in batch:
            if change.existing_id in blocked:
                _fail(
                    run,
                    change,
                    "in_use_by_bcp_entity",
                    f"kept: BCP-only entities refer to it ({blocked[change.existing_id]})",
                )
            elif versions.get(change.existing_id) not in (change.expected_version, None):
                _fail(run, change, "changed_during_sync", "edited in BCP while the run was planned; next run decides")
            else:
                gone.append(change)
        repo.delete_many(run.tenant_id, [c.existing_id for c in gone])
        CorrelationRepo(conn, run.tenant_id).remove_many([(c.type, c.primary_id) for c in gone])
        _audit(conn, run, gone)
    run.progress(f"delete {batch[0].type}", len(gone))


def _local_referrers(repo: EntityRepo, run: _Run, targets: set[int]) -> dict[int, str]:
    """BCP-only entities (no correlation) that point at entities about to be deleted."""
    correlated = set(run.book.ids.values())
    local_ids = [i for i in run.bcp.rows if i not in correlated]
    found: dict[int, str] = {}
    for entity in repo.many(run.tenant_id, local_ids).values():
        for link in entity.kind.links:
            for target in link.ids(entity.data):
                if target in targets:
                    found[target] = f"{entity.type} {entity.id}"
    return found


def _upsert(
    run: _Run, group: tuple[str, ...], batches: dict[str, list[Change]], refreshes: dict[str, list[Refresh]]
) -> None:
    """One transaction for a group of types (one type, or the types of a cycle)."""
    with run.region.db.write() as conn:
        repo = EntityRepo(conn, run.region.id_block)
        new_ids = {t: _give_ids(run, repo, batches[t]) for t in group}  # every id first: a cycle resolves at once
        for type_name in group:
            written = _write_type(run, conn, repo, batches[type_name], new_ids[type_name], refreshes[type_name])
            run.progress(type_name, written)


def _give_ids(run: _Run, repo: EntityRepo, batch: list[Change]) -> range:
    """Ids for the creates, from this step's counter; the others keep the BCP entity they write."""
    create = ChangeAction.CREATE  # looked up once: a first sync asks for every entity
    for change in batch:
        if change.action is not create:
            run.book.know(change.primary_id, change.existing_id)
    return run.book.give([c.primary_id for c in batch if c.action is create], repo.new_ids)


def _write_type(
    run: _Run, conn: Connection, repo: EntityRepo, batch: list[Change], new_ids: range, refreshes: list[Refresh]
) -> int:
    create = ChangeAction.CREATE
    creates = [c for c in batch if c.action is create]
    existing = [c for c in batch if c.action is not create]
    versions = repo.lock_versions(run.tenant_id, [c.existing_id for c in existing])
    stale = {c.existing_id for c in existing if versions.get(c.existing_id) != c.expected_version}
    for change in existing:
        if change.existing_id in stale:
            _fail(run, change, "changed_during_sync", "edited in BCP while the run was planned; next run decides")
    live = [c for c in existing if c.existing_id not in stale]
    stamp = now()
    current = repo.many(run.tenant_id, [c.existing_id for c in live])
    inserted = [_entity(run, c, new_id, 1, stamp, stamp) for c, new_id in zip(creates, new_ids)]
    updated = [
        _entity(run, c, c.existing_id, versions[c.existing_id] + 1, current[c.existing_id].created_at, stamp)
        for c in live
    ]
    # Renames go through a placeholder key so that swapped names never clash mid-batch. It
    # starts with \x1f, which no validated key can (names are stripped, paths and usernames
    # refuse control characters); not \x00, which PostgreSQL text refuses.
    renamed = [(e.id, f"\x1frenaming:{e.id}") for _, e, _ in updated if e.natural_key != current[e.id].natural_key]
    repo.set_natural_keys(renamed)
    repo.insert_many([e for _, e, _ in inserted])
    repo.update_many([e for _, e, _ in updated])
    written = inserted + updated
    rows = [_correlation(c, e, waiting) for c, e, waiting in written]
    correlations = CorrelationRepo(conn, run.tenant_id)
    correlations.insert_many([r for r in rows if r["primary_id"] not in run.correlated])  # most of a first sync
    correlations.put_many([r for r in rows if r["primary_id"] in run.correlated])
    correlations.put_many(
        [
            {
                "type": r.type,
                "primary_id": r.primary_id,
                "bcp_id": r.bcp_id,
                "primary_version": r.primary_version if r.complete else 0,
                "bcp_version": r.bcp_version,
                "notes": r.notes or None,
            }
            for r in refreshes
        ]
    )
    _audit(conn, run, [c for c, _, _ in written])
    return len(written)


def _entity(
    run: _Run, change: Change, bcp_id: int, version: int, created: datetime, stamp: datetime
) -> tuple[Change, Entity, bool]:
    """The BCP entity to write for a change, with references resolved as far as possible."""
    data = dict(change.data or {})  # resolve() replaces link fields, never changes them in place
    waiting = bool(run.book.resolve(ENTITY_TYPES[change.type], data, _pending_id))
    if ENTITY_TYPES[change.type].content_targets:  # its targets are all written by now: rewrite with the final ids
        data, notes = run.translator.script(data, run.max_script_bytes, change.script)
        run.result.checklist[bcp_id] = notes.get("checklist", [])
        change = replace(change, notes={**(change.notes or {}), **notes})
    entity = Entity(bcp_id, run.tenant_id, change.type, data, created, stamp, change.content, version)
    if waiting:
        run.book.wait((change, entity))
    return change, entity, waiting


def _pending_id(link: Link, value: Any) -> int | None:
    """The book's key for a reference the planner left pending; any other value is a BCP id."""
    return value.primary_id if isinstance(value, Pending) else None


def _correlation(change: Change, entity: Entity, waiting: bool) -> dict[str, Any]:
    complete = change.complete and not waiting
    return {
        "type": change.type,
        "primary_id": change.primary_id,
        "bcp_id": entity.id,
        "primary_version": change.primary_version if complete else 0,
        "bcp_version": entity.version,
        "notes": change.notes or None,
    }


def _fill_waiting(run: _Run) -> None:
    """Second pass for references whose targets were written later in the run.

    The entities are not read again: this run wrote them, and only their fields change."""
    with run.region.db.write() as conn:
        repo = EntityRepo(conn, run.region.id_block)
        waiting = run.book.waiting()
        versions = repo.lock_versions(run.tenant_id, [written.id for _, written in waiting])
        updated, rows = [], []
        for change, written in waiting:
            data = dict(change.data or {})
            still = bool(run.book.resolve(written.kind, data, _pending_id))
            entity = replace(written, data=data, version=versions[written.id] + 1, updated_at=now())
            updated.append(entity)
            rows.append(_correlation(change, entity, still))
        repo.update_many(updated)
        CorrelationRepo(conn, run.tenant_id).put_many(rows)
    run.progress("references", len(updated))


def _fail(run: _Run, change: Change, code: str, message: str) -> None:
    run.result.failed.append(
        {
            "code": code,
            "action": change.action,
            "type": change.type,
            "name": change.key,
            "primary_id": change.primary_id,
            "bcp_id": change.bcp_id,
            "message": message,
        }
    )


def _audit(conn: Connection, run: _Run, changes: list[Change]) -> None:
    """One row per written entity: what the sync did and which fields it changed."""
    if not changes:
        return
    audit = AuditRepo(conn, region_audit)
    audit.record_many(
        [
            {
                "actor": run.actor,
                "action": f"{c.type}.sync_{c.action}",
                "tenant_id": run.tenant_id,
                "entity_type": c.type,
                "entity_id": c.bcp_id if c.bcp_id is not None else run.book.ids[c.primary_id],
                "details": {"primary_id": c.primary_id, "fields": list(c.fields), "drift": list(c.drift)},
            }
            for c in changes
        ]
    )
