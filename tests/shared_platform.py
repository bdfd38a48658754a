"""One platform (and its API app) per test module and backend, for tests that each take
their own tenants.

The ``platform`` fixture of ``tests/conftest.py`` builds, migrates and wires a fresh
platform for every test: about half a second, which adds up over hundreds of parametrised
entity and validation tests. Those tests only need a tenant of their own: tenants do not
see each other (a tested guarantee, see ``test_isolation.py``), and every example payload
carries a fresh number, so usernames and tenant names never collide. Tests about the
platform as a whole (status, a region that is down, the id blocks) keep building their own.

Import the fixtures into a test module::

    from tests.shared_platform import shared_api, shared_platform  # noqa: F401
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lifeboat.api.app import create_app
from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.config import RegionSettings, Settings
from lifeboat.services.tenancy.auth import create_operator
from tests.conftest import FAST_HASHING, OPERATOR, Api, sqlite_settings

_tenant_numbers = itertools.count(1)


def _postgres_settings(request: pytest.FixtureRequest, created: list[str]) -> Settings:
    server = request.getfixturevalue("postgres_server")
    templates = request.getfixturevalue("postgres_templates")
    prefix = f"shared_{uuid.uuid4().hex[:10]}"

    def database(kind: str, name: str) -> str:
        created.append(f"{prefix}_{name}")
        return server.create_database(f"{prefix}_{name}", template=templates[kind])

    regions = [
        RegionSettings(
            name=name,
            voice_cluster=f"sip:{name}.voice.lifeboat.test",
            id_block=block,
            database_url=database("region", name),
        )
        for block, name in ((1, "na1"), (2, "eu1"))
    ]
    return Settings(
        data_dir=request.getfixturevalue("tmp_path_factory").mktemp("pg"),
        directory_url=database("directory", "directory"),
        regions=regions,
        **FAST_HASHING,
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    created: list[str] = []
    if request.param == "postgres":
        settings = _postgres_settings(request, created)
    else:
        settings = sqlite_settings(tmp_path_factory.mktemp("shared") / "data")
    built = build_platform(settings)
    migrate_platform(built)
    create_operator(built, *OPERATOR)
    yield built
    built.close()
    for name in created:
        request.getfixturevalue("postgres_server").drop_database(name)


@pytest.fixture(scope="module")
def shared_api(shared_platform: Platform) -> Iterator[Api]:
    with TestClient(create_app(shared_platform)) as client:
        yield Api(client)


def tenant_name(base: str) -> str:
    """A tenant name no other test of the run uses."""
    return f"{base} {next(_tenant_numbers)}"
