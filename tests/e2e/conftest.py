"""End-to-end fixtures: the real ``lifeboat`` program, started as a subprocess and driven
over HTTP on loopback (see ``tests/e2e/lifeboat_process.py`` for the machinery).

    installation        a fresh, empty install for one test: SQLite files in a data folder
                        (``--data-dir``), or a ``lifeboat.toml`` (``--config``) that puts the
                        directory and both regions on fresh PostgreSQL databases
    lifeboat_server     ``lifeboat serve`` on a free port over a fresh install, with the
                        operator ``ops`` created first by ``lifeboat operator create``;
                        one server per module and backend, so tests make their own tenants
    start_lifeboat      start more servers in a test (stopped at its end)
    postgres_install    build a ``--config`` install on fresh PostgreSQL databases, with the
                        regions of one's choice

Every fixture that takes a backend runs twice: ``sqlite`` and ``postgres`` (marked
``postgres``). When a test fails, the log of every server it used is added to its report.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.e2e.lifeboat_process import Installation, LifeboatServer, create_operator, region

DEFAULT_REGIONS = (("na1", 1), ("eu1", 2))
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SERVERS = pytest.StashKey[list[LifeboatServer]]()
_names = itertools.count()


def _postgres_installation(
    request: pytest.FixtureRequest,
    root: Path,
    *,
    regions: Sequence[tuple[str, int]] = DEFAULT_REGIONS,
    from_templates: bool = True,
) -> Installation:
    """The directory and each region on a fresh PostgreSQL database (cloned from the
    migrated templates, or empty so that lifeboat migrates it itself); dropped at the end."""
    server = request.getfixturevalue("postgres_server")
    templates = request.getfixturevalue("postgres_templates") if from_templates else {}
    prefix = f"e2e{os.getpid()}_{next(_names)}"
    names = {kind: f"{prefix}_{kind}" for kind in ["directory", *(name for name, _ in regions)]}

    def drop() -> None:
        for name in names.values():
            with contextlib.suppress(Exception):  # the server may be down after a failed test
                server.drop_database(name)

    request.addfinalizer(drop)
    urls = {
        kind: server.create_database(name, template=templates.get("directory" if kind == "directory" else "region"))
        for kind, name in names.items()
    }
    return Installation.with_config(
        "postgres",
        root / "data",
        root / "lifeboat.toml",
        directory_url=urls["directory"],
        regions=[region(name, block, urls[name]) for name, block in regions],
    )


def _installation(request: pytest.FixtureRequest, backend: str, root: Path) -> Installation:
    root.mkdir(parents=True, exist_ok=True)
    if backend == "postgres":
        return _postgres_installation(request, root)
    return Installation.sqlite(root / "data")


@pytest.fixture(params=BACKENDS)
def installation(request: pytest.FixtureRequest, tmp_path: Path) -> Installation:
    """A fresh install for one test (nothing created in it yet)."""
    return _installation(request, request.param, tmp_path / "install")


@pytest.fixture
def postgres_install(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Installation]:
    """``postgres_install(regions=[("us2", 7)], from_templates=False)``: an install on
    fresh PostgreSQL databases (empty ones, with ``from_templates=False``)."""

    def make(*, regions: Sequence[tuple[str, int]] = DEFAULT_REGIONS, from_templates: bool = True) -> Installation:
        root = tmp_path / f"pg{next(_names)}"
        root.mkdir()
        return _postgres_installation(request, root, regions=regions, from_templates=from_templates)

    return make


@pytest.fixture(scope="module", params=BACKENDS)
def shared_installation(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Installation:
    return _installation(request, request.param, tmp_path_factory.mktemp(f"e2e-{request.param}"))


@pytest.fixture(scope="module")
def lifeboat_server(shared_installation: Installation) -> Iterator[LifeboatServer]:
    """``lifeboat serve`` with the operator ``ops`` (see ``OPERATOR``), shared by a module."""
    create_operator(shared_installation)
    server = LifeboatServer.start(shared_installation, log_path=shared_installation.data_dir.parent / "server.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_lifeboat(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., LifeboatServer]]:
    """``start_lifeboat(install, env=None)``: start a server for this test only."""
    started: list[LifeboatServer] = []
    request.node.stash[SERVERS] = started
    numbers = itertools.count()  # not len(started): servers may be started side by side

    def start(install: Installation, *, env: dict[str, str] | None = None) -> LifeboatServer:
        server = LifeboatServer.start(install, log_path=tmp_path / f"server-{next(numbers)}.log", env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Add the log of every lifeboat server a failed test used to its report."""
    report = yield
    if report.failed:
        servers = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, LifeboatServer)]
        servers += [s for s in item.stash.get(SERVERS, []) if s not in servers]
        for server in servers:
            report.sections.append((f"lifeboat server log ({server.base_url}, {report.when})", server.log_tail()))
    return report
