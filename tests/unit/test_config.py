"""Settings (lifeboat.config): validated once at start, from a TOML file, env and flags."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lifeboat.config import RegionSettings, Settings, load_settings
from lifeboat.errors import BadInput
from lifeboat.ids import MAX_BLOCK


def region(name: str, block: int) -> dict:
    return {"name": name, "voice_cluster": f"sip:{name}.voice.lifeboat.test", "id_block": block}


def test_the_default_regions_are_na1_and_eu1_with_their_voice_clusters_and_own_blocks():
    settings = Settings()

    assert [(r.name, r.voice_cluster) for r in settings.regions] == [
        ("na1", "sip:na1.voice.lifeboat.test"),
        ("eu1", "sip:eu1.voice.lifeboat.test"),
    ]
    assert len({r.id_block for r in settings.regions}) == 2


def test_by_default_every_database_is_a_sqlite_file_in_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path)

    assert settings.directory_database_url() == f"sqlite:///{tmp_path / 'directory.db'}"
    assert settings.region_database_url(settings.regions[0]) == f"sqlite:///{tmp_path / 'region-na1.db'}"


def test_a_region_url_given_in_the_settings_is_used():
    settings = Settings(regions=[{**region("na1", 1), "database_url": "postgresql+psycopg://db/na1"}])

    assert settings.region_database_url(settings.regions[0]) == "postgresql+psycopg://db/na1"


def test_two_regions_with_the_same_name_are_refused():
    with pytest.raises(ValidationError, match="region names must be unique"):
        Settings(regions=[region("na1", 1), region("na1", 2)])


def test_two_regions_sharing_an_id_block_are_refused():
    with pytest.raises(ValidationError, match="id_block values must be unique"):
        Settings(regions=[region("na1", 1), region("eu1", 1)])


def test_at_least_one_region_is_needed():
    with pytest.raises(ValidationError, match="at least one region"):
        Settings(regions=[])


@pytest.mark.parametrize("block", [0, -1, MAX_BLOCK + 1])
def test_a_region_cannot_take_the_directory_block_or_one_outside_the_id_space(block):
    with pytest.raises(ValidationError):
        RegionSettings(**region("na1", block))


@pytest.mark.parametrize("name", ["NA1", "na 1", "1na", "", "a" * 33, "na1/../x"])
def test_a_region_name_is_lowercase_letters_digits_and_dashes(name):
    with pytest.raises(ValidationError, match="lowercase"):
        RegionSettings(**region(name, 1))


def test_an_unknown_setting_is_refused_rather_than_ignored():
    with pytest.raises(ValidationError):
        Settings(region=[region("na1", 1)])


@pytest.mark.parametrize(
    ("field", "value"), [("max_script_bytes", 10), ("session_ttl_minutes", 0), ("database_connect_timeout_s", 0)]
)
def test_limits_below_their_floor_are_refused(field, value):
    with pytest.raises(ValidationError):
        Settings(**{field: value})


def test_settings_are_read_from_a_toml_file(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text(
        'directory_url = "postgresql+psycopg://db/directory"\n'
        "max_script_bytes = 4096\n"
        '[[regions]]\nname = "us2"\nvoice_cluster = "sip:us2.example"\nid_block = 7\n'
        'database_url = "postgresql+psycopg://db/us2"\n'
    )

    settings = load_settings(config)

    assert settings.directory_database_url() == "postgresql+psycopg://db/directory"
    assert settings.max_script_bytes == 4096
    assert [(r.name, r.id_block) for r in settings.regions] == [("us2", 7)]


def test_a_toml_file_with_duplicate_regions_is_refused_naming_the_file_and_the_problem(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text(
        '[[regions]]\nname = "na1"\nvoice_cluster = "a"\nid_block = 1\n'
        '[[regions]]\nname = "na1"\nvoice_cluster = "b"\nid_block = 2\n'
    )

    with pytest.raises(BadInput) as caught:
        load_settings(config)

    assert caught.value.code == "invalid_config"
    assert str(config) in caught.value.message
    assert "region names must be unique" in caught.value.message


def test_a_toml_file_with_regions_sharing_an_id_block_is_refused(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text(
        '[[regions]]\nname = "na1"\nvoice_cluster = "a"\nid_block = 3\n'
        '[[regions]]\nname = "eu1"\nvoice_cluster = "b"\nid_block = 3\n'
    )

    with pytest.raises(BadInput, match="id_block values must be unique"):
        load_settings(config)


def test_a_file_that_is_not_toml_is_refused_naming_the_file(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text("regions = [\n")

    with pytest.raises(BadInput, match="not valid TOML") as caught:
        load_settings(config)

    assert caught.value.details["file"] == str(config)


def test_flags_win_over_the_file_and_none_flags_are_ignored(tmp_path):
    config = tmp_path / "lifeboat.toml"
    config.write_text('data_dir = "from-file"\nmax_script_bytes = 4096\n')

    settings = load_settings(config, data_dir=Path("from-flag"), max_script_bytes=None)

    assert settings.data_dir == Path("from-flag")
    assert settings.max_script_bytes == 4096


def test_the_config_file_may_come_from_the_environment(tmp_path, monkeypatch):
    config = tmp_path / "lifeboat.toml"
    config.write_text("max_file_bytes = 2048\n")
    monkeypatch.setenv("LIFEBOAT_CONFIG", str(config))

    assert load_settings().max_file_bytes == 2048


def test_environment_variables_set_settings(monkeypatch):
    monkeypatch.setenv("LIFEBOAT_SESSION_TTL_MINUTES", "30")

    assert load_settings().session_ttl_minutes == 30


def test_a_missing_config_file_is_an_error_not_the_defaults(tmp_path):
    with pytest.raises(BadInput, match="cannot read it") as caught:
        load_settings(tmp_path / "nope.toml")

    assert caught.value.code == "invalid_config"


def test_edge_rpc_networks_default_to_loopback_and_private_and_a_bad_cidr_is_refused(tmp_path):
    assert "127.0.0.0/8" in load_settings().edge_rpc_networks
    config = tmp_path / "lifeboat.toml"
    config.write_text('edge_rpc_networks = ["10.0.0.0/8", "10.0.0.300/24"]\n')

    with pytest.raises(BadInput, match="10.0.0.300/24") as caught:
        load_settings(config)

    assert caught.value.code == "invalid_config"
