"""Scheduler and worker loops. They claim, lease, retry and call services; no business rules.

Any number of ``lifeboat serve`` replicas and ``lifeboat worker`` processes may run these
loops against the same directory database: a scheduled occurrence is queued once (a
unique key on plan and time) and a run is carried out by one worker at a time (a lease).

A lease is owned by ``<host>:<pid>:<thread>``. A worker that starts on a host where the
owner of a running run was a process that no longer exists takes that run over at once
rather than after its lease: a dead process holds nothing. The host part includes the
PID namespace, so containers that share a host name never judge each other's processes.

Inside ``lifeboat serve`` the workers run in a child process of their own
(``WorkerProcess``): a sync is seconds of Python work, and as a thread of the server it
would share the interpreter lock with the event loop, slowing both the run and every
request answered meanwhile. The scheduler and the other light loops stay threads.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from multiprocessing.connection import Connection
from typing import Any

from lifeboat import logs
from lifeboat.bootstrap import Platform, build_platform
from lifeboat.config import Settings
from lifeboat.domain.records import RunStatus, Side, SyncRun, Trigger
from lifeboat.domain.sync_settings import next_run
from lifeboat.metrics import Metrics
from lifeboat.services.alerts import deliver_due
from lifeboat.services.bcp.drills import end_overdue
from lifeboat.services.bcp.freshness import check_freshness
from lifeboat.services.bcp.sync import Progress, execute_run, stored_run
from lifeboat.services.monitor import check_regions
from lifeboat.store.tables import now

log = logging.getLogger("lifeboat.jobs")
MAX_ATTEMPTS = 3
STOP_WAIT_S = 30.0  # how long stopping waits for a run under way to end


class WorkerMode(StrEnum):
    """Where ``lifeboat serve`` runs its sync worker (``--worker``)."""

    PROCESS = "process"  # a child process: the default
    THREAD = "thread"  # a thread of the server, sharing the interpreter lock with the event loop
    OFF = "off"  # none: separate ``lifeboat worker`` processes carry out the runs


def worker_name() -> str:
    return f"{this_host()}:{os.getpid()}:{threading.get_ident()}"


def this_host() -> str:
    """This machine as lease owners name it: the host name, and the PID namespace (read
    from /proc where there is one), inside which a process id means one process. Cut so
    that a whole owner name fits the 100 characters of ``sync_runs.lease_owner``."""
    name = socket.gethostname()[:60]
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return name
    return f"{name}@{namespace.removeprefix('pid:[').removesuffix(']')}"


def take_over_orphans(platform: Platform) -> list[int]:
    """End the lease of every running run whose worker was a process of this host that
    has gone (killed, crashed); a worker then claims it at once. Returns their ids."""
    host, taken = this_host(), []
    with platform.directory_unit() as uow:
        for run in uow.runs.running():
            owner = run.lease_owner or ""
            owner_host, _, rest = owner.partition(":")
            pid = rest.partition(":")[0]
            gone = owner_host == host and pid.isdigit() and not _process_exists(int(pid))
            if gone and uow.runs.release(run.id, owner):
                taken.append(run.id)
    for run_id in taken:
        log.warning("sync run %s: its worker on this host has gone; taken over without waiting for its lease", run_id)
    return taken


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process: never judged gone (a thread of it may hold the run)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user's
    return True


def schedule_due(platform: Platform, at: datetime | None = None) -> list[SyncRun]:
    """Queue every scheduled run that is due; safe to call from many schedulers at once."""
    at = at or now()
    queued = []
    with platform.directory_unit(write=False) as uow:
        due = uow.plans.due(at)
    for plan in due:
        # due() answers only plans whose sync is on and whose next run is set: both times exist
        assert plan.sync_enabled_at is not None and plan.next_run_at is not None, plan.id
        following = next_run(plan.sync_settings["schedule"], plan.sync_enabled_at, at)
        with platform.directory_unit() as uow:
            if not uow.plans.advance_schedule(plan.id, plan.next_run_at, following):
                continue  # another scheduler took this occurrence
            if plan.active_side == Side.BCP:
                continue  # paused: the occurrence passes, the schedule goes on
            run = uow.runs.enqueue(
                plan.id,
                trigger=Trigger.SCHEDULED,
                force=False,
                requested_by="scheduler",
                scheduled_for=plan.next_run_at,
            )
        if run is not None:
            queued.append(run)
    return queued


def work_once(platform: Platform, owner: str | None = None, progress: Progress = lambda s, n: None) -> SyncRun | None:
    """Claim one run and carry it out, keeping its lease alive meanwhile."""
    owner = owner or worker_name()
    lease = timedelta(seconds=platform.settings.job_lease_s)
    with platform.directory_unit() as uow:
        run = uow.runs.claim(owner, lease)
    if run is None:
        return None
    if run.attempts > MAX_ATTEMPTS:
        with platform.directory_unit() as uow:
            uow.runs.finish(
                run.id,
                RunStatus.FAILED,
                {
                    "errors": [
                        {
                            "code": "worker_lost",
                            "message": f"Gave up after {MAX_ATTEMPTS} attempts whose workers stopped.",
                        }
                    ]
                },
            )
            return stored_run(uow, run.id)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(platform, run.id, owner, lease, stop), daemon=True)
    beat.start()
    try:
        return execute_run(platform, run, owner=owner, progress=progress)
    finally:
        stop.set()
        beat.join()


def _heartbeat(platform: Platform, run_id: int, owner: str, lease: timedelta, stop: threading.Event) -> None:
    while not stop.wait(lease.total_seconds() / 4):  # four beats per lease: one lost beat is harmless
        try:
            with platform.directory_unit() as uow:
                if not uow.runs.extend_lease(run_id, owner, lease):
                    return
        except Exception:  # the directory blinked; the next beat tries again
            log.warning("could not extend the lease of run %s", run_id, exc_info=True)


def loop(step: Callable[[], object], stop: threading.Event, every_s: float, name: str) -> None:
    """Call ``step`` until ``stop`` is set; an error is logged and the loop goes on."""
    while not stop.is_set():
        try:
            busy = step()
        except Exception:
            log.exception("%s step failed", name)
            busy = None
        if not busy:
            stop.wait(every_s)


def _watch_regions(platform: Platform) -> None:
    """One look at every region; returns nothing, so the loop waits its interval even after a change."""
    check_regions(platform)


def _watch_freshness(platform: Platform) -> None:
    """One look at every plan's copy (the RPO alarm); returns nothing, so the loop waits its interval."""
    check_freshness(platform)


def _end_overdue_drills(platform: Platform) -> None:
    """Drills past their time limit end here, on whichever replica looks first (returns
    nothing, so the loop waits its interval)."""
    end_overdue(platform)


def start_background(
    platform: Platform,
    *,
    workers: int = 1,
    scheduler: bool = True,
    poll_s: float = 1.0,
    schedule_s: float = 15.0,
    worker_process: bool = False,
) -> Callable[[], None]:
    """Start scheduler, freshness (RPO alarm), monitor, alert sender and worker threads; returns a
    function that stops them. With ``worker_process`` the workers run in a child process
    (``WorkerProcess``) instead of threads of this one."""
    stop = threading.Event()
    if workers and not worker_process:
        try:
            take_over_orphans(platform)
        except Exception:  # the directory blinked: such runs wait for their lease, as before
            log.warning("could not look for runs of dead workers of this host", exc_info=True)
    threads = []
    if scheduler:
        steps = [
            ("scheduler", lambda: schedule_due(platform), schedule_s),
            ("freshness", lambda: _watch_freshness(platform), schedule_s),
            ("drills", lambda: _end_overdue_drills(platform), poll_s),
            ("monitor", lambda: _watch_regions(platform), platform.settings.region_check_s),
            ("alerts", lambda: deliver_due(platform), poll_s),
        ]
        threads += [
            threading.Thread(target=loop, args=(step, stop, every, name), name=f"lifeboat-{name}", daemon=True)
            for name, step, every in steps
        ]
    for i in range(0 if worker_process else workers):
        threads.append(
            threading.Thread(
                target=loop,
                args=(lambda: work_once(platform), stop, poll_s, "worker"),
                name=f"lifeboat-worker-{i}",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    child = WorkerProcess(platform, workers=workers, poll_s=poll_s) if worker_process and workers else None
    if child:
        child.start()

    def stop_all() -> None:
        stop.set()
        if child:
            child.stop()
        for thread in threads:
            thread.join(timeout=STOP_WAIT_S)

    return stop_all


class WorkerProcess:
    """Sync workers in a child process (spawned: a fresh interpreter with its own engines),
    kept alive by a thread of this one:

    - a child that dies (killed, out of memory) is started again after ``restart_s``; the
      new one takes the dead one's run over at once (``take_over_orphans``);
    - ``stop()`` asks the child to stop as ``lifeboat worker`` stops on Ctrl-C (a run under
      way gets ``STOP_WAIT_S`` to end), then kills it;
    - a child whose parent has gone (killed) exits at once, as a thread of it would have:
      it watches its pipe to the parent, which the kernel closes when the parent dies;
    - the runs it ends are counted in this process's metrics (sent over that pipe), so the
      server's ``/metrics`` still counts every sync run of its workers.
    """

    def __init__(self, platform: Platform, *, workers: int = 1, poll_s: float = 1.0, restart_s: float = 1.0) -> None:
        self.platform, self.workers, self.poll_s, self.restart_s = platform, workers, poll_s, restart_s
        self.context = multiprocessing.get_context("spawn")
        self.stopping = threading.Event()
        self.process: Any = None  # multiprocessing's SpawnProcess (its type is private)
        self.conn: Connection | None = None
        self.supervisor = threading.Thread(target=self._supervise, name="lifeboat-worker-process", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.supervisor.start()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def stop(self) -> None:
        self.stopping.set()
        self.supervisor.join(timeout=STOP_WAIT_S)
        assert self.conn is not None
        with contextlib.suppress(OSError):  # the child has gone already
            self.conn.send("stop")
        self.process.join(timeout=STOP_WAIT_S + 5)
        if self.process.is_alive():
            log.warning("the sync worker process did not stop in time; killing it")
            self.process.kill()
            self.process.join()
        self.conn.close()

    def _spawn(self) -> None:
        ours, theirs = self.context.Pipe()
        settings = self.platform.settings
        args = (settings, self.workers, self.poll_s, theirs, logs.configured_format())
        process = self.context.Process(target=_worker_process_main, args=args, name="lifeboat-worker", daemon=True)
        process.start()
        theirs.close()  # only the child holds its end now: its exit is our end's EOF
        self.process, self.conn = process, ours

    def _supervise(self) -> None:
        while self._relay_until_exit():
            log.warning("the sync worker process ended (exit code %s); starting another", self.process.exitcode)
            if self.stopping.wait(self.restart_s):
                return
            assert self.conn is not None
            self.conn.close()
            self._spawn()

    def _relay_until_exit(self) -> bool:
        """Count the runs the child reports until it exits (True) or we are stopping (False)."""
        assert self.conn is not None
        while not self.stopping.is_set():
            if not self.conn.poll(0.5):
                continue
            try:
                status, duration_s, counts = self.conn.recv()
            except (EOFError, OSError):
                self.process.join(timeout=5)
                return True
            self.platform.metrics.sync_run_ended(status, duration_s, counts)
        return False


class _RelayedMetrics(Metrics):
    """The child's metrics: a run that ends is sent to the parent, whose ``/metrics`` counts it."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn, self.lock = conn, threading.Lock()

    def sync_run_ended(self, status: str, duration_s: float, counts: dict[str, dict[str, int]]) -> None:
        super().sync_run_ended(status, duration_s, counts)
        with self.lock:  # one message at a time from the worker threads
            self.conn.send((str(status), duration_s, counts))


def _worker_process_main(
    settings: Settings, workers: int, poll_s: float, conn: Connection, log_format: str | None
) -> None:
    """The child of ``WorkerProcess``: worker threads until the parent says stop or goes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops us
    if log_format:
        logs.configure(log_format)
    platform = build_platform(settings)
    if conn.poll():  # told to stop (or the parent went) while this process was starting: claim nothing
        return
    platform.metrics = _RelayedMetrics(conn)
    stop = start_background(platform, workers=workers, scheduler=False, poll_s=poll_s)
    try:
        conn.recv()  # "stop"
    except (EOFError, OSError):
        os._exit(1)  # the parent has gone (killed): its workers go with it, mid-run, as its threads would
    stop()
