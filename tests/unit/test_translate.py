"""Turning a primary entity's fields into the BCP tenant's: references through the
correlation map, ids inside Studio scripts by the ``script_ids`` setting."""

from __future__ import annotations

import copy

import pytest

from lifeboat.sync.model import Pending
from lifeboat.sync.translate import Translator, has_pending, has_pending_link
from tests.unit.sync_values import options, property_values, studio

SYNCED = {11: 5011, 12: 5012, 13: 5013, 14: 5014, 16: 5016}  # primary id -> BCP id
COMING = {20: "skills", 21: "dispositions", 22: "users"}  # created by this very run
KNOWN = {
    **dict.fromkeys(SYNCED, "skills"),
    11: "hours-of-operation",
    12: "dispositions",
    13: "dispositions",
    16: "users",
    **COMING,
    99: "roles",
}


def translator(**option_values) -> Translator:
    return Translator(dict(SYNCED), {**COMING, **dict.fromkeys(SYNCED, "skills")}, KNOWN, options(**option_values))


def skill_data(**data) -> dict:
    return {
        "name": "Sales",
        "media_type": "voice",
        "hours_of_operation_id": None,
        "disposition_ids": [],
        "is_active": True,
        **data,
    }


# --- references ------------------------------------------------------------------------------


def test_correlated_reference_becomes_the_bcp_id():
    assert translator().ref("skills", 14) == 5014


def test_reference_to_an_entity_this_run_creates_is_pending():
    assert translator().ref("skills", 20) == Pending("skills", 20)


def test_reference_to_an_entity_of_another_type_is_not_pending():
    assert translator().ref("users", 20) is None


def test_reference_to_an_entity_that_will_not_exist_in_bcp_is_none():
    assert translator().ref("roles", 99) is None


def test_single_reference_is_translated_and_other_fields_copied():
    data, unresolved = translator().fields("skills", skill_data(hours_of_operation_id=11))
    assert data == skill_data(hours_of_operation_id=5011)
    assert unresolved == []


def test_empty_reference_stays_empty_and_is_not_reported():
    data, unresolved = translator().fields("skills", skill_data())
    assert data["hours_of_operation_id"] is None and unresolved == []


def test_list_of_references_is_translated_into_the_order_the_store_keeps():
    tr = Translator({12: 5013, 13: 5012}, {}, KNOWN, options())
    data, _ = tr.fields("skills", skill_data(disposition_ids=[12, 13]))
    assert data["disposition_ids"] == [5012, 5013]


def test_list_with_a_pending_reference_keeps_the_primary_order_for_apply_to_settle():
    data, _ = translator().fields("skills", skill_data(disposition_ids=[12, 21]))
    assert data["disposition_ids"] == [5012, Pending("dispositions", 21)]


def test_nested_references_are_translated_and_kept_in_store_order():
    tr = Translator({14: 5015, 15: 5014, 16: 5016}, {}, KNOWN, options())
    data, _ = tr.fields(
        "agent-settings",
        {
            "user_id": 16,
            "max_concurrent_chats": 1,
            "refusal_timeout_s": 30,
            "skills": [{"skill_id": 14, "proficiency": 3}, {"skill_id": 15, "proficiency": 9}],
        },
    )
    assert data["user_id"] == 5016
    assert data["skills"] == [{"skill_id": 5014, "proficiency": 9}, {"skill_id": 5015, "proficiency": 3}]


def test_unresolved_references_are_dropped_and_each_reported():
    data, unresolved = translator().fields("skills", skill_data(hours_of_operation_id=98, disposition_ids=[12, 97]))
    assert (data["hours_of_operation_id"], data["disposition_ids"]) == (None, [5012])
    assert unresolved == [
        {
            "code": "unresolved_reference",
            "field": "hours_of_operation_id",
            "target": "hours-of-operation",
            "primary_value": 98,
        },
        {"code": "unresolved_reference", "field": "disposition_ids", "target": "dispositions", "primary_value": 97},
    ]


def test_translating_leaves_the_primary_fields_untouched():
    source = {"user_id": 16, "skills": [{"skill_id": 14, "proficiency": 3}], "max_concurrent_chats": 1}
    before = copy.deepcopy(source)
    translator().fields("agent-settings", source)
    assert source == before


@pytest.mark.parametrize(
    ("value", "pending"),
    [
        (Pending("skills", 1), True),
        ([1, Pending("skills", 1)], True),
        ([{"skill_id": Pending("skills", 1)}], True),
        ({"a": {"b": [Pending("users", 2)]}}, True),
        ([1, 2, {"skill_id": 3}], False),
        (None, False),
    ],
)
def test_has_pending_looks_inside_lists_and_objects(value, pending):
    assert has_pending(value) is pending


def test_has_pending_link_finds_a_waiting_reference_in_any_link_field_and_only_there():
    assert has_pending_link("agent-settings", {"skills": [{"skill_id": Pending("skills", 1)}]}) is True
    assert has_pending_link("users", {"role_id": Pending("roles", 4)}) is True
    assert has_pending_link("users", {"role_id": 4, "first_name": "A"}) is False
    # only Translator.fields puts a Pending anywhere, and only in link fields: the rest is not walked
    assert has_pending_link("users", {"role_id": 4, "note": [Pending("roles", 4)]}) is False


# --- scripts ---------------------------------------------------------------------------------


def checklist(notes: dict) -> list[tuple]:
    return [(r["property"], r["primary_value"], r["bcp_value"], r["status"], r["written"]) for r in notes["checklist"]]


def test_structured_script_ids_are_remapped():
    content = studio(("REQAGENT", "Skill", "14"), ("HOURS", "Profile", "11"), ("SETDISPOSITION", "Disposition", "12"))
    data, notes = translator().script({"content": content}, 10_000)
    assert property_values(data["content"]) == ["5014", "5011", "5012"]
    assert checklist(notes) == [
        ("Skill", "14", "5014", "remapped", True),
        ("Profile", "11", "5011", "remapped", True),
        ("Disposition", "12", "5012", "remapped", True),
    ]


def test_structured_script_ids_are_kept_with_keep():
    data, notes = translator(script_ids="keep").script({"content": studio(("REQAGENT", "Skill", "14"))}, 10_000)
    assert property_values(data["content"]) == ["14"]
    assert checklist(notes) == [("Skill", "14", "5014", "remapped", False)]


def test_script_id_of_an_entity_this_run_creates_is_left_for_apply():
    data, notes = translator().script({"content": studio(("REQAGENT", "Skill", "20"))}, 10_000)
    assert property_values(data["content"]) == ["20"]
    assert notes["pending"] == [20]


def test_free_text_ids_are_reported_and_rewritten_only_when_asked():
    content = studio(("SNIPPET", "Data", "ASSIGN s = 14\nASSIGN agent = 16"))
    kept, kept_notes = translator().script({"content": content}, 10_000)
    remapped, remapped_notes = translator(remap_free_text=True).script({"content": content}, 10_000)
    assert property_values(kept["content"]) == ["ASSIGN s = 14\nASSIGN agent = 16"]
    assert property_values(remapped["content"]) == ["ASSIGN s = 5014\nASSIGN agent = 5016"]
    assert [r[3:] for r in checklist(kept_notes)] == [("possible_id", False)] * 2
    assert [r[3:] for r in checklist(remapped_notes)] == [("possible_id", True)] * 2


def test_desktop_studio_xml_script_is_remapped_in_place():
    xml = (
        '<Script><ActionStruct><Action ID="3" Name="REQAGENT"/><Parameters>'
        '<Parameter Name="Skill">14</Parameter></Parameters></ActionStruct></Script>'
    )
    data, notes = translator().script({"content": xml}, 10_000)
    assert ">5014</Parameter>" in data["content"]
    assert checklist(notes) == [("Skill", "14", "5014", "remapped", True)]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("{not json", "malformed_script"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><Script/>', "hostile_xml"),
        ({"actions": []}, "invalid_script"),
        (studio(("REQAGENT", "Skill", "14" * 100)), "script_too_large"),
    ],
)
def test_unreadable_script_is_copied_as_it_is_with_the_reason(content, code):
    data, notes = translator().script({"content": content}, 200)
    assert data["content"] == content
    assert notes["unreadable"]["code"] == code
    assert notes["unreadable"]["message"]
    assert notes["checklist"] == []
