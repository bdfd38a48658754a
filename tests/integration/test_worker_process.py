"""The sync workers of ``lifeboat serve`` in a child process (``jobs.WorkerProcess``): the run
is carried out outside the server's process and still counted in its metrics; a child that
dies is started again and takes its run over at once; a child whose server is killed goes
with it; stopping ends it. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from lifeboat.bootstrap import Platform
from lifeboat.jobs import WorkerProcess, start_background, this_host
from lifeboat.store.plans import RunRepo
from tests.integration.test_sync_jobs import runs_of, set_owner, sync_enabled
from tests.sync_fixture import Http, assert_bcp_mirrors_primary

SPAWN_S = 120.0  # a spawned child imports lifeboat afresh: seconds on a loaded machine


@pytest.fixture
def ops(api) -> Http:
    return Http(api, api.operator())


def wait_for(condition: Callable[[], object], what: str, timeout_s: float = SPAWN_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)


def owner_pid(owner: str | None) -> int:
    return int((owner or "").split(":")[1])


def gone(pid: int) -> bool:
    """The process has ended (a zombie that nobody reaped yet counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def succeeded_runs(platform: Platform) -> float:
    value = platform.metrics.registry.get_sample_value("lifeboat_sync_runs_total", {"status": "succeeded"})
    return value or 0.0


def test_a_run_is_carried_out_by_the_child_and_counted_in_the_parents_metrics(platform, ops):
    primary, bcp, plan_id = sync_enabled(ops, platform, run_first=False)
    counted = succeeded_runs(platform)

    stop = start_background(platform, workers=1, scheduler=False, poll_s=0.05, worker_process=True)
    try:
        wait_for(lambda: runs_of(platform, plan_id)[0].status == "succeeded", "the first run to end")
        wait_for(lambda: succeeded_runs(platform) == counted + 1, "the parent to count the run", 10)
    finally:
        stop()

    run = runs_of(platform, plan_id)[0]
    assert owner_pid(run.lease_owner) != os.getpid()
    assert gone(owner_pid(run.lease_owner)), "stop() must end the child"
    assert run.attempts == 1
    assert_bcp_mirrors_primary(ops, primary.id, bcp["id"], script_refs=primary.script_refs)


def test_a_child_that_dies_is_started_again_and_takes_its_run_over_at_once(platform, ops):
    _primary, _bcp, plan_id = sync_enabled(ops, platform, run_first=False)
    with platform.directory.write() as conn:  # held elsewhere until the child is up
        lost = RunRepo(conn).claim("placeholder", timedelta(hours=1))
    child = WorkerProcess(platform, poll_s=0.05, restart_s=0.1)
    child.start()
    try:
        first = child.pid
        assert first is not None
        set_owner(platform, lost.id, f"{this_host()}:{first}:1")  # as if the child were running it
        os.kill(first, signal.SIGKILL)

        wait_for(lambda: child.pid != first, "a new child")
        wait_for(lambda: runs_of(platform, plan_id)[0].status == "succeeded", "the run to be taken over")
    finally:
        child.stop()

    run = runs_of(platform, plan_id)[0]
    assert (run.id, run.attempts) == (lost.id, 2)  # not after its hour-long lease: at once
    assert owner_pid(run.lease_owner) == child.pid


def test_the_child_of_a_killed_server_exits(settings, tmp_path):
    pickled = tmp_path / "settings.pickle"
    pickled.write_bytes(pickle.dumps(settings))
    script = textwrap.dedent(
        f"""
        import pickle, sys, time
        from lifeboat.bootstrap import build_platform
        from lifeboat.jobs import WorkerProcess
        if __name__ == "__main__":
            child = WorkerProcess(build_platform(pickle.loads(open({str(pickled)!r}, "rb").read())))
            child.start()
            print(child.pid, flush=True)
            time.sleep(600)
        """
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        pid = int(server.stdout.readline())
        assert not gone(pid)
    finally:
        server.kill()
        server.wait()

    wait_for(lambda: gone(pid), "the orphaned child to exit", 30)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_without_worker_process_the_workers_stay_threads_of_this_process(platform, ops):
    _primary, _bcp, plan_id = sync_enabled(ops, platform, run_first=False)

    stop = start_background(platform, workers=1, scheduler=False, poll_s=0.05)
    try:
        wait_for(lambda: runs_of(platform, plan_id)[0].status == "succeeded", "the first run to end")
    finally:
        stop()

    assert owner_pid(runs_of(platform, plan_id)[0].lease_owner) == os.getpid()
