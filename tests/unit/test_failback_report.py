"""The failback report and its translation back to primary ids, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifeboat.domain.entities import Entity
from lifeboat.domain.failback import SECRET, content_ids, report, script_to_primary, to_primary
from lifeboat.domain.records import Correlation

SWITCH = datetime(2025, 1, 1, tzinfo=UTC)
BEFORE, AFTER = SWITCH - timedelta(hours=1), SWITCH + timedelta(hours=1)


def entity(id_: int, type_: str, data: dict, *, created=BEFORE, updated=BEFORE, version=1) -> Entity:
    return Entity(id_, 1, type_, data, created, updated, None, version)


def test_moved_entities_after_the_switch_are_updated_deactivated_deleted_or_created() -> None:
    primary = {
        10: entity(10, "hours-of-operation", {"name": "Week", "weekly": [], "is_active": True}),
        11: entity(11, "dispositions", {"name": "Done", "is_active": True}),
        12: entity(12, "dispositions", {"name": "Gone", "is_active": True}),
        13: entity(13, "dispositions", {"name": "Edited before", "is_active": True}),
    }
    bcp = {
        20: entity(
            20, "hours-of-operation", {"name": "Week", "weekly": [1], "is_active": True}, updated=AFTER, version=3
        ),
        21: entity(21, "dispositions", {"name": "Done", "is_active": False}, updated=AFTER, version=2),
        23: entity(23, "dispositions", {"name": "Edited before", "is_active": False}, version=2),
        30: entity(30, "skills", {"name": "New", "hours_of_operation_id": 20}, created=AFTER, updated=AFTER),
        31: entity(31, "skills", {"name": "Local, old"}),
    }
    correlations = [
        Correlation("hours-of-operation", 10, 20, 1, 1),
        Correlation("dispositions", 11, 21, 1, 1),
        Correlation("dispositions", 12, 22, 1, 1),
        Correlation("dispositions", 13, 23, 1, 1),
    ]
    items = {i.id: i for i in report(bcp, primary, correlations, SWITCH)}
    assert {i: (v.action, v.primary_id) for i, v in items.items()} == {
        "hours-of-operation:20": ("updated", 10),
        "dispositions:21": ("deactivated", 11),
        "dispositions:22": ("deleted", 12),
        "skills:30": ("created", None),
    }
    assert items["hours-of-operation:20"].changes == ({"field": "weekly", "before": [], "after": [1]},)
    assert items["dispositions:22"].changes[0] == {"field": "is_active", "before": True, "after": None}


def test_a_secret_is_reported_as_changed_never_shown() -> None:
    primary = {10: entity(10, "users", {"username": "a", "password_hash": "old"})}
    bcp = {20: entity(20, "users", {"username": "a", "password_hash": "new"}, updated=AFTER, version=2)}
    (item,) = report(bcp, primary, [Correlation("users", 10, 20, 1, 1)], SWITCH)
    assert item.changes == ({"field": "password_hash", "before": SECRET, "after": SECRET},)


def test_references_go_back_through_the_correlations_and_missing_ones_are_named() -> None:
    skill = entity(30, "skills", {"name": "New", "hours_of_operation_id": 20, "disposition_ids": [21, 99]})
    data, missing = to_primary(skill, {20: 10, 21: 11})
    assert data["hours_of_operation_id"] == 10 and data["disposition_ids"] == [11]
    assert missing == [{"field": "disposition_ids", "target": "dispositions", "bcp_id": 99}]


def studio(*values: object) -> dict:
    """A script whose REQAGENT Skill properties hold ``values`` (and a SNIPPET with free text)."""
    actions = {str(i): {"name": "REQAGENT"} for i in range(1, len(values) + 1)} | {"99": {"name": "SNIPPET"}}
    properties = {str(i): {"0": {"name": "Skill", "value": v}} for i, v in enumerate(values, start=1)}
    properties["99"] = {"0": {"name": "Data", "value": "ASSIGN x = 20"}}
    return {"header": {}, "actions": actions, "properties": properties, "branches": {}}


def test_a_scripts_correlated_ids_go_back_and_everything_else_is_kept() -> None:
    data = {"path": "Main", "content": studio("20", 21, "1000", "{SkillNo}", "33")}
    to_primary_ids, correlated = {20: 10, 21: 11}, {20: "skills", 21: "skills"}
    back, unresolved = script_to_primary(
        data, to_primary_ids, correlated, remap_free_text=False, max_bytes=100_000, max_depth=64
    )
    assert [back["content"]["properties"][str(i)]["0"]["value"] for i in range(1, 6)] == [
        "10",
        11,  # an integer stays an integer
        "1000",  # not a BCP id the correlations know (a primary id kept by script_ids: keep): as it is
        "{SkillNo}",
        "33",
    ]
    assert back["content"]["properties"]["99"]["0"]["value"] == "ASSIGN x = 20"  # free text: only with the setting
    assert {r["bcp_id"] for r in unresolved} == {1000, 33}  # the caller asks which are BCP-only entities
    assert data["content"]["properties"]["1"]["0"]["value"] == "20"  # the input is not changed
    remapped, _ = script_to_primary(
        data, to_primary_ids, correlated, remap_free_text=True, max_bytes=100_000, max_depth=64
    )
    assert remapped["content"]["properties"]["99"]["0"]["value"] == "ASSIGN x = 10"
    assert content_ids(data, 100_000, 64) == {20, 21, 1000, 33}
