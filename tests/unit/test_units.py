"""The unit of work on a SQLite file: commit, rollback, the audit helper, effects after commit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, func, select

from lifeboat.config import RegionSettings
from lifeboat.domain.entities import Entity
from lifeboat.domain.records import AlertEvent
from lifeboat.store.database import Database, Region, build_engine
from lifeboat.store.tables import (
    alert_outbox,
    directory_audit,
    directory_metadata,
    entities,
    region_audit,
    region_metadata,
    tenants,
)
from lifeboat.store.units import AUDIT_BATCH, directory_unit, region_unit


@pytest.fixture
def directory(tmp_path):
    db = Database("directory", build_engine(f"sqlite:///{tmp_path / 'directory.db'}"))
    directory_metadata.create_all(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def region(tmp_path):
    settings = RegionSettings(name="na1", voice_cluster="sip:na1.test", id_block=1, database_url="sqlite://")
    db = Database("na1", build_engine(f"sqlite:///{tmp_path / 'na1.db'}"))
    region_metadata.create_all(db.engine)
    yield Region(settings, db)
    db.dispose()


def count(db: Database, table: Table) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_unit_commits_when_its_block_ends(directory):
    with directory_unit(directory) as uow:
        tenant = uow.tenants.create("acme", "na1")
        uow.audit("ops", "tenant.create", tenant_id=tenant.id)
    with directory_unit(directory, write=False) as uow:
        assert uow.tenants.by_name("acme") == tenant
    assert count(directory, directory_audit) == 1


def test_a_unit_rolls_back_everything_on_an_exception(directory):
    with pytest.raises(ZeroDivisionError), directory_unit(directory) as uow:
        uow.tenants.create("acme", "na1")
        uow.audit("ops", "tenant.create")
        1 / 0  # noqa: B018
    assert count(directory, tenants) == 0
    assert count(directory, directory_audit) == 0


def test_effects_run_after_commit_in_the_order_they_were_queued(directory):
    seen: list[str] = []
    with directory_unit(directory) as uow:
        uow.tenants.create("acme", "na1")
        uow.after_commit(lambda: seen.append(f"first, {count(directory, tenants)} tenant"))
        uow.after_commit(lambda: seen.append("second"))
        assert seen == []  # not before the commit
    assert seen == ["first, 1 tenant", "second"]  # the first already sees the committed row


def test_no_effect_runs_after_a_rollback(directory):
    seen: list[str] = []
    with pytest.raises(RuntimeError, match="refused"), directory_unit(directory) as uow:
        uow.after_commit(lambda: seen.append("ran"))
        raise RuntimeError("refused")
    assert seen == []


def test_an_effect_that_raises_is_logged_and_the_others_still_run(directory, caplog):
    seen: list[str] = []

    def broken() -> None:
        raise ValueError("cache gone")

    with caplog.at_level(logging.ERROR, logger="lifeboat.units"), directory_unit(directory) as uow:
        uow.after_commit(lambda: seen.append("before"))
        uow.after_commit(broken)
        uow.after_commit(lambda: seen.append("after"))
    assert seen == ["before", "after"]
    assert "an effect after commit failed" in caplog.text and "cache gone" in caplog.text


@pytest.mark.parametrize(
    "call",
    [
        lambda uow: uow.audit("ops", "x.read"),
        lambda uow: uow.audit_many([{"actor": "ops", "action": "x.read"}]),
        lambda uow: uow.after_commit(lambda: None),
        lambda uow: uow.alert([7], AlertEvent.SWITCHED, {}),
    ],
)
def test_a_read_unit_refuses_audit_and_effects(directory, call):
    with pytest.raises(RuntimeError, match="read unit"), directory_unit(directory, write=False) as uow:
        call(uow)
    assert count(directory, directory_audit) == 0


def test_the_audit_helper_writes_one_row_per_tenant_to_the_unit_s_own_table(directory, region):
    with directory_unit(directory) as uow:
        uow.audit("ops", "bcp.switch_attempt", tenant_id=[7, 8], details={"outcome": "switched"})
    with directory.read() as conn:
        rows = conn.execute(select(directory_audit.c.tenant_id, directory_audit.c.details)).all()
    assert sorted(rows) == [(7, {"outcome": "switched"}), (8, {"outcome": "switched"})]
    assert count(region.db, region_audit) == 0


def test_an_audited_entity_keeps_its_public_fields_and_names_itself(region):
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    user = Entity(5, 7, "users", {"username": "ann", "password_hash": "$argon2id$secret"}, stamp, stamp)
    with region_unit(region) as uow:
        uow.audit("ops", "users.create", entity=user, before=None, after=user)
    with region.db.read() as conn:
        row = conn.execute(select(region_audit)).one()
    assert (row.tenant_id, row.entity_type, row.entity_id) == (7, "users", 5)
    assert row.after == {"username": "ann"}  # the hash is never in the trail


def test_audit_many_writes_in_batches(directory):
    records = [
        {"actor": "bulk", "action": "users.create", "tenant_id": 7, "entity_id": i} for i in range(AUDIT_BATCH * 2 + 3)
    ]
    with directory_unit(directory) as uow:
        uow.audit_many(records)
    assert count(directory, directory_audit) == len(records)


def test_a_region_unit_builds_its_repositories_for_its_region(region):
    with region_unit(region) as uow:
        assert uow.region is region
        assert uow.entities is uow.entities  # built once, on first use
        assert uow.correlations(7).tenant_id == 7
        ids = uow.entities.new_ids(1)
    assert count(region.db, entities) == 0 and len(ids) == 1


def test_an_alert_queues_one_outbox_row_per_subscription_that_names_the_event(directory):
    with directory_unit(directory) as uow:
        both = uow.subscriptions.create(7, "email", "ops@example.com", None, ["switched", "reverted"])
        uow.subscriptions.create(8, "email", "bcp@example.com", None, ["switched"])
        uow.subscriptions.create(7, "email", "quiet@example.com", None, ["region_down"])
        uow.subscriptions.create(9, "email", "other@example.com", None, ["switched"])  # another plan's tenant
    with directory_unit(directory) as uow:
        assert uow.alert([7, 8], AlertEvent.SWITCHED, {"plan_id": 1, "summary": "bcp is now active"}) == 2
        assert uow.alert([7, 8], AlertEvent.REVERTED, {"plan_id": 1}) == 1
    with directory_unit(directory, write=False) as uow:
        (reverted,) = [d for d in uow.outbox.of_subscription(both.id) if d["event"] == "reverted"]
        due = uow.outbox.due()
    assert reverted["status"] == "pending"
    assert sorted(item.event for item in due) == ["reverted", "switched", "switched"]
    switched = next(item.payload for item in due if item.event == "switched")
    assert switched["event"] == "switched" and switched["plan_id"] == 1 and "at" in switched


def test_an_alert_for_only_one_subscription_goes_to_it_whatever_events_it_names(directory):
    with directory_unit(directory) as uow:
        quiet = uow.subscriptions.create(7, "email", "quiet@example.com", None, ["region_down"])
        uow.subscriptions.create(7, "email", "ops@example.com", None, ["region_down"])
        elsewhere = uow.subscriptions.create(8, "email", "other@example.com", None, ["region_down"])
    with directory_unit(directory) as uow:
        assert uow.alert([7], AlertEvent.TEST, {"summary": "test"}, only=quiet.id) == 1
        assert uow.alert([7], AlertEvent.TEST, {}, only=elsewhere.id) == 0  # not a subscription of these tenants
    with directory_unit(directory, write=False) as uow:
        assert [(item.subscription_id, item.event) for item in uow.outbox.due()] == [(quiet.id, "test")]


def test_an_alert_of_a_unit_that_rolls_back_is_never_queued(directory):
    with directory_unit(directory) as uow:
        uow.subscriptions.create(7, "email", "ops@example.com", None, ["switched"])
    with pytest.raises(RuntimeError), directory_unit(directory) as uow:
        assert uow.alert([7], AlertEvent.SWITCHED, {}) == 1
        raise RuntimeError("the switch failed after its alert was queued")
    assert count(directory, alert_outbox) == 0


def test_an_alert_names_a_known_event_only(directory):
    with pytest.raises(AssertionError), directory_unit(directory) as uow:
        uow.alert([7], "switched", {})  # a plain string is a programming error
