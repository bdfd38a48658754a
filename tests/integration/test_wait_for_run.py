"""``services.bcp.sync.wait_for_run``: what ``lifeboat sync run`` waits with (the CLI passes its worker)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from lifeboat.domain.access import SYSTEM
from lifeboat.errors import NotFound
from lifeboat.jobs import work_once
from lifeboat.services.bcp.sync import request_run, wait_for_run
from lifeboat.services.tenancy.tenants import create_tenant
from tests.sync_fixture import Http, pair


@pytest.fixture
def primary_id(api, platform) -> int:
    primary = create_tenant(platform, SYSTEM, "Acme na1", "na1")
    bcp = create_tenant(platform, SYSTEM, "Acme eu1", "eu1")
    pair(Http(api.client, api.operator()), primary.id, bcp.id)
    return primary.id


def test_a_queued_run_is_carried_out_by_the_caller_s_worker(platform, primary_id):
    run = request_run(platform, SYSTEM, primary_id)
    worked: list[int] = []

    def work() -> None:
        worked.append(run.id)
        work_once(platform)

    finished = wait_for_run(platform, SYSTEM, primary_id, run.id, work=work)
    assert (finished.id, finished.status, worked) == (run.id, "succeeded", [run.id])


def test_a_run_another_worker_holds_is_watched_until_it_ends(platform, primary_id):
    run = request_run(platform, SYSTEM, primary_id)
    with platform.directory_unit() as uow:
        assert uow.runs.claim("elsewhere", timedelta(minutes=5)).id == run.id

    def other_worker_finishes() -> None:
        with platform.directory_unit() as uow:
            uow.runs.finish(run.id, "failed", {"errors": [{"code": "boom"}]}, owner="elsewhere")

    timer = threading.Timer(0.3, other_worker_finishes)
    timer.start()
    try:
        finished = wait_for_run(
            platform,
            SYSTEM,
            primary_id,
            run.id,
            poll_s=0.05,
            work=lambda: pytest.fail("the run is not queued: nothing to work on here"),
        )
    finally:
        timer.join()
    assert (finished.status, finished.report) == ("failed", {"errors": [{"code": "boom"}]})


def test_a_run_of_another_plan_is_not_found(platform, primary_id):
    with pytest.raises(NotFound) as caught:
        wait_for_run(platform, SYSTEM, primary_id, 987654, work=lambda: None)
    assert caught.value.code == "sync_run_not_found"
