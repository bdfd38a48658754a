"""The driver-level bulk write path (store.bulk): what it writes reads back exactly as what
SQLAlchemy Core writes, on SQLite and PostgreSQL, inside the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lifeboat.domain.entities import Entity
from lifeboat.store.audit import AuditRepo
from lifeboat.store.correlations import CorrelationRepo
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import correlations, entities, region_audit

TENANT = 7
STAMP = datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC)
ODD_DATA = {
    "name": 'Zoë \u2603 "quoted" \\ back',
    "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}], "empty": {}},
    "big": 2**62,
    "is_active": False,
}


def _entity(entity_id: int, name: str, **extra) -> Entity:
    data = {"name": name, **extra}
    return Entity(entity_id, TENANT, "skills", data, STAMP, STAMP + timedelta(seconds=1), None, 1)


def test_inserted_entities_read_back_with_every_value_as_written(platform):
    region = platform.region("na1")
    odd = Entity(101, TENANT, "skills", ODD_DATA, STAMP, STAMP + timedelta(microseconds=1), b"\x00\x01bytes\\\n\t", 3)
    with region.db.write() as conn:
        EntityRepo(conn, region.id_block).insert_many([odd, _entity(102, "plain")])
    with region.db.read() as conn:
        found = EntityRepo(conn, region.id_block).many(TENANT, [101, 102])
    assert found[101] == odd
    assert found[101].is_active is False
    assert found[102].data == {"name": "plain"}
    assert found[102].content is None


def test_updates_write_every_column_of_the_rows_given_and_no_other(platform):
    region = platform.region("na1")
    with region.db.write() as conn:
        EntityRepo(conn, region.id_block).insert_many([_entity(201, "a"), _entity(202, "b")])
    later = STAMP + timedelta(hours=1)
    changed = Entity(201, TENANT, "skills", {"name": "renamed", "x": [1]}, STAMP, later, b"c", 2)
    with region.db.write() as conn:
        EntityRepo(conn, region.id_block).update_many([changed])
    with region.db.read() as conn:
        found = EntityRepo(conn, region.id_block).many(TENANT, [201, 202])
    assert found[201] == changed
    assert found[202] == _entity(202, "b")


def test_correlations_upsert_replaces_a_row_and_keeps_json_null_for_no_notes(platform):
    region = platform.region("eu1")
    row = {"type": "skills", "primary_id": 1, "bcp_id": 10, "primary_version": 1, "bcp_version": 1, "notes": None}
    with region.db.write() as conn:
        CorrelationRepo(conn, TENANT).put_many([row, {**row, "primary_id": 2, "bcp_id": 11, "notes": {"k": [1]}}])
    with region.db.write() as conn:
        CorrelationRepo(conn, TENANT).put_many([{**row, "primary_version": 5, "bcp_version": 6}])
    with region.db.read() as conn:
        found = {c.primary_id: c for c in CorrelationRepo(conn, TENANT).all()}
        notes = dict(conn.execute(select(correlations.c.primary_id, correlations.c.notes)).all())
    assert (found[1].primary_version, found[1].bcp_version, found[1].bcp_id) == (5, 6, 10)
    assert (found[2].primary_version, found[2].bcp_id) == (1, 11)
    assert notes == {1: None, 2: {"k": [1]}}


def test_bulk_writes_roll_back_with_the_callers_transaction(platform):
    region = platform.region("eu1")
    with pytest.raises(RuntimeError), region.db.write() as conn:
        EntityRepo(conn, region.id_block).insert_many([_entity(301, "gone")])
        CorrelationRepo(conn, TENANT).put_many(
            [{"type": "skills", "primary_id": 3, "bcp_id": 301, "primary_version": 1, "bcp_version": 1, "notes": None}]
        )
        AuditRepo(conn, region_audit).record_many([{"actor": "t", "action": "skills.sync_create", "entity_id": 301}])
        raise RuntimeError("killed mid-step")
    with region.db.read() as conn:
        assert EntityRepo(conn, region.id_block).many(TENANT, [301]) == {}
        assert CorrelationRepo(conn, TENANT).all() == []
        assert conn.execute(select(region_audit.c.seq)).all() == []


def test_audit_records_written_in_bulk_read_back_with_their_defaults(platform):
    region = platform.region("na1")
    with region.db.write() as conn:
        AuditRepo(conn, region_audit).record_many(
            [
                {"actor": "sync:run 1", "action": "skills.sync_create", "tenant_id": TENANT, "details": {"f": ["a"]}},
                {"actor": "sync:run 1", "action": "skills.sync_update", "tenant_id": TENANT, "entity_id": 5},
            ]
        )
    with region.db.read() as conn:
        rows, total = AuditRepo(conn, region_audit).page(TENANT, limit=10, offset=0)
    assert total == 2
    by_action = {r["action"]: r for r in rows}
    assert by_action["skills.sync_create"]["details"] == {"f": ["a"]}
    assert by_action["skills.sync_update"]["entity_id"] == 5
    assert by_action["skills.sync_update"]["before"] is None
    assert all(r["at"].tzinfo is not None for r in rows)


def test_a_taken_natural_key_fails_as_sqlalchemy_integrity_error_on_both_backends(platform):
    """Callers (the bulk loader's duplicate_natural_key) catch SQLAlchemy's exception, COPY or not."""
    region = platform.region("na1")
    with region.db.write() as conn:
        EntityRepo(conn, region.id_block).insert_many([_entity(401, "taken")])
    with pytest.raises(IntegrityError), region.db.write() as conn:
        EntityRepo(conn, region.id_block).insert_many([_entity(402, "free"), _entity(403, "taken")])
    with region.db.read() as conn:
        assert set(EntityRepo(conn, region.id_block).many(TENANT, [401, 402, 403])) == {401}


def test_timestamps_are_stored_as_the_same_text_as_sqlalchemy_core_writes(platform):
    """Many rows share a stamp; the bulk path formats it once and stores what Core would (a
    text on SQLite, a timestamptz on PostgreSQL), whole seconds included."""
    region = platform.region("na1")
    whole = STAMP.replace(microsecond=0)
    rows = [Entity(300 + i, TENANT, "skills", {"name": f"s{i}"}, whole, STAMP, None, 1) for i in range(3)]
    with region.db.write() as conn:
        EntityRepo(conn, region.id_block).insert_many(rows[:2])
        conn.execute(entities.insert().values(**_row_values(rows[2])))
    with region.db.read() as conn:
        stored = conn.exec_driver_sql(
            "SELECT id, CAST(created_at AS TEXT), CAST(updated_at AS TEXT) FROM entities WHERE id >= 300 ORDER BY id"
        ).all()
    assert len({(created, updated) for _, created, updated in stored}) == 1, stored


def _row_values(entity: Entity) -> dict:
    return {
        "id": entity.id,
        "tenant_id": entity.tenant_id,
        "type": entity.type,
        "natural_key": entity.natural_key,
        "is_active": entity.is_active,
        "data": entity.data,
        "content": entity.content,
        "version": entity.version,
        "created_at": entity.created_at,
        "updated_at": entity.updated_at,
    }
