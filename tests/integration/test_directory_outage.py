"""The directory cannot be read for a while (a failover, SPEC §13), on SQLite and PostgreSQL.

Route lookups by a voice-edge token keep answering from the last known table; a switch, a
login and every other token get 503 ``directory_unavailable``; when the directory answers
again everything works at once, with no restart. The whole-cluster failover (a primary, a
streaming standby, ``pg_ctl promote``) is ``tests/e2e/test_directory_failover_e2e.py``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from lifeboat.errors import Unavailable
from lifeboat.services.tenancy import auth
from lifeboat.store.database import Database, build_engine
from lifeboat.store.tables import now
from tests.bcp_fixture import SyncedPlan, bearer, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, error_code

ROUTE = f"{API}/voice/route"


@pytest.fixture
def plan(shared_api, shared_platform, monkeypatch) -> SyncedPlan:
    # Every lookup and every token is read from the directory first: nothing but the
    # fallback can answer while it is unreachable.
    monkeypatch.setattr(shared_platform.settings, "route_cache_ttl_s", 0)
    monkeypatch.setattr(auth, "SESSION_CACHE_TTL_S", 0)
    return build_plan(shared_api, shared_platform)


def voice_token(plan: SyncedPlan) -> dict[str, str]:
    created = plan.api.post(f"{API}/voice/tokens", json={"name": "carrier edge"}, headers=plan.ops.headers)
    assert created.status_code == 201, created.text
    return bearer(created.json()["token"])


def route(plan: SyncedPlan, headers: dict[str, str]) -> Any:
    return plan.api.get(ROUTE, params={"number": plan.numbers["voice"]}, headers=headers)


def unreachable_url(platform: Any) -> str:
    if platform.directory.dialect == "sqlite":
        return f"sqlite:///{platform.settings.data_dir / 'no-such-folder' / 'directory.db'}"
    with socket.socket() as probe:  # free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/lifeboat_directory"


@contextmanager
def directory_unreachable(platform: Any) -> Iterator[None]:
    """The platform's directory replaced by one that refuses every connection."""
    reachable = platform.directory
    platform.directory = Database("directory", build_engine(unreachable_url(platform), connect_timeout_s=1))
    try:
        yield
    finally:
        platform.directory.dispose()
        platform.directory = reachable


def is_directory_unavailable(response: Any) -> bool:
    return (response.status_code, error_code(response)) == (503, "directory_unavailable")


def test_route_lookups_answer_from_the_last_table_while_the_directory_is_unreachable(plan):
    edge = voice_token(plan)
    before = route(plan, edge)
    assert before.status_code == 200, before.text

    with directory_unreachable(plan.platform):
        during = [route(plan, edge) for _ in range(5)]

    assert [r.status_code for r in during] == [200] * 5, during[-1].text
    assert all(r.json() == before.json() for r in during)


def test_switch_and_login_are_503_directory_unavailable_during_the_gap_and_work_right_after(plan):
    edge = voice_token(plan)
    assert route(plan, edge).json()["tenant_kind"] == "primary"

    with directory_unreachable(plan.platform):
        assert is_directory_unavailable(plan.switch("bcp"))
        assert is_directory_unavailable(plan.login("admin"))
        assert route(plan, edge).json()["tenant_kind"] == "primary"  # no switch happened

    assert plan.switch("bcp").status_code == 200
    assert route(plan, edge).json()["tenant_kind"] == "bcp"
    assert plan.login("admin").status_code == 200


def test_only_voice_tokens_are_let_in_from_memory_while_the_directory_is_unreachable(plan):
    edge = voice_token(plan)
    assert route(plan, edge).status_code == 200
    assert route(plan, plan.ops.headers).status_code == 200  # the operator's session read once

    with directory_unreachable(plan.platform):
        assert route(plan, edge).status_code == 200
        assert is_directory_unavailable(route(plan, plan.ops.headers))


def test_an_unknown_voice_token_is_not_let_in_while_the_directory_is_unreachable(plan):
    route(plan, voice_token(plan))  # a table to answer from
    never_read = voice_token(plan)

    with directory_unreachable(plan.platform):
        assert is_directory_unavailable(route(plan, never_read))


def test_the_last_table_is_not_used_once_older_than_route_stale_max_s(plan, monkeypatch):
    edge = voice_token(plan)
    assert route(plan, edge).status_code == 200
    monkeypatch.setattr(plan.platform.settings, "route_stale_max_s", 0)

    with directory_unreachable(plan.platform):
        assert is_directory_unavailable(route(plan, edge))

    assert route(plan, edge).status_code == 200


def test_a_connection_that_turned_read_only_is_dropped_and_the_next_write_succeeds(platform):
    """What a pooled connection to a server that became a standby does: it is not reused."""
    if platform.directory.dialect != "postgresql":
        pytest.skip("read-only sessions are a PostgreSQL matter")
    database = platform.directory
    database.dispose()  # an empty pool: the next two writes share its one connection
    with database.write() as conn:  # the pool's one idle connection now refuses writes
        conn.execute(text("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"))
    write = text("INSERT INTO operators (id, name, password_hash, created_at) VALUES (:id, 'ro', 'x', :at)")

    with pytest.raises(Unavailable) as refused:
        with database.write() as conn:
            conn.execute(write, {"id": 987_654, "at": now()})
    assert refused.value.code == "directory_unavailable"

    with database.write() as conn:
        conn.execute(write, {"id": 987_654, "at": now()})
    with database.read() as conn:
        assert conn.execute(text("SELECT name FROM operators WHERE id = 987654")).scalar_one() == "ro"
