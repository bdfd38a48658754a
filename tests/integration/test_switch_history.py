"""Every switch measured (SPEC §14) over ``GET /tenants/{t}/bcp/switches``, on SQLite and
PostgreSQL: the record a switch writes, the first route lookup and first login that complete
it, and who may read it."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from lifeboat.services.bcp.routing import invalidate_routes
from lifeboat.services.switch_firsts import NOTED
from tests.bcp_fixture import SyncedPlan, build_plan
from tests.conftest import OPERATOR
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, Http, error_code, new_tenant

WRONG = "WRONG-WRONG-WRONG-WRONG"


@pytest.fixture
def plan(shared_api, shared_platform) -> SyncedPlan:
    built = build_plan(shared_api, shared_platform)
    invalidate_routes(shared_platform)  # the module's routing table knows this plan's numbers from now
    return built


def history(plan: SyncedPlan, tenant_id: int | None = None, **params: Any) -> dict[str, Any]:
    return plan.ops.get(plan.url("/switches", tenant_id), **params)


def newest(plan: SyncedPlan) -> dict[str, Any]:
    return history(plan)["items"][0]


def switched(plan: SyncedPlan, to: str) -> dict[str, Any]:
    response = plan.switch(to)
    assert response.status_code == 200, response.text
    return response.json()


def call(plan: SyncedPlan) -> dict[str, Any]:
    """A route lookup as the voice edge makes it, for the primary's voice number."""
    response = plan.api.get(f"{API}/voice/route", params={"number": plan.numbers["voice"]}, headers=plan.ops.headers)
    assert response.status_code == 200, response.text
    return response.json()


def logged_in(plan: SyncedPlan, label: str) -> int:
    response = plan.login(label)
    assert response.status_code == 200 and "token" in response.json(), response.text
    return response.json()["tenant"]["id"]


def seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def test_a_switch_is_measured_by_its_first_call_and_first_login(plan):
    last_sync_at = plan.describe()["last_successful_run_at"]
    started = time.monotonic()
    answer = switched(plan, "bcp")
    assert newest(plan)["first_call_s"] is None and newest(plan)["first_login_s"] is None
    time.sleep(0.2)
    assert call(plan)["tenant_id"] == plan.bcp_id
    time.sleep(0.2)
    assert logged_in(plan, "single") == plan.bcp_id
    elapsed = time.monotonic() - started

    record = newest(plan)

    assert record["id"] == answer["switch_id"]
    assert record["to"] == "bcp" and record["to_tenant_id"] == plan.bcp_id and record["epoch"] == 1
    assert record["by"] == f"operator:{OPERATOR[0]}"
    assert record["from_tenant_id"] == plan.primary_id
    assert record["switch_ms"] == answer["switch_ms"] and 0 < record["switch_ms"] < elapsed * 1000
    assert 0.2 <= record["first_call_s"] < elapsed
    assert record["first_call_s"] + 0.2 <= record["first_login_s"] < elapsed
    assert record["rpo_s"] == pytest.approx(seconds(last_sync_at, record["at"]), abs=0.002)
    assert record["rpo_s"] > 0 and record["last_sync_at"] == last_sync_at


def test_a_revert_gets_its_own_record_and_its_own_firsts(plan):
    switched(plan, "bcp")
    call(plan)
    logged_in(plan, "single")
    to_bcp = newest(plan)
    switched(plan, "primary")
    time.sleep(0.1)
    assert call(plan)["tenant_id"] == plan.primary_id
    assert logged_in(plan, "single") == plan.primary_id

    page = history(plan)

    assert page["total"] == 2
    revert, first = page["items"]
    assert first == to_bcp  # untouched by the calls and logins after the revert
    assert revert["to"] == "primary" and revert["to_tenant_id"] == plan.primary_id and revert["epoch"] == 2
    assert revert["first_call_s"] >= 0.1 and revert["first_login_s"] >= revert["first_call_s"]
    assert revert["rpo_s"] == pytest.approx(seconds(to_bcp["last_sync_at"], revert["at"]), abs=0.002)


def test_calls_and_logins_before_a_switch_do_not_count(plan):
    call(plan)
    logged_in(plan, "single")
    logged_in(plan, "bcp_only")  # into the BCP tenant, before it is active
    switched(plan, "bcp")

    assert newest(plan)["first_call_s"] is None and newest(plan)["first_login_s"] is None
    time.sleep(0.3)
    call(plan)
    logged_in(plan, "single")

    record = newest(plan)
    assert record["first_call_s"] >= 0.3 and record["first_login_s"] >= 0.3


def test_only_the_first_call_and_login_count_in_every_process(plan, shared_platform):
    switched(plan, "bcp")
    call(plan)
    logged_in(plan, "single")
    first = newest(plan)
    time.sleep(0.2)
    call(plan)
    logged_in(plan, "single")
    assert newest(plan) == first
    shared_platform.caches.pop(NOTED)  # as if another process answered: the database keeps the first
    call(plan)
    logged_in(plan, "single")

    assert newest(plan) == first


def test_a_refused_switch_makes_no_record(plan):
    response = plan.switch("bcp", passkey=WRONG)
    assert response.status_code == 403 and error_code(response) == "wrong_passkey"
    again = plan.switch("primary")  # already active: refused too
    assert again.status_code == 409, again.text

    assert history(plan) == {"items": [], "total": 0}


def test_either_tenant_of_the_plan_reads_the_same_history_in_pages(plan):
    switched(plan, "bcp")
    switched(plan, "primary")
    switched(plan, "bcp")

    from_bcp = history(plan, plan.bcp_id)
    first_page = history(plan, limit=2)
    second_page = history(plan, limit=2, offset=2)

    assert from_bcp == history(plan)
    assert [r["to"] for r in from_bcp["items"]] == ["bcp", "primary", "bcp"]
    assert [r["epoch"] for r in from_bcp["items"]] == [3, 2, 1]
    assert first_page["total"] == second_page["total"] == 3
    assert first_page["items"] + second_page["items"] == from_bcp["items"]


def test_a_bcp_admin_switching_in_the_bcp_tenant_is_on_record(plan):
    admin = plan.headers("admin", plan.bcp_id)
    response = plan.switch("bcp", headers=admin, tenant_id=plan.bcp_id)
    assert response.status_code == 200, response.text

    record = newest(plan)

    assert record["from_tenant_id"] == plan.bcp_id
    assert record["by"] == f"user:{plan.usernames['admin']}"


def test_another_tenant_sees_no_history_and_an_agent_may_not_read_it(plan, shared_api, shared_platform):
    switched(plan, "bcp")
    other = build_plan(shared_api, shared_platform, bcp_only=False)
    lone = new_tenant(Http(shared_api, shared_api.operator()), "na1")

    outsider = plan.api.get(plan.url("/switches"), headers=other.headers("admin", other.primary_id))
    agent = plan.api.get(plan.url("/switches", plan.bcp_id), headers=plan.headers("single"))
    no_plan = plan.api.get(f"{API}/tenants/{lone['id']}/bcp/switches", headers=plan.ops.headers)

    assert outsider.status_code == 404 and error_code(outsider) == "tenant_not_found"
    assert agent.status_code == 403 and error_code(agent) == "permission_denied"
    assert no_plan.status_code == 404 and error_code(no_plan) == "bcp_plan_not_found"
    assert history(other) == {"items": [], "total": 0}
