"""The migrations build exactly the tables the code declares (``store/tables.py``), on both
databases: a column, index or constraint added to one and forgotten in the other fails here,
before it fails a user's upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lifeboat.store.tables import directory_metadata, region_metadata


def _differences(database, metadata) -> list:
    with database.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), metadata)


def test_the_migrated_directory_is_the_declared_one(platform) -> None:
    assert _differences(platform.directory, directory_metadata) == []


def test_every_migrated_region_is_the_declared_one(platform) -> None:
    for region in platform.regions.values():
        assert _differences(region.db, region_metadata) == []
