"""A Studio script is read once per run: the planner's reading goes with the change, apply
rewrites it with the final ids, and neither changes the stored content it reads (issue 13)."""

from __future__ import annotations

import copy
import json

import pytest

from lifeboat.domain.scripts import parse_script, rewrite_script
from lifeboat.errors import Invalid
from lifeboat.sync.translate import Translator
from tests.unit.sync_values import (
    BCP_OFFSET,
    mirror,
    options,
    plan_sync,
    property_values,
    script,
    skill,
    studio,
    the_change,
)


def planned_script(content):
    """The change that creates script 21 ``content``, skills 14 and 15 synced already."""
    synced = [skill(14, "Sales"), skill(15, "Support")]
    bcp, correlations = mirror(*synced)
    return the_change(plan_sync([*synced, script(21, "Inbound/Main", content)], bcp, correlations), 21)


def test_the_planned_change_keeps_the_reading_of_its_script_with_its_reference_slots():
    change = planned_script(studio(("REQAGENT", "Skill", "14"), ("ASSIGN", "Value", "hello")))
    assert change.script is not None and change.script.unreadable is None
    assert change.script.document.raw is change.data["content"]  # the stored content, not a copy
    assert [(slot.property, [r.value for r in refs]) for slot, refs in change.script.references] == [("Skill", ["14"])]


def test_apply_rewrites_the_planned_reading_with_the_ids_it_has_now():
    change = planned_script(studio(("REQAGENT", "Skill", "15")))
    tr = Translator({15: 15 + BCP_OFFSET}, {}, {15: "skills"}, options())
    # Content that is not the script's: only the planner's reading is rewritten, not read again.
    data, notes = tr.script({**change.data, "content": "not read"}, 1_000_000, change.script)
    assert property_values(data["content"]) == [str(15 + BCP_OFFSET)]
    assert [r["bcp_value"] for r in notes["checklist"]] == [str(15 + BCP_OFFSET)]


def test_an_unreadable_script_is_read_once_and_copied_as_it_is():
    change = planned_script("{not json")
    assert change.script is not None and change.script.unreadable["code"] == "malformed_script"
    data, notes = Translator({}, {}, {}, options()).script(change.data, 1_000_000, change.script)
    assert data["content"] == "{not json" and notes == {"checklist": [], "unreadable": change.script.unreadable}


def test_a_rewrite_leaves_the_document_it_read_as_it_was():
    content = studio(("REQAGENT", "Skill", "14"), ("REQAGENT", "Skill", "15"))
    stored = copy.deepcopy(content)
    document = parse_script(content, checked=True)
    rewritten, _ = rewrite_script(document, lambda target, primary_id: primary_id + 1000)
    assert property_values(rewritten) == ["1014", "1015"]
    assert content == stored and document.raw is content
    unchanged, _ = rewrite_script(document, lambda target, primary_id: None)
    assert unchanged == stored and unchanged is not content


def test_json_text_is_measured_as_a_document_even_when_the_text_was_checked():
    deep: object = "x"
    for _ in range(80):
        deep = [deep]
    text = json.dumps({**studio(("REQAGENT", "Skill", "14")), "header": {"deep": deep}})
    with pytest.raises(Invalid) as caught:
        parse_script(text, max_depth=64, checked=True)
    assert caught.value.code == "too_deep"
