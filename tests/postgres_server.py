"""A throwaway PostgreSQL server for the test run (pytest plugin).

Registered from ``tests/conftest.py`` with ``pytest_plugins = ["tests.postgres_server"]``.
Tests ask for the session-scoped ``postgres_server`` fixture::

    def test_something(postgres_server):
        url = postgres_server.create_database("region_na1")   # a SQLAlchemy URL
        engine = sqlalchemy.create_engine(url)
        ...
        postgres_server.stop()    # the region is down: connections fail
        postgres_server.start()   # back up: the same URLs work again

The server lives in a temporary directory, listens only on a Unix socket there, runs
with durability switched off (fsync, synchronous_commit, full_page_writes) because its
data is thrown away, and is removed at the end of the session, Ctrl-C included.

Under pytest-xdist (``make test`` runs tests/unit and tests/integration on worker
processes) every worker starts a server of its own: its own temporary directory, socket
and port, so workers share no database, template or file.

``LIFEBOAT_TEST_POSTGRES_URL`` (a SQLAlchemy URL of a superuser, e.g.
``postgresql+psycopg://postgres:secret@db:5432/postgres``) makes the fixture use that
server instead of starting one; ``stop()``/``start()`` then skip the test. There, under
pytest-xdist, each worker's databases carry its name as a prefix (``gw0_``) so that two
workers never create or drop the same database.

Without PostgreSQL binaries the tests that need the server are skipped, except when
``CI=true``: CI installs PostgreSQL, so a missing server there is a failure.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

EXTERNAL_URL_ENV = "LIFEBOAT_TEST_POSTGRES_URL"
NOT_FOUND_MESSAGE = "PostgreSQL server binaries not found (apt-get install postgresql)"
SUPERUSER = "postgres"
READY_TIMEOUT_S = 60

# Durability is pointless for a server whose data is deleted at the end of the run.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


# --------------------------------------------------------------------------- the server


class PostgresServer:
    """One PostgreSQL server: databases on it, and a switch to take it down and up."""

    def __init__(self, conninfo: dict[str, str], cluster: LocalCluster | None = None, name_prefix: str = ""):
        self._conninfo = conninfo
        self._cluster = cluster
        self._name_prefix = name_prefix  # on a server shared with other processes (see the module docstring)

    @classmethod
    def from_url(cls, url: str, name_prefix: str = "") -> PostgresServer:
        parsed = make_url(url)
        conninfo = {key: str(value) for key, value in parsed.query.items()}
        for key, value in (
            ("host", parsed.host),
            ("port", parsed.port),
            ("user", parsed.username),
            ("password", parsed.password),
        ):
            if value is not None:
                conninfo[key] = str(value)
        return cls(conninfo, name_prefix=name_prefix)

    @property
    def external(self) -> bool:
        """True when the server was given by LIFEBOAT_TEST_POSTGRES_URL (cannot be stopped)."""
        return self._cluster is None

    @property
    def name_prefix(self) -> str:
        """What create_database puts before a name: "" but on a shared external server."""
        return self._name_prefix

    @property
    def host(self) -> str:
        return self._conninfo.get("host", "")

    @property
    def port(self) -> int:
        return int(self._conninfo.get("port", 5432))

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of database ``dbname`` on this server."""
        user = quote(self._conninfo.get("user", SUPERUSER), safe="")
        password = self._conninfo.get("password")
        auth = f"{user}:{quote(password, safe='')}" if password else user
        params = {k: v for k, v in self._conninfo.items() if k not in ("user", "password")}
        query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in params.items())
        return f"postgresql+psycopg://{auth}@/{quote(dbname, safe='')}?{query}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """A psycopg connection in autocommit mode (for admin statements)."""
        params = {"connect_timeout": "10", **self._conninfo, "dbname": dbname}
        return psycopg.connect(**params, autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (dropping any existing one first); returns its URL."""
        self.drop_database(name)
        name = self._name_prefix + name
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            template = self._name_prefix + template
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self.connect() as conn:
            try:
                conn.execute(statement)
            except psycopg.errors.ObjectInUse:
                # A template cannot be copied while someone (often a pooled engine of the
                # test that filled it) is connected to it.
                _terminate_connections(conn, template)
                conn.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, ending the connections to it."""
        name = self._name_prefix + name
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @property
    def is_running(self) -> bool:
        return self.external or self._cluster.is_running

    def stop(self) -> None:
        """Take the server down (fast shutdown: open connections are cut)."""
        self._local_cluster().stop()

    def start(self) -> None:
        """Bring a stopped server back; the same URLs work again."""
        self._local_cluster().start()
        self._wait_until_accepting()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """``with postgres_server.down(): ...`` — the server is stopped inside the block."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def _local_cluster(self) -> LocalCluster:
        if self._cluster is None:
            pytest.skip(f"cannot stop or start the server given by {EXTERNAL_URL_ENV}")
        return self._cluster

    def _wait_until_accepting(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                with self.connect() as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def __repr__(self) -> str:
        return f"PostgresServer(host={self.host!r}, port={self.port}, external={self.external})"


def _terminate_connections(conn: psycopg.Connection, dbname: str | None) -> None:
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (dbname,),
    )


# -------------------------------------------------------------- a cluster we started


@dataclass
class LocalCluster:
    """A data directory and a socket directory under one temporary root, run by pg_ctl."""

    bindir: Path
    root: Path
    port: int
    run_as: str | None  # "postgres" when we are root (PostgreSQL refuses to run as root)
    is_running: bool = False

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @classmethod
    def create(cls, bindir: Path) -> LocalCluster:
        run_as = SUPERUSER if os.geteuid() == 0 else None
        # Short path under /tmp: a Unix socket path must fit in about 100 bytes.
        root = Path(tempfile.mkdtemp(prefix="lifeboat-pg-", dir="/tmp" if os.path.isdir("/tmp") else None))
        cluster = cls(bindir=bindir, root=root, port=_free_port(), run_as=run_as)
        try:
            cluster._init()
        except BaseException:
            cluster.remove()
            raise
        return cluster

    def _init(self) -> None:
        self.socket_dir.mkdir()
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            for path in (self.root, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "-U",
            SUPERUSER,
            "--locale=C",
            "--encoding=UTF8",
            "--no-sync",
        )
        settings = {
            **SERVER_SETTINGS,
            "listen_addresses": "''",
            "unix_socket_directories": f"'{self.socket_dir}'",
            "port": str(self.port),
        }
        # Written to postgresql.conf rather than passed as -c options so that a restart
        # after stop() comes back with exactly the same settings.
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# lifeboat test server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        if self.is_running:
            return
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", str(READY_TIMEOUT_S), "start"
        )
        self.is_running = True

    def stop(self, mode: str = "fast") -> None:
        if not self.is_running:
            return
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")
        self.is_running = False

    def remove(self) -> None:
        """Stop the server if it runs (even half-started, e.g. after Ctrl-C) and delete it."""
        if (self.data_dir / "postmaster.pid").exists():
            self.is_running = True
            with contextlib.suppress(Exception):
                self.stop(mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # cwd: the postgres account may not be allowed into the caller's directory.
        result = subprocess.run(command, cwd=self.root, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed with exit code {result.returncode}\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "server log:\n" + "\n".join(tail)


def _free_port() -> int:
    # The server only listens on its own socket directory, so the port merely names the
    # socket file; a free TCP port keeps it distinct from any other server anyway.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl: pg_config's, Debian's newest, or PATH."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
    debian = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += [Path(d) for d in sorted(debian, key=_major_version, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _major_version(bindir: str) -> int:
    version = Path(bindir).parent.name
    return int(version) if version.isdigit() else 0


# ------------------------------------------------------------------------ pytest glue

_session_server: PostgresServer | None = None


def _start_local_server() -> tuple[PostgresServer, LocalCluster]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{NOT_FOUND_MESSAGE}; CI=true, so this is a failure, not a skip")
        pytest.skip(NOT_FOUND_MESSAGE)
    if os.geteuid() == 0 and not _account_exists(SUPERUSER):
        pytest.fail(f"running as root needs a '{SUPERUSER}' system account to run PostgreSQL")
    cluster = LocalCluster.create(bindir)
    atexit.register(cluster.remove)  # also after Ctrl-C or an error outside fixture teardown
    server = PostgresServer({"host": str(cluster.socket_dir), "port": str(cluster.port), "user": SUPERUSER}, cluster)
    try:
        server.start()
    except BaseException:
        cluster.remove()
        raise
    return server, cluster


def _account_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole test session (see the module docstring)."""
    global _session_server
    external_url = os.environ.get(EXTERNAL_URL_ENV)
    if external_url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")  # gw0, gw1, ... under pytest-xdist
        _session_server = PostgresServer.from_url(external_url, name_prefix=f"{worker}_" if worker else "")
        yield _session_server
        _session_server = None
        return
    server, cluster = _start_local_server()
    _session_server = server
    try:
        yield server
    finally:
        _session_server = None
        cluster.remove()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the server carry the ``postgres`` marker (``-m "not postgres"``)."""
    for item in items:
        if "postgres_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    """A test that stopped the server and failed before starting it must not take the
    rest of the session down with it."""
    server = _session_server
    if server is not None and not server.is_running:
        server.start()
