"""The per-type rules the table names (``domain.entity_rules``), and that no code outside
the table decides by a type's name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifeboat.domain import entity_rules as rules
from lifeboat.domain import fields as f
from lifeboat.domain.entities import ENTITY_TYPES, EntityType, Field, prepare
from lifeboat.domain.records import Row
from lifeboat.domain.sync_settings import default_settings
from lifeboat.errors import Invalid, TooLarge

SRC = Path(__file__).resolve().parents[2] / "src" / "lifeboat"
# A type's name compared with ==/!= or used to pick a rule: the table says these now.
NAMED_RULE = re.compile(
    r'(==|!=) "(scripts|users|files|points-of-contact|agent-settings)"'
    r'|"(scripts|users|files|points-of-contact)" (==|!=)'
)


def test_no_module_picks_a_rule_by_comparing_a_type_name():
    found = [
        f"{path.relative_to(SRC)}:{n}: {line.strip()}"
        for path in SRC.rglob("*.py")
        if "migrations" not in path.parts
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if NAMED_RULE.search(line)
    ]
    # Queries, not rules of the table: routing reads the points of contact it routes to, and
    # readiness's count of agents per skill joins users with their agent settings.
    queries = ("services/bcp/routing.py", "store/region.py")
    assert [line for line in found if not line.startswith(queries)] == []


def test_a_password_is_stored_as_its_hash_only():
    data = {"username": "ada", "password": "secret-1"}
    prepare(ENTITY_TYPES["users"], data, rules.Limits(), lambda p: f"hashed:{p}")
    assert data == {"username": "ada", "password_hash": "hashed:secret-1"}


def test_the_password_hash_is_a_stored_secret_no_answer_shows():
    users = ENTITY_TYPES["users"]
    assert users.public({"username": "ada", "password_hash": "h"}) == {"username": "ada"}
    assert "password_hash" in users.stored_secrets


def test_file_bytes_are_kept_apart_with_their_size_and_checksum():
    data = {"path": "a.wav", "content": b"abc"}
    _, content = prepare(ENTITY_TYPES["files"], data, rules.Limits(), str)
    assert content == b"abc"
    assert data == {"path": "a.wav", **rules.file_facts(b"abc")}


def test_a_file_over_the_limit_is_refused_with_its_size():
    with pytest.raises(TooLarge) as caught:
        prepare(ENTITY_TYPES["files"], {"path": "a.wav", "content": b"x" * 11}, rules.Limits(max_file_bytes=10), str)
    assert (caught.value.code, caught.value.details) == ("file_too_large", {"size": 11, "limit": 10})


def test_a_script_is_read_within_the_depth_limit():
    deep: dict = {}
    inner = deep
    for _ in range(20):
        inner["x"] = {}
        inner = inner["x"]
    with pytest.raises(Invalid) as caught:
        prepare(ENTITY_TYPES["scripts"], {"path": "Main", "content": deep}, rules.Limits(max_json_depth=8), str)
    assert caught.value.code == "too_deep"


def test_a_type_without_a_prepare_rule_is_stored_as_validated():
    data = {"name": "Billing"}
    assert prepare(ENTITY_TYPES["skills"], data, rules.Limits(), str) == ({"name": "Billing"}, None)


@pytest.mark.parametrize(
    ("key", "synced"), [("voice|+15551234567", True), ("email|a@b.example", False), ("chat|web", False)]
)
def test_only_voice_points_of_contact_are_in_the_sync_scope(key, synced):
    scope = ENTITY_TYPES["points-of-contact"].sync_scope
    assert scope is not None and scope(Row(1, "points-of-contact", key, 1)) is synced


def test_agent_settings_go_with_their_user_and_the_username_is_the_login_key():
    users = ENTITY_TYPES["users"]
    assert users.removed_with == ("agent-settings",)
    assert users.login_key == "username" and users.natural_key == ("username",)


def test_every_type_a_content_names_is_in_the_table():
    for kind in ENTITY_TYPES.values():
        assert set(kind.content_targets) <= set(ENTITY_TYPES), kind.name


def test_the_default_settings_select_a_type_registered_after_import(monkeypatch):
    monkeypatch.setitem(ENTITY_TYPES, "queues", EntityType("queues", "ACD", "acd", fields=(Field("name", f.text()),)))
    assert "queues" in default_settings()["entity_types"]
