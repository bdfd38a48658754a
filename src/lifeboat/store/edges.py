"""The registered voice edges: one row per edge name, written again at every report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lifeboat.domain.records import VoiceEdge
from lifeboat.store.tables import voice_edges


class EdgeRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def report(self, name: str, rpc_url: str, token_name: str, answers: dict[str, int], at: datetime) -> None:
        """Insert the edge, or update its address, counters and last heard time."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        values = {"rpc_url": rpc_url, "token_name": token_name, "answers": answers, "last_heard_at": at}
        statement = dialect.insert(voice_edges).values(name=name, registered_at=at, **values)
        self.conn.execute(statement.on_conflict_do_update(index_elements=["name"], set_=values))

    def heard(self, name: str, at: datetime) -> None:
        self.conn.execute(update(voice_edges).where(voice_edges.c.name == name).values(last_heard_at=at))

    def all(self) -> list[VoiceEdge]:
        rows = self.conn.execute(select(voice_edges).order_by(voice_edges.c.name)).mappings()
        return [
            VoiceEdge(
                r["name"], r["rpc_url"], r["token_name"], dict(r["answers"]), r["registered_at"], r["last_heard_at"]
            )
            for r in rows
        ]
