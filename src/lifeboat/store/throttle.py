"""The login throttle's memory in the directory: one row per (scope, key) that failed lately."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, and_, delete, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from lifeboat.domain.throttle import Failures
from lifeboat.store.tables import login_failures

Key = tuple[str, str]  # (scope, key)


def _failures(row: RowMapping) -> Failures:
    # Read by name from the mapping: on a Row, ``count`` is also the tuple's method.
    return Failures(row["count"], row["window_started_at"], row["locks"], row["locked_until"], row["last_failure_at"])


class LoginFailureRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def of(self, keys: Sequence[Key]) -> dict[Key, Failures]:
        if not keys:
            return {}
        c = login_failures.c
        rows = self.conn.execute(
            select(login_failures).where(or_(*(and_(c.scope == scope, c.key == key) for scope, key in keys)))
        ).mappings()
        return {(row["scope"], row["key"]): _failures(row) for row in rows}

    def locked(self, key: Key, now: datetime) -> Failures | None:
        """The key's failures, its row locked for this transaction. A blank row (count 0) is
        made first if there is none, so that two replicas recording the first failure of a
        key at once both count: the second waits for the first's lock instead of
        overwriting it."""
        scope, name = key
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        self.conn.execute(
            dialect.insert(login_failures)
            .values(
                scope=scope,
                key=name,
                count=0,
                window_started_at=now,
                locks=0,
                locked_until=None,
                last_failure_at=now,
                forgotten_at=now,
            )
            .on_conflict_do_nothing()
        )
        c = login_failures.c
        row = (
            self.conn.execute(select(login_failures).where(c.scope == scope, c.key == name).with_for_update())
            .mappings()
            .one()
        )
        return None if row["count"] == 0 else _failures(row)

    def put(self, key: Key, failures: Failures, forgotten_at: datetime) -> None:
        c = login_failures.c
        self.conn.execute(
            update(login_failures)
            .where(c.scope == key[0], c.key == key[1])
            .values(
                count=failures.count,
                window_started_at=failures.window_started_at,
                locks=failures.locks,
                locked_until=failures.locked_until,
                last_failure_at=failures.last_failure_at,
                forgotten_at=forgotten_at,
            )
        )

    def forget(self, key: Key) -> None:
        c = login_failures.c
        self.conn.execute(delete(login_failures).where(c.scope == key[0], c.key == key[1]))

    def prune(self, now: datetime, batch: int = 1000) -> int:
        """Delete the rows of keys quiet for a whole window (they would count as new).
        Rows another transaction holds are skipped, not waited for: two replicas pruning
        while each holds its own key's row must not deadlock."""
        c = login_failures.c
        stale = select(c.scope, c.key).where(c.forgotten_at <= now).limit(batch).with_for_update(skip_locked=True)
        return self.conn.execute(delete(login_failures).where(tuple_(c.scope, c.key).in_(stale))).rowcount
