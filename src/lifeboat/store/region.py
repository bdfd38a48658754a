"""Repositories over one region database: entities and their audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy import Row as SqlRow

from lifeboat.domain.entities import ENTITY_TYPES, Entity
from lifeboat.domain.records import Row
from lifeboat.ids import is_id
from lifeboat.store.bulk import BulkWriter
from lifeboat.store.counter import take_ids
from lifeboat.store.tables import entities, region_id_counter
from lifeboat.store.tallies import Fingerprints, remembered

CHUNK = 5000  # ids per IN (...) list, well under SQLite's limit of bound variables
# The timestamps of an entity read only to compare its fields (``EntityRepo.to_compare``):
# never read from the database, never written back.
NOT_READ = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FieldIs:
    """One field of an entity's data holds ``value``; a record without the field holds ``default``."""

    name: str
    value: str = ""
    default: str = ""

    def column(self) -> ColumnElement[str]:
        return func.coalesce(entities.c.data[self.name].as_string(), self.default)


def _entity(row: SqlRow[Any]) -> Entity:
    return Entity(
        id=row.id,
        tenant_id=row.tenant_id,
        type=row.type,
        data=row.data,
        created_at=row.created_at,
        updated_at=row.updated_at,
        content=row.content,
        version=row.version,
    )


def _values(entity: Entity) -> dict[str, Any]:
    return {
        "id": entity.id,
        "tenant_id": entity.tenant_id,
        "type": entity.type,
        "natural_key": entity.natural_key,
        "is_active": entity.is_active,
        "data": entity.data,
        "content": entity.content,
        "created_at": entity.created_at,
        "updated_at": entity.updated_at,
        "version": entity.version,
    }


ENTITY_COLUMNS = tuple(c.name for c in entities.c)


def _row(entity: Entity) -> tuple[Any, ...]:
    """The entity as a row of ``ENTITY_COLUMNS``."""
    return (
        entity.id,
        entity.tenant_id,
        entity.type,
        entity.natural_key,
        entity.is_active,
        entity.data,
        entity.content,
        entity.created_at,
        entity.updated_at,
        entity.version,
    )


class EntityRepo:
    def __init__(self, conn: Connection, id_block: int, *, read_only: bool = False):
        self.conn = conn
        self.id_block = id_block
        # The fingerprints of remembered counts, read once per read-only transaction (store/tallies.py).
        self._seen: Fingerprints | None = {} if read_only else None

    def new_ids(self, count: int = 1) -> range:
        return take_ids(self.conn, region_id_counter, self.id_block, count)

    def get(self, tenant_id: int, type_: str, entity_id: int, *, lock: bool = False) -> Entity | None:
        """One entity; ``lock`` holds its row until the transaction ends (PostgreSQL: FOR
        UPDATE; a SQLite write transaction holds the whole database already)."""
        if not is_id(entity_id):  # e.g. a path id too large for the column
            return None
        stmt = select(entities).where(
            entities.c.tenant_id == tenant_id,
            entities.c.type == type_,
            entities.c.id == entity_id,
        )
        row = self.conn.execute(stmt.with_for_update() if lock else stmt).first()
        return _entity(row) if row else None

    def page(
        self,
        tenant_id: int,
        type_: str,
        *,
        limit: int,
        offset: int,
        key_contains: str | None = None,
        field_is: FieldIs | None = None,
    ) -> tuple[list[Entity], int]:
        """A page in id order; ``key_contains`` narrows to natural keys holding that text (any case)."""
        where = [entities.c.tenant_id == tenant_id, entities.c.type == type_]
        if key_contains:
            where.append(func.lower(entities.c.natural_key).contains(key_contains.lower(), autoescape=True))
        if field_is:
            where.append(field_is.column() == field_is.value)
        total = self.conn.execute(select(func.count()).select_from(entities).where(*where)).scalar_one()
        rows = self.conn.execute(
            select(entities).where(*where).order_by(entities.c.id).limit(limit).offset(offset)
        ).all()
        return [_entity(r) for r in rows], total

    def all_of(self, tenant_id: int, types: Iterable[str] | None = None, *, with_content: bool = True) -> list[Entity]:
        columns = list(entities.c) if with_content else [c for c in entities.c if c.name != "content"]
        stmt = select(*columns).where(entities.c.tenant_id == tenant_id)
        if types is not None:
            stmt = stmt.where(entities.c.type.in_(list(types)))
        rows = self.conn.execute(stmt.order_by(entities.c.type, entities.c.id)).all()
        return [_entity_partial(r, with_content) for r in rows]

    def fields_of(
        self, tenant_id: int, type_: str, names: Sequence[str], *, active_only: bool = False
    ) -> list[tuple[Any, ...]]:
        """(id, *the values of these data fields; None where absent) of each entity of a type.
        The database picks the fields out, so a report decodes no entity whole; remembered while
        those entities are unchanged (the caller must not change the list)."""
        where = [entities.c.tenant_id == tenant_id, entities.c.type == type_]
        if active_only:
            where.append(entities.c.is_active.is_(True))
        stmt = select(entities.c.id, *(entities.c.data[name] for name in names)).where(*where)
        return remembered(
            self.conn,
            tenant_id,
            (type_,),
            ("fields_of", tuple(names), active_only),
            lambda: [tuple(r) for r in self.conn.execute(stmt.order_by(entities.c.id))],
            seen=self._seen,
        )

    def agents_per_skill(self, tenant_id: int, user_field: FieldIs, values: Sequence[str]) -> dict[int, int]:
        """Skill id -> how many agent settings list it, of active users whose ``user_field`` is one
        of ``values``. Counted by the database: 10,000 agents' skill lists never reach Python."""
        users, agents = entities.alias("u"), entities.alias("a")
        chosen = select(users.c.id).where(
            users.c.tenant_id == tenant_id,
            users.c.type == "users",
            users.c.is_active.is_(True),
            func.coalesce(users.c.data[user_field.name].as_string(), user_field.default).in_(list(values)),
        )
        if self.conn.dialect.name == "postgresql":
            held = func.jsonb_array_elements(agents.c.data["skills"]).table_valued("value").alias("held")
            skill_id = cast(held.c.value.op("->>")("skill_id"), BigInteger)
        else:
            held = func.json_each(agents.c.data, "$.skills").table_valued("value").alias("held")
            skill_id = cast(func.json_extract(held.c.value, "$.skill_id"), BigInteger)
        stmt = (
            select(skill_id, func.count())
            .select_from(agents.join(held, true()))
            .where(
                agents.c.tenant_id == tenant_id,
                agents.c.type == "agent-settings",
                cast(agents.c.data["user_id"].as_string(), BigInteger).in_(chosen),
            )
            .group_by(skill_id)
        )
        return remembered(
            self.conn,
            tenant_id,
            ("users", "agent-settings"),
            ("agents_per_skill", user_field.name, user_field.default, tuple(values)),
            lambda: {int(skill): int(n) for skill, n in self.conn.execute(stmt).all() if skill is not None},
            seen=self._seen,
        )

    def rows(self, tenant_id: int) -> dict[int, Row]:
        """Every entity of the tenant, narrowly: id, type, natural key, version."""
        c = entities.c
        stmt = select(c.id, c.type, c.natural_key, c.version).where(c.tenant_id == tenant_id)
        return {r[0]: Row(*r) for r in self.conn.execute(stmt).all()}  # one fetchall, not a fetch per row

    def to_compare(self, tenant_id: int, ids: Iterable[int], *, scan: bool = False) -> dict[int, Entity]:
        """These entities with only what a comparison of fields needs (type, fields, bytes,
        version): their timestamps are ``NOT_READ``. ``scan`` as in ``many``."""
        c = entities.c
        columns = (c.id, c.type, c.data, c.content, c.version)

        def entity(row: Any) -> Entity:
            entity_id, type_name, data, content, version = row
            return Entity(entity_id, tenant_id, type_name, data, NOT_READ, NOT_READ, content, version)

        if scan:
            wanted = set(ids)
            rows = self.conn.execute(select(*columns).where(c.tenant_id == tenant_id)).all()
            return {r[0]: entity(r) for r in rows if r[0] in wanted}
        ids = sorted(ids)
        out: dict[int, Entity] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            out.update(
                (r[0], entity(r))
                for r in self.conn.execute(select(*columns).where(c.tenant_id == tenant_id, c.id.in_(chunk)))
            )
        return out

    def many(self, tenant_id: int, ids: Iterable[int], *, scan: bool = False) -> dict[int, Entity]:
        """These entities of the tenant. ``scan`` reads the whole tenant in one query and keeps
        them: cheaper than lists of ids when they are most of it (a first sync)."""
        if scan:
            wanted = set(ids)
            rows = self.conn.execute(select(entities).where(entities.c.tenant_id == tenant_id))
            return {r.id: _entity(r) for r in rows if r.id in wanted}
        ids = sorted(ids)
        out: dict[int, Entity] = {}
        for start in range(0, len(ids), CHUNK):
            rows = self.conn.execute(
                select(entities).where(entities.c.tenant_id == tenant_id, entities.c.id.in_(ids[start : start + CHUNK]))
            )
            out.update((r.id, _entity(r)) for r in rows)
        return out

    def lock_versions(self, tenant_id: int, ids: Sequence[int]) -> dict[int, int]:
        """Current versions of these entities, locked until the transaction ends."""
        out: dict[int, int] = {}
        ids = sorted(ids)
        for start in range(0, len(ids), CHUNK):
            stmt = select(entities.c.id, entities.c.version).where(
                entities.c.tenant_id == tenant_id, entities.c.id.in_(ids[start : start + CHUNK])
            )
            if self.conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            out.update((r.id, r.version) for r in self.conn.execute(stmt))
        return out

    def update_many(self, batch: Sequence[Entity]) -> None:
        """Write many entities whose current versions the caller holds locked (each + 1)."""
        BulkWriter(self.conn).update(
            entities,
            "id",
            ("natural_key", "is_active", "data", "content", "updated_at", "version"),
            [(e.natural_key, e.is_active, e.data, e.content, e.updated_at, e.version, e.id) for e in batch],
        )

    def set_natural_keys(self, keys: Sequence[tuple[int, str]]) -> None:
        if keys:
            stmt = update(entities).where(entities.c.id == bindparam("b_id")).values(natural_key=bindparam("b_key"))
            self.conn.execute(stmt, [{"b_id": i, "b_key": k} for i, k in keys])

    def delete_many(self, tenant_id: int, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), CHUNK):
            self.conn.execute(
                delete(entities).where(
                    entities.c.tenant_id == tenant_id, entities.c.id.in_(list(ids[start : start + CHUNK]))
                )
            )

    def by_key(self, tenant_id: int, type_: str, natural_key: str) -> Entity | None:
        row = self.conn.execute(
            select(entities).where(
                entities.c.tenant_id == tenant_id,
                entities.c.type == type_,
                entities.c.natural_key == natural_key,
            )
        ).first()
        return _entity(row) if row else None

    def types_of(self, tenant_id: int, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = self.conn.execute(
            select(entities.c.id, entities.c.type).where(
                entities.c.tenant_id == tenant_id,
                entities.c.id.in_(list(set(ids))),
            )
        )
        return {r.id: r.type for r in rows}

    def referrers(self, tenant_id: int, target_type: str, target_id: int) -> list[tuple[str, int]]:
        """Entities of this tenant whose links point at the given entity."""
        found = []
        for kind in ENTITY_TYPES.values():
            links = [link for link in kind.links if link.target == target_type]
            if not links:
                continue
            for e in self.all_of(tenant_id, [kind.name], with_content=False):
                if any(target_id in link.ids(e.data) for link in links):
                    found.append((kind.name, e.id))
        return found

    def ids_across_tenants(self, types: Iterable[str]) -> list[int]:
        """Every id of these types in this region, whatever the tenant (for checks of stored values)."""
        stmt = select(entities.c.id).where(entities.c.type.in_(list(types))).order_by(entities.c.id)
        return list(self.conn.execute(stmt).scalars())

    def load_across_tenants(self, ids: Sequence[int]) -> list[Entity]:
        columns = [c for c in entities.c if c.name != "content"]
        rows = self.conn.execute(select(*columns).where(entities.c.id.in_(list(ids))).order_by(entities.c.id))
        return [_entity_partial(r, False) for r in rows]

    def count_values(self, tenant_id: int, type_: str, field: FieldIs) -> dict[str, int]:
        """How many active entities of a type hold each value of one field (``field.value`` unused)."""
        column = field.column()
        stmt = (
            select(column, func.count())
            .where(entities.c.tenant_id == tenant_id, entities.c.type == type_, entities.c.is_active.is_(True))
            .group_by(column)
        )
        return remembered(
            self.conn,
            tenant_id,
            (type_,),
            ("count_values", field.name, field.default),
            lambda: {str(value): int(n) for value, n in self.conn.execute(stmt).all()},
            seen=self._seen,
        )

    def count(self, tenant_id: int) -> int:
        return self.conn.execute(
            select(func.count()).select_from(entities).where(entities.c.tenant_id == tenant_id)
        ).scalar_one()

    def insert(self, entity: Entity) -> None:
        self.conn.execute(insert(entities).values(**_values(entity)))

    def insert_many(self, batch: Sequence[Entity]) -> None:
        """New entities, through the driver in one statement (``store.bulk``)."""
        BulkWriter(self.conn).insert(entities, ENTITY_COLUMNS, [_row(e) for e in batch])

    def update(self, entity: Entity) -> int:
        """Write the entity's fields; returns its new version."""
        values = _values(entity)
        del values["id"], values["created_at"]
        values["version"] = entities.c.version + 1
        stmt = update(entities).where(entities.c.id == entity.id).values(**values).returning(entities.c.version)
        return int(self.conn.execute(stmt).scalar_one())

    def delete(self, tenant_id: int, entity_id: int) -> None:
        self.conn.execute(delete(entities).where(entities.c.tenant_id == tenant_id, entities.c.id == entity_id))

    def delete_tenant(self, tenant_id: int) -> None:
        self.conn.execute(delete(entities).where(entities.c.tenant_id == tenant_id))

    def data_of_type(self, tenant_ids: Sequence[int], type_: str) -> list[tuple[int, int, dict[str, Any]]]:
        """(tenant id, id, fields) of every ``type_`` entity of these tenants, in one statement (the
        caller bounds the list). By tenant, so the (tenant_id, type) index finds the rows."""
        rows = self.conn.execute(
            select(entities.c.tenant_id, entities.c.id, entities.c.data).where(
                entities.c.tenant_id.in_(tenant_ids), entities.c.type == type_
            )
        )
        return [(r.tenant_id, r.id, r.data) for r in rows]


def _entity_partial(row: SqlRow[Any], with_content: bool) -> Entity:
    return Entity(
        id=row.id,
        tenant_id=row.tenant_id,
        type=row.type,
        data=row.data,
        created_at=row.created_at,
        updated_at=row.updated_at,
        content=row.content if with_content else None,
        version=row.version,
    )
