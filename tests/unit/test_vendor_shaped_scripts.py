"""Scripts in the structure the vendor's tools write (SPEC §3): Studio JSON with integer
values, integer branch targets and labels, call-suppression actions; Desktop Studio XML with
``<ActionID>`` and nested branch ``<ActionID>``s; actions the reference table does not know.

The documents are written here, in the vendor's structure, not copied from anywhere.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET

import pytest

from lifeboat.domain.scripts import find_references, parse_script, rewrite_script
from lifeboat.errors import Invalid

SKILL, AGENT, DISPOSITION, HOURS = 4101, 77, 31, 9
KNOWN = {SKILL: "skills", AGENT: "users", DISPOSITION: "dispositions", HOURS: "hours-of-operation"}


def plus_1000(target: str, primary_id: int) -> int:
    return primary_id + 1000


def action(action_id: int, name: str, label: str, x: int) -> dict:
    return {
        "actionId": action_id,
        "libraryId": f"0000-{name}",
        "name": name,
        "version": 1,
        "label": label,
        "dependencyOrder": action_id - 1,
        "implType": 0,
        "x": x,
        "y": 144,
    }


def numbered(*props: tuple[str, object]) -> dict:
    return {str(i): {"name": name, "value": value} for i, (name, value) in enumerate(props)}


def branch(to: int, label: object, kind: str = "default", index: int = 0) -> dict:
    return {"to": to, "label": label, "type": kind, "index": index}


def suppression_script() -> dict:
    """A call-suppression script: integer values on BEGIN and ASSIGN, SUPPRESSCALL with a
    disposition id, CHECKCALLSUP with its data value, integer branch labels."""
    return {
        "header": {
            "scriptName": "Suppress/Known",
            "mediaType": 4,
            "mediaTypeName": "call",
            "purposeType": "Suppression",
            "variableRedaction": 0,
            "nextActionId": 7,
        },
        "actions": {
            "1": action(1, "BEGIN", "Begin", 112),
            "2": action(2, "PERMITCALL", "Permit", 528),
            "3": action(3, "SUPPRESSCALL", "Suppress", 528),
            "4": action(4, "CHECKCALLSUP", "Check", 336),
            "5": action(5, "SNIPPET", "Declare", 112),
            "6": action(6, "ASSIGN", "Assign value", 224),
        },
        "properties": {
            "1": numbered(("RootFolder", 0), ("Application", 0), ("ParamCount", 0)),
            "2": {},
            "3": numbered(("Disposition", str(DISPOSITION))),
            "4": numbered(("DataValue", "{dataValue}")),
            "5": numbered(("Data", "DYNAMIC _prospectiveContact"), ("MaxStringSize", "Limit2K")),
            "6": numbered(
                ("Variable", "dataValue"),
                ("Value", "{_prospectiveContact.CustomInfo.Field.$Value}"),
                ("Type", "String"),
                ("Publish", 0),
                ("ScreenPop", "False"),
                ("SaveToDB", "False"),
            ),
        },
        "branches": {
            "1": [branch(6, 0)],
            "6": [branch(4, 0)],
            "4": [branch(3, "Found", "branch", 0), branch(2, "NotFound", "branch", 1), branch(3, "Error", "branch", 2)],
        },
    }


def ivr_script() -> dict:
    """An inbound script whose ids are JSON integers, with a menu branching on integer labels
    and an action the reference table does not know."""
    return {
        "header": {"masterId": 46100, "scriptName": "Inbound/Ivr", "mediaType": 4, "nextActionId": 7},
        "actions": {
            "1": action(1, "BEGIN", "Begin", 192),
            "2": action(2, "HOURS", "Open?", 300),
            "3": action(3, "MENU", "Menu", 464),
            "4": action(4, "REQAGENT", "Sales", 320),
            "5": action(5, "WORKITEM", "Callback", 640),
            "6": action(6, "HANGUP", "Bye", 700),
        },
        "properties": {
            "1": numbered(("RootFolder", ""), ("Parameters", ["Param1", "Param2"])),
            "2": numbered(("Profile", HOURS)),
            "3": numbered(
                ("Sequence", '"%Press 1 for sales"'),
                ("MaxDigits", 1),
                ("Timeout", "20"),
                ("Phrase", f"Press 1 for sales {SKILL}"),
            ),
            "4": numbered(
                ("Skill", SKILL),
                ("TargetAgent", ""),
                ("InitialPriority", "2"),
                ("Acceleration", 15),
                ("HighProficiency", "1"),
                ("LowProficiency", "20"),
            ),
            "5": numbered(("QueueId", str(SKILL)), ("Owner", AGENT), ("Retries", 3), ("Flags", [str(AGENT), 0, True])),
            "6": {},
        },
        "branches": {
            "1": [branch(2, "")],
            "2": [branch(3, "Open", "branch", 0), branch(6, "Closed", "branch", 1)],
            "3": [branch(4, 1, "case", 0), branch(5, 2, "case", 1), branch(6, 0, "default", 2)],
            "4": [branch(6, "")],
            "5": [branch(6, "")],
        },
    }


def rows(refs) -> list[tuple]:
    return [(r.action_id, r.action, r.property, r.value, r.position, r.kind, r.target) for r in refs]


# --- integer values ------------------------------------------------------------------------


@pytest.mark.parametrize("make", [suppression_script, ivr_script])
def test_a_vendor_shaped_script_is_read_and_kept_exactly(make):
    content = make()
    doc = parse_script(content)
    assert doc.raw == content
    assert json.dumps(doc.raw, sort_keys=True) == json.dumps(content, sort_keys=True)  # 0 stays 0, not "0"
    assert parse_script(json.dumps(content)).raw == content


def test_integer_values_are_read_as_integers():
    doc = parse_script(suppression_script())
    assert doc.properties["1"] == [("RootFolder", 0), ("Application", 0), ("ParamCount", 0)]
    assert ("Publish", 0) in doc.properties["6"]
    assert doc.properties["2"] == []


def test_integer_ids_in_reference_properties_are_references_of_their_type():
    refs = [r for r in find_references(parse_script(ivr_script())) if r.kind == "id"]
    assert rows(refs) == [
        ("2", "HOURS", "Profile", HOURS, None, "id", "hours-of-operation"),
        ("4", "REQAGENT", "Skill", SKILL, None, "id", "skills"),
    ]


def test_integer_ids_are_rewritten_as_integers_and_string_ids_as_strings():
    content = ivr_script()
    content["properties"]["4"]["1"]["value"] = str(AGENT)  # TargetAgent as text
    new, rewrites = rewrite_script(parse_script(content), plus_1000)
    assert new["properties"]["2"]["0"]["value"] == HOURS + 1000
    assert new["properties"]["4"]["0"]["value"] == SKILL + 1000
    assert new["properties"]["4"]["1"]["value"] == str(AGENT + 1000)
    by_property = {r.reference.property: r for r in rewrites}
    assert (by_property["Skill"].new_value, by_property["Skill"].status) == (SKILL + 1000, "remapped")
    assert by_property["TargetAgent"].new_value == str(AGENT + 1000)


def test_keep_copies_integer_ids_and_says_what_they_would_become():
    content = ivr_script()
    new, rewrites = rewrite_script(parse_script(content), plus_1000, remap_structured=False)
    assert new == content
    skill = next(r for r in rewrites if r.reference.property == "Skill")
    assert (skill.new_value, skill.status, skill.written) == (SKILL + 1000, "remapped", False)


def test_an_integer_id_without_a_bcp_counterpart_is_unresolved_and_kept():
    content = ivr_script()
    new, rewrites = rewrite_script(parse_script(content), lambda t, i: None)
    assert new == content
    assert {(r.reference.value, r.status) for r in rewrites if r.reference.kind == "id"} == {
        (HOURS, "unresolved"),
        (SKILL, "unresolved"),
    }


def test_integer_values_that_are_not_ids_are_not_references_and_stay_integers():
    content = suppression_script()
    known = {**KNOWN, 1: "skills"}  # 0 is never an id; 1 would be, but no property holds it
    new, rewrites = rewrite_script(parse_script(content), plus_1000, remap_free_text=True, known_ids=known)
    assert [r.reference.action for r in rewrites] == ["SUPPRESSCALL"]
    assert (new["properties"]["1"], new["properties"]["6"]) == (content["properties"]["1"], content["properties"]["6"])
    assert type(new["properties"]["6"]["3"]["value"]) is int


def test_a_list_of_mixed_json_values_is_read_element_by_element():
    content = ivr_script()
    content["properties"]["4"]["0"]["value"] = [SKILL, "{Fallback}", None, True, 1.5, -3, {"id": SKILL}]
    refs = [r for r in find_references(parse_script(content)) if r.property == "Skill"]
    assert [(r.value, r.position, r.kind) for r in refs] == [
        (SKILL, 0, "id"),
        ("{Fallback}", 1, "variable"),
        (None, 2, "empty"),
        (True, 3, "other"),
        (1.5, 4, "other"),
        (-3, 5, "other"),
        ({"id": SKILL}, 6, "other"),
    ]
    new, _ = rewrite_script(parse_script(content), plus_1000)
    assert new["properties"]["4"]["0"]["value"] == [SKILL + 1000, "{Fallback}", None, True, 1.5, -3, {"id": SKILL}]


# --- branches --------------------------------------------------------------------------------


def test_integer_branch_targets_and_labels_are_never_references_nor_rewritten():
    content = ivr_script()
    # Even when a branch target or label happens to equal an entity id.
    known = {**KNOWN, 2: "skills", 3: "skills", 6: "users", 1: "dispositions"}
    refs = find_references(parse_script(content), known_ids=known)
    assert all(r.action_id in content["properties"] for r in refs)
    new, _ = rewrite_script(parse_script(content), plus_1000, remap_free_text=True, known_ids=known)
    assert new["branches"] == content["branches"]
    assert new["actions"] == content["actions"] and new["header"] == content["header"]


# --- SUPPRESSCALL and CHECKCALLSUP ---------------------------------------------------------


def test_suppresscall_disposition_is_a_reference_and_checkcallsup_has_none():
    refs = find_references(parse_script(suppression_script()), known_ids=KNOWN)
    assert rows(refs) == [("3", "SUPPRESSCALL", "Disposition", str(DISPOSITION), None, "id", "dispositions")]


@pytest.mark.parametrize(("value", "kind"), [("Default", "default"), ("{Dispo}", "variable"), (DISPOSITION, "id")])
def test_suppresscall_disposition_values_are_classified(value, kind):
    content = suppression_script()
    content["properties"]["3"]["0"]["value"] = value
    (ref,) = find_references(parse_script(content))
    assert (ref.value, ref.kind, ref.target) == (value, kind, "dispositions")


def test_suppresscall_disposition_is_rewritten_and_nothing_else_changes():
    content = suppression_script()
    new, rewrites = rewrite_script(parse_script(content), plus_1000, known_ids=KNOWN)
    expected = copy.deepcopy(content)
    expected["properties"]["3"]["0"]["value"] = str(DISPOSITION + 1000)
    assert new == expected
    assert [(r.reference.action, r.status, r.written) for r in rewrites] == [("SUPPRESSCALL", "remapped", True)]


def test_a_disposition_id_on_checkcallsup_is_only_a_possible_id():
    content = suppression_script()
    content["properties"]["4"] = numbered(("DataValue", str(DISPOSITION)))
    (ref,) = [r for r in find_references(parse_script(content), known_ids=KNOWN) if r.action_id == "4"]
    expected = ("CHECKCALLSUP", "DataValue", "possible_id", "dispositions")
    assert (ref.action, ref.property, ref.kind, ref.target) == expected


# --- actions the table does not know -------------------------------------------------------


def test_a_whole_value_equal_to_a_known_id_in_an_unknown_action_is_a_possible_id():
    refs = find_references(parse_script(ivr_script()), known_ids=KNOWN)
    assert rows([r for r in refs if r.kind == "possible_id"]) == [
        ("5", "WORKITEM", "QueueId", str(SKILL), None, "possible_id", "skills"),
        ("5", "WORKITEM", "Owner", AGENT, None, "possible_id", "users"),
        ("5", "WORKITEM", "Flags", str(AGENT), 0, "possible_id", "users"),
    ]


def test_possible_ids_need_known_ids():
    assert [r for r in find_references(parse_script(ivr_script())) if r.kind == "possible_id"] == []


@pytest.mark.parametrize("value", [f"Press 1 for {SKILL}", f"0{SKILL}", f"{SKILL}.0", f"{SKILL}x", 4101.0, True, ""])
def test_only_the_whole_id_outside_free_text_is_a_possible_id(value):
    content = ivr_script()
    content["properties"]["5"] = numbered(("QueueId", value))
    assert [r for r in find_references(parse_script(content), known_ids=KNOWN) if r.action_id == "5"] == []


def test_a_property_that_is_already_a_reference_is_not_also_a_possible_id():
    content = ivr_script()
    content["actions"]["3"]["name"] = "PLAY"
    content["properties"]["3"]["0"]["value"] = str(SKILL)  # PLAY Sequence: a file path, whatever it holds
    refs = [r for r in find_references(parse_script(content), known_ids=KNOWN) if r.action_id in ("3", "4")]
    assert [(r.property, r.kind) for r in refs] == [("Sequence", "path"), ("Skill", "id"), ("TargetAgent", "empty")]


def test_possible_ids_in_unknown_actions_are_written_only_with_remap_free_text():
    content = ivr_script()
    kept, rewrites = rewrite_script(parse_script(content), plus_1000, known_ids=KNOWN)
    assert kept["properties"]["5"] == content["properties"]["5"]
    possible = [(r.reference.value, r.new_value, r.written) for r in rewrites if r.status == "possible_id"]
    assert possible == [
        (str(SKILL), str(SKILL + 1000), False),
        (AGENT, AGENT + 1000, False),
        (str(AGENT), str(AGENT + 1000), False),
    ]

    new, _ = rewrite_script(parse_script(content), plus_1000, remap_free_text=True, known_ids=KNOWN)
    assert new["properties"]["5"] == numbered(
        ("QueueId", str(SKILL + 1000)), ("Owner", AGENT + 1000), ("Retries", 3), ("Flags", [str(AGENT + 1000), 0, True])
    )
    expected = copy.deepcopy(content)
    expected["properties"]["2"]["0"]["value"] = HOURS + 1000
    expected["properties"]["4"]["0"]["value"] = SKILL + 1000
    expected["properties"]["5"] = new["properties"]["5"]
    assert new == expected


def test_an_integer_in_free_text_that_is_a_known_id_is_a_possible_id():
    content = suppression_script()
    content["properties"]["6"]["3"]["value"] = SKILL  # ASSIGN: every property is free text
    (ref,) = [r for r in find_references(parse_script(content), known_ids=KNOWN) if r.action == "ASSIGN"]
    assert (ref.property, ref.value, ref.kind, ref.target) == ("Publish", SKILL, "possible_id", "skills")
    new, _ = rewrite_script(parse_script(content), plus_1000, remap_free_text=True, known_ids=KNOWN)
    assert new["properties"]["6"]["3"]["value"] == SKILL + 1000


# --- Desktop Studio XML with <ActionID> ------------------------------------------------------

ACTION_ID_EXPORT = f"""<?xml version="1.0" encoding="utf-8"?>
<Script>
  <Actions>
    <ActionStruct>
      <ActionID>1</ActionID>
      <Action>BEGIN</Action>
      <Caption>Begin</Caption>
      <DefaultNextAction><Text /><ActionID>2</ActionID></DefaultNextAction>
    </ActionStruct>
    <ActionStruct>
      <ActionID>2</ActionID>
      <Action>MENU</Action>
      <Caption>Main menu</Caption>
      <Parameters>
        <Parameter Name="Sequence">"%Press 1 for sales, 2 to be called back"</Parameter>
        <Parameter Name="MaxDigits">1</Parameter>
      </Parameters>
      <Cases>
        <BranchStruct><Text>1</Text><ActionID>3</ActionID></BranchStruct>
        <BranchStruct><Text>2</Text><ActionID>5</ActionID></BranchStruct>
      </Cases>
      <DefaultNextAction><Text /><ActionID>-1</ActionID></DefaultNextAction>
    </ActionStruct>
    <ActionStruct>
      <ID>3</ID>
      <ActionID>3</ActionID>
      <Action>REQAGENT</Action>
      <Caption>Sales</Caption>
      <Parameters>
        <Parameter Name="Skill">{SKILL}</Parameter>
        <Parameter Name="TargetAgent"></Parameter>
      </Parameters>
      <DefaultNextAction><Text /><ActionID>4</ActionID></DefaultNextAction>
    </ActionStruct>
    <ActionStruct>
      <ActionID>4</ActionID>
      <Action>SUPPRESSCALL</Action>
      <Parameters><Parameter Name="Disposition">{DISPOSITION}</Parameter></Parameters>
    </ActionStruct>
    <ActionStruct>
      <ActionID>5</ActionID>
      <Action>CHECKCALLSUP</Action>
      <Parameters><Parameter Name="DataValue">{{dataValue}}</Parameter></Parameters>
      <Cases>
        <BranchStruct><Text>Found</Text><ActionID>4</ActionID></BranchStruct>
        <BranchStruct><Text>NotFound</Text><ActionID>6</ActionID></BranchStruct>
      </Cases>
    </ActionStruct>
    <ActionStruct>
      <ActionID>6</ActionID>
      <Action>WORKITEM</Action>
      <Parameters><Parameter Name="Owner">{AGENT}</Parameter></Parameters>
    </ActionStruct>
  </Actions>
</Script>
"""


def branch_targets(text: str) -> list[str]:
    """The ``<ActionID>`` of every ``<DefaultNextAction>`` and ``<BranchStruct>``, in order."""
    return [
        target.text
        for holder in ET.fromstring(text).iter()
        if holder.tag in ("DefaultNextAction", "BranchStruct")
        for target in holder
        if target.tag == "ActionID"
    ]


def test_an_export_with_action_id_elements_is_read_by_its_own_action_ids():
    doc = parse_script(ACTION_ID_EXPORT)
    assert doc.actions == {
        "1": "BEGIN",
        "2": "MENU",
        "3": "REQAGENT",
        "4": "SUPPRESSCALL",
        "5": "CHECKCALLSUP",
        "6": "WORKITEM",
    }
    assert doc.properties["1"] == []
    assert doc.properties["3"] == [("Skill", str(SKILL)), ("TargetAgent", "")]


def test_nested_action_ids_are_branch_targets_not_references():
    known = {**KNOWN, 2: "skills", 3: "skills", 4: "users", 5: "skills", 6: "users"}
    refs = find_references(parse_script(ACTION_ID_EXPORT), known_ids=known)
    assert rows(refs) == [
        ("3", "REQAGENT", "Skill", str(SKILL), None, "id", "skills"),
        ("3", "REQAGENT", "TargetAgent", "", None, "empty", "users"),
        ("4", "SUPPRESSCALL", "Disposition", str(DISPOSITION), None, "id", "dispositions"),
        ("6", "WORKITEM", "Owner", str(AGENT), None, "possible_id", "users"),
    ]


def test_rewriting_an_action_id_export_changes_only_the_ids_and_keeps_branch_targets():
    new, rewrites = rewrite_script(parse_script(ACTION_ID_EXPORT), plus_1000, remap_free_text=True, known_ids=KNOWN)
    assert [(r.reference.property, r.status, r.written) for r in rewrites] == [
        ("Skill", "remapped", True),
        ("TargetAgent", "unchanged", False),
        ("Disposition", "remapped", True),
        ("Owner", "possible_id", True),
    ]
    assert branch_targets(new) == branch_targets(ACTION_ID_EXPORT) == ["2", "3", "5", "-1", "4", "4", "6"]
    back = (
        new.replace(f">{SKILL + 1000}<", f">{SKILL}<")
        .replace(f">{DISPOSITION + 1000}<", f">{DISPOSITION}<")
        .replace(f">{AGENT + 1000}<", f">{AGENT}<")
    )
    assert ET.canonicalize(back, strip_text=True) == ET.canonicalize(ACTION_ID_EXPORT, strip_text=True)
    assert parse_script(new).actions == parse_script(ACTION_ID_EXPORT).actions


def test_an_action_id_element_wins_over_an_id_element():
    text = "<Script><ActionStruct><ID>9f1c</ID><ActionID>12</ActionID><Action>HOURS</Action></ActionStruct></Script>"
    assert parse_script(text).actions == {"12": "HOURS"}


def test_a_block_whose_only_action_id_is_a_branch_target_has_no_action_id():
    text = (
        "<Script><ActionStruct><Action>BEGIN</Action>"
        "<DefaultNextAction><Text /><ActionID>2</ActionID></DefaultNextAction></ActionStruct></Script>"
    )
    with pytest.raises(Invalid) as caught:
        parse_script(text)
    assert "has no action ID" in caught.value.message
