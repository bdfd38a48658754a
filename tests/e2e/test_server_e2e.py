"""The real ``lifeboat serve`` over real HTTP on loopback: what an operator, an administrator
and a script developer do through the API (SPEC §2, §3, §5, §9), on SQLite and PostgreSQL.

One server per backend serves the whole module; every test makes its own tenants.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx2
import pytest

from tests.e2e.lifeboat_process import API, LifeboatServer, error_code

# SPEC §2, in an order where every reference points backwards (a user's team comes later).
ENTITY_TYPES = [
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
]
COLLECTIONS = [t for t in ENTITY_TYPES if t != "business-unit"]
ALL_PERMISSIONS = sorted(
    [
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
    ]
)
MAX_ID = 2**53 - 1
_names = itertools.count()


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}-{time.monotonic_ns() % 10**6}"


def created(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 201, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json()


def ok(response: httpx2.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def new_tenant(api: httpx2.Client, region: str) -> dict[str, Any]:
    tenant = created(api.post(f"{API}/tenants", json={"name": unique(f"Acme {region}"), "region": region}))
    assert tenant["region"] == region
    return tenant


@pytest.fixture
def ops(lifeboat_server: LifeboatServer) -> httpx2.Client:
    """The operator, logged in over HTTP."""
    return lifeboat_server.operator()


# ----------------------------------------------------------------- a whole contact center


@dataclass
class ContactCenter:
    """One of every entity type in a tenant: what was sent, and what the server answered."""

    tenant: dict[str, Any]
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    made: dict[str, dict[str, Any]] = field(default_factory=dict)

    def url(self, type_: str, entity_id: int | None = None) -> str:
        base = f"{API}/tenants/{self.tenant['id']}/{type_}"
        return base if entity_id is None else f"{base}/{entity_id}"

    def id(self, type_: str) -> int:
        return self.made[type_]["id"]


WELCOME_WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4
PASSWORD = "agent-password-1"


def studio_script(cc: ContactCenter) -> dict[str, Any]:
    """A Studio JSON script whose REQAGENT, HOURS and SETDISPOSITION hold real ids."""
    return {
        "header": {"name": "Main", "version": 3},
        "actions": {
            "1": {"name": "BEGIN"},
            "2": {"name": "HOURS"},
            "3": {"name": "PLAY"},
            "4": {"name": "REQAGENT"},
            "5": {"name": "SETDISPOSITION"},
            "6": {"name": "RUNSUB"},
        },
        "properties": {
            "2": {"0": {"name": "Profile", "value": str(cc.id("hours-of-operation"))}},
            "3": {"0": {"name": "Sequence", "value": '"prompts/welcome.wav" %"Thanks for calling"'}},
            "4": {
                "0": {"name": "Skill", "value": str(cc.id("skills"))},
                "1": {"name": "TargetAgent", "value": str(cc.id("users"))},
                "2": {"name": "Priority", "value": "5"},
            },
            "5": {
                "0": {"name": "Skill", "value": "{SkillNo}"},
                "1": {"name": "Disposition", "value": str(cc.id("dispositions"))},
            },
            "6": {"0": {"name": "ScriptName", "value": "Inbound/Main"}},
        },
        "branches": {"1": {"Default": "2"}, "2": {"Open": "3", "Closed": "5"}, "3": {"Default": "4"}},
    }


def make(api: httpx2.Client, cc: ContactCenter, type_: str, payload: dict[str, Any]) -> dict[str, Any]:
    cc.sent[type_] = payload
    cc.made[type_] = created(api.post(cc.url(type_), json=payload))
    return cc.made[type_]


def build_contact_center(api: httpx2.Client, region: str = "na1") -> ContactCenter:
    cc = ContactCenter(new_tenant(api, region))
    tag = cc.tenant["id"]
    make(api, cc, "dispositions", {"name": "Resolved", "classification": "positive", "is_active": True})
    make(
        api,
        cc,
        "hours-of-operation",
        {
            "name": "Weekdays",
            "time_zone": "America/New_York",
            "weekly": [
                {"day": "mon", "open": "08:00", "close": "17:30"},
                {"day": "fri", "open": "09:00", "close": "16:00"},
            ],
            "holidays": [{"date": "2025-12-25", "name": "Christmas Day"}],
            "is_active": True,
        },
    )
    make(
        api,
        cc,
        "skills",
        {
            "name": "Billing",
            "media_type": "voice",
            "hours_of_operation_id": cc.id("hours-of-operation"),
            "disposition_ids": [cc.id("dispositions")],
            "is_active": True,
        },
    )
    extra_skills = [
        created(api.post(cc.url("skills"), json={"name": f"Skill {n}", "media_type": "voice"}))["id"] for n in (2, 3)
    ]
    make(api, cc, "roles", {"name": "Supervisor", "permissions": ALL_PERMISSIONS, "is_active": True})
    make(
        api,
        cc,
        "users",
        {
            "username": f"jdoe{tag}",
            "email": f"jdoe{tag}@example.com",
            "first_name": "Jane",
            "last_name": "Doe",
            "role_id": cc.id("roles"),
            "team_id": None,
            "bcp_type": "single",
            "password": PASSWORD,
            "is_active": True,
        },
    )
    make(api, cc, "teams", {"name": "Tier 1", "lead_user_id": cc.id("users"), "is_active": True})
    # Close the cycle: the team's lead is a member of the team.
    cc.made["users"] = ok(api.patch(cc.url("users", cc.id("users")), json={"team_id": cc.id("teams")}))
    cc.sent["users"]["team_id"] = cc.id("teams")
    make(
        api,
        cc,
        "agent-settings",
        {
            "user_id": cc.id("users"),
            "max_concurrent_chats": 2,
            "refusal_timeout_s": 45,
            "skills": sorted(
                [{"skill_id": cc.id("skills"), "proficiency": 1}]
                + [{"skill_id": s, "proficiency": p} for s, p in zip(extra_skills, (10, 20))],
                key=lambda s: s["skill_id"],
            ),
        },
    )
    make(api, cc, "files", {"path": "prompts/welcome.wav", "content": base64.b64encode(WELCOME_WAV).decode()})
    make(
        api,
        cc,
        "scripts",
        {"path": "Inbound/Main", "media_type": "voice", "content": studio_script(cc), "is_active": True},
    )
    make(
        api,
        cc,
        "points-of-contact",
        {
            "name": "Main line",
            "channel": "voice",
            "address": f"+1555{tag % 10**7:07d}",
            "skill_id": cc.id("skills"),
            "script_path": "Inbound/Main",
            "is_active": True,
        },
    )
    return cc


def assert_fields_equal(sent: dict[str, Any], got: dict[str, Any], *, write_only: tuple[str, ...] = ()) -> None:
    for name, value in sent.items():
        if name in write_only:
            assert name not in got, f"{name} is write-only but was returned"
        else:
            assert got.get(name) == value, f"{name}: sent {value!r}, read back {got.get(name)!r}"


# ------------------------------------------------------------------------------- tests


def test_status_answers_without_login(lifeboat_server):
    status = lifeboat_server.status()

    assert status["directory"] == "up"
    assert {r["name"]: (r["status"], r["voice_cluster"]) for r in status["regions"]} == {
        "na1": ("up", "sip:na1.voice.lifeboat.test"),
        "eu1": ("up", "sip:eu1.voice.lifeboat.test"),
    }


def test_operator_logs_in_creates_tenants_in_both_regions_and_logs_out(lifeboat_server, ops):
    na1, eu1 = new_tenant(ops, "na1"), new_tenant(ops, "eu1")

    listed = ok(ops.get(f"{API}/tenants", params={"limit": 1000}))
    by_id = {t["id"]: t for t in listed["items"]}
    assert by_id[na1["id"]]["region"] == "na1" and by_id[eu1["id"]]["region"] == "eu1"
    assert ok(ops.get(f"{API}/tenants/{eu1['id']}"))["name"] == eu1["name"]
    assert ok(ops.get(f"{API}/tenants/{na1['id']}/business-unit"))["name"] == na1["name"]

    assert ops.post(f"{API}/auth/logout").status_code == 204
    after = ops.get(f"{API}/tenants")
    assert after.status_code == 401 and error_code(after) == "invalid_token"


def test_wrong_password_is_refused_with_401(lifeboat_server):
    response = lifeboat_server.http.post(f"{API}/auth/login", json={"username": "ops", "password": "not-it-at-all"})

    assert response.status_code == 401
    assert error_code(response) == "invalid_credentials"


def test_every_entity_type_reads_back_field_by_field(ops):
    cc = build_contact_center(ops)

    for type_ in COLLECTIONS:
        got = ok(ops.get(cc.url(type_, cc.id(type_))))
        assert got["id"] == cc.id(type_)
        assert 0 < got["id"] <= MAX_ID
        assert datetime.fromisoformat(got["created_at"]) <= datetime.fromisoformat(got["updated_at"])
        if type_ == "files":
            assert got["path"] == "prompts/welcome.wav"
            assert base64.b64decode(got["content"]) == WELCOME_WAV
            assert got["size"] == len(WELCOME_WAV)
            assert got["sha256"] == hashlib.sha256(WELCOME_WAV).hexdigest()
        else:
            assert_fields_equal(cc.sent[type_], got, write_only=("password",) if type_ == "users" else ())
    assert "password_hash" not in ok(ops.get(cc.url("users", cc.id("users"))))
    # The user's password was stored: the user can log in with it.
    assert ok(ops.post(f"{API}/auth/login", json={"username": cc.sent["users"]["username"], "password": PASSWORD}))[
        "user"
    ]["id"] == cc.id("users")


def test_business_unit_is_a_singleton_replaced_with_put(ops):
    tenant = new_tenant(ops, "eu1")
    url = f"{API}/tenants/{tenant['id']}/business-unit"
    body = {"name": "Acme Europe", "time_zone": "Europe/Paris", "settings": {"max_queue": 50, "language": "fr"}}

    put = ok(ops.put(url, json=body))

    assert_fields_equal(body, put)
    assert_fields_equal(body, ok(ops.get(url)))
    assert error_code(ops.post(url, json=body)) in ("method_not_allowed", "singleton")
    bad = ops.put(url, json={**body, "time_zone": "Mars/Olympus"})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["errors"][0]["code"] == "bad_time_zone"


PATCHES = {
    "dispositions": {"classification": "negative"},
    "hours-of-operation": {"is_active": False},
    "skills": {"name": "Billing (English)"},
    "roles": {"permissions": ["acd.view", "agent"]},
    "teams": {"name": "Tier 2"},
    "users": {"first_name": "Janet"},
    "agent-settings": {"max_concurrent_chats": 4},
    "points-of-contact": {"is_active": False},
    "files": {"content": base64.b64encode(b"a new welcome").decode()},
    "scripts": {"media_type": "chat"},
}


def test_patch_changes_one_field_and_keeps_the_others(ops):
    cc = build_contact_center(ops)

    for type_, change in PATCHES.items():
        before = ok(ops.get(cc.url(type_, cc.id(type_))))
        patched = ok(ops.patch(cc.url(type_, cc.id(type_)), json=change))
        after = ok(ops.get(cc.url(type_, cc.id(type_))))

        ((name, value),) = change.items()
        if type_ == "files":
            assert base64.b64decode(after["content"]) == b"a new welcome"
            assert (
                after["size"] == len(b"a new welcome")
                and after["sha256"] == hashlib.sha256(b"a new welcome").hexdigest()
            )
            assert after["path"] == before["path"]
        else:
            assert patched[name] == value and after[name] == value, type_
            unchanged = {k: v for k, v in before.items() if k not in (name, "updated_at")}
            assert {k: after[k] for k in unchanged} == unchanged, type_
        assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(before["updated_at"]), type_
        assert after["created_at"] == before["created_at"]

    # Changing the first name kept the password.
    ok(ops.post(f"{API}/auth/login", json={"username": cc.sent["users"]["username"], "password": PASSWORD}))
    # The audit log has the skill's rename, with before and after.
    audit = ok(ops.get(f"{API}/tenants/{cc.tenant['id']}/audit", params={"limit": 1000}))["items"]
    rename = next(a for a in audit if a["action"] == "skills.update" and a["entity_id"] == cc.id("skills"))
    assert (rename["before"]["name"], rename["after"]["name"]) == ("Billing", "Billing (English)")
    assert rename["actor"] == "operator:ops"


def test_invalid_patch_is_refused_and_changes_nothing(ops):
    cc = build_contact_center(ops)
    url = cc.url("points-of-contact", cc.id("points-of-contact"))

    response = ops.patch(url, json={"address": "555-1234"})

    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["code"] == "bad_e164"
    assert ok(ops.get(url))["address"] == cc.sent["points-of-contact"]["address"]


def test_lists_are_paged_in_id_order(ops):
    tenant = new_tenant(ops, "na1")
    url = f"{API}/tenants/{tenant['id']}/dispositions"
    ids = [created(ops.post(url, json={"name": f"Outcome {n}"}))["id"] for n in range(7)]

    pages = [ok(ops.get(url, params={"limit": 3, "offset": offset})) for offset in (0, 3, 6, 9)]

    assert [p["total"] for p in pages] == [7, 7, 7, 7]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert [item["id"] for p in pages for item in p["items"]] == sorted(ids)
    assert ok(ops.get(url))["total"] == 7  # the default page holds them all
    too_big = ops.get(url, params={"limit": 100_000})
    assert too_big.status_code == 422 and error_code(too_big) == "validation_failed"


def test_delete_refuses_a_referenced_entity_then_removes_everything(ops):
    cc = build_contact_center(ops)

    in_use = ops.delete(cc.url("skills", cc.id("skills")))
    assert in_use.status_code == 409 and error_code(in_use) == "entity_in_use"
    referrers = {(r["type"], r["id"]) for r in in_use.json()["error"]["details"]["referenced_by"]}
    assert {("agent-settings", cc.id("agent-settings")), ("points-of-contact", cc.id("points-of-contact"))} <= referrers

    ok(ops.patch(cc.url("users", cc.id("users")), json={"team_id": None}))
    for type_ in [
        "points-of-contact",
        "scripts",
        "files",
        "agent-settings",
        "teams",
        "users",
        "roles",
        "skills",
        "hours-of-operation",
        "dispositions",
    ]:
        for entity in ok(ops.get(cc.url(type_)))["items"]:
            assert ops.delete(cc.url(type_, entity["id"])).status_code == 204, type_
        gone = ops.get(cc.url(type_, cc.id(type_)))
        assert gone.status_code == 404 and error_code(gone) == "entity_not_found", type_

    assert {t: ok(ops.get(cc.url(t)))["total"] for t in COLLECTIONS} == dict.fromkeys(COLLECTIONS, 0)
    # The username is free again.
    user = cc.sent["users"]
    created(ops.post(cc.url("users"), json={k: user[k] for k in ("username", "email", "first_name", "last_name")}))


def test_script_references_name_real_entities(ops):
    cc = build_contact_center(ops)

    refs = ok(ops.get(f"{cc.url('scripts', cc.id('scripts'))}/references"))["items"]

    found = {(r["action"], r["property"]): r for r in refs}
    expected_ids = {
        ("HOURS", "Profile"): ("hours-of-operation", cc.id("hours-of-operation")),
        ("REQAGENT", "Skill"): ("skills", cc.id("skills")),
        ("REQAGENT", "TargetAgent"): ("users", cc.id("users")),
        ("SETDISPOSITION", "Disposition"): ("dispositions", cc.id("dispositions")),
    }
    for key, (target, entity_id) in expected_ids.items():
        assert (found[key]["kind"], found[key]["target"], found[key]["value"]) == ("id", target, str(entity_id)), key
        assert found[key]["exists"] is True
    assert (found[("SETDISPOSITION", "Skill")]["kind"], found[("SETDISPOSITION", "Skill")]["value"]) == (
        "variable",
        "{SkillNo}",
    )
    assert (found[("PLAY", "Sequence")]["kind"], found[("PLAY", "Sequence")]["value"]) == (
        "path",
        "prompts/welcome.wav",
    )
    assert found[("PLAY", "Sequence")]["exists"] is True
    assert found[("RUNSUB", "ScriptName")]["target"] == "scripts"
    assert ("REQAGENT", "Priority") not in found
    # Every id the checklist names resolves to an entity of that type in the tenant.
    for ref in (r for r in refs if r["kind"] == "id"):
        assert ok(ops.get(cc.url(ref["target"], int(ref["value"]))))["id"] == int(ref["value"])


def test_desktop_studio_xml_script_is_read_for_references(ops):
    cc = build_contact_center(ops)
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n<Script>'
        '<ActionStruct><Action ID="7" Name="REQAGENT"/><Parameters>'
        f'<Parameter Name="Skill">{cc.id("skills")}</Parameter>'
        "</Parameters></ActionStruct>"
        '<ActionStruct><Action ID="8" Name="SUPPRESSCALL"/><Parameters><Parameter Name="Disposition">999999</Parameter>'
        "</Parameters></ActionStruct></Script>"
    )

    script = created(ops.post(cc.url("scripts"), json={"path": "Inbound/Desktop", "content": xml}))
    refs = ok(ops.get(f"{cc.url('scripts', script['id'])}/references"))["items"]

    assert [(r["action"], r["property"], r["value"], r["kind"], r["exists"]) for r in refs] == [
        ("REQAGENT", "Skill", str(cc.id("skills")), "id", True),
        ("SUPPRESSCALL", "Disposition", "999999", "id", False),
    ]


def test_ids_are_unique_across_regions(ops):
    na1, eu1 = new_tenant(ops, "na1"), new_tenant(ops, "eu1")

    skills = [created(ops.post(f"{API}/tenants/{t['id']}/skills", json={"name": "Sales"}))["id"] for t in (na1, eu1)]

    assert skills[0] != skills[1]
    assert all(0 < i <= MAX_ID for i in [*skills, na1["id"], eu1["id"]])
    assert len({*skills, na1["id"], eu1["id"]}) == 4


def test_a_user_of_one_tenant_cannot_reach_another(lifeboat_server, ops):
    home = build_contact_center(ops, "na1")
    other = build_contact_center(ops, "eu1")
    user = lifeboat_server.login(home.sent["users"]["username"], PASSWORD)

    assert ok(user.get(home.url("skills")))["total"] == 3
    for type_ in COLLECTIONS:
        for response in (
            user.get(other.url(type_)),
            user.get(other.url(type_, other.id(type_))),
            user.patch(other.url(type_, other.id(type_)), json={"is_active": False}),
            user.delete(other.url(type_, other.id(type_))),
        ):
            assert response.status_code == 404, (type_, response.request.method, response.text)
            assert error_code(response) == "tenant_not_found"
            assert str(other.id(type_)) not in response.text
    assert user.get(f"{API}/tenants/{other.tenant['id']}").status_code == 404
    assert [t["id"] for t in ok(user.get(f"{API}/tenants"))["items"]] == [home.tenant["id"]]
    # Nothing of the other tenant changed.
    assert ok(ops.get(other.url("skills", other.id("skills"))))["is_active"] is True
    # And a reference to another tenant's entity is refused.
    cross = user.post(
        home.url("skills"), json={"name": "Cross", "hours_of_operation_id": other.id("hours-of-operation")}
    )
    assert cross.status_code == 422
    assert cross.json()["error"]["details"]["errors"][0]["code"] == "unknown_reference"


def test_permissions_of_the_role_are_enforced(lifeboat_server, ops):
    cc = build_contact_center(ops)
    role = created(ops.post(cc.url("roles"), json={"name": "Agents", "permissions": ["agent", "acd.view"]}))
    created(
        ops.post(
            cc.url("users"),
            json={
                "username": f"agent{cc.tenant['id']}",
                "email": "a@example.com",
                "first_name": "A",
                "last_name": "Gent",
                "role_id": role["id"],
                "password": PASSWORD,
            },
        )
    )
    agent = lifeboat_server.login(f"agent{cc.tenant['id']}", PASSWORD)

    assert ok(agent.get(cc.url("skills")))["total"] == 3
    denied = agent.post(cc.url("skills"), json={"name": "Sneaky"})
    assert denied.status_code == 403 and error_code(denied) == "permission_denied"
    assert agent.get(cc.url("users")).status_code == 403
    assert agent.post(f"{API}/tenants", json={"name": "Mine", "region": "na1"}).status_code == 403
    assert lifeboat_server.http.get(cc.url("skills")).status_code == 401


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Script><ActionStruct><Action ID="1" Name="PLAY"/><Parameters>
<Parameter Name="Sequence">&lol9;</Parameter></Parameters></ActionStruct></Script>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE s [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Script><ActionStruct><Action ID="1" Name="PLAY"/><Parameters>
<Parameter Name="Sequence">&secret;</Parameter></Parameters></ActionStruct></Script>
"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_hostile_xml_script_is_refused_and_the_server_stays_healthy(lifeboat_server, ops, document):
    cc = build_contact_center(ops)

    started = time.monotonic()
    response = ops.post(cc.url("scripts"), json={"path": "Evil/Laughs", "content": document})
    patch = ops.patch(cc.url("scripts", cc.id("scripts")), json={"content": document})

    # Expanding it would take 3 GB and minutes; refusing it takes milliseconds.
    assert time.monotonic() - started < 30, "the document must be refused, not expanded"
    for refused in (response, patch):
        assert refused.status_code == 400, refused.text
        assert error_code(refused) == "hostile_xml"
        assert "root:" not in refused.text
    assert lifeboat_server.is_running
    assert lifeboat_server.status()["directory"] == "up"
    paths = [s["path"] for s in ok(ops.get(cc.url("scripts")))["items"]]
    assert paths == ["Inbound/Main"]
    assert ok(ops.get(cc.url("scripts", cc.id("scripts"))))["content"] == cc.sent["scripts"]["content"]


def test_malformed_json_is_a_400_with_a_stable_code(lifeboat_server, ops):
    tenant = new_tenant(ops, "na1")
    headers = {"Content-Type": "application/json"}

    for response in (
        ops.post(f"{API}/tenants/{tenant['id']}/skills", content=b'{"name": "Sales",', headers=headers),
        ops.put(f"{API}/tenants/{tenant['id']}/business-unit", content=b"{nope}", headers=headers),
        ops.post(f"{API}/tenants", content=b'{"name": "x", "region": }', headers=headers),
        lifeboat_server.http.post(f"{API}/auth/login", content=b'{"username": "ops"', headers=headers),
    ):
        assert response.status_code == 400, response.text
        assert error_code(response) == "malformed_json", response.text
    bad_script = ops.post(f"{API}/tenants/{tenant['id']}/scripts", json={"path": "Bad/One", "content": '{"actions": '})
    assert bad_script.status_code == 400 and error_code(bad_script) == "malformed_script"
    not_an_object = ops.post(f"{API}/tenants/{tenant['id']}/skills", json=["Sales"])
    assert not_an_object.status_code == 422 and error_code(not_an_object) == "not_an_object"
    assert ok(ops.get(f"{API}/tenants/{tenant['id']}/skills"))["total"] == 0


def test_openapi_lists_every_route(lifeboat_server):
    schema = ok(lifeboat_server.http.get("/openapi.json"))
    paths = schema["paths"]

    for type_ in COLLECTIONS:
        assert {"get", "post"} <= set(paths[f"{API}/tenants/{{tenant_id}}/{type_}"]), type_
        assert {"get", "patch", "delete"} <= set(paths[f"{API}/tenants/{{tenant_id}}/{type_}/{{entity_id}}"]), type_
    assert {"get", "put"} <= set(paths[f"{API}/tenants/{{tenant_id}}/business-unit"])
    for path, method in [
        ("/auth/login", "post"),
        ("/auth/logout", "post"),
        ("/status", "get"),
        ("/regions", "get"),
        ("/tenants", "get"),
        ("/tenants", "post"),
        ("/tenants/{tenant_id}/audit", "get"),
        ("/tenants/{tenant_id}/scripts/{script_id}/references", "get"),
    ]:
        assert method in paths[API + path], path
    assert "/docs" not in paths


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_docs_page_loads_only_local_assets(lifeboat_server):
    page = lifeboat_server.http.get("/docs")

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assets = ASSET.findall(page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets), assets
    assert all(a.startswith("/static/") for a in assets), assets
    assert not re.search(r"(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", page.text), "the page must name no other host"
    for asset in assets:
        response = lifeboat_server.http.get(asset)
        assert response.status_code == 200 and len(response.content) > 500, asset
        kind = "javascript" if asset.endswith(".js") else "css" if asset.endswith(".css") else "image"
        assert kind in response.headers["content-type"], asset
    openapi_url = re.search(r"""url:\s*['"]([^'"]+)['"]""", page.text).group(1)
    assert ok(lifeboat_server.http.get(openapi_url))["info"]["title"] == "lifeboat"
