"""Scripts in the vendor's shapes through a sync, on SQLite and PostgreSQL (SPEC §3, §4.7):
Studio JSON with integer values and branch labels, call suppression (SUPPRESSCALL,
CHECKCALLSUP), a Desktop Studio XML export with ``<ActionID>``, and an action the
reference table does not know. Stored and read back exactly; the BCP copies differ from the
primary only in the remapped ids; the checklist lists every reference with its status.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from tests.bcp_fixture import SyncedPlan, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import change_counts, correlation_map, enable_sync, entity_url, put_settings


@dataclass
class Ids:
    hours: int
    billing: int
    support: int
    resolved: int
    agent: int  # user "single"
    admin: int  # user "admin"
    gone: int  # a skill deleted before the sync: nothing in BCP


def branch(to: int, label: Any, kind: str = "default", index: int = 0) -> dict[str, Any]:
    return {"to": to, "label": label, "type": kind, "index": index}


def action(action_id: int, name: str) -> dict[str, Any]:
    return {
        "actionId": action_id,
        "libraryId": f"lib-{name}",
        "name": name,
        "version": 1,
        "label": name.title(),
        "dependencyOrder": action_id,
        "implType": 0,
        "x": 100 * action_id,
        "y": 144,
    }


def numbered(*props: tuple[str, Any]) -> dict[str, Any]:
    return {str(i): {"name": name, "value": value} for i, (name, value) in enumerate(props)}


def suppression(ids: Ids) -> dict[str, Any]:
    return {
        "header": {"scriptName": "Suppress/Known", "mediaType": 4, "purposeType": "Suppression", "nextActionId": 5},
        "actions": {
            "1": action(1, "BEGIN"),
            "2": action(2, "CHECKCALLSUP"),
            "3": action(3, "SUPPRESSCALL"),
            "4": action(4, "ASSIGN"),
        },
        "properties": {
            "1": numbered(("RootFolder", 0), ("Application", 0), ("ParamCount", 0)),
            "2": numbered(("DataValue", "{dataValue}")),
            "3": numbered(("Disposition", ids.resolved)),
            "4": numbered(("Variable", "dataValue"), ("Value", "{contact.CustomInfo.$Value}"), ("Publish", 0)),
        },
        "branches": {
            "1": [branch(4, 0)],
            "4": [branch(2, 0)],
            "2": [branch(3, "Found", "branch", 0), branch(3, "Error", "branch", 1)],
        },
    }


def ivr(ids: Ids) -> dict[str, Any]:
    return {
        "header": {"masterId": 46100, "scriptName": "Inbound/Ivr", "mediaType": 4, "nextActionId": 7, "note": "café ☎"},
        "actions": {
            "1": action(1, "BEGIN"),
            "2": action(2, "HOURS"),
            "3": action(3, "MENU"),
            "4": action(4, "REQAGENT"),
            "5": action(5, "WORKITEM"),
            "6": action(6, "SNIPPET"),
        },
        "properties": {
            "1": numbered(("RootFolder", 0), ("Parameters", ["P1", "P2"])),
            "2": numbered(("Profile", ids.hours)),
            "3": numbered(("Sequence", '"%Press 1"'), ("MaxDigits", 1)),
            "4": numbered(
                ("Skill", [ids.billing, ids.gone, "{Fallback}"]), ("TargetAgent", str(ids.agent)), ("Acceleration", 15)
            ),
            "5": numbered(("QueueId", str(ids.support)), ("Owner", ids.admin), ("Retries", 3)),
            "6": numbered(("Data", f"ASSIGN fallback = {ids.billing}")),
        },
        "branches": {
            "1": [branch(2, "")],
            "2": [branch(3, "Open", "branch", 0), branch(6, "Closed", "branch", 1)],
            "3": [branch(4, 1, "case", 0), branch(5, 2, "case", 1)],
        },
    }


def xml_export(ids: Ids) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Script>
  <ActionStruct>
    <ActionID>1</ActionID>
    <Action>BEGIN</Action>
    <DefaultNextAction><Text /><ActionID>2</ActionID></DefaultNextAction>
  </ActionStruct>
  <ActionStruct>
    <ID>2</ID>
    <ActionID>2</ActionID>
    <Action>REQAGENT</Action>
    <Parameters>
      <Parameter Name="Skill">{ids.support}</Parameter>
      <Parameter Name="TargetAgent">Default</Parameter>
    </Parameters>
    <Cases>
      <BranchStruct><Text>1</Text><ActionID>3</ActionID></BranchStruct>
      <BranchStruct><Text>2</Text><ActionID>4</ActionID></BranchStruct>
    </Cases>
    <DefaultNextAction><Text /><ActionID>-1</ActionID></DefaultNextAction>
  </ActionStruct>
  <ActionStruct>
    <ActionID>3</ActionID>
    <Action>SUPPRESSCALL</Action>
    <Parameters><Parameter Name="Disposition">{ids.resolved}</Parameter></Parameters>
  </ActionStruct>
  <ActionStruct>
    <ActionID>4</ActionID>
    <Action>WORKITEM</Action>
    <Parameters><Parameter Name="Owner">{ids.agent}</Parameter></Parameters>
  </ActionStruct>
</Script>
"""


@pytest.fixture
def world(shared_api, shared_platform) -> tuple[SyncedPlan, Ids]:
    """A paired plan (sync off) whose primary holds the three scripts above, and their ids."""
    plan = build_plan(shared_api, shared_platform, synced=False, bcp_only=False)
    gone = plan.make("skills", "gone", {"name": "Short-lived", "media_type": "voice"})
    plan.ops.call("DELETE", entity_url(plan.primary_id, "skills", gone), expect=204)
    ids = Ids(
        plan.of("hours-of-operation", "weekdays"),
        plan.of("skills", "billing"),
        plan.of("skills", "support"),
        plan.of("dispositions", "resolved"),
        plan.of("users", "single"),
        plan.of("users", "admin"),
        gone,
    )
    for label, path, content in (
        ("suppression", "Suppress/Known", suppression(ids)),
        ("ivr", "Inbound/Ivr", ivr(ids)),
        ("xml", "Inbound/Desktop", xml_export(ids)),
    ):
        plan.make("scripts", label, {"path": path, "media_type": "voice", "content": content})
    return plan, ids


def first_sync(plan: SyncedPlan, **settings: Any) -> dict[int, int]:
    """Sync on, first run carried out; primary id -> BCP id of everything synced."""
    plan.work(enable_sync(plan.ops, plan.primary_id, **settings)["id"])
    return {p: b for (_, p), b in correlation_map(plan.ops, plan.primary_id).items()}


def script_content(plan: SyncedPlan, tenant_id: int, script_id: int) -> Any:
    return plan.ops.get(entity_url(tenant_id, "scripts", script_id))["content"]


def expected_bcp(ids: Ids, corr: dict[int, int], *, free_text: bool) -> dict[str, Any]:
    """Each script as it must read in BCP: the primary's with exactly the remapped ids changed."""
    supp, main = suppression(ids), ivr(ids)
    supp["properties"]["3"]["0"]["value"] = corr[ids.resolved]
    main["properties"]["2"]["0"]["value"] = corr[ids.hours]
    main["properties"]["4"]["0"]["value"] = [corr[ids.billing], ids.gone, "{Fallback}"]  # gone: unresolved, kept
    main["properties"]["4"]["1"]["value"] = str(corr[ids.agent])
    xml = (
        xml_export(ids)
        .replace(f'"Skill">{ids.support}<', f'"Skill">{corr[ids.support]}<')
        .replace(f'"Disposition">{ids.resolved}<', f'"Disposition">{corr[ids.resolved]}<')
    )
    if free_text:
        main["properties"]["5"]["0"]["value"] = str(corr[ids.support])
        main["properties"]["5"]["1"]["value"] = corr[ids.admin]
        main["properties"]["6"]["0"]["value"] = f"ASSIGN fallback = {corr[ids.billing]}"
        xml = xml.replace(f'"Owner">{ids.agent}<', f'"Owner">{corr[ids.agent]}<')
    return {"suppression": supp, "ivr": main, "xml": xml}


def checklist(plan: SyncedPlan) -> dict[str, list[tuple]]:
    items = plan.ops.get(plan.url("/script-checklist"))["items"]
    out: dict[str, list[tuple]] = {}
    for i in items:
        row = (i["action"], i["property"], i["position"], i["primary_value"], i["bcp_value"], i["status"], i["written"])
        if "matched" in i:  # possible ids say what they matched
            row += ((i["matched"]["type"], i["matched"]["name"]),)
        out.setdefault(i["script"], []).append(row)
    return out


def test_vendor_shaped_scripts_are_stored_and_read_back_exactly(world):
    plan, ids = world
    for label, content in (("suppression", suppression(ids)), ("ivr", ivr(ids)), ("xml", xml_export(ids))):
        stored = script_content(plan, plan.primary_id, plan.of("scripts", label))
        assert stored == content, label
    stored = script_content(plan, plan.primary_id, plan.of("scripts", "suppression"))
    assert [type(p["value"]) for p in stored["properties"]["1"].values()] == [int, int, int]
    assert type(stored["branches"]["1"][0]["label"]) is int


def test_bcp_copies_differ_from_the_primary_only_in_the_remapped_ids(world):
    plan, ids = world
    corr = first_sync(plan)

    expected = expected_bcp(ids, corr, free_text=False)
    for label in ("suppression", "ivr", "xml"):
        assert script_content(plan, plan.bcp_id, corr[plan.of("scripts", label)]) == expected[label], label
    bcp_ivr = script_content(plan, plan.bcp_id, corr[plan.of("scripts", "ivr")])
    assert type(bcp_ivr["properties"]["2"]["0"]["value"]) is int  # an integer id stays an integer
    assert type(bcp_ivr["properties"]["4"]["1"]["value"]) is str  # a text id stays text
    # Nothing moved in the primary.
    assert script_content(plan, plan.primary_id, plan.of("scripts", "ivr")) == ivr(ids)


def test_the_checklist_lists_every_reference_with_its_status(world):
    plan, ids = world
    corr = first_sync(plan)

    rows = checklist(plan)

    assert rows["Suppress/Known"] == [
        ("SUPPRESSCALL", "Disposition", None, ids.resolved, corr[ids.resolved], "remapped", True)
    ]
    assert rows["Inbound/Ivr"] == [
        ("HOURS", "Profile", None, ids.hours, corr[ids.hours], "remapped", True),
        ("REQAGENT", "Skill", 0, ids.billing, corr[ids.billing], "remapped", True),
        ("REQAGENT", "Skill", 1, ids.gone, None, "unresolved", False),
        ("REQAGENT", "Skill", 2, "{Fallback}", "{Fallback}", "unchanged", False),
        ("REQAGENT", "TargetAgent", None, str(ids.agent), str(corr[ids.agent]), "remapped", True),
        (
            "WORKITEM",
            "QueueId",
            None,
            str(ids.support),
            str(corr[ids.support]),
            "possible_id",
            False,
            ("skills", "Support"),
        ),
        (
            "WORKITEM",
            "Owner",
            None,
            ids.admin,
            corr[ids.admin],
            "possible_id",
            False,
            ("users", plan.usernames["admin"]),
        ),
        (
            "SNIPPET",
            "Data",
            None,
            str(ids.billing),
            str(corr[ids.billing]),
            "possible_id",
            False,
            ("skills", "Billing"),
        ),
    ]
    assert rows["Inbound/Desktop"] == [
        ("REQAGENT", "Skill", None, str(ids.support), str(corr[ids.support]), "remapped", True),
        ("REQAGENT", "TargetAgent", None, "Default", "Default", "unchanged", False),
        ("SUPPRESSCALL", "Disposition", None, str(ids.resolved), str(corr[ids.resolved]), "remapped", True),
        (
            "WORKITEM",
            "Owner",
            None,
            str(ids.agent),
            str(corr[ids.agent]),
            "possible_id",
            False,
            ("users", plan.usernames["single"]),
        ),
    ]


def test_a_second_run_finds_nothing_to_change(world):
    plan, _ = world
    first_sync(plan)

    run = plan.sync()

    assert "scripts" not in change_counts(run)


def test_remap_free_text_also_rewrites_the_possible_ids_in_their_own_type(world):
    plan, ids = world
    corr = first_sync(plan)
    put_settings(plan.ops, plan.primary_id, remap_free_text=True)
    plan.sync()

    expected = expected_bcp(ids, corr, free_text=True)
    for label in ("suppression", "ivr", "xml"):
        assert script_content(plan, plan.bcp_id, corr[plan.of("scripts", label)]) == expected[label], label
    possible = [r for rows in checklist(plan).values() for r in rows if r[5] == "possible_id"]
    assert len(possible) == 4 and all(r[6] is True for r in possible)


def test_readiness_counts_only_unresolved_rows_as_unresolved(world):
    plan, _ = world
    first_sync(plan)

    def script_check() -> dict[str, Any]:
        report = plan.ops.get(plan.url("/readiness"))
        return next(c for c in report["checks"] if c["name"] == "script_references")

    found = script_check()
    assert (found["status"], found["unresolved"], found["possible_ids"], found["kept_ids"]) == ("warn", 1, 4, 0)

    put_settings(plan.ops, plan.primary_id, remap_free_text=True)
    plan.sync()

    found = script_check()
    assert (found["status"], found["unresolved"], found["possible_ids"]) == ("warn", 1, 0)
    assert "1 unresolved" in found["message"]


def test_without_unresolved_references_possible_ids_do_not_make_readiness_warn(world):
    plan, _ = world
    ivr_id = plan.of("scripts", "ivr")
    content = copy.deepcopy(script_content(plan, plan.primary_id, ivr_id))
    content["properties"]["4"]["0"]["value"] = content["properties"]["4"]["0"]["value"][:1]  # drop the stale id
    plan.ops.call("PATCH", entity_url(plan.primary_id, "scripts", ivr_id), json={"content": content})
    first_sync(plan)

    report = plan.ops.get(plan.url("/readiness"))
    found = next(c for c in report["checks"] if c["name"] == "script_references")

    assert (found["status"], found["unresolved"], found["possible_ids"]) == ("pass", 0, 4)
