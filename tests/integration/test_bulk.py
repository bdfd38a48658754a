"""The bulk loader (services.entities.bulk) on SQLite and PostgreSQL: Refs between drafts, the
teams/users cycle, skipping what exists, all-or-nothing, and the login index."""

from __future__ import annotations

import pytest

from lifeboat.domain.access import Principal
from lifeboat.errors import Conflict, Forbidden, Invalid
from lifeboat.services.entities import bulk
from lifeboat.services.entities.bulk import Ref, load_entities
from lifeboat.services.tenancy.tenants import create_tenant
from lifeboat.store.directory import LoginIndexRepo
from lifeboat.store.region import EntityRepo

OPS = Principal("operator", 0, "test")


def user(key: str, username: str, password: str = "password-one", **fields) -> tuple[str, str, dict]:
    return (
        "users",
        key,
        {
            "username": username,
            "email": f"{username}@example.test",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "password": password,
            **fields,
        },
    )


CENTER = [
    ("roles", "role:agent", {"name": "Agent", "permissions": ["agent"]}),
    ("teams", "team:billing", {"name": "Billing", "lead_user_id": Ref("user:lead")}),
    user("user:lead", "lead", role_id=Ref("role:agent"), team_id=Ref("team:billing")),
    user("user:agent", "agent", role_id=Ref("role:agent"), team_id=Ref("team:billing")),
    ("hours-of-operation", "hours:main", {"name": "Main hours"}),
    ("skills", "skill:billing", {"name": "Billing", "hours_of_operation_id": Ref("hours:main")}),
    (
        "agent-settings",
        "settings:agent",
        {"user_id": Ref("user:agent"), "skills": [{"skill_id": Ref("skill:billing"), "proficiency": 7}]},
    ),
]


@pytest.fixture
def tenant(platform):
    return create_tenant(platform, OPS, "Bulk Co", "na1")


def stored(platform, tenant) -> dict[int, object]:
    region = platform.region(tenant.region)
    with region.db.read() as conn:
        return {e.id: e for e in EntityRepo(conn, region.id_block).all_of(tenant.id) if e.type != "business-unit"}


def claim_of(platform, username: str):
    with platform.directory.read() as conn:
        return LoginIndexRepo(conn).lookup(username)


def test_refs_become_the_ids_of_the_drafts_they_name_across_the_team_user_cycle(platform, tenant):
    result = load_entities(platform, OPS, tenant.id, CENTER)
    entities, ids = stored(platform, tenant), result.ids
    assert entities[ids["team:billing"]].data["lead_user_id"] == ids["user:lead"]
    assert entities[ids["user:lead"]].data["team_id"] == ids["team:billing"]
    assert entities[ids["settings:agent"]].data["skills"] == [{"skill_id": ids["skill:billing"], "proficiency": 7}]
    assert claim_of(platform, "agent") == (tenant.id, ids["user:agent"])


def test_loading_twice_adds_nothing_and_reports_what_it_found(platform, tenant):
    first = load_entities(platform, OPS, tenant.id, CENTER)
    second = load_entities(platform, OPS, tenant.id, CENTER)
    assert (second.created, second.skipped) == (0, len(CENTER))
    assert second.ids == first.ids
    assert len(stored(platform, tenant)) == len(CENTER)


def test_a_draft_may_name_an_existing_entity_by_id(platform, tenant):
    first = load_entities(platform, OPS, tenant.id, CENTER[:1])
    load_entities(platform, OPS, tenant.id, [user("user:x", "xavier", role_id=first.ids["role:agent"])])
    (xavier,) = [e for e in stored(platform, tenant).values() if e.type == "users"]
    assert xavier.data["role_id"] == first.ids["role:agent"]


def test_one_invalid_draft_writes_nothing_and_names_the_draft_and_field(platform, tenant):
    drafts = [*CENTER, user("user:bad", "bad", email="not-an-email")]
    with pytest.raises(Invalid) as caught:
        load_entities(platform, OPS, tenant.id, drafts)
    assert [e["field"] for e in caught.value.details["errors"]] == ["user:bad.email"]
    assert stored(platform, tenant) == {}
    assert claim_of(platform, "agent") is None


@pytest.mark.parametrize(
    ("draft", "code"),
    [
        (user("user:x", "x", role_id=Ref("role:missing")), "unknown_ref"),
        (user("user:x", "x", role_id=Ref("hours:main")), "unknown_reference"),
        (user("user:x", "x", role_id=Ref("settings:agent")), "unknown_reference"),  # a type written later
        (user("user:x", "x", role_id=999_999), "unknown_reference"),
    ],
)
def test_a_reference_to_nothing_or_to_the_wrong_type_is_refused(platform, tenant, draft, code):
    with pytest.raises(Invalid) as caught:
        load_entities(platform, OPS, tenant.id, [*CENTER, draft])
    assert [(e["field"], e["code"]) for e in caught.value.details["errors"]] == [("user:x.role_id", code)]


def test_two_drafts_with_one_natural_key_are_refused(platform, tenant):
    with pytest.raises(Invalid) as caught:
        load_entities(
            platform, OPS, tenant.id, [("dispositions", "a", {"name": "Sale"}), ("dispositions", "b", {"name": "Sale"})]
        )
    assert caught.value.details["errors"][0]["code"] == "duplicate_natural_key"


def test_a_username_of_another_tenant_is_taken_and_nothing_is_written(platform, tenant):
    other = create_tenant(platform, OPS, "Other Co", "eu1")
    load_entities(platform, OPS, other.id, [user("u", "agent")])
    with pytest.raises(Conflict) as caught:
        load_entities(platform, OPS, tenant.id, CENTER)
    assert caught.value.code == "username_taken" and caught.value.details["usernames"] == ["agent"]
    assert stored(platform, tenant) == {}
    assert claim_of(platform, "lead") is None


def test_claimed_usernames_are_given_back_when_the_region_write_fails(platform, tenant, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "_write", fail)
    with pytest.raises(RuntimeError):
        load_entities(platform, OPS, tenant.id, CENTER)
    assert (claim_of(platform, "lead"), claim_of(platform, "agent")) == (None, None)


def test_a_load_failing_half_way_through_its_inserts_leaves_no_entity_and_no_claimed_username(
    platform, tenant, monkeypatch
):
    written = []
    insert_many = EntityRepo.insert_many

    def insert_until_the_last_batch(self, batch):
        if any(e.type == "agent-settings" for e in batch):  # written last: they name the users
            raise RuntimeError("connection lost")
        insert_many(self, batch)
        written.extend(e.type for e in batch)

    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    monkeypatch.setattr(EntityRepo, "insert_many", insert_until_the_last_batch)
    with pytest.raises(RuntimeError):
        load_entities(platform, OPS, tenant.id, CENTER)
    assert "users" in written  # the users were inserted before the load failed
    assert stored(platform, tenant) == {}
    assert (claim_of(platform, "lead"), claim_of(platform, "agent")) == (None, None)


def test_each_distinct_password_is_hashed_once(platform, tenant):
    drafts = [user(f"u{n}", f"user{n}", password="shared-password") for n in range(3)]
    drafts.append(user("u9", "loner", password="another-password"))
    load_entities(platform, OPS, tenant.id, drafts)
    hashes = {e.data["username"]: e.data["password_hash"] for e in stored(platform, tenant).values()}
    assert len({hashes["user0"], hashes["user1"], hashes["user2"]}) == 1
    assert hashes["loner"] != hashes["user0"]
    assert platform.passwords.verify(hashes["loner"], "another-password")


def test_a_user_without_the_edit_permission_of_a_type_may_not_load_it(platform, tenant):
    viewer = Principal("user", 1, "viewer", tenant.id, frozenset({"admin.edit", "acd.view"}))
    with pytest.raises(Forbidden):
        load_entities(platform, viewer, tenant.id, CENTER)
