"""Correlations: which primary entity each BCP entity copies (in the BCP region database)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, func, select

from lifeboat.domain.records import Correlation
from lifeboat.store.bulk import BulkWriter
from lifeboat.store.tables import correlations, now
from lifeboat.store.tallies import remembered_notes

T = TypeVar("T")

PUT_COLUMNS = ("bcp_tenant_id", "type", "primary_id", "bcp_id", "primary_version", "bcp_version", "notes", "synced_at")


class CorrelationRepo:
    def __init__(self, conn: Connection, bcp_tenant_id: int):
        self.conn = conn
        self.tenant_id = bcp_tenant_id

    def all(self, types: Iterable[str] | None = None) -> list[Correlation]:
        c = correlations.c
        stmt = select(c.type, c.primary_id, c.bcp_id, c.primary_version, c.bcp_version).where(
            c.bcp_tenant_id == self.tenant_id
        )
        if types is not None:
            stmt = stmt.where(c.type.in_(list(types)))
        return [Correlation(*row) for row in self.conn.execute(stmt).all()]  # one fetchall, not a fetch per row

    def page(self, type_name: str | None, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        c = correlations.c
        where = [c.bcp_tenant_id == self.tenant_id] + ([c.type == type_name] if type_name else [])
        total = self.conn.execute(select(func.count()).select_from(correlations).where(*where)).scalar_one()
        rows = self.conn.execute(
            select(correlations).where(*where).order_by(c.type, c.primary_id).limit(limit).offset(offset)
        )
        return [dict(r._mapping) for r in rows], total

    def notes_of(self, type_name: str) -> list[dict[str, Any]]:
        c = correlations.c
        rows = self.conn.execute(
            select(c.primary_id, c.bcp_id, c.notes)
            .where(c.bcp_tenant_id == self.tenant_id, c.type == type_name)
            .order_by(c.primary_id)
        )
        return [dict(r._mapping) for r in rows]

    def tally_notes(self, type_name: str, what: Hashable, tally: Callable[[list[dict[str, Any]]], T]) -> T:
        """``tally(self.notes_of(type_name))``, remembered while those correlations are unchanged
        (``what`` names the tally; the caller must not change what it gets back)."""
        return remembered_notes(self.conn, self.tenant_id, type_name, what, lambda: tally(self.notes_of(type_name)))

    def put_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace correlations: {type, primary_id, bcp_id, primary_version, bcp_version, notes}.

        One upsert per row (``INSERT ... ON CONFLICT DO UPDATE``, which SQLite and PostgreSQL
        both have) rather than a delete and an insert, all in one driver call (``store.bulk``)."""
        BulkWriter(self.conn).upsert(
            correlations, PUT_COLUMNS, ("bcp_tenant_id", "type", "primary_id"), self._rows(rows)
        )

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """New correlations (as ``put_many``), known to have no row yet: a plain insert, which
        PostgreSQL takes by ``COPY``. One that exists after all fails the transaction."""
        BulkWriter(self.conn).insert(correlations, PUT_COLUMNS, self._rows(rows))

    def _rows(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        stamp = now()
        return [
            (
                self.tenant_id,
                r["type"],
                r["primary_id"],
                r["bcp_id"],
                r["primary_version"],
                r["bcp_version"],
                r["notes"],
                stamp,
            )
            for r in rows
        ]

    def remove_many(self, keys: Sequence[tuple[str, int]]) -> None:
        if not keys:
            return
        c = correlations.c
        self.conn.execute(
            delete(correlations).where(
                c.bcp_tenant_id == self.tenant_id,
                c.type == bindparam("b_type"),
                c.primary_id == bindparam("b_primary_id"),
            ),
            [{"b_type": t, "b_primary_id": p} for t, p in keys],
        )

    def remove_tenant(self) -> None:
        self.conn.execute(delete(correlations).where(correlations.c.bcp_tenant_id == self.tenant_id))
