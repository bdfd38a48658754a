"""``GET /metrics`` (SPEC §13), parsed with prometheus-client's own parser, on SQLite and
PostgreSQL: each thing done moves its family by exactly its amount (read before and after,
on a platform that other tests of this module also use), the gauges of shared state are
read from the directory at scrape time, and the optional ``metrics_token`` guards it all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from lifeboat.api.app import create_app
from lifeboat.bootstrap import build_platform
from lifeboat.domain.records import Trigger
from lifeboat.jobs import work_once
from lifeboat.services import gauges
from lifeboat.services.alerts import deliver_due
from lifeboat.store.tables import now
from tests.alert_receivers import WebhookReceiver
from tests.bcp_fixture import SyncedPlan, bearer, build_plan
from tests.integration.test_health_and_logs import unreachable_directory
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, entity_url, error_code

ROUTE = f"{API}/voice/route"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Any, headers: dict[str, str] | None = None) -> Samples:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")  # the text format, not OpenMetrics
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: Samples, after: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every series of ``name`` that changed, by its labels, with its change."""
    keys = {labels for sample, labels in {**before, **after} if sample == name}
    changes = {labels: after.get((name, labels), 0.0) - before.get((name, labels), 0.0) for labels in keys}
    return {labels: change for labels, change in changes.items() if change}


def labels(**given: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(given.items()))


@pytest.fixture
def plan(shared_api, shared_platform, monkeypatch) -> SyncedPlan:
    monkeypatch.setattr(shared_platform.settings, "route_cache_ttl_s", 0)
    return build_plan(shared_api, shared_platform)


def test_a_sync_run_is_counted_with_its_duration_and_the_entities_it_wrote(plan):
    plan.make("skills", "extra", {"name": "Extra", "media_type": "voice"})
    before = scrape(plan.api)
    run = plan.sync()
    after = scrape(plan.api)

    assert moved(before, after, "lifeboat_sync_runs_total") == {labels(status="succeeded"): 1}
    assert moved(before, after, "lifeboat_sync_run_duration_seconds_count") == {labels(status="succeeded"): 1}
    took = value(after, "lifeboat_sync_run_duration_seconds_sum", status="succeeded") - value(
        before, "lifeboat_sync_run_duration_seconds_sum", status="succeeded"
    )
    assert abs(took - run["duration_s"]) < 0.01  # the figure the run reports
    assert moved(before, after, "lifeboat_sync_entities_written_total") == {labels(type="skills", action="created"): 1}


def test_a_failed_run_is_counted_as_failed_and_writes_nothing(plan):
    assert plan.switch("bcp").status_code == 200  # sync pauses: a run that starts now fails
    with plan.platform.directory_unit() as uow:
        uow.runs.enqueue(plan.describe()["id"], trigger=Trigger.MANUAL, force=False, requested_by="test")
    before = scrape(plan.api)
    run = work_once(plan.platform)
    after = scrape(plan.api)

    assert run is not None and run.status == "failed"
    assert moved(before, after, "lifeboat_sync_runs_total") == {labels(status="failed"): 1}
    assert moved(before, after, "lifeboat_sync_run_duration_seconds_count") == {labels(status="failed"): 1}
    assert moved(before, after, "lifeboat_sync_entities_written_total") == {}


def test_the_rpo_gauge_is_read_from_the_directory_at_each_scrape(plan, monkeypatch):
    synced_plan = plan.describe()["id"]
    series = labels(plan_id=str(synced_plan), tenant=plan.primary["name"])
    fresh = scrape(plan.api)[("lifeboat_sync_seconds_since_success", series)]
    assert 0 <= fresh < 120  # the first sync has just ended

    later = now() + timedelta(hours=3)
    monkeypatch.setattr(gauges, "now", lambda: later)
    assert scrape(plan.api)[("lifeboat_sync_seconds_since_success", series)] == pytest.approx(fresh + 3 * 3600, abs=60)

    idle = build_plan(plan.api, plan.platform, synced=False)  # paired, sync never turned on: no RPO
    assert not [key for key in scrape(plan.api) if ("tenant", idle.primary["name"]) in key[1]]


def test_a_switch_and_a_revert_are_counted_with_their_durations(plan):
    before = scrape(plan.api)
    switched = plan.switch("bcp")
    reverted = plan.switch("primary")
    assert (switched.status_code, reverted.status_code) == (200, 200), (switched.text, reverted.text)
    after = scrape(plan.api)

    assert moved(before, after, "lifeboat_switches_total") == {labels(to="bcp"): 1, labels(to="primary"): 1}
    assert moved(before, after, "lifeboat_switch_duration_seconds_count") == {
        labels(to="bcp"): 1,
        labels(to="primary"): 1,
    }
    for answer, to in ((switched, "bcp"), (reverted, "primary")):
        took = moved(before, after, "lifeboat_switch_duration_seconds_sum")[labels(to=to)]
        assert took == pytest.approx(answer.json()["switch_ms"] / 1000, abs=0.001)  # the figure the answer gives
    assert moved(before, after, "lifeboat_passkey_failures_total") == {}


def test_wrong_passkeys_and_the_lock_are_counted_as_passkey_failures(plan):
    before = scrape(plan.api)
    for _ in range(5):  # domain.switchover.MAX_WRONG: the fifth locks
        assert error_code(plan.switch("bcp", passkey="wrong-passkey")) == "wrong_passkey"
    assert error_code(plan.switch("bcp")) == "passkey_locked"  # the right passkey, too late
    after = scrape(plan.api)

    assert moved(before, after, "lifeboat_passkey_failures_total") == {
        labels(reason="wrong_passkey"): 5,
        labels(reason="locked"): 1,
    }
    assert moved(before, after, "lifeboat_switches_total") == {}


def test_route_lookups_are_counted_by_answer_and_as_http_requests(plan):
    before = scrape(plan.api)
    for number in (plan.numbers["voice"], plan.numbers["voice"], "+19999999999", "not-a-number"):
        plan.api.get(ROUTE, params={"number": number}, headers=plan.ops.headers)
    contact = plan.of("points-of-contact", "voice")
    plan.ops.call("PATCH", entity_url(plan.primary_id, "points-of-contact", contact), json={"is_active": False})
    plan.api.get(ROUTE, params={"number": plan.numbers["voice"]}, headers=plan.ops.headers)
    after = scrape(plan.api)

    assert moved(before, after, "lifeboat_route_lookups_total") == {
        labels(answer="ok"): 2,
        labels(answer="unknown_number"): 1,
        labels(answer="bad_number"): 1,
        labels(answer="not_routable"): 1,
    }
    route = {"route": "/api/v1/voice/route", "method": "GET"}
    assert moved(before, after, "lifeboat_http_requests_total") == {
        labels(**route, status="200"): 2,
        labels(**route, status="404"): 1,
        labels(**route, status="422"): 1,
        labels(**route, status="409"): 1,
        labels(route="/api/v1/tenants/{tenant_id}/points-of-contact/{entity_id}", method="PATCH", status="200"): 1,
        labels(route="/metrics", method="GET", status="200"): 1,  # the first scrape, counted once it had answered
    }
    assert moved(before, after, "lifeboat_http_request_duration_seconds_count")[labels(**route)] == 5


def test_logins_are_counted_by_outcome(plan):
    before = scrape(plan.api)
    assert plan.login("single", password="not-the-password").status_code == 401
    assert plan.login("single", password="not-the-password").status_code == 401
    assert plan.api.post(f"{API}/auth/login", json={"username": "nobody-here", "password": "x"}).status_code == 401
    assert plan.login("single").status_code == 200
    after = scrape(plan.api)

    assert moved(before, after, "lifeboat_logins_total") == {
        labels(outcome="wrong_password"): 2,
        labels(outcome="unknown_username"): 1,
        labels(outcome="ok"): 1,
    }


def test_regions_and_voice_edges_are_read_from_the_directory(plan):
    samples = scrape(plan.api)
    assert value(samples, "lifeboat_directory_up") == 1
    assert {key[1][0][1]: v for key, v in samples.items() if key[0] == "lifeboat_region_up"} == {"eu1": 1, "na1": 1}

    with plan.platform.directory_unit() as uow:  # what the region monitor stores when eu1 stops answering
        uow.region_states.set("eu1", "down")
    try:
        assert value(scrape(plan.api), "lifeboat_region_up", region="eu1") == 0
    finally:
        with plan.platform.directory_unit() as uow:
            uow.region_states.set("eu1", "up")

    token = plan.api.post(f"{API}/voice/tokens", json={"name": "metrics edge"}, headers=plan.ops.headers)
    name = f"edge-{plan.primary_id}"
    body = {"name": name, "rpc_url": "http://127.0.0.1:9/RPC", "answers": {"302": 40, "404": 2, "503": 1}}
    assert plan.api.post(f"{API}/voice/edges", json=body, headers=bearer(token.json()["token"])).status_code == 200
    samples = scrape(plan.api)
    answers = {
        code: value(samples, "lifeboat_voice_edge_answers_total", edge=name, code=code) for code in body["answers"]
    }
    assert answers == {"302": 40, "404": 2, "503": 1}
    assert value(samples, "lifeboat_voice_edge_answers_total", edge=name, code="480") == 0


def test_alert_deliveries_are_counted_by_outcome(plan, monkeypatch):
    monkeypatch.setattr(plan.platform.settings, "alert_allow_private_networks", True)  # the receiver is local
    monkeypatch.setattr(plan.platform.settings, "alert_retry_base_s", 0.01)
    with WebhookReceiver() as hooks:
        body = {"kind": "webhook", "target": hooks.url, "events": ["switched", "reverted"]}
        subscriptions = f"{API}/tenants/{plan.primary_id}/alert-subscriptions"
        made = plan.api.post(subscriptions, json=body, headers=plan.ops.headers)
        assert made.status_code == 201, made.text
        before = scrape(plan.api)
        hooks.answer_next(500)
        assert plan.switch("bcp").status_code == 200
        assert deliver_due(plan.platform) == 1  # the receiver answers 500: tried again later
        time.sleep(0.1)
        assert deliver_due(plan.platform) == 1  # delivered
        assert plan.switch("primary").status_code == 200
        deleted = plan.api.delete(f"{subscriptions}/{made.json()['id']}", headers=plan.ops.headers)
        assert deleted.status_code == 204
        assert deliver_due(plan.platform) == 1  # nowhere to go now: given up
        after = scrape(plan.api)

    assert moved(before, after, "lifeboat_alert_deliveries_total") == {
        labels(outcome="retry"): 1,
        labels(outcome="delivered"): 1,
        labels(outcome="gave_up"): 1,
    }


@pytest.fixture
def guarded(shared_platform, monkeypatch) -> Iterator[str]:
    token = "a-metrics-token-of-some-length"
    monkeypatch.setattr(shared_platform.settings, "metrics_token", token)
    yield token


def test_with_a_metrics_token_the_scrape_needs_it(shared_api, guarded):
    for headers in ({}, bearer("a-wrong-token-of-some-length"), {"Authorization": guarded}):
        refused = shared_api.get("/metrics", headers=headers)
        assert (refused.status_code, error_code(refused)) == (401, "invalid_metrics_token")
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "lifeboat_" not in refused.text
    assert value(scrape(shared_api, bearer(guarded)), "lifeboat_directory_up") == 1


def test_without_a_metrics_token_no_login_is_needed(shared_api, shared_platform):
    assert shared_platform.settings.metrics_token is None
    assert value(scrape(shared_api), "lifeboat_directory_up") == 1


def test_the_scrape_answers_when_the_directory_does_not(shared_platform):
    settings = shared_platform.settings.model_copy(
        update={"directory_url": unreachable_directory(shared_platform), "database_connect_timeout_s": 2}
    )
    cut_off = build_platform(settings)
    try:
        with TestClient(create_app(cut_off)) as client:
            samples = scrape(client)
    finally:
        cut_off.close()
    assert value(samples, "lifeboat_directory_up") == 0
    assert not [key for key in samples if key[0] == "lifeboat_region_up"]  # unknown, so left out rather than guessed
