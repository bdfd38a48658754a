"""Writing many rows at once through the database driver itself.

SQLAlchemy Core processes every parameter of every row of an ``executemany`` in Python
(a JSON dump, a datetime format, a type check each): for a first sync of 20,000 entities
that costs several times the write itself. Here the rows become plain tuples first -- each
JSON value encoded once with orjson, each timestamp formatted once per distinct value by the
column type's own bind processor (so SQLite keeps exactly the text SQLAlchemy writes) -- and
go to the driver in one call per statement: ``executemany`` on SQLite, ``COPY`` for plain
inserts and a pipelined ``executemany`` otherwise on PostgreSQL. Everything runs on the
caller's connection, inside its transaction: what commits together still commits together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import JSON, Column, Connection, DateTime, Table
from sqlalchemy.exc import DBAPIError

Encode = Callable[[Any], Any]


def encode_json(value: Any) -> str:
    """JSON text of a value. None is the JSON ``null``, as SQLAlchemy's JSON type writes it, so a
    row reads back the same whichever path wrote it."""
    if value is None:  # most audit rows' before and after
        return "null"
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. an integer beyond 64 bits: the standard library copes
        return json.dumps(value)


def decode_json(text: str | bytes) -> Any:
    """A stored JSON value (SQLite hands the text over; PostgreSQL's driver decodes jsonb itself)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or an integer beyond 64 bits, as the standard library wrote them
        return json.loads(text)


class BulkWriter:
    """Inserts, updates and upserts of many rows on one connection (the caller's transaction)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Plain inserts: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite."""
        if not rows:
            return
        prepared = self._prepare(table, columns, rows)
        if self.postgres:
            self._copy(table, columns, prepared)
        else:
            self._executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({self._marks(table, columns)})", prepared
            )

    def update(self, table: Table, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """``UPDATE table SET columns WHERE key = ?``; each row is (*values of columns, key value)."""
        if not rows:
            return
        sets = ", ".join(f"{name} = {mark}" for name, mark in zip(columns, self._mark_list(table, columns)))
        prepared = self._prepare(table, [*columns, key], rows)
        self._executemany(f"UPDATE {table.name} SET {sets} WHERE {key} = {self._mark_list(table, [key])[0]}", prepared)

    def upsert(
        self, table: Table, columns: Sequence[str], conflict: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """``INSERT ... ON CONFLICT (conflict) DO UPDATE`` the other columns (both backends have it)."""
        if not rows:
            return
        replaced = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in conflict)
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({self._marks(table, columns)}) "
            f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {replaced}"
        )
        self._executemany(sql, self._prepare(table, columns, rows))

    def _prepare(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        encoders = [self._encoder(table.c[name]) for name in columns]
        if not any(encoders):
            return [tuple(row) for row in rows]
        steps = [(i, e) for i, e in enumerate(encoders) if e is not None]
        out = []
        for row in rows:
            values = list(row)
            for i, encode in steps:
                values[i] = encode(values[i])
            out.append(tuple(values))
        return out

    def _encoder(self, column: Column[Any]) -> Encode | None:
        """What a value of this column becomes for the driver; None: the value as it is."""
        if _is_json(column):
            return encode_json
        if self.postgres:
            return None  # psycopg adapts datetimes, bytes and booleans itself
        # The dialect's own type, as Core binds it: for a timestamp on SQLite, the very text
        # SQLAlchemy writes (the generic type would leave a datetime to the driver's adapter,
        # which writes another text, "+00:00" and no zero microseconds).
        dialect = self.conn.dialect
        bind = column.type.dialect_impl(dialect).bind_processor(dialect)
        if bind is not None and column.type._type_affinity is DateTime:
            return _memoized(bind)  # a batch shares a handful of timestamps
        return bind

    def _marks(self, table: Table, columns: Sequence[str]) -> str:
        return ", ".join(self._mark_list(table, columns))

    def _mark_list(self, table: Table, columns: Sequence[str]) -> list[str]:
        if not self.postgres:
            return ["?"] * len(columns)
        return ["%s::jsonb" if _is_json(table.c[name]) else "%s" for name in columns]

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self.conn.exec_driver_sql(sql, rows)  # a list of tuples: one executemany

    def _copy(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        driver = self.conn.connection.driver_connection
        assert driver is not None
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        driver_error = self.conn.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except driver_error as exc:
            # The exception SQLAlchemy raises for a statement: callers catch IntegrityError (a
            # natural key taken meanwhile), and store.database tells a lost or read-only server by it.
            raise DBAPIError.instance(sql, None, exc, driver_error, dialect=self.conn.dialect) from exc


def _is_json(column: Column[Any]) -> bool:
    return column.type._type_affinity is JSON


def _memoized(bind: Encode) -> Encode:
    seen: dict[Any, Any] = {}

    def encode(value: Any) -> Any:
        if value not in seen:
            seen[value] = bind(value)
        return seen[value]

    return encode
