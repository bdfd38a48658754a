"""The entity types of SPEC §2 as data, and ``validate`` (lifeboat.domain.entities)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest

from lifeboat.domain.entities import (
    ENTITY_TYPES,
    PERMISSIONS,
    READ_ONLY,
    Entity,
    file_facts,
    request_schema,
    validate,
)
from lifeboat.errors import Invalid
from tests.examples import EXAMPLES

SPEC_TYPES = {
    "business-unit",
    "hours-of-operation",
    "dispositions",
    "skills",
    "roles",
    "teams",
    "users",
    "agent-settings",
    "points-of-contact",
    "files",
    "scripts",
}
_ids = count(100)


def payload(type_name: str, **overrides: object) -> dict:
    """The example payload of a type, with made-up ids for its references."""
    return {**EXAMPLES[type_name](next(_ids), lambda target: next(_ids)), **overrides}


def problems(type_name: str, body: object, current: dict | None = None) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        validate(ENTITY_TYPES[type_name], body, current=current)
    whole_body = [{"field": "body", "code": caught.value.code}]
    return {e["field"]: e["code"] for e in caught.value.details.get("errors", whole_body)}


def test_the_table_holds_the_eleven_types_of_the_spec():
    assert set(ENTITY_TYPES) == SPEC_TYPES


def test_only_the_business_unit_is_a_singleton():
    assert [name for name, kind in ENTITY_TYPES.items() if kind.singleton] == ["business-unit"]


@pytest.mark.parametrize(
    ("type_name", "key"),
    [
        ("hours-of-operation", ("name",)),
        ("dispositions", ("name",)),
        ("skills", ("name",)),
        ("roles", ("name",)),
        ("teams", ("name",)),
        ("users", ("username",)),
        ("agent-settings", ("user_id",)),
        ("points-of-contact", ("channel", "address")),
        ("files", ("path",)),
        ("scripts", ("path",)),
    ],
)
def test_each_type_has_the_natural_key_of_the_spec(type_name, key):
    assert ENTITY_TYPES[type_name].natural_key == key


def test_every_link_points_at_a_type_of_the_table_and_a_field_of_its_own():
    for kind in ENTITY_TYPES.values():
        for link in kind.links:
            assert link.target in ENTITY_TYPES, (kind.name, link)
            assert link.field in kind.field_names, (kind.name, link)


def test_the_permissions_are_those_of_the_spec():
    named_in_the_spec = {
        "admin.view",
        "admin.edit",
        "acd.view",
        "acd.edit",
        "studio.view",
        "studio.edit",
        "bcp.sync.view",
        "bcp.sync.edit",
        "bcp.enablement.view",
        "bcp.enablement.edit",
        "agent",
    }
    assert named_in_the_spec == PERMISSIONS


@pytest.mark.parametrize("type_name", sorted(SPEC_TYPES))
def test_the_example_payload_of_each_type_is_valid_and_kept(type_name):
    body = payload(type_name)

    data = validate(ENTITY_TYPES[type_name], body)

    assert {k: data[k] for k in body if k != "content" or type_name != "files"} == {
        k: v for k, v in body.items() if k != "content" or type_name != "files"
    }


def test_file_content_is_validated_into_bytes():
    data = validate(ENTITY_TYPES["files"], payload("files", content="aGVsbG8="))

    assert data["content"] == b"hello"


@pytest.mark.parametrize("type_name", sorted(SPEC_TYPES))
def test_fields_left_out_take_their_defaults(type_name):
    kind = ENTITY_TYPES[type_name]
    required = {f.name: payload(type_name)[f.name] for f in kind.fields if f.required}

    data = validate(kind, required)

    for spec in kind.fields:
        if not spec.required and not spec.write_only:
            assert data[spec.name] == spec.default, spec.name


def test_defaults_are_fresh_copies_not_shared_between_entities():
    first = validate(ENTITY_TYPES["skills"], {"name": "A"})
    first["disposition_ids"].append(1)

    assert validate(ENTITY_TYPES["skills"], {"name": "B"})["disposition_ids"] == []


@pytest.mark.parametrize("type_name", sorted(SPEC_TYPES))
def test_every_required_field_missing_is_listed(type_name):
    kind = ENTITY_TYPES[type_name]

    assert problems(type_name, {}) == {f.name: "required" for f in kind.fields if f.required}


def test_unknown_fields_are_listed_but_read_only_fields_are_ignored():
    body = payload("skills", id=5, created_at="x", updated_at="y", colour="blue", owner="me")

    assert problems("skills", body) == {"colour": "unknown_field", "owner": "unknown_field"}
    assert "id" not in validate(ENTITY_TYPES["skills"], {k: v for k, v in body.items() if k not in ("colour", "owner")})


def test_the_read_only_fields_include_the_file_facts():
    assert {"id", "created_at", "updated_at", "size", "sha256"} <= READ_ONLY


@pytest.mark.parametrize("body", [[], "skill", None, 5])
def test_a_body_must_be_an_object(body):
    assert problems("skills", body) == {"body": "not_an_object"}


def test_every_problem_is_reported_at_once():
    body = {
        "username": "no spaces allowed",
        "email": "x",
        "first_name": "Ada",
        "last_name": "L",
        "bcp_type": "all",
        "password": "short",
    }

    assert problems("users", body) == {
        "username": "bad_username",
        "email": "bad_email",
        "bcp_type": "bad_choice",
        "password": "weak_password",
    }


# --- partial updates ---------------------------------------------------------------------------


def test_a_partial_update_keeps_the_fields_it_does_not_name():
    current = validate(ENTITY_TYPES["skills"], payload("skills", name="Billing", media_type="voice"))

    data = validate(ENTITY_TYPES["skills"], {"media_type": "chat"}, current=current)

    assert data == {**current, "media_type": "chat"}


def test_a_partial_update_does_not_ask_for_required_fields():
    current = validate(ENTITY_TYPES["users"], payload("users"))

    assert validate(ENTITY_TYPES["users"], {"is_active": False}, current=current)["username"] == current["username"]


def test_a_partial_update_keeps_the_password_hash():
    current = {**validate(ENTITY_TYPES["users"], payload("users")), "password_hash": "$argon2id$v=19$stored"}
    del current["password"]

    data = validate(ENTITY_TYPES["users"], {"first_name": "Grace"}, current=current)

    assert data["password_hash"] == "$argon2id$v=19$stored"
    assert "password" not in data


def test_a_partial_update_drops_stale_keys_that_are_not_fields():
    current = {**validate(ENTITY_TYPES["skills"], payload("skills")), "legacy": "x"}

    assert "legacy" not in validate(ENTITY_TYPES["skills"], {"name": "New"}, current=current)


# --- rules across fields -----------------------------------------------------------------------


def test_voice_point_of_contact_needs_an_e164_address():
    assert problems("points-of-contact", payload("points-of-contact", address="555-1234")) == {"address": "bad_e164"}


def test_an_email_point_of_contact_needs_an_email_address():
    assert problems("points-of-contact", payload("points-of-contact", channel="email", address="+15551234567")) == {
        "address": "bad_email"
    }


@pytest.mark.parametrize(
    ("channel", "address"), [("chat", "website-chat"), ("sms", "12345"), ("email", "help@example.com")]
)
def test_digital_points_of_contact_take_their_own_kind_of_address(channel, address):
    data = validate(ENTITY_TYPES["points-of-contact"], payload("points-of-contact", channel=channel, address=address))

    assert data["address"] == address


def test_a_partial_update_to_voice_checks_the_kept_address():
    current = validate(ENTITY_TYPES["points-of-contact"], payload("points-of-contact", channel="chat", address="web"))

    assert problems("points-of-contact", {"channel": "voice"}, current) == {"address": "bad_e164"}


# --- values -----------------------------------------------------------------------------------


def test_the_natural_key_joins_its_fields():
    kind = ENTITY_TYPES["points-of-contact"]

    assert kind.key_of({"channel": "voice", "address": "+15551234567"}) == "voice|+15551234567"


def test_an_entity_knows_its_natural_key_and_whether_it_is_active():
    stamp = datetime.now(UTC)
    entity = Entity(1, 2, "skills", {"name": "Billing", "is_active": False}, stamp, stamp)

    assert (entity.natural_key, entity.is_active) == ("Billing", False)


def test_the_public_view_of_a_user_hides_the_password_and_its_hash():
    data = {"username": "ada", "password": "secret123", "password_hash": "$argon2id$x"}

    assert ENTITY_TYPES["users"].public(data) == {"username": "ada"}


def test_the_public_view_of_a_file_hides_its_bytes():
    assert ENTITY_TYPES["files"].public({"path": "a.wav", "content": b"x", "size": 1}) == {"path": "a.wav", "size": 1}


def test_file_facts_are_size_and_sha256():
    sha256_of_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert file_facts(b"abc") == {"size": 3, "sha256": sha256_of_abc}


@pytest.mark.parametrize("type_name", sorted(SPEC_TYPES))
def test_the_request_schema_lists_every_field_and_refuses_others(type_name):
    kind = ENTITY_TYPES[type_name]

    full, partial = request_schema(kind, partial=False), request_schema(kind, partial=True)

    assert set(full["properties"]) == kind.field_names
    assert full["additionalProperties"] is False
    assert set(full.get("required", [])) == {f.name for f in kind.fields if f.required}
    assert "required" not in partial
