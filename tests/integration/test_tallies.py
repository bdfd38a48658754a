"""Counts over a tenant's entities that the store remembers (store/tallies.py), on SQLite and
PostgreSQL: whatever write comes between two counts — an update, a delete, a delete and an
insert that leave as many rows — the second count is the database's, never the first again."""

from __future__ import annotations

import itertools

import pytest

from lifeboat.domain.entities import Entity
from lifeboat.store.region import FieldIs
from lifeboat.store.tables import now

BCP_TYPE = FieldIs("bcp_type", default="none")
_tenants = itertools.count(900_001)


@pytest.fixture
def tenant(platform):
    """A tenant id of its own in na1, with three users: two single, one multiple."""
    tenant_id = next(_tenants)
    for n, bcp_type in enumerate(("single", "single", "multiple")):
        insert(platform, tenant_id, f"user{n}", bcp_type)
    return tenant_id


def insert(platform, tenant_id: int, username: str, bcp_type: str) -> Entity:
    with platform.region_unit("na1") as uow:
        entity_id = uow.entities.new_ids(1)[0]
        user = Entity(entity_id, tenant_id, "users", {"username": username, "bcp_type": bcp_type}, now(), now())
        uow.entities.insert(user)
    return user


def counts(platform, tenant_id: int) -> dict[str, int]:
    with platform.region_unit("na1", write=False) as uow:
        return dict(uow.entities.count_values(tenant_id, "users", BCP_TYPE))


def test_a_remembered_count_follows_every_kind_of_write(platform, tenant):
    assert counts(platform, tenant) == {"single": 2, "multiple": 1}
    assert counts(platform, tenant) == {"single": 2, "multiple": 1}  # remembered: the same answer

    with platform.region_unit("na1") as uow:
        (first,) = [e for e in uow.entities.all_of(tenant, ("users",)) if e.data["username"] == "user0"]
        uow.entities.update(Entity(first.id, tenant, "users", {**first.data, "bcp_type": "multiple"}, now(), now()))
    assert counts(platform, tenant) == {"single": 1, "multiple": 2}

    with platform.region_unit("na1") as uow:
        (second,) = [e for e in uow.entities.all_of(tenant, ("users",)) if e.data["username"] == "user1"]
        assert second.version == 1
        uow.entities.delete(tenant, second.id)
    insert(platform, tenant, "user9", "none")  # as many rows as before, and the same sum of versions
    assert counts(platform, tenant) == {"multiple": 2, "none": 1}

    with platform.region_unit("na1") as uow:
        uow.entities.update(Entity(first.id, tenant, "users", {**first.data, "is_active": False}, now(), now()))
    assert counts(platform, tenant) == {"multiple": 1, "none": 1}


def test_remembered_notes_follow_every_write_of_a_correlation(platform, tenant):
    """Figures drawn from correlation notes (``CorrelationRepo.tally_notes``): remembered while
    the rows are unchanged, counted again after an upsert, a removal, or a removal and an upsert
    that leave as many rows with the same versions."""
    tallied: list[int] = []

    def unresolved(notes: list[dict]) -> int:
        tallied.append(len(notes))
        return sum(1 for n in notes for row in (n["notes"] or {}).get("checklist", []) if row["status"] == "unresolved")

    def read() -> int:
        with platform.region_unit("na1", write=False) as uow:
            return uow.correlations(tenant).tally_notes("scripts", "unresolved", unresolved)

    def put(primary_id: int, *statuses: str) -> None:
        row = {"type": "scripts", "primary_id": primary_id, "bcp_id": primary_id + 1_000_000}
        notes = {"checklist": [{"status": s} for s in statuses]}
        with platform.region_unit("na1") as uow:
            uow.correlations(tenant).put_many([{**row, "primary_version": 1, "bcp_version": 1, "notes": notes}])

    put(1, "unresolved", "remapped")
    put(2, "remapped")
    assert (read(), read()) == (1, 1)
    assert tallied == [2]  # the second read was remembered

    put(2, "unresolved")  # the same versions, other notes
    assert read() == 2
    with platform.region_unit("na1") as uow:
        uow.correlations(tenant).remove_many([("scripts", 1)])
    put(3, "remapped")  # as many rows as before, the same sums of versions
    assert read() == 1
    with platform.region_unit("na1") as uow:
        uow.correlations(tenant).remove_many([("scripts", 2)])
    assert read() == 0
    assert tallied == [2, 2, 2, 1]


def test_a_read_only_transaction_reads_each_fingerprint_once(platform, tenant):
    """Two counts over the same users in one read-only transaction: the rows' fingerprint is read
    once, and both counts are the database's."""
    insert(platform, tenant, "agent-less", "multiple")
    with platform.region_unit("na1", write=False) as uow:
        assert dict(uow.entities.count_values(tenant, "users", BCP_TYPE)) == {"single": 2, "multiple": 2}
        assert uow.entities.agents_per_skill(tenant, BCP_TYPE, ("single", "multiple")) == {}
        assert list(uow.entities._seen) == [(tenant, "users"), (tenant, "agent-settings")]
    with platform.region_unit("na1") as uow:
        assert uow.entities._seen is None  # a writing transaction reads them afresh each time
