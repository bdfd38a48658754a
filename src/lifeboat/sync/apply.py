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

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES, Entity, Link
from lifeboat.domain.graph import type_order, write_groups
from lifeboat.domain.records import ChangeAction
from lifeboat.store.audit import AuditRepo
from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.database import Region
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now, region_audit
from lifeboat.sync.model import Change, Correlation, Options, Pending, Plan, Progress
from lifeboat.sync.plan import Side
from lifeboat.sync.translate import Translator



@dataclass
class Applied:
    failed: list[dict[str, Any]] = field(default_factory=list)
    checklist: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # bcp script id -> rows


@dataclass
class _Run:
    region: Region
    tenant_id: int
    actor: str
    translator: Translator
    bcp: Side
    progress: Progress
    max_script_bytes: int
    result: Applied = field(default_factory=Applied)
    deferred: list[tuple[Change, Entity]] = field(default_factory=list)  # written with references still to fill


def apply_plan(plan: Plan, *, region: Region, bcp: Side, correlations: list[Correlation], options: Options,
               known_ids: dict[int, str], actor: str, max_script_bytes: int,
               progress: Progress = lambda step, n: None, known_names: dict[int, str] | None = None) -> Applied:
    mapping = {c.primary_id: c.bcp_id for c in correlations if c.bcp_id in bcp.rows}
    run = _Run(region, bcp.tenant_id, actor, Translator(mapping, {}, known_ids, options, known_names), bcp, progress,
               max_script_bytes)
    deletes = [c for c in plan.changes if c.action == ChangeAction.DELETE]
    for type_name in reversed(type_order()):
        batch = [c for c in deletes if c.type == type_name]
        if batch:
            _delete(run, batch)
    for group in write_groups():
        batches = {t: [c for c in plan.changes if c.type == t and c.action != ChangeAction.DELETE] for t in group}
        refreshes = {t: [r for r in plan.refreshes if r.type == t] for t in group}
        if any(batches.values()) or any(refreshes.values()):
            _upsert(run, group, batches, refreshes)
    if run.deferred:
        _fill_deferred(run)
    if plan.forget:
        with region.db.write() as conn:
            CorrelationRepo(conn, run.tenant_id).remove_many([(c.type, c.primary_id) for c in plan.forget])
    return run.result


def _delete(run: _Run, batch: list[Change]) -> None:
    with run.region.db.write() as conn:
        repo = EntityRepo(conn, run.region.id_block)
        blocked = _local_referrers(repo, run, {c.bcp_id for c in batch})
        versions = repo.lock_versions(run.tenant_id, [c.bcp_id for c in batch])
        gone = []
        for change in batch:
            if change.bcp_id in blocked:
                _fail(run, change, "in_use_by_bcp_entity", f"kept: BCP-only entities refer to it ({blocked[change.bcp_id]})")
            elif versions.get(change.bcp_id) not in (change.expected_version, None):
                _fail(run, change, "changed_during_sync", "edited in BCP while the run was planned; next run decides")
            else:
                gone.append(change)
        repo.delete_many(run.tenant_id, [c.bcp_id for c in gone])
        CorrelationRepo(conn, run.tenant_id).remove_many([(c.type, c.primary_id) for c in gone])
        _audit(conn, run, gone)
    run.progress(f"delete {batch[0].type}", len(gone))


def _local_referrers(repo: EntityRepo, run: _Run, targets: set[int]) -> dict[int, str]:
    """BCP-only entities (no correlation) that point at entities about to be deleted."""
    correlated = set(run.translator.mapping.values())
    local_ids = [i for i in run.bcp.rows if i not in correlated]
    found: dict[int, str] = {}
    for entity in repo.many(run.tenant_id, local_ids).values():
        for link in entity.kind.links:
            for target in link.ids(entity.data):
                if target in targets:
                    found[target] = f"{entity.type} {entity.id}"
    return found


def _upsert(run: _Run, group: tuple[str, ...], batches: dict[str, list[Change]], refreshes: dict[str, list]) -> None:
    """One transaction for a group of types (one type, or the types of a cycle)."""
    with run.region.db.write() as conn:
        repo = EntityRepo(conn, run.region.id_block)
        new_ids = {t: _give_ids(run, repo, batches[t]) for t in group}  # every id first: a cycle resolves at once
        for type_name in group:
            written = _write_type(run, conn, repo, batches[type_name], new_ids[type_name], refreshes[type_name])
            run.progress(type_name, written)


def _give_ids(run: _Run, repo: EntityRepo, batch: list[Change]) -> range:
    creates = [c for c in batch if c.action == ChangeAction.CREATE]
    new_ids = repo.new_ids(len(creates)) if creates else range(0)
    for change, new_id in zip(creates, new_ids):
        run.translator.mapping[change.primary_id] = new_id
    for change in batch:
        if change.action != ChangeAction.CREATE:
            run.translator.mapping[change.primary_id] = change.bcp_id
    return new_ids


def _write_type(run: _Run, conn, repo: EntityRepo, batch: list[Change], new_ids: range, refreshes: list) -> int:  # noqa: ANN001
    creates = [c for c in batch if c.action == ChangeAction.CREATE]
    existing = [c for c in batch if c.action != ChangeAction.CREATE]
    versions = repo.lock_versions(run.tenant_id, [c.bcp_id for c in existing])
    stale = {c.bcp_id for c in existing if versions.get(c.bcp_id) != c.expected_version}
    for change in existing:
        if change.bcp_id in stale:
            _fail(run, change, "changed_during_sync", "edited in BCP while the run was planned; next run decides")
    live = [c for c in existing if c.bcp_id not in stale]
    stamp = now()
    current = repo.many(run.tenant_id, [c.bcp_id for c in live])
    inserted = [_entity(run, c, new_id, 1, stamp, stamp) for c, new_id in zip(creates, new_ids)]
    updated = [_entity(run, c, c.bcp_id, versions[c.bcp_id] + 1, current[c.bcp_id].created_at, stamp) for c in live]
    # Renames go through a placeholder key so that swapped names never clash mid-batch. It
    # starts with \x1f, which no validated key can (names are stripped, paths and usernames
    # refuse control characters); not \x00, which PostgreSQL text refuses.
    renamed = [(e.id, f"\x1frenaming:{e.id}") for _, e, _ in updated if e.natural_key != current[e.id].natural_key]
    repo.set_natural_keys(renamed)
    repo.insert_many([e for _, e, _ in inserted])
    repo.update_many([e for _, e, _ in updated])
    written = inserted + updated
    CorrelationRepo(conn, run.tenant_id).put_many([_correlation(c, e, waiting) for c, e, waiting in written])
    CorrelationRepo(conn, run.tenant_id).put_many([
        {"type": r.type, "primary_id": r.primary_id, "bcp_id": r.bcp_id,
         "primary_version": r.primary_version if r.complete else 0, "bcp_version": r.bcp_version,
         "notes": r.notes or None} for r in refreshes])
    _audit(conn, run, [c for c, _, _ in written])
    return len(written)


def _entity(run: _Run, change: Change, bcp_id: int, version: int, created, stamp) -> tuple[Change, Entity, bool]:  # noqa: ANN001
    """The BCP entity to write for a change, with references resolved as far as possible."""
    data = dict(change.data)  # _resolve replaces link fields, never changes them in place
    waiting = _resolve(run, change.type, data)
    if ENTITY_TYPES[change.type].content_targets:  # its targets are all written by now: rewrite with the final ids
        data, notes = run.translator.script(data, run.max_script_bytes)
        run.result.checklist[bcp_id] = notes.get("checklist", [])
        change = replace(change, notes={**(change.notes or {}), **notes})
    entity = Entity(bcp_id, run.tenant_id, change.type, data, created, stamp, change.content, version)
    if waiting:
        run.deferred.append((change, entity))
    return change, entity, waiting


def _resolve(run: _Run, type_name: str, data: dict[str, Any]) -> bool:
    """Replace pending references by the BCP ids written so far; True if some must wait."""
    waiting = False

    def one(value: Any) -> Any:
        nonlocal waiting
        if not isinstance(value, Pending):
            return value
        found = run.translator.mapping.get(value.primary_id)
        waiting = waiting or found is None
        return found

    for link in ENTITY_TYPES[type_name].links:
        _map_link(link, data, one)
    return waiting


def _map_link(link: Link, data: dict[str, Any], one: Callable[[Any], Any]) -> None:
    value = data.get(link.field)
    if value is None:
        return
    if link.shape == "one":
        data[link.field] = one(value)
    elif link.shape == "many":
        data[link.field] = sorted(v for v in (one(x) for x in value) if v is not None)
    else:
        items = [{**item, link.key: one(item[link.key])} for item in value]
        data[link.field] = sorted((i for i in items if i[link.key] is not None), key=lambda i: i[link.key])


def _correlation(change: Change, entity: Entity, waiting: bool) -> dict[str, Any]:
    complete = change.complete and not waiting
    return {"type": change.type, "primary_id": change.primary_id, "bcp_id": entity.id,
            "primary_version": change.primary_version if complete else 0,
            "bcp_version": entity.version, "notes": change.notes or None}


def _fill_deferred(run: _Run) -> None:
    """Second pass for references whose targets were written later in the run.

    The entities are not read again: this run wrote them, and only their fields change."""
    with run.region.db.write() as conn:
        repo = EntityRepo(conn, run.region.id_block)
        versions = repo.lock_versions(run.tenant_id, [written.id for _, written in run.deferred])
        updated, rows = [], []
        for change, written in run.deferred:
            bcp_id = written.id
            data = dict(change.data)
            waiting = _resolve(run, change.type, data)
            entity = replace(written, data=data, version=versions[bcp_id] + 1, updated_at=now())
            updated.append(entity)
            complete = change.complete and not waiting
            rows.append({"type": change.type, "primary_id": change.primary_id, "bcp_id": bcp_id,
                         "primary_version": change.primary_version if complete else 0,
                         "bcp_version": entity.version, "notes": change.notes or None})
        repo.update_many(updated)
        CorrelationRepo(conn, run.tenant_id).put_many(rows)
    run.progress("references", len(updated))


def _fail(run: _Run, change: Change, code: str, message: str) -> None:
    run.result.failed.append({"code": code, "action": change.action, "type": change.type, "name": change.key,
                              "primary_id": change.primary_id,
                              "bcp_id": change.bcp_id, "message": message})


def _audit(conn, run: _Run, changes: list[Change]) -> None:  # noqa: ANN001
    """One row per written entity: what the sync did and which fields it changed."""
    if not changes:
        return
    audit = AuditRepo(conn, region_audit)
    audit.record_many([
        {"actor": run.actor, "action": f"{c.type}.sync_{c.action}", "tenant_id": run.tenant_id,
         "entity_type": c.type, "entity_id": run.translator.mapping.get(c.primary_id, c.bcp_id),
         "details": {"primary_id": c.primary_id, "fields": list(c.fields), "drift": list(c.drift)}}
        for c in changes])
