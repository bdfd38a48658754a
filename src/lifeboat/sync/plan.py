"""The planner: values in, a ``Plan`` out. Reads nothing, writes nothing.

``needed`` says which entities' fields must be read (those whose version moved since the
last run, those never synced, and adoption candidates); ``diff`` compares them and
decides, per entity, to create, adopt, update, deactivate or delete in the BCP tenant.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lifeboat.domain.entities import ENTITY_TYPES, Entity, free_form_fields, free_form_problems
from lifeboat.domain.graph import type_order
from lifeboat.domain.records import ChangeAction
from lifeboat.domain.scripts import DEFAULT_MAX_SCRIPT_BYTES
from lifeboat.sync.model import Change, Correlation, Options, ParsedScript, Plan, Refresh, Row
from lifeboat.sync.translate import Translator, has_pending_link


@dataclass
class Side:
    """One tenant as the planner sees it: every row, and the fields of some."""

    tenant_id: int
    rows: dict[int, Row]
    full: dict[int, Entity] = field(default_factory=dict)

    @property
    def types(self) -> Mapping[int, str]:
        """Each entity's type by id (what a number in a script may be)."""
        return RowColumn(self.rows, Row._fields.index("type"))

    @property
    def names(self) -> Mapping[int, str]:
        """Each entity's natural key by id (what a script checklist shows)."""
        return RowColumn(self.rows, Row._fields.index("natural_key"))


class RowColumn(Mapping[int, Any]):
    """One column of the rows, by id, read through them: a run that looks up a handful of
    ids does not copy 20,000 entries first."""

    def __init__(self, rows: dict[int, Row], index: int):
        self._rows, self._index = rows, index

    def __getitem__(self, key: int) -> Any:
        return self._rows[key][self._index]

    def get(self, key: int, default: Any = None) -> Any:
        row = self._rows.get(key)
        return default if row is None else row[self._index]

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def in_scope(row: Row, options: Options) -> bool:
    """Selected type, and within the type's own sync scope (voice points of contact only)."""
    if row.type not in options.types:
        return False
    scope = ENTITY_TYPES[row.type].sync_scope
    return scope is None or scope(row)


def needed(
    primary: dict[int, Row], bcp: dict[int, Row], correlations: Iterable[Correlation], options: Options
) -> tuple[set[int], set[int]]:
    """The primary and BCP ids whose fields the planner must see."""
    by_primary = {c.primary_id: c for c in correlations}
    correlated_bcp = {c.bcp_id for c in by_primary.values()}
    want_primary: set[int] = set()
    want_bcp: set[int] = set()
    unmatched = False
    for row in primary.values():
        if not in_scope(row, options):
            continue
        c = by_primary.get(row.id)
        if c is None or c.bcp_id not in bcp:  # never synced, or its copy was deleted by hand
            unmatched = True
            want_primary.add(row.id)
        elif _to_compare(c, row, bcp[c.bcp_id], options):
            want_primary.add(row.id)
            want_bcp.add(c.bcp_id)
    if unmatched:  # adoption candidates: BCP entities that no correlation claims
        want_bcp |= {r.id for r in bcp.values() if r.id not in correlated_bcp and r.type in options.types}
    return want_primary, want_bcp


def _moved(c: Correlation, primary: Row, bcp: Row | None) -> bool:
    return bcp is None or c.primary_version != primary.version or c.bcp_version != bcp.version


def _to_compare(c: Correlation, primary: Row, bcp: Row | None, options: Options) -> bool:
    return options.full or primary.id in options.revisit or _moved(c, primary, bcp)


def diff(
    primary: Side,
    bcp: Side,
    correlations: Iterable[Correlation],
    options: Options,
    *,
    max_script_bytes: int = DEFAULT_MAX_SCRIPT_BYTES,
) -> Plan:
    correlations = list(correlations)
    planner = _Planner(primary, bcp, correlations, options, max_script_bytes)
    for type_name in type_order():
        if type_name in options.types:
            planner.plan_type(type_name)
    planner.plan_removals()
    return planner.finish()


class _Planner:
    def __init__(
        self, primary: Side, bcp: Side, correlations: list[Correlation], options: Options, max_script_bytes: int
    ):
        self.primary, self.bcp, self.options = primary, bcp, options
        self.max_script_bytes = max_script_bytes
        self.by_primary = {c.primary_id: c for c in correlations}
        self.plan = Plan(synced_before=Counter(c.type for c in correlations))
        live = {c.primary_id: c.bcp_id for c in correlations if c.bcp_id in bcp.rows}
        self.rows_of_type: dict[str, list[Row]] = {}  # in scope, by id: each type's rows found once, not per type
        for row in sorted(primary.rows.values()):  # by id: a row is a tuple that starts with it
            if in_scope(row, options):
                self.rows_of_type.setdefault(row.type, []).append(row)
        keep = {r.id: r.type for rows in self.rows_of_type.values() for r in rows}
        self.kept = keep.keys()  # the primary ids in scope: their correlations stay
        self.tr = Translator(live, keep, primary.types, options, primary.names)
        claimed = {c.bcp_id for c in correlations}
        self.free_bcp = {(r.type, r.natural_key): r.id for r in bcp.rows.values() if r.id not in claimed}

    def plan_type(self, type_name: str) -> None:
        for row in self.rows_of_type.get(type_name, []):
            c = self.by_primary.get(row.id)
            if c is not None and c.bcp_id in self.bcp.rows:
                self._existing(row, c)
            else:
                self._new(row, recreate=c is not None)

    def _existing(self, row: Row, c: Correlation) -> None:
        bcp_row = self.bcp.rows[c.bcp_id]
        if not _to_compare(c, row, bcp_row, self.options):
            self.plan.unchanged[row.type] += 1
            return
        source, target = self.primary.full[row.id], self.bcp.full[c.bcp_id]
        desired, notes, script = self._desired(source)
        if desired is None:
            return
        if self._key_taken(source, desired, target):
            return
        changed = _changed_fields(desired, target.data)
        drift = tuple(changed) if bcp_row.version != c.bcp_version else ()
        complete = _complete(notes)
        if not changed and not has_pending_link(row.type, desired):
            self.plan.unchanged[row.type] += 1
            self.plan.refreshes.append(
                Refresh(row.type, row.id, row.version, notes, complete, bcp_id=c.bcp_id, bcp_version=bcp_row.version)
            )
            return
        deactivating = target.data.get("is_active", True) and desired.get("is_active", True) is False
        action = ChangeAction.DEACTIVATE if deactivating else ChangeAction.UPDATE
        self.plan.changes.append(
            Change(
                action,
                row.type,
                target.natural_key,
                row.id,
                c.bcp_id,
                row.version,
                tuple(changed),
                _to_write(source, desired),
                source.content,
                drift,
                notes,
                complete,
                bcp_row.version,
                script=script,
            )
        )

    def _key_taken(self, source: Entity, desired: dict[str, Any], target: Entity) -> bool:
        """A rename onto the natural key of a BCP-only entity: sync may not touch that one,
        and the store refuses two entities with one key, so this entity fails until it moves."""
        key = ENTITY_TYPES[source.type].key_of(desired)
        if key == target.natural_key or (source.type, key) not in self.free_bcp:
            return False
        self.plan.failed.append(
            {
                "code": "natural_key_taken",
                "type": source.type,
                "primary_id": source.id,
                "bcp_id": target.id,
                "name": key,
                "existing_bcp_id": self.free_bcp[(source.type, key)],
                "message": "an entity created directly in the BCP tenant already has this natural key",
            }
        )
        return True

    def _new(self, row: Row, *, recreate: bool) -> None:
        source = self.primary.full[row.id]
        desired, notes, script = self._desired(source, compared=False)
        if desired is None:
            return
        key = ENTITY_TYPES[row.type].key_of(desired) if not has_pending_link(row.type, desired) else source.natural_key
        found = self.free_bcp.get((row.type, key))
        complete = _complete(notes)
        drift = ("deleted_in_bcp",) if recreate else ()
        # The business unit (a singleton) is in every tenant from its creation: it is always
        # the one to update, whichever run first selects its type.
        if found is not None and not self.options.adopt and not ENTITY_TYPES[row.type].singleton:
            self.plan.failed.append(
                {
                    "code": "natural_key_taken",
                    "type": row.type,
                    "primary_id": row.id,
                    "bcp_id": None,
                    "name": key,
                    "existing_bcp_id": found,
                    "message": (
                        "an entity created directly in the BCP tenant has this natural key; "
                        "it is only adopted on the first run"
                    ),
                }
            )
            return
        if found is not None:
            del self.free_bcp[(row.type, key)]
            self.tr.mapping[row.id] = found
            target = self.bcp.full[found]
            desired = self._rewritten(desired, notes, script)  # compared with what is there
            changed = tuple(_changed_fields(desired, target.data))
            self.plan.changes.append(
                Change(
                    ChangeAction.ADOPT,
                    row.type,
                    key,
                    row.id,
                    found,
                    row.version,
                    changed,
                    _to_write(source, desired),
                    source.content,
                    drift,
                    notes,
                    complete,
                    self.bcp.rows[found].version,
                    script=script,
                )
            )
            return
        self.plan.changes.append(
            Change(
                ChangeAction.CREATE,
                row.type,
                key,
                row.id,
                None,
                row.version,
                tuple(sorted(desired)),
                _to_write(source, desired),
                source.content,
                drift,
                notes,
                complete,
                script=script,
            )
        )

    def _desired(
        self, source: Entity, *, compared: bool = True
    ) -> tuple[dict[str, Any] | None, dict[str, Any], ParsedScript | None]:
        """The BCP fields with the ids known now, notes (unresolved references, a script's
        checklist), and the script as read: apply rewrites it again with the final ids.
        ``compared=False``: a script is read but not rewritten here (see ``_rewritten``)."""
        if self._over_limits(source):
            return None, {}, None
        desired, unresolved = self.tr.fields(source.type, source.data)
        notes: dict[str, Any] = {"unresolved": unresolved} if unresolved else {}
        script = None
        if source.kind.content_targets:  # content names other entities: rewritten through the translator
            # Measured by _over_limits already; read once here, and apply keeps what was read.
            script = self.tr.parse(source.data["content"], self.max_script_bytes, checked=True)
            if compared:
                desired = self._rewritten(desired, notes, script)
            if script.unreadable is not None:
                self.plan.warnings.append(
                    {
                        "code": "script_unreadable",
                        "type": source.type,
                        "primary_id": source.id,
                        "name": source.natural_key,
                        "reason": script.unreadable["code"],
                        "message": script.unreadable["message"],
                    }
                )
        for item in unresolved:
            required = any(f.name == item["field"] and f.required for f in ENTITY_TYPES[source.type].fields)
            entry = {**item, "type": source.type, "primary_id": source.id, "name": source.natural_key}
            if required:
                self.plan.failed.append(entry)
                return None, notes, None
            self.plan.warnings.append(entry)
        return desired, notes, script

    def _rewritten(self, desired: dict[str, Any], notes: dict[str, Any], script: ParsedScript | None) -> dict[str, Any]:
        """``desired`` with its script rewritten by the ids known now, and the checklist in
        ``notes``: what a comparison with a BCP script needs. A create is compared with
        nothing, and apply rewrites its script once every target has its id."""
        if script is None:
            return desired
        desired, script_notes = self.tr.script(desired, self.max_script_bytes, script)
        notes.update(script_notes)
        return desired

    def _over_limits(self, source: Entity) -> bool:
        """A free-form value the API would refuse today (stored before the limits existed) is
        not copied: the entity fails on its own and the rest of the run goes on."""
        if not _has_free_form(source.type):  # most types: nothing to measure
            return False
        problems = free_form_problems(
            ENTITY_TYPES[source.type], source.data, self.options.json_limits, document_bytes=self.max_script_bytes
        )
        for problem in problems:
            self.plan.failed.append(
                {
                    **problem,
                    "type": source.type,
                    "primary_id": source.id,
                    "name": source.natural_key,
                    "message": f"{problem['field']} is {problem['message']}; not copied",
                }
            )
        return bool(problems)

    def plan_removals(self) -> None:
        types, kept = self.options.types, self.kept
        gone = [c for c in self.by_primary.values() if c.type in types and c.primary_id not in kept]
        rank = {name: i for i, name in enumerate(type_order())}
        for c in sorted(gone, key=lambda c: (rank[c.type], c.primary_id)):
            if c.bcp_id not in self.bcp.rows:
                self.plan.forget.append(c)
                continue
            bcp_row = self.bcp.rows[c.bcp_id]
            self.plan.changes.append(
                Change(
                    ChangeAction.DELETE,
                    c.type,
                    bcp_row.natural_key,
                    c.primary_id,
                    c.bcp_id,
                    expected_version=bcp_row.version,
                )
            )

    def finish(self) -> Plan:
        rank = {name: i for i, name in enumerate(type_order())}
        action_rank = {action: i for i, action in enumerate(ChangeAction)}  # declared in the order to carry out
        self.plan.changes.sort(key=lambda c: (rank[c.type], action_rank[c.action], c.key, c.primary_id or 0))
        return self.plan


@cache
def _has_free_form(type_name: str) -> bool:
    return bool(free_form_fields(ENTITY_TYPES[type_name]))


def _to_write(source: Entity, desired: dict[str, Any]) -> dict[str, Any]:
    """What apply writes. Content that names other entities (a script's) stays the primary's:
    apply rewrites it once every entity it names has a BCP id, and rewriting BCP ids again
    would list them as unresolved."""
    if not source.kind.content_targets:
        return desired
    return {**desired, "content": source.data["content"]}


def _changed_fields(desired: dict[str, Any], current: dict[str, Any]) -> list[str]:
    names = set(desired) | set(current)
    return sorted(n for n in names if desired.get(n) != current.get(n))


def _complete(notes: dict[str, Any]) -> bool:
    """Pending references are apply's business; unresolved ones keep the entity under watch."""
    return not notes.get("unresolved")
