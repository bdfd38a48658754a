"""One database: its engine, its transactions, and whether it can be reached; and a region,
which is a database with the settings that name it.

``write()`` opens a transaction that commits when the block ends and rolls back on any
exception (on SQLite it starts with ``BEGIN IMMEDIATE`` so two writers queue instead of
failing half-way). ``read()`` gives a consistent snapshot. A database that cannot be
reached raises ``Unavailable`` with the region's name, never a driver error.

Failover (SPEC §13): a PostgreSQL URL may name several hosts with
``target_session_attrs=read-write`` (libpq then connects only to the one that takes
writes). Pooled connections are pinged before use, and one that fails makes the pool drop
every connection opened before it, so none made to a lost primary is reused. A
connection that finds itself read-only (a server turned standby under it) is dropped with
the pool too, and the request gets ``Unavailable``: the next one connects afresh.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from lifeboat.config import RegionSettings
from lifeboat.errors import Unavailable
from lifeboat.store.bulk import decode_json


def build_engine(url: str, *, connect_timeout_s: int = 3) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": connect_timeout_s},
        json_deserializer=decode_json,  # psycopg hands jsonb to it: orjson, as on SQLite
    )


# Every SQLite connection's settings (bench/sync_bench.py's raw copy uses them too). WAL with
# synchronous=NORMAL: a commit is safe from a crash of the process; after a power loss the
# database is consistent but may lose the transactions since the last checkpoint, which is when
# SQLite syncs the log and the file to disk. SQLite checkpoints by default every 1,000 pages
# (4 MB): a first sync of profile L writes about 40 MB in a dozen steps and spent 0.25 s of its
# 3 s waiting on ten such syncs. Every 10,000 pages, it waits on one. A run that a power loss rolls
# back is planned again by the next (its correlations roll back with its entities).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA wal_autocheckpoint=10000",
    "PRAGMA busy_timeout=30000",
)


def _sqlite_engine(url: str) -> Engine:
    # A missing folder makes connect() fail, so the region is reported down rather
    # than quietly recreated somewhere else.
    # Reading a tenant decodes one JSON value per entity: orjson does it several times faster.
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, json_deserializer=decode_json)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("lifeboat_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """An engine plus the name used in errors (``directory`` or a region name)."""

    def __init__(self, name: str, engine: Engine):
        self.name = name
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._connect(write=True) as conn:
            with conn.begin():
                yield conn

    @contextmanager
    def read(self, *, snapshot: bool = False) -> Iterator[Connection]:
        """A read transaction; ``snapshot`` makes every statement see the same moment
        (SQLite's read transactions always do; PostgreSQL needs REPEATABLE READ)."""
        with self._connect(write=False) as conn:
            if snapshot and self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def _connect(self, *, write: bool) -> Iterator[Connection]:
        try:
            conn = self.engine.connect().execution_options(lifeboat_write=write)
        except (OperationalError, DBAPIError) as exc:
            raise self._down(exc) from None
        try:
            yield conn
        except OperationalError as exc:
            if _is_connection_error(exc):
                raise self._down(exc) from None
            raise
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != READ_ONLY_TRANSACTION:
                raise
            conn.invalidate()
            self.engine.dispose()  # its siblings in the pool are on the same read-only server
            raise self._down(exc) from None
        finally:
            conn.close()

    def is_up(self) -> bool:
        try:
            with self._connect(write=False) as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Unavailable:
            return False

    def _down(self, exc: Exception) -> Unavailable:
        return Unavailable(
            f"The database of {self.name} cannot be reached.",
            code="region_unavailable" if self.name != "directory" else "directory_unavailable",
            details={"region": self.name, "reason": type(exc.__cause__ or exc).__name__},
        )

    def dispose(self) -> None:
        self.engine.dispose()


READ_ONLY_TRANSACTION = "25006"  # SQLSTATE: a write sent to a standby


def _is_connection_error(exc: OperationalError) -> bool:
    return bool(exc.connection_invalidated) or "connect" in str(exc.orig).lower()


@dataclass
class Region:
    settings: RegionSettings
    db: Database

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def voice_cluster(self) -> str:
        return self.settings.voice_cluster

    @property
    def id_block(self) -> int:
        return self.settings.id_block
