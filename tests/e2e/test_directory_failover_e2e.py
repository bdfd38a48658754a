"""The directory survives its region (SPEC §13): a PostgreSQL primary with a synchronous
streaming standby, the primary killed under a running ``lifeboat serve``, the standby promoted.

Two throwaway clusters hold the directory: ``dir_a`` (primary, ``synchronous_commit = on``,
``synchronous_standby_names = 'dir_b'``) and ``dir_b`` (``pg_basebackup -R`` of it). The
regions live on the session's server. lifeboat knows the directory only by the multi-host
URL ``?host=<a>&host=<b>&target_session_attrs=read-write``.

The last thing committed before the crash is a switch; ``pg_ctl stop -m immediate`` kills
the primary. Throughout the gap a poller asks for the number's route (every answer must be
200); a revert and a login answer 503 ``directory_unavailable``, also while ``dir_b`` is up
but still a read-only standby. Read on ``dir_b`` before promoting, the directory holds every
row the primary had. After ``pg_ctl promote`` a revert succeeds within 10 s on the same
process, and after a restart of lifeboat the switch, the revert, the sync run and the user
made just before the crash are all there.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import psycopg
import pytest

from tests.e2e.lifeboat_process import (
    API,
    Installation,
    LifeboatServer,
    create_operator,
    error_code,
    region,
    wait_until,
)
from tests.e2e.test_primary_down_e2e import (
    NUMBER,
    PASSWORD,
    build_contact_center,
    login,
    ok,
    set_bcp_types,
    sync_and_wait,
)
from tests.postgres_server import SUPERUSER, LocalCluster, PostgresServer, _free_port, _start_local_server

pytestmark = pytest.mark.postgres

PROMOTED_SWITCH_BUDGET_S = 10.0
# The directory's tables whose rows the test compares across the failover (the volatile
# ones — sessions, alert outbox, region states — change by themselves).
COMPARED_TABLES = {
    "tenants": "id",
    "operators": "id",
    "bcp_plans": "id",
    "sync_runs": "id",
    "switch_attempts": "seq",
    "login_index": "username",
}


@dataclass
class DirectoryPair:
    primary: LocalCluster
    standby: LocalCluster
    dbname: str = "lifeboat_directory"

    def url(self) -> str:
        hosts = "&".join(f"host={c.socket_dir}:{c.port}" for c in (self.primary, self.standby))
        return f"postgresql+psycopg://{SUPERUSER}@/{self.dbname}?{hosts}&target_session_attrs=read-write"

    def connect(self, cluster: LocalCluster, dbname: str | None = None) -> psycopg.Connection:
        return psycopg.connect(
            host=str(cluster.socket_dir),
            port=cluster.port,
            user=SUPERUSER,
            dbname=dbname or self.dbname,
            autocommit=True,
            connect_timeout=5,
        )


def _append_settings(cluster: LocalCluster, settings: dict[str, str]) -> None:
    with (cluster.data_dir / "postgresql.conf").open("a") as conf:
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())


def _standby_of(primary: LocalCluster) -> LocalCluster:
    root = Path(tempfile.mkdtemp(prefix="lifeboat-pg-", dir="/tmp"))
    standby = LocalCluster(bindir=primary.bindir, root=root, port=_free_port(), run_as=primary.run_as)
    standby.socket_dir.mkdir()
    if standby.run_as:
        account = pwd.getpwnam(standby.run_as)
        for path in (root, standby.socket_dir):
            os.chown(path, account.pw_uid, account.pw_gid)
    # -R writes primary_conninfo and standby.signal; the copied postgresql.conf is the
    # primary's, so the standby's own socket, port and name are set after it.
    primary._run(
        "pg_basebackup", "-D", str(standby.data_dir), "-R", "-X", "stream", "--no-sync",
        "-h", str(primary.socket_dir), "-p", str(primary.port), "-U", SUPERUSER,
    )  # fmt: skip
    _append_settings(
        standby,
        {
            "port": str(standby.port),
            "unix_socket_directories": f"'{standby.socket_dir}'",
            "cluster_name": "'dir_b'",  # the application_name the primary waits for
            "synchronous_standby_names": "''",  # once promoted, it has no standby to wait for
        },
    )
    return standby


@pytest.fixture
def directory_pair(postgres_server: PostgresServer) -> Iterator[DirectoryPair]:
    """dir_a (primary) and dir_b (its synchronous standby), streaming, with an empty database."""
    primary: LocalCluster | None = None
    standby: LocalCluster | None = None
    try:
        _, primary = _start_local_server()
        # -m immediate kills the processes, not the machine: fsync stays off as in the other
        # throwaway servers; what this test relies on is the synchronous replication.
        _append_settings(
            primary,
            {"cluster_name": "'dir_a'", "synchronous_commit": "on", "synchronous_standby_names": "'dir_b'"},
        )
        primary.stop()
        primary.start()
        standby = _standby_of(primary)
        standby.start()
        pair = DirectoryPair(primary, standby)
        with pair.connect(primary, "postgres") as conn:
            wait_until(
                lambda: (
                    conn.execute(
                        "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'dir_b'"
                    ).fetchall()
                    == [("sync",)]
                ),
                timeout=60,
                what="dir_b streaming as the synchronous standby",
            )
            conn.execute(f"CREATE DATABASE {pair.dbname}")  # empty: lifeboat migrates it
        yield pair
    finally:
        for cluster in (standby, primary):
            if cluster is not None:
                cluster.remove()
                shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture
def install(request, postgres_server, postgres_templates, directory_pair, tmp_path) -> Installation:
    prefix = f"dirfo{os.getpid()}_{time.monotonic_ns()}"
    urls = {
        name: postgres_server.create_database(f"{prefix}_{name}", template=postgres_templates["region"])
        for name in ("na1", "eu1")
    }
    request.addfinalizer(lambda: [postgres_server.drop_database(f"{prefix}_{name}") for name in urls])
    return Installation.with_config(
        "postgres",
        tmp_path / "data",
        tmp_path / "lifeboat.toml",
        directory_url=directory_pair.url(),
        regions=[region("na1", 1, urls["na1"]), region("eu1", 2, urls["eu1"])],
    )


def rows_of(pair: DirectoryPair, cluster: LocalCluster) -> dict[str, dict[Any, tuple[Any, ...]]]:
    with pair.connect(cluster) as conn:
        return {
            table: {row[0]: row for row in conn.execute(f"SELECT {key}, * FROM {table}").fetchall()}
            for table, key in COMPARED_TABLES.items()
        }


@dataclass
class RoutePoller:
    """Asks for the number's route every 50 ms in a thread until stopped."""

    client: httpx2.Client
    answers: list[tuple[float, int, str | None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = self.client.get(f"{API}/voice/route", params={"number": NUMBER}, timeout=10)
                kind = response.json().get("tenant_kind") if response.status_code == 200 else error_code(response)
                self.answers.append((time.monotonic(), response.status_code, kind))
            except httpx2.TransportError as exc:
                self.answers.append((time.monotonic(), 0, type(exc).__name__))
            self._stop.wait(0.05)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)


def is_directory_unavailable(response: httpx2.Response) -> bool:
    return (response.status_code, error_code(response)) == (503, "directory_unavailable")


def test_the_directory_fails_over_to_its_synchronous_standby_without_a_restart(
    directory_pair, install, start_lifeboat, tmp_path
):
    pair = directory_pair
    create_operator(install)
    env = {"LIFEBOAT_ROUTE_CACHE_TTL_S": "0.2", "LIFEBOAT_DATABASE_CONNECT_TIMEOUT_S": "2"}
    server: LifeboatServer = start_lifeboat(install, env=env)
    ops = server.operator()
    cc = build_contact_center(ops)
    set_bcp_types(ops, cc)
    admin = server.login(cc.admin, PASSWORD, cc.primary["id"])
    run = sync_and_wait(admin, cc)
    edge = server.client(
        {"Authorization": f"Bearer {ok(ops.post(f'{API}/voice/tokens', json={'name': 'edge'}), 201)['token']}"}
    )
    assert ok(edge.get(f"{API}/voice/route", params={"number": NUMBER}))["tenant_kind"] == "primary"
    # The last writes before the crash: a new user (the directory's login index) and a switch.
    late_user = ok(
        ops.post(
            f"{API}/tenants/{cc.primary['id']}/users",
            json={
                "username": f"late{cc.primary['id']}",
                "email": f"late{cc.primary['id']}@example.com",
                "first_name": "Late",
                "last_name": "Acme",
                "password": PASSWORD,
            },
        ),
        201,
    )
    switched = ok(ops.post(f"{API}/tenants/{cc.primary['id']}/bcp/switch", json={"to": "bcp", "passkey": cc.passkey}))
    assert switched["active_side"] == "bcp"
    committed = rows_of(pair, pair.primary)
    poller = RoutePoller(edge)
    poller.start()
    time.sleep(0.3)

    crashed_at = time.monotonic()
    pair.primary.stop(mode="immediate")
    try:
        # The gap: dir_b is up but read-only; nothing may write to it, so writes are refused.
        time.sleep(1.5)  # several route-table lifetimes
        revert = {"to": "primary", "passkey": cc.passkey}
        assert is_directory_unavailable(ops.post(f"{API}/tenants/{cc.bcp['id']}/bcp/switch", json=revert))
        assert is_directory_unavailable(login(server, cc.agents[0]))
        on_standby = rows_of(pair, pair.standby)  # a hot standby answers reads
        assert on_standby == committed, "a committed row is missing on the synchronous standby"

        promoted_at = time.monotonic()
        pair.standby._run("pg_ctl", "-D", str(pair.standby.data_dir), "-w", "promote")

        def revert_once() -> httpx2.Response | None:
            answer = ops.post(f"{API}/tenants/{cc.bcp['id']}/bcp/switch", json=revert)
            assert answer.status_code in (200, 503), answer.text
            return answer if answer.status_code == 200 else None

        reverted = wait_until(revert_once, timeout=PROMOTED_SWITCH_BUDGET_S, interval=0.2, what="a revert on dir_b")
        done_at = time.monotonic()
    finally:
        poller.stop()
    assert (reverted.json()["active_side"], reverted.json()["epoch"]) == ("primary", switched["epoch"] + 1)
    assert server.is_running

    gap = [a for a in poller.answers if crashed_at <= a[0] <= done_at]
    print(
        f"\nfailover: writes refused for {done_at - crashed_at:.2f} s; revert {done_at - promoted_at:.2f} s after"
        f" promote; {len(gap)} route lookups during the gap, answers {sorted({(s, k) for _, s, k in gap})}"
    )
    assert len(gap) >= 20, gap
    assert {status for _, status, _ in gap} == {200}, [a for a in gap if a[1] != 200][:5]

    # A fresh lifeboat on the same URL: dir_a refuses, dir_b answers; nothing was lost.
    server.stop()
    again = start_lifeboat(install, env=env)
    ops = again.operator()
    plan = ok(ops.get(f"{API}/tenants/{cc.primary['id']}/bcp"))
    assert (plan["active_side"], plan["epoch"]) == ("primary", switched["epoch"] + 1)
    assert ok(ops.get(f"{API}/tenants/{cc.primary['id']}/bcp/sync-runs/{run['id']}"))["status"] == "succeeded"
    assert ok(login(again, late_user["username"]))["user"]["id"] == late_user["id"]
    after = rows_of(pair, pair.standby)
    for table, rows in committed.items():
        missing = set(rows) - set(after[table])
        assert not missing, f"{table}: rows {sorted(missing)} committed before the crash are gone"
    edge_again = again.client(edge.headers)
    assert ok(edge_again.get(f"{API}/voice/route", params={"number": NUMBER}))["tenant_kind"] == "primary"
