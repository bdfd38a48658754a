"""Shared fixtures: a migrated platform on SQLite or on a real PostgreSQL server.

``platform`` is parametrised over both backends; a test that takes it runs twice. The
PostgreSQL databases are cloned from migrated templates, so each test gets fresh,
empty databases in a few tens of milliseconds.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import RegionSettings, Settings
from lifeboat.migrations import migrate
from lifeboat.services.tenancy.auth import create_operator
from lifeboat.store.database import Database, build_engine

pytest_plugins = ["tests.postgres_server"]

# argon2 at its cheapest: the tests check behaviour, not hashing cost.
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 64}
OPERATOR = ("ops", "operator-password")
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """A pytest-xdist worker starts with COLUMNS=80 and LINES in its environment, which a
    serial run does not have: the CLI's rich console, made when ``lifeboat.cli`` is first
    imported, would keep that width and ignore the COLUMNS a test gives CliRunner. Workers
    drop both before any test module imports the CLI, so they draw tables as a serial run."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.pop("COLUMNS", None)
        os.environ.pop("LINES", None)


def sqlite_settings(data_dir: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, **{**FAST_HASHING, **overrides})


@pytest.fixture(scope="session")
def postgres_templates(postgres_server) -> dict[str, str]:
    """Template databases migrated once per run: ``directory`` and ``region``."""
    names = {}
    for kind in ("directory", "region"):
        name = f"lifeboat_tpl_{kind}"
        url = postgres_server.create_database(name)
        db = Database(kind, build_engine(url))
        migrate(db, kind)
        db.dispose()
        names[kind] = name
    return names


@pytest.fixture
def postgres_settings(postgres_server, postgres_templates, tmp_path) -> Callable[..., Settings]:
    created: list[str] = []

    def make(**overrides) -> Settings:
        prefix = f"lb{next(_counter)}"
        created.extend([f"{prefix}_directory", f"{prefix}_na1", f"{prefix}_eu1"])
        directory = postgres_server.create_database(f"{prefix}_directory", template=postgres_templates["directory"])
        regions = [
            RegionSettings(
                name=name,
                voice_cluster=f"sip:{name}.voice.lifeboat.test",
                id_block=block,
                database_url=postgres_server.create_database(f"{prefix}_{name}", template=postgres_templates["region"]),
            )
            for block, name in ((1, "na1"), (2, "eu1"))
        ]
        return Settings(data_dir=tmp_path, directory_url=directory, regions=regions, **{**FAST_HASHING, **overrides})

    yield make
    for name in created:
        with contextlib.suppress(Exception):  # the server may have been stopped by the test
            postgres_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def settings(backend, request, tmp_path) -> Settings:
    if backend == "postgres":
        return request.getfixturevalue("postgres_settings")()
    return sqlite_settings(tmp_path / "data")


@pytest.fixture
def platform(settings) -> Iterator[Platform]:
    built = build_platform(settings)
    migrate_platform(built)
    create_operator(built, *OPERATOR)
    yield built
    built.close()


class Api:
    """A TestClient with helpers to log in and to read error codes."""

    def __init__(self, client: TestClient):
        self.client = client

    def login(self, username: str, password: str) -> dict[str, str]:
        response = self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def operator(self) -> dict[str, str]:
        return self.login(*OPERATOR)

    def __getattr__(self, name):  # get/post/patch/put/delete go to the client
        return getattr(self.client, name)


@pytest.fixture
def api(platform) -> Iterator[Api]:
    with TestClient(create_app(platform)) as client:
        yield Api(client)
