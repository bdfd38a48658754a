"""The ``lifeboat`` command line as an administrator runs it: a subprocess with flags,
environment variables and a TOML configuration file (SPEC §10)."""

from __future__ import annotations

import signal

import pytest
from sqlalchemy import create_engine, inspect

from tests.e2e.lifeboat_process import (
    API,
    OPERATOR,
    Installation,
    LifeboatServer,
    config_toml,
    create_operator,
    describe,
    error_code,
    region,
    run_lifeboat,
)

ID_BLOCK_BITS = 40


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_help_lists_the_commands():
    result = run_lifeboat("--help")

    assert result.returncode == 0, describe(result)
    commands = {
        line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 2
    }
    assert {"serve", "migrate", "operator", "demo"} <= commands, result.stdout


def test_every_data_command_documents_data_dir_and_config():
    for command in (
        ["serve"],
        ["migrate"],
        ["operator", "create"],
        ["demo"],
        *(["drill", c] for c in ("start", "end", "show")),
    ):
        result = run_lifeboat(*command, "--help")
        assert result.returncode == 0, describe(result)
        assert "--data-dir" in result.stdout and "--config" in result.stdout, command


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migrate_creates_every_database_and_prints_a_table(backend, tmp_path, request):
    if backend == "postgres":
        install = request.getfixturevalue("postgres_install")(from_templates=False)  # empty databases
    else:
        install = Installation.sqlite(tmp_path / "data")

    result = run_lifeboat("migrate", *install.flags())

    assert result.returncode == 0, describe(result)
    rows = {
        line.split()[1]: line.split()[3]
        for line in result.stdout.splitlines()
        if line.startswith("│") and len(line.split()) >= 4
    }
    assert rows == {"directory": "migrated", "na1": "migrated", "eu1": "migrated"}, result.stdout
    assert {"tenants", "operators", "sessions", "alembic_version"} <= table_names(install.database_url("directory"))
    for name in ("na1", "eu1"):
        assert {"entities", "alembic_version"} <= table_names(install.database_url(name)), name
    again = run_lifeboat("migrate", *install.flags())
    assert again.returncode == 0, describe(again)


def test_migrate_reports_a_region_it_cannot_reach_and_exits_2(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text(
        config_toml(
            data_dir=tmp_path / "data",
            regions=[
                region("na1", 1),
                region("eu1", 2, f"sqlite:///{tmp_path / 'no-such-folder' / 'eu1.db'}"),
            ],
        )
    )

    result = run_lifeboat("migrate", "--config", str(config))

    assert result.returncode == 2, describe(result)
    assert "eu1" in result.stdout and "down" in result.stdout
    assert {"entities"} <= table_names(f"sqlite:///{tmp_path / 'data' / 'region-na1.db'}")


def test_operator_create_takes_the_password_from_stdin_and_refuses_a_duplicate(installation, start_lifeboat):
    name, password = OPERATOR
    first = run_lifeboat("operator", "create", name, "--password-stdin", *installation.flags(), input=password + "\n")
    duplicate = run_lifeboat(
        "operator", "create", name, "--password-stdin", *installation.flags(), input="another-password\n"
    )
    weak = run_lifeboat("operator", "create", "shorty", "--password-stdin", *installation.flags(), input="short\n")

    assert first.returncode == 0, describe(first)
    assert f"operator {name} created" in first.stdout
    assert duplicate.returncode != 0, describe(duplicate)
    assert "username_taken" in duplicate.stderr and f"'{name}' is taken" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr
    assert weak.returncode != 0 and "weak_password" in weak.stderr, describe(weak)

    server = start_lifeboat(installation)
    server.operator()  # the password read from stdin, without its newline
    for username, attempt in ((name, "another-password"), ("shorty", "short")):
        refused = server.http.post(f"{API}/auth/login", json={"username": username, "password": attempt})
        assert refused.status_code == 401, (username, refused.text)


def test_the_data_dir_comes_from_lifeboat_data_dir_and_the_flag_wins(tmp_path, start_lifeboat):
    work = tmp_path / "work"
    work.mkdir()
    from_env = tmp_path / "from-env"
    env = {"LIFEBOAT_DATA_DIR": str(from_env)}

    migrated = run_lifeboat("migrate", env=env, cwd=work)
    created = run_lifeboat("operator", "create", "ops", "--password-stdin", input=OPERATOR[1], env=env, cwd=work)
    flagged = run_lifeboat("migrate", "--data-dir", str(tmp_path / "from-flag"), env=env, cwd=work)

    for result in (migrated, created, flagged):
        assert result.returncode == 0, describe(result)
    assert {p.name for p in from_env.iterdir()} >= {"directory.db", "region-na1.db", "region-eu1.db"}
    assert (tmp_path / "from-flag" / "directory.db").is_file()
    assert not (work / "lifeboat-data").exists()
    # serve finds the operator through the same variable, with no flag at all.
    server = start_lifeboat(Installation("sqlite", from_env, use_flags=False), env=env)
    assert [t["name"] for t in server.operator().get(f"{API}/tenants").json()["items"]] == []


def test_the_default_data_dir_is_lifeboat_data_in_the_working_directory(tmp_path):
    result = run_lifeboat("migrate", cwd=tmp_path)

    assert result.returncode == 0, describe(result)
    assert (tmp_path / "lifeboat-data" / "directory.db").is_file()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_config_file_with_custom_regions_is_honoured(backend, tmp_path, request, start_lifeboat):
    regions = (("us2", 7), ("ap1", 9))
    if backend == "postgres":
        install = request.getfixturevalue("postgres_install")(regions=regions)
    else:
        install = Installation.with_config(
            "sqlite",
            tmp_path / "data",
            tmp_path / "lifeboat.toml",
            regions=[region(name, block) for name, block in regions],
        )
    create_operator(install)

    server = start_lifeboat(install)
    ops = server.operator()

    listed = ops.get(f"{API}/regions").json()
    assert listed["items"] == [
        {"name": "us2", "voice_cluster": "sip:us2.voice.lifeboat.test"},
        {"name": "ap1", "voice_cluster": "sip:ap1.voice.lifeboat.test"},
    ]
    assert server.region_status() == {"us2": "up", "ap1": "up"}
    for name, block in regions:
        tenant = ops.post(f"{API}/tenants", json={"name": f"Acme {name}", "region": name})
        assert tenant.status_code == 201, tenant.text
        skill = ops.post(f"{API}/tenants/{tenant.json()['id']}/skills", json={"name": "Sales"})
        assert skill.status_code == 201, skill.text
        assert skill.json()["id"] >> ID_BLOCK_BITS == block, (name, skill.json()["id"])
    unknown = ops.post(f"{API}/tenants", json={"name": "Acme na1", "region": "na1"})
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["details"]["errors"][0]["code"] == "region_not_found"
    if backend == "sqlite":
        assert {p.name for p in install.data_dir.glob("region-*.db")} == {"region-us2.db", "region-ap1.db"}


def test_the_config_file_may_be_named_by_lifeboat_config(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text(config_toml(data_dir=tmp_path / "data", regions=[region("us2", 7), region("ap1", 9)]))

    result = run_lifeboat("migrate", env={"LIFEBOAT_CONFIG": str(config)}, cwd=tmp_path)

    assert result.returncode == 0, describe(result)
    assert "us2" in result.stdout and "ap1" in result.stdout and "na1" not in result.stdout
    assert (tmp_path / "data" / "region-us2.db").is_file()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[[regions]]\nname = "us2"\nvoice_cluster = "sip:a"\nid_block = 3\n'
            '[[regions]]\nname = "ap1"\nvoice_cluster = "sip:b"\nid_block = 3\n',
            "id_block values must be unique",
        ),
        ('[[regions]]\nname = "US 2"\nvoice_cluster = "sip:a"\nid_block = 3\n', "region names are lowercase"),
        ("regions = [\n", "not valid TOML"),
        ("max_script_bytes = 1\n", "max_script_bytes"),
    ],
    ids=["shared-id-block", "bad-region-name", "not-toml", "value-too-small"],
)
def test_a_bad_config_file_is_refused_with_a_clear_message(tmp_path, toml, expected):
    config = tmp_path / "lifeboat.toml"
    config.write_text(toml)

    result = run_lifeboat("migrate", "--config", str(config))

    assert result.returncode != 0, describe(result)
    assert "invalid_config" in result.stderr and expected in result.stderr, describe(result)
    assert str(config) in result.stderr
    assert "Traceback" not in result.stderr, describe(result)


def test_serve_refuses_a_bad_config_file_at_once(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text('[[regions]]\nname = "us2"\nvoice_cluster = "sip:a"\nid_block = 0\n')

    result = run_lifeboat("serve", "--port", "1", "--config", str(config), timeout=60)

    assert result.returncode != 0, describe(result)
    assert "invalid_config" in result.stderr and "regions.0.id_block" in result.stderr, describe(result)
    assert "Traceback" not in result.stderr, describe(result)


def test_a_missing_config_file_is_refused_not_replaced_by_defaults(tmp_path):
    result = run_lifeboat("migrate", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)

    assert result.returncode != 0, describe(result)
    assert "cannot read it" in result.stderr and "Traceback" not in result.stderr, describe(result)
    assert not (tmp_path / "lifeboat-data").exists()


def test_serve_stops_cleanly_on_sigterm(tmp_path):
    install = Installation.sqlite(tmp_path / "data")
    server = LifeboatServer.start(install, log_path=tmp_path / "server.log")
    try:
        assert server.region_status() == {"na1": "up", "eu1": "up"}
        assert error_code(server.http.get(f"{API}/tenants")) == "not_authenticated"
    finally:
        server.stop()

    # uvicorn re-raises the signal once it has shut down, so the exit status says SIGTERM.
    assert server.process.returncode in (0, -signal.SIGTERM), server.log_text()
    assert not server.killed
    assert "Application shutdown complete" in server.log_text()
