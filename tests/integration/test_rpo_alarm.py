"""The RPO alarm (SPEC §13), on SQLite and PostgreSQL: ``sync_stale`` once per episode when a
plan's last successful sync gets older than its threshold, ``sync_fresh`` once when a
successful run ends it, however many schedulers judge the plan; what a webhook receives,
the audit log keeps and ``GET /bcp`` and the readiness report show.

Time is moved by ageing the plan's past (when sync was turned on, when its runs ended)
rather than by waiting: the rule only compares those moments with now.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from lifeboat.bootstrap import Platform, build_platform
from lifeboat.domain.records import AlertEvent
from lifeboat.jobs import start_background, work_once
from lifeboat.services.bcp.freshness import check_freshness
from lifeboat.store.audit import AuditRepo
from lifeboat.store.tables import bcp_plans, directory_audit, sync_runs
from tests.alert_receivers import WebhookReceiver
from tests.conftest import sqlite_settings
from tests.integration.test_alerts import Plan, deliver_all, ok, unreachable
from tests.integration.test_sync_jobs import race

STALE, FRESH = AlertEvent.SYNC_STALE, AlertEvent.SYNC_FRESH
EVENTS = [STALE.value, FRESH.value]


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def settings(backend, request, tmp_path):
    """The shared settings; the webhook receiver listens on 127.0.0.1, so private networks are allowed."""
    if backend == "postgres":
        return request.getfixturevalue("postgres_settings")(alert_allow_private_networks=True)
    return sqlite_settings(tmp_path / "data", alert_allow_private_networks=True)


@pytest.fixture
def platforms(settings) -> Iterator[Callable[[], Platform]]:
    """``platforms()``: another Platform over the test's databases, as another replica has."""
    built: list[Platform] = []

    def make() -> Platform:
        built.append(build_platform(settings))
        return built[-1]

    yield make
    for platform in built:
        platform.close()


@pytest.fixture
def plan(api, platform, hooks) -> Plan:
    """A plan with sync on (daily), its first run done, and a webhook for both events."""
    paired = Plan(api, api.operator())
    paired.sub = paired.subscribe("webhook", hooks.url, EVENTS)
    ok(api.put(paired.url("/bcp/sync-settings"), json={"enabled": True}, headers=paired.ops))
    assert work_once(platform).status == "succeeded"
    return paired


def age(platform: Platform, plan: Plan | int, by: timedelta) -> None:
    """Move the plan's past back by ``by``: as if that much time had gone by since."""
    plan_id = plan if isinstance(plan, int) else plan.id
    with platform.directory.write() as conn:
        enabled_at, next_at = conn.execute(
            select(bcp_plans.c.sync_enabled_at, bcp_plans.c.next_run_at).where(bcp_plans.c.id == plan_id)
        ).one()
        conn.execute(
            update(bcp_plans)
            .where(bcp_plans.c.id == plan_id)
            .values(sync_enabled_at=enabled_at - by, next_run_at=next_at - by if next_at else None)
        )
        ended = select(sync_runs.c.id, sync_runs.c.finished_at).where(
            sync_runs.c.plan_id == plan_id, sync_runs.c.finished_at.is_not(None)
        )
        for run_id, finished_at in conn.execute(ended).all():
            conn.execute(update(sync_runs).where(sync_runs.c.id == run_id).values(finished_at=finished_at - by))


def shown(plan: Plan, tenant: dict[str, Any] | None = None) -> dict[str, Any]:
    return ok(plan.api.get(plan.url("/bcp", tenant), headers=plan.ops))


def age_check(plan: Plan) -> dict[str, Any]:
    report = ok(plan.api.get(plan.url("/bcp/readiness"), headers=plan.ops))
    return next(c for c in report["checks"] if c["name"] == "last_successful_sync")


def audited(platform: Platform, tenant_id: int) -> list[str]:
    with platform.directory.read() as conn:
        rows, _ = AuditRepo(conn, directory_audit).page(tenant_id, limit=1000, offset=0)
    return [r["action"] for r in rows if r["action"] in ("bcp.sync_stale", "bcp.sync_fresh")]


def sync_now(plan: Plan, platform: Platform) -> str:
    ok(plan.api.post(plan.url("/bcp/sync-runs"), json={}, headers=plan.ops), 202)
    return work_once(platform).status


# ------------------------------------------------------------------------------ the episode


def test_a_stale_copy_raises_sync_stale_once_over_several_scheduler_passes(platform, plan, hooks):
    assert check_freshness(platform) == []  # just synced
    age(platform, plan, timedelta(hours=27))

    passes = [check_freshness(platform) for _ in range(3)]
    deliver_all(platform)

    assert passes == [[(plan.id, STALE)], [], []]
    (post,) = hooks.wait_for("sync_stale")
    assert post.signature_is_valid(plan.sub["secret"])
    body = post.json()
    assert (body["event"], body["plan_id"], body["threshold_minutes"]) == ("sync_stale", plan.id, 26 * 60)
    assert body["last_success_at"] is not None and "is stale" in body["summary"]
    assert [d.event for d in hooks.deliveries] == ["sync_stale"]
    assert audited(platform, plan.primary["id"]) == audited(platform, plan.bcp["id"]) == ["bcp.sync_stale"]


def test_the_plan_and_its_readiness_say_the_copy_is_stale(platform, plan):
    assert (shown(plan)["stale"], shown(plan)["stale_since"], age_check(plan)["stale"]) == (False, None, False)
    age(platform, plan, timedelta(hours=27))
    check_freshness(platform)

    for tenant in (plan.primary, plan.bcp):
        assert shown(plan, tenant)["stale"] is True
    check = age_check(plan)
    assert shown(plan)["stale_since"] == check["stale_since"] is not None
    assert check["stale"] is True and check["status"] == "warn" and "The copy is stale" in check["message"]


def test_two_schedulers_judging_at_once_raise_each_event_once(platform, plan, hooks, platforms):
    one, two = platforms(), platforms()
    age(platform, plan, timedelta(hours=27))

    stale = race(lambda: check_freshness(one), lambda: check_freshness(two))
    assert sync_now(plan, platform) == "succeeded"
    fresh = race(lambda: check_freshness(one), lambda: check_freshness(two))
    deliver_all(platform)

    assert sorted(stale, key=len) == [[], [(plan.id, STALE)]]
    assert sorted(fresh, key=len) == [[], [(plan.id, FRESH)]]
    hooks.wait_for("sync_fresh")
    assert [d.event for d in hooks.deliveries] == ["sync_stale", "sync_fresh"]
    assert audited(platform, plan.primary["id"]) == ["bcp.sync_fresh", "bcp.sync_stale"]  # newest first


def test_a_successful_run_ends_the_episode_with_one_sync_fresh(platform, plan, hooks):
    age(platform, plan, timedelta(hours=27))
    check_freshness(platform)

    assert sync_now(plan, platform) == "succeeded"
    passes = [check_freshness(platform) for _ in range(3)]
    deliver_all(platform)

    assert passes == [[(plan.id, FRESH)], [], []]
    stale, fresh = hooks.wait_for("sync_stale")[0].json(), hooks.wait_for("sync_fresh")[0].json()
    assert fresh["stale_since"] == stale["stale_since"] and fresh["stale_for_s"] >= 3600
    assert fresh["last_success_at"] == shown(plan)["last_successful_run_at"]
    assert shown(plan)["stale"] is False and age_check(plan)["stale"] is False


def test_a_failed_run_does_not_end_the_episode(platform, plan, hooks, tmp_path):
    age(platform, plan, timedelta(hours=27))
    check_freshness(platform)

    ok(plan.api.post(plan.url("/bcp/sync-runs"), json={}, headers=plan.ops), 202)
    with unreachable(platform, "na1", tmp_path):
        assert work_once(platform).status == "failed"
    passes = [check_freshness(platform) for _ in range(2)]
    deliver_all(platform)

    assert passes == [[], []]
    assert shown(plan)["stale"] is True
    assert [d.event for d in hooks.deliveries] == ["sync_stale"]


def test_a_new_episode_after_a_recovery_raises_sync_stale_again(platform, plan, hooks):
    age(platform, plan, timedelta(hours=27))
    check_freshness(platform)
    sync_now(plan, platform)
    check_freshness(platform)
    age(platform, plan, timedelta(hours=27))

    assert check_freshness(platform) == [(plan.id, STALE)]
    deliver_all(platform)
    hooks.wait_for("sync_stale", count=2)
    assert [d.event for d in hooks.deliveries] == ["sync_stale", "sync_fresh", "sync_stale"]


# ------------------------------------------------------------------------------ thresholds


def test_an_interval_schedule_goes_stale_after_three_intervals(platform, plan):
    schedule = {"schedule": {"kind": "interval", "every_minutes": 60}}
    ok(plan.api.put(plan.url("/bcp/sync-settings"), json=schedule, headers=plan.ops))

    age(platform, plan, timedelta(minutes=179))
    assert check_freshness(platform) == []
    age(platform, plan, timedelta(minutes=2))
    assert check_freshness(platform) == [(plan.id, STALE)]


def test_an_administrator_may_set_the_threshold_and_get_it_back(platform, plan):
    url = plan.url("/bcp/sync-settings")
    ok(plan.api.put(url, json={"stale_after_minutes": 48 * 60}, headers=plan.ops))
    settings = ok(plan.api.get(url, headers=plan.ops))
    assert settings["stale_after_minutes"] == 48 * 60
    assert ok(plan.api.put(url, json=settings, headers=plan.ops)) == {**settings, "first_run": None}  # round trip

    age(platform, plan, timedelta(hours=47))
    assert check_freshness(platform) == []
    age(platform, plan, timedelta(hours=2))
    assert check_freshness(platform) == [(plan.id, STALE)]

    refused = plan.api.put(url, json={"stale_after_minutes": 60}, headers=plan.ops)  # less than a day
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["error"]["details"]["errors"]] == [
        ("stale_after_minutes", "bad_stale_after")
    ]


# ------------------------------------------------------------------------------ paused, off


def test_no_alarm_while_bcp_is_active_and_the_rule_applies_again_after_the_revert(platform, plan, hooks):
    ok(plan.switch("bcp"))
    age(platform, plan, timedelta(days=3))

    assert check_freshness(platform) == []  # sync is paused on purpose
    assert shown(plan)["stale"] is False and shown(plan)["sync_paused"] is True

    ok(plan.switch("primary"))
    assert check_freshness(platform) == [(plan.id, STALE)]  # the copy is three days old: true, and said
    assert sync_now(plan, platform) == "succeeded"
    assert check_freshness(platform) == [(plan.id, FRESH)]


def test_a_plan_with_sync_off_is_not_judged(platform, plan):
    ok(plan.api.put(plan.url("/bcp/sync-settings"), json={"enabled": False}, headers=plan.ops))
    age(platform, plan, timedelta(days=3))

    assert check_freshness(platform) == []
    assert shown(plan)["stale"] is False


# ------------------------------------------------------------------------------ the loop


def test_the_scheduler_loop_raises_it_and_the_webhook_receives_it(platform, plan, hooks):
    age(platform, plan, timedelta(hours=27))

    stop = start_background(platform, workers=0, poll_s=0.05, schedule_s=0.05)
    try:
        (post,) = hooks.wait_for("sync_stale")
        time.sleep(0.5)  # several more passes of the loop
    finally:
        stop()

    assert post.json()["plan_id"] == plan.id
    assert [d.event for d in hooks.deliveries] == ["sync_stale"]
