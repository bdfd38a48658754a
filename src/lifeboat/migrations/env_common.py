"""Shared body of the two Alembic ``env.py`` files."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, MetaData, create_engine


def run(target_metadata: MetaData) -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is None:  # plain `alembic` command line: -x url=...
        url = context.get_x_argument(as_dictionary=True)["url"]
        with create_engine(url).connect() as connection:
            _run(connection, target_metadata)
            connection.commit()
        return
    _run(connection, target_metadata)


def _run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
