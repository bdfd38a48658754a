"""The id counter of one database (see ``lifeboat.ids`` for the layout of the id space)."""

from __future__ import annotations

from sqlalchemy import Connection, Table, insert, update

from lifeboat.ids import block_range

COUNTER = "ids"


def take_ids(conn: Connection, table: Table, block: int, count: int = 1) -> range:
    """Reserve ``count`` consecutive ids in the caller's transaction."""
    first, last = block_range(block)
    stmt = (
        update(table).where(table.c.name == COUNTER).values(next_id=table.c.next_id + count).returning(table.c.next_id)
    )
    end = conn.execute(stmt).scalar_one_or_none()
    if end is None:
        with conn.begin_nested():
            conn.execute(insert(table).values(name=COUNTER, next_id=first))
        end = conn.execute(stmt).scalar_one()
    start = end - count
    if start < first or end - 1 > last:
        raise RuntimeError(f"id block {block} is exhausted or corrupt (next id {end})")
    return range(start, end)
