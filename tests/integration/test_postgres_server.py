"""The throwaway PostgreSQL server the integration tests stand on (tests/postgres_server.py)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

pytestmark = pytest.mark.postgres


def _scalar(url: str, statement: str) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(statement)).scalar_one()
    finally:
        engine.dispose()


def _run(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_created_database_is_reachable_with_its_sqlalchemy_url(postgres_server):
    url = postgres_server.create_database("fixture_reachable")

    assert url.startswith("postgresql+psycopg://")
    assert _scalar(url, "SELECT current_database()") == postgres_server.name_prefix + "fixture_reachable"
    assert _scalar(url, "SHOW server_encoding") == "UTF8"


def test_creating_a_database_again_starts_it_empty(postgres_server):
    url = postgres_server.create_database("fixture_recreated")
    _run(url, "CREATE TABLE leftover (id int)")

    url = postgres_server.create_database("fixture_recreated")

    assert _scalar(url, "SELECT count(*) FROM pg_tables WHERE tablename = 'leftover'") == 0


def test_database_created_from_a_template_holds_its_tables(postgres_server):
    template_url = postgres_server.create_database("fixture_template")
    _run(template_url, "CREATE TABLE tenants (id int)", "INSERT INTO tenants VALUES (7)")
    pooled = sa.create_engine(template_url, pool_pre_ping=True)
    with pooled.connect() as conn:  # leaves an idle connection in the pool
        conn.execute(sa.text("SELECT 1"))

    copy_url = postgres_server.create_database("fixture_copy", template="fixture_template")

    assert _scalar(copy_url, "SELECT id FROM tenants") == 7
    with pooled.connect() as conn:  # the pool recovers from its cut connection
        assert conn.execute(sa.text("SELECT id FROM tenants")).scalar_one() == 7
    pooled.dispose()


def test_dropped_database_cannot_be_connected_to(postgres_server):
    url = postgres_server.create_database("fixture_dropped")
    postgres_server.drop_database("fixture_dropped")
    postgres_server.drop_database("fixture_dropped")  # dropping twice is not an error

    with pytest.raises(OperationalError, match="does not exist"):
        _scalar(url, "SELECT 1")


def test_stopped_server_refuses_connections_and_comes_back_with_its_data(postgres_server):
    url = postgres_server.create_database("fixture_down")
    _run(url, "CREATE TABLE calls (id int)", "INSERT INTO calls VALUES (1), (2)")
    engine = sa.create_engine(url, pool_pre_ping=True)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))

    postgres_server.stop()
    try:
        with pytest.raises(OperationalError):
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
    finally:
        postgres_server.start()

    with engine.connect() as conn:  # the same engine and URL work again
        assert conn.execute(sa.text("SELECT count(*) FROM calls")).scalar_one() == 2
    engine.dispose()


def test_down_block_stops_the_server_only_inside_it(postgres_server):
    url = postgres_server.create_database("fixture_down_block")

    with postgres_server.down():
        assert not postgres_server.is_running
        with pytest.raises(OperationalError):
            _scalar(url, "SELECT 1")

    assert postgres_server.is_running
    assert _scalar(url, "SELECT 1") == 1
