"""The planner (SPEC §4 "What a run guarantees"), with plain values: no database.

Every test builds a primary tenant and a BCP tenant as values, runs ``needed`` then
``diff`` the way a sync does (see ``sync_values.plan_sync``) and reads the plan.
"""

from __future__ import annotations

import copy
import json

import pytest

from lifeboat.domain.entities import ENTITY_TYPES
from lifeboat.errors import Conflict
from lifeboat.sync.model import COUNT_KEYS, Pending
from lifeboat.sync.plan import needed
from lifeboat.sync.translate import Translator
from tests.unit.sync_values import (
    BCP_OFFSET,
    PASSWORD_HASH,
    agent,
    bcp_twin,
    business_unit,
    contact,
    correlate,
    disposition,
    edited,
    file,
    hours,
    mirror,
    options,
    plan_sync,
    property_values,
    role,
    rows,
    script,
    skill,
    studio,
    summary,
    team,
    the_change,
    twin_id,
    user,
)


def acme() -> list:
    """A small primary tenant with an entity of every type and every kind of reference."""
    return [
        business_unit(10, "Acme", time_zone="Europe/Paris"),
        hours(11, "Weekdays", weekly=[{"day": "mon", "open": "08:00", "close": "18:00"}]),
        disposition(12, "Resolved"),
        disposition(13, "Callback"),
        skill(14, "Sales", hours_of_operation_id=11, disposition_ids=[12, 13]),
        role(15, "Agent", permissions=["agent"]),
        user(16, "ada", role_id=15, team_id=17),
        team(17, "Blue", lead_user_id=16),
        agent(18, 16, skills=[{"skill_id": 14, "proficiency": 5}]),
        contact(19, "+15551230000", skill_id=14, script_path="Inbound/Main"),
        file(20, "prompts/welcome.wav"),
        script(21, "Inbound/Main", studio(("REQAGENT", "Skill", "14"), ("PLAY", "Sequence", '"prompts/welcome.wav"'))),
    ]


def by_id(entities: list) -> dict:
    return {e.id: e for e in entities}


def without(entities: list, *ids: int) -> list:
    return [e for e in entities if e.id not in ids]


def replaced(entities: list, *new) -> list:
    fresh = {e.id: e for e in new}
    return [fresh.get(e.id, e) for e in entities]


# --- 1. one way --------------------------------------------------------------------------


def test_planning_leaves_both_tenants_and_the_correlations_as_they_were():
    primary = acme()
    bcp, correlations = mirror(*primary[:6])
    before = copy.deepcopy((primary, bcp, correlations))
    plan_sync(replaced(primary, edited(primary[4], media_type="chat")), bcp, correlations, full=True)
    assert (primary, bcp, correlations) == before


def test_every_change_names_a_bcp_entity_and_bcp_references_never_a_primary_one():
    primary = acme()
    bcp, correlations = mirror(*primary)
    local = skill(7000, "Support")
    primary = replaced(
        without(primary, 13), edited(primary[4], disposition_ids=[12]), edited(primary[5], is_active=False)
    ) + [skill(30, "Support", hours_of_operation_id=11)]
    plan = plan_sync(primary, bcp + [local], correlations)
    assert {c.action for c in plan.changes} == {"delete", "update", "deactivate", "adopt"}
    primary_ids, bcp_ids = set(by_id(primary)), {e.id for e in bcp} | {local.id}
    for change in plan.changes:
        assert change.bcp_id in bcp_ids and change.bcp_id not in primary_ids
        for link in ENTITY_TYPES[change.type].links:
            assert set(link.ids(change.data or {})) <= bcp_ids


# --- 2. every selected entity: one copy, equal fields, references translated ------------


def test_first_run_creates_one_bcp_entity_per_primary_entity():
    primary = acme()
    plan = plan_sync(primary)
    assert sorted(c.primary_id for c in plan.changes) == sorted(by_id(primary))
    assert {c.action for c in plan.changes} == {"create"}
    assert all(c.bcp_id is None for c in plan.changes)


def test_created_skill_carries_every_field_with_its_references_translated():
    primary = acme()
    bcp, correlations = mirror(*primary[1:4])  # hours and both dispositions already synced
    plan = plan_sync(primary, bcp, correlations)
    created = the_change(plan, 14)
    assert created.action == "create"
    assert created.data == {
        **primary[4].data,
        "hours_of_operation_id": 11 + BCP_OFFSET,
        "disposition_ids": [12 + BCP_OFFSET, 13 + BCP_OFFSET],
    }


def test_created_agent_settings_translate_their_user_and_each_skill():
    primary = acme()
    bcp, correlations = mirror(*without(primary, 18))
    created = the_change(plan_sync(primary, bcp, correlations), 18)
    assert created.data["user_id"] == twin_id(primary[6])
    assert created.data["skills"] == [{"skill_id": 14 + BCP_OFFSET, "proficiency": 5}]


def test_created_user_carries_the_password_hash_so_bcp_logins_work():
    primary = acme()
    created = the_change(plan_sync(primary), 16)
    assert created.data["password_hash"] == PASSWORD_HASH
    assert created.data["username"] == "ada"


def test_created_file_carries_its_bytes():
    primary = acme()
    created = the_change(plan_sync(primary), 20)
    assert created.content == b"RIFF"
    assert created.data == primary[10].data


def test_reference_to_an_entity_created_in_the_same_run_is_pending():
    created = the_change(plan_sync(acme()), 14)
    assert created.data["hours_of_operation_id"] == Pending("hours-of-operation", 11)
    assert created.data["disposition_ids"] == [Pending("dispositions", 12), Pending("dispositions", 13)]


def test_user_and_team_created_together_wait_for_each_other():
    plan = plan_sync(acme())
    new_user, new_team = the_change(plan, 16), the_change(plan, 17)
    assert new_user.data["team_id"] == Pending("teams", 17)
    assert new_team.data["lead_user_id"] == Pending("users", 16)
    assert plan.changes.index(new_user) < plan.changes.index(new_team)


def test_team_created_after_its_lead_user_was_synced_names_the_bcp_user():
    primary = acme()
    bcp, correlations = mirror(*without(primary, 17))
    new_team = the_change(plan_sync(primary, bcp, correlations), 17)
    assert new_team.data["lead_user_id"] == twin_id(primary[6])


def test_edited_skill_is_updated_with_only_the_changed_fields_listed():
    primary = acme()
    bcp, correlations = mirror(*primary)
    plan = plan_sync(replaced(primary, edited(primary[4], media_type="chat", disposition_ids=[12])), bcp, correlations)
    change = the_change(plan, 14)
    assert (change.action, change.bcp_id) == ("update", twin_id(primary[4]))
    assert change.fields == ("disposition_ids", "media_type")
    assert change.data["disposition_ids"] == [12 + BCP_OFFSET]
    assert change.drift == ()


def test_edit_is_seen_by_its_version_whatever_its_timestamp():
    primary = acme()
    bcp, correlations = mirror(*primary)
    renamed = edited(primary[2], name="Resolved OK")
    assert renamed.updated_at == primary[2].updated_at
    change = the_change(plan_sync(replaced(primary, renamed), bcp, correlations), 12)
    assert (change.action, change.key, change.fields) == ("update", "Resolved", ("name",))
    assert change.data["name"] == "Resolved OK"


# --- only voice points of contact ---------------------------------------------------------


def test_chat_point_of_contact_is_not_synced():
    chat = contact(40, "sales@example.com", channel="chat")
    plan = plan_sync([chat])
    assert plan.changes == []
    assert needed(rows([chat]), {}, [], options()) == (set(), set())


def test_voice_point_of_contact_is_synced():
    voice = contact(40, "+15551239999")
    assert summary(plan_sync([voice])) == [("create", "points-of-contact", "voice|+15551239999")]


def test_voice_point_of_contact_turned_into_chat_is_deleted_in_bcp():
    voice = contact(40, "+15551239999")
    bcp, correlations = mirror(voice)
    plan = plan_sync([edited(voice, channel="chat", address="sales@example.com")], bcp, correlations)
    assert [(c.action, c.bcp_id) for c in plan.changes] == [("delete", twin_id(voice))]


# --- 3. deactivated and deleted in the primary ---------------------------------------------


def test_deactivated_skill_is_deactivated_in_bcp():
    primary = acme()
    bcp, correlations = mirror(*primary)
    change = the_change(plan_sync(replaced(primary, edited(primary[4], is_active=False)), bcp, correlations), 14)
    assert (change.action, change.bcp_id, change.fields) == ("deactivate", twin_id(primary[4]), ("is_active",))
    assert change.data["is_active"] is False


def test_reactivated_skill_is_an_update_not_a_deactivation():
    sales = skill(14, "Sales", is_active=False)
    bcp, correlations = mirror(sales)
    change = the_change(plan_sync([edited(sales, is_active=True)], bcp, correlations), 14)
    assert (change.action, change.data["is_active"]) == ("update", True)


def test_skill_created_inactive_is_created_inactive():
    change = the_change(plan_sync([skill(14, "Sales", is_active=False)]), 14)
    assert (change.action, change.data["is_active"]) == ("create", False)


def test_deleted_skill_is_deleted_in_bcp():
    primary = acme()
    bcp, correlations = mirror(*primary)
    plan = plan_sync(without(primary, 13), bcp, correlations)
    assert [(c.action, c.type, c.key, c.primary_id, c.bcp_id) for c in plan.changes] == [
        ("delete", "dispositions", "Callback", 13, twin_id(primary[3]))
    ]


def test_deleted_in_both_tenants_only_forgets_the_correlation():
    primary = acme()
    bcp, correlations = mirror(*primary)
    plan = plan_sync(without(primary, 13), without(bcp, twin_id(primary[3])), correlations)
    assert plan.changes == []
    assert [(c.type, c.primary_id) for c in plan.forget] == [("dispositions", 13)]


# --- 4. BCP-local entities ----------------------------------------------------------------


@pytest.mark.parametrize("full", [False, True])
def test_bcp_only_entities_are_never_changed_or_deleted(full):
    primary = acme()
    bcp, correlations = mirror(*primary)
    local = [
        skill(7000, "BCP overflow"),
        team(7001, "BCP crew", lead_user_id=twin_id(primary[6])),
        contact(7002, "+15559990000"),
        contact(7003, "bcp@example.com", channel="chat"),
    ]
    plan = plan_sync(without(primary, 20), bcp + local, correlations, full=full)
    assert summary(plan) == [("delete", "files", "prompts/welcome.wav")]
    assert not {c.bcp_id for c in plan.changes} & {e.id for e in local}


def test_renaming_onto_the_name_of_a_bcp_only_entity_fails_that_entity_and_leaves_the_bcp_one_alone():
    primary = acme()
    bcp, correlations = mirror(*primary)
    local = skill(7000, "Overflow")
    plan = plan_sync(replaced(primary, edited(primary[4], name="Overflow")), bcp + [local], correlations)
    assert plan.changes == []
    assert [(f["code"], f["type"], f["primary_id"], f["bcp_id"]) for f in plan.failed] == [
        ("natural_key_taken", "skills", 14, twin_id(primary[4]))
    ]
    assert plan.counts()["skills"]["failed"] == 1


def test_bcp_skill_with_the_same_name_is_adopted_instead_of_duplicated():
    primary = acme()
    bcp, correlations = mirror(*primary[1:4])
    local = skill(7000, "Sales", media_type="chat", hours_of_operation_id=11 + BCP_OFFSET)
    change = the_change(plan_sync(primary, bcp + [local], correlations), 14)
    assert (change.action, change.bcp_id, change.key) == ("adopt", 7000, "Sales")
    assert change.fields == ("disposition_ids", "media_type")  # its hours already match, translated
    assert change.data["media_type"] == "voice"


def test_after_the_first_run_a_bcp_only_entity_with_the_same_name_is_left_alone_and_the_clash_reported():
    primary = acme()
    bcp, correlations = mirror(*primary[1:4])
    local = skill(7000, "Sales", media_type="chat", hours_of_operation_id=11 + BCP_OFFSET)
    plan = plan_sync(primary, bcp + [local], correlations, adopt=False)
    assert not [c for c in plan.changes if c.primary_id == 14 or c.bcp_id == 7000]
    (failure,) = [f for f in plan.failed if f["primary_id"] == 14]
    assert (failure["code"], failure["existing_bcp_id"]) == ("natural_key_taken", 7000)


def test_adoption_needs_no_change_of_fields_when_the_bcp_entity_already_matches():
    sales = skill(14, "Sales")
    change = the_change(plan_sync([sales], [bcp_twin(sales)]), 14)
    assert (change.action, change.fields) == ("adopt", ())


def test_a_bcp_entity_correlated_to_another_primary_entity_is_not_adopted():
    old = skill(14, "Sales")
    bcp, correlations = mirror(old)
    plan = plan_sync([edited(old, name="Sales EMEA"), skill(30, "Sales")], bcp, correlations)
    assert [(c.action, c.primary_id, c.bcp_id) for c in plan.changes] == [
        ("create", 30, None),
        ("update", 14, twin_id(old)),
    ]


def test_agent_settings_are_adopted_by_their_translated_user():
    primary = acme()
    bcp, correlations = mirror(*without(primary, 18))
    local = agent(7000, twin_id(primary[6]), max_concurrent_chats=3)
    change = the_change(plan_sync(primary, bcp + [local], correlations), 18)
    assert (change.action, change.bcp_id, change.key) == ("adopt", 7000, str(twin_id(primary[6])))
    assert change.fields == ("max_concurrent_chats", "skills")


def test_agent_settings_of_a_user_adopted_in_the_same_run_are_adopted_too():
    primary = acme()
    bcp, correlations = mirror(*without(primary, 16, 17, 18))
    local_user, local_agent = user(7000, "ada", first_name="Ada (BCP)"), agent(7001, 7000)
    plan = plan_sync(primary, bcp + [local_user, local_agent], correlations)
    assert [(c.action, c.bcp_id) for c in (the_change(plan, 16), the_change(plan, 18))] == [
        ("adopt", 7000),
        ("adopt", 7001),
    ]
    assert the_change(plan, 18).data["user_id"] == 7000


def test_the_business_unit_of_the_bcp_tenant_is_adopted():
    change = the_change(plan_sync([business_unit(10, "Acme")], [business_unit(7000, "Acme (BCP)")]), 10)
    assert (change.action, change.bcp_id, change.fields) == ("adopt", 7000, ("name",))


# --- 5. drift -----------------------------------------------------------------------------


def test_skill_edited_by_hand_in_bcp_is_overwritten_and_reported_as_drift():
    primary = acme()
    bcp, correlations = mirror(*primary)
    twin = by_id(bcp)[twin_id(primary[4])]
    plan = plan_sync(primary, replaced(bcp, edited(twin, media_type="email")), correlations)
    change = the_change(plan, 14)
    assert (change.action, change.fields, change.drift) == ("update", ("media_type",), ("media_type",))
    assert change.data["media_type"] == "voice"
    assert plan.drift == [
        {"type": "skills", "name": "Sales", "primary_id": 14, "bcp_id": twin.id, "fields": ["media_type"]}
    ]


def test_bcp_edit_that_was_undone_is_not_drift():
    primary = acme()
    bcp, correlations = mirror(*primary)
    twin = by_id(bcp)[twin_id(primary[4])]
    plan = plan_sync(primary, replaced(bcp, edited(twin, version=3)), correlations)
    assert plan.changes == [] and plan.drift == []
    assert [(r.type, r.primary_id) for r in plan.refreshes] == [("skills", 14)]


def test_bcp_edit_that_was_undone_is_not_reported_as_drift_when_the_primary_changes_later():
    primary = acme()
    bcp, correlations = mirror(*primary)
    undone = replaced(bcp, edited(by_id(bcp)[twin_id(primary[4])], version=3))
    (refresh,) = plan_sync(primary, undone, correlations).refreshes
    learned = [
        correlate(
            primary[4],
            by_id(undone)[refresh.bcp_id],
            primary_version=refresh.primary_version,
            bcp_version=refresh.bcp_version,
        )
        if c.primary_id == refresh.primary_id
        else c
        for c in correlations
    ]
    later = plan_sync(replaced(primary, edited(primary[4], media_type="chat")), undone, learned)
    assert (the_change(later, 14).fields, later.drift) == (("media_type",), [])


def test_entity_deleted_by_hand_in_bcp_is_recreated_and_reported_as_drift():
    primary = acme()
    bcp, correlations = mirror(*primary)
    plan = plan_sync(primary, without(bcp, twin_id(primary[4])), correlations)
    change = the_change(plan, 14)
    assert (change.action, change.bcp_id, change.drift) == ("create", None, ("deleted_in_bcp",))
    assert plan.drift[0]["fields"] == ["deleted_in_bcp"]


def test_entity_deleted_and_made_again_by_hand_in_bcp_is_adopted_back():
    primary = acme()
    bcp, correlations = mirror(*primary)
    remade = skill(7000, "Sales", media_type="sms")
    plan = plan_sync(primary, without(bcp, twin_id(primary[4])) + [remade], correlations)
    change = the_change(plan, 14)
    assert (change.action, change.bcp_id) == ("adopt", 7000)
    assert change.drift == ("deleted_in_bcp",)


# --- 6. custom selection ------------------------------------------------------------------


def test_unselected_types_are_left_alone_whatever_the_primary_did():
    primary = acme()
    bcp, correlations = mirror(*primary)
    changed = replaced(without(primary, 13), edited(primary[1], name="Weekends"), edited(primary[5], is_active=False))
    plan = plan_sync(changed + [hours(30, "Nights")], bcp, correlations, types={"skills"}, full=True)
    assert plan.changes == [] and plan.forget == []
    assert set(plan.counts()) == {"skills"}


def test_reference_to_an_unselected_type_resolves_through_its_correlation():
    primary = acme()
    bcp, correlations = mirror(*primary[1:4])
    plan = plan_sync(primary, bcp, correlations, types={"skills"})
    change = the_change(plan, 14)
    assert change.data["hours_of_operation_id"] == 11 + BCP_OFFSET
    assert plan.warnings == [] and change.complete


def test_reference_to_an_unselected_uncorrelated_type_is_left_empty_and_reported():
    primary = acme()
    bcp, correlations = mirror(*primary[2:4])  # dispositions synced, hours never
    plan = plan_sync(primary, bcp, correlations, types={"skills"})
    change = the_change(plan, 14)
    assert change.data["hours_of_operation_id"] is None
    assert change.data["disposition_ids"] == [12 + BCP_OFFSET, 13 + BCP_OFFSET]
    assert not change.complete
    assert plan.warnings == [
        {
            "code": "unresolved_reference",
            "field": "hours_of_operation_id",
            "target": "hours-of-operation",
            "primary_value": 11,
            "type": "skills",
            "primary_id": 14,
            "name": "Sales",
        }
    ]
    assert change.to_dict()["unresolved"][0]["primary_value"] == 11


def test_unresolved_id_in_a_list_is_dropped_and_the_others_kept():
    primary = acme()
    bcp, correlations = mirror(primary[1], primary[2])  # "Callback" (13) never synced
    plan = plan_sync(primary, bcp, correlations, types={"skills"})
    assert the_change(plan, 14).data["disposition_ids"] == [12 + BCP_OFFSET]
    assert [(w["field"], w["primary_value"]) for w in plan.warnings] == [("disposition_ids", 13)]


def test_agent_settings_fail_when_their_required_user_cannot_be_resolved():
    primary = acme()
    bcp, correlations = mirror(primary[4])
    plan = plan_sync(primary, bcp, correlations, types={"agent-settings"})
    assert plan.changes == []
    assert [(f["code"], f["type"], f["primary_id"], f["field"]) for f in plan.failed] == [
        ("unresolved_reference", "agent-settings", 18, "user_id")
    ]
    assert plan.counts()["agent-settings"]["failed"] == 1


# --- 7. scripts -----------------------------------------------------------------------------


def scripted(content, **option_values):
    """Plan a new script ``content`` (id 21) with skills 14, 15 and user 16 already synced."""
    synced = [skill(14, "Sales"), skill(15, "Support"), user(16, "ada")]
    bcp, correlations = mirror(*synced)
    return the_change(plan_sync(synced + [script(21, "Inbound/Main", content)], bcp, correlations, **option_values), 21)


def apply_rewrite(change, **option_values):
    """The script content and checklist ``sync.apply`` writes once every target has its BCP id
    (from the planner's reading of the script: a create's is not rewritten before apply)."""
    known = {14: "skills", 15: "skills", 16: "users", 21: "scripts"}
    names = {14: "Sales", 15: "Support", 16: "ada", 21: "Inbound/Main"}  # as ``scripted`` made them
    mapping = {i: i + BCP_OFFSET for i in known}
    tr = Translator(mapping, {}, known, options(**option_values), names)
    return tr.script(change.data, 1_000_000, change.script)


def checklist(change, **option_values):
    return apply_rewrite(change, **option_values)[1]["checklist"]


def test_a_created_script_is_read_by_the_planner_and_rewritten_only_by_apply():
    change = scripted(studio(("REQAGENT", "Skill", "14")))
    assert change.action == "create" and change.script is not None
    assert change.data["content"] == studio(("REQAGENT", "Skill", "14"))  # the primary's, as apply reads it
    assert "checklist" not in change.notes


def test_script_ids_are_remapped_to_bcp_ids_by_default():
    change = scripted(studio(("REQAGENT", "Skill", "14"), ("REQAGENT", "TargetAgent", "16")))
    assert [(r["status"], r["primary_value"], r["bcp_value"], r["written"]) for r in checklist(change)] == [
        ("remapped", "14", str(14 + BCP_OFFSET), True),
        ("remapped", "16", str(16 + BCP_OFFSET), True),
    ]
    content, _ = apply_rewrite(change)
    assert property_values(content["content"]) == [str(14 + BCP_OFFSET), str(16 + BCP_OFFSET)]


def test_script_ids_are_kept_verbatim_with_keep_and_the_checklist_says_what_to_fix():
    change = scripted(studio(("REQAGENT", "Skill", "14")), script_ids="keep")
    assert [(r["status"], r["bcp_value"], r["written"]) for r in checklist(change, script_ids="keep")] == [
        ("remapped", str(14 + BCP_OFFSET), False)
    ]
    content, _ = apply_rewrite(change, script_ids="keep")
    assert property_values(content["content"]) == ["14"]


def test_names_defaults_and_variables_in_scripts_are_unchanged():
    change = scripted(
        studio(("REQAGENT", "Skill", "Sales"), ("REQAGENT", "Skill", "{SkillNo}"), ("REQAGENT", "Skill", "Default"))
    )
    assert [r["status"] for r in checklist(change)] == ["unchanged"] * 3


def test_script_id_of_an_unsynced_entity_is_unresolved():
    change = scripted(studio(("HOURS", "Profile", "99")))
    assert [(r["status"], r["bcp_value"]) for r in checklist(change)] == [("unresolved", None)]


def test_free_text_possible_ids_are_reported_but_not_rewritten():
    change = scripted(studio(("ASSIGN", "Value", "skill = 15")))
    assert [(r["status"], r["primary_value"], r["bcp_value"], r["written"]) for r in checklist(change)] == [
        ("possible_id", "15", str(15 + BCP_OFFSET), False)
    ]
    content, _ = apply_rewrite(change)
    assert property_values(content["content"]) == ["skill = 15"]


def test_free_text_possible_ids_are_rewritten_with_remap_free_text():
    change = scripted(studio(("ASSIGN", "Value", "skill = 15")), remap_free_text=True)
    assert [(r["status"], r["written"]) for r in checklist(change, remap_free_text=True)] == [("possible_id", True)]
    content, _ = apply_rewrite(change, remap_free_text=True)
    assert property_values(content["content"]) == [f"skill = {15 + BCP_OFFSET}"]


def test_script_naming_an_entity_created_in_the_same_run_is_rewritten_once_that_has_its_id():
    new_skill = skill(30, "Billing")
    plan = plan_sync([new_skill, script(21, "Inbound/Main", studio(("REQAGENT", "Skill", "30")))])
    assert summary(plan) == [("create", "skills", "Billing"), ("create", "scripts", "Inbound/Main")]  # skill first
    change = the_change(plan, 21)
    written = Translator({30: 30 + BCP_OFFSET}, {}, {30: "skills"}, options())  # apply, the skill written
    content, notes = written.script(change.data, 1_000_000, change.script)
    assert property_values(content["content"]) == [str(30 + BCP_OFFSET)] and notes["pending"] == []


def test_unreadable_script_is_reported_and_the_plan_goes_on():
    broken = script(21, "Inbound/Broken", "{not json")
    plan = plan_sync([skill(14, "Sales"), broken])
    assert [(w["code"], w["primary_id"], w["name"]) for w in plan.warnings] == [
        ("script_unreadable", 21, "Inbound/Broken")
    ]
    assert plan.warnings[0]["message"]
    assert summary(plan) == [("create", "skills", "Sales"), ("create", "scripts", "Inbound/Broken")]
    assert the_change(plan, 21).data["content"] == "{not json"


def test_changing_script_ids_setting_with_a_full_compare_rewrites_synced_scripts():
    synced = [skill(14, "Sales"), script(21, "Inbound/Main", studio(("REQAGENT", "Skill", "14")))]
    bcp, correlations = mirror(synced[0])
    kept = bcp_twin(synced[1])
    kept.data["content"] = copy.deepcopy(synced[1].data["content"])  # written while script_ids was keep
    correlations.append(correlate(synced[1], kept))
    assert plan_sync(synced, bcp + [kept], correlations).changes == []
    change = the_change(plan_sync(synced, bcp + [kept], correlations, full=True), 21)
    assert (change.action, change.fields) == ("update", ("content",))


# --- 8. idempotence -------------------------------------------------------------------------


def test_second_run_with_no_change_plans_nothing():
    primary = acme()
    bcp, correlations = mirror(*primary)
    plan = plan_sync(primary, bcp, correlations)
    assert plan.is_empty
    assert all(
        c == {**dict.fromkeys(COUNT_KEYS, 0), "unchanged": 1} for t, c in plan.counts().items() if t != "dispositions"
    )
    assert plan.counts()["dispositions"]["unchanged"] == 2


def test_second_run_with_no_change_reads_no_fields_at_all():
    primary = acme()
    bcp, correlations = mirror(*primary)
    assert needed(rows(primary), rows(bcp), correlations, options()) == (set(), set())


def test_full_compare_of_a_synced_tenant_changes_nothing():
    primary = acme()
    bcp, correlations = mirror(*primary)
    plan = plan_sync(primary, bcp, correlations, full=True)
    assert plan.changes == [] and plan.failed == [] and plan.warnings == []
    assert sum(c["unchanged"] for c in plan.counts().values()) == len(primary)


def test_full_compare_ignores_the_order_the_store_keeps_references_in():
    # BCP ids come out in the opposite order of the primary's: the store keeps them sorted.
    primary = [
        disposition(12, "Resolved"),
        disposition(13, "Callback"),
        skill(14, "Sales", disposition_ids=[12, 13]),
        skill(15, "Support"),
        agent(18, 16, skills=[{"skill_id": 14, "proficiency": 5}, {"skill_id": 15, "proficiency": 2}]),
        user(16, "ada"),
    ]
    bcp = [
        disposition(2013, "Resolved"),
        disposition(2012, "Callback"),
        skill(2015, "Sales", disposition_ids=[2012, 2013]),
        skill(2014, "Support"),
        agent(2018, 2016, skills=[{"skill_id": 2014, "proficiency": 2}, {"skill_id": 2015, "proficiency": 5}]),
        user(2016, "ada"),
    ]
    pairs = {12: 2013, 13: 2012, 14: 2015, 15: 2014, 16: 2016, 18: 2018}
    correlations = [correlate(p, by_id(bcp)[pairs[p.id]]) for p in primary]
    plan = plan_sync(primary, bcp, correlations, full=True)
    assert plan.changes == []


def test_needed_asks_for_moved_and_new_entities_and_for_adoption_candidates():
    primary = acme()
    bcp, correlations = mirror(*primary)
    twin_role = by_id(bcp)[twin_id(primary[5])]
    local = skill(7000, "Overflow")
    changed_primary = replaced(primary, edited(primary[4], media_type="chat")) + [disposition(30, "Spam")]
    changed_bcp = replaced(bcp, edited(twin_role, permissions=[])) + [local]
    want = needed(rows(changed_primary), rows(changed_bcp), correlations, options())
    assert want == ({14, 15, 30}, {twin_id(primary[4]), twin_role.id, local.id})


def test_needed_asks_for_no_adoption_candidates_when_every_primary_entity_is_synced():
    primary = acme()
    bcp, correlations = mirror(*primary)
    assert needed(rows(primary), rows(bcp + [skill(7000, "Overflow")]), correlations, options()) == (set(), set())


def test_needed_asks_for_adoption_candidates_when_a_bcp_copy_was_deleted_by_hand():
    primary = acme()
    bcp, correlations = mirror(*primary)
    remade = skill(7000, "Sales")
    want = needed(rows(primary), rows(without(bcp, twin_id(primary[4])) + [remade]), correlations, options())
    assert want == ({14}, {7000})


def test_full_option_asks_for_every_synced_entity():
    primary = acme() + [contact(40, "chat@example.com", channel="chat")]
    bcp, correlations = mirror(*acme())
    want_primary, want_bcp = needed(rows(primary), rows(bcp), correlations, options(full=True))
    assert want_primary == set(by_id(acme()))
    assert want_bcp == {e.id for e in bcp}


def test_needed_asks_only_for_selected_types():
    primary = acme()
    want = needed(rows(primary), rows([skill(7000, "Overflow"), role(7001, "Boss")]), [], options(types={"skills"}))
    assert want == ({14}, {7000})


# --- 9. safety hold -----------------------------------------------------------------------


def synced_skills(n: int):
    primary = [skill(100 + i, f"Skill {i:02}") for i in range(n)]
    bcp, correlations = mirror(*primary)
    return primary, bcp, correlations


def test_deleting_over_30_percent_of_ten_synced_skills_holds_the_run():
    primary, bcp, correlations = synced_skills(10)
    plan = plan_sync(primary[4:], bcp, correlations)
    assert plan.unsafe() == [{"type": "skills", "removals": 4, "synced": 10, "share": 0.4}]
    with pytest.raises(Conflict) as caught:
        plan.raise_if_unsafe(force=False)
    assert caught.value.code == "sync_held"
    assert "skills: 4 of 10" in caught.value.message
    assert caught.value.details["unsafe"] == plan.unsafe()


def test_deactivations_count_towards_the_safety_hold():
    primary, bcp, correlations = synced_skills(10)
    changed = [edited(s, is_active=False) for s in primary[:2]] + primary[4:]
    plan = plan_sync(changed, bcp, correlations)
    assert sorted(c.action for c in plan.changes) == ["deactivate"] * 2 + ["delete"] * 2
    assert [u["removals"] for u in plan.unsafe()] == [4]


def test_forced_run_passes_the_safety_hold():
    primary, bcp, correlations = synced_skills(10)
    plan_sync(primary[4:], bcp, correlations).raise_if_unsafe(force=True)


def test_removing_exactly_30_percent_is_not_held():
    primary, bcp, correlations = synced_skills(10)
    plan = plan_sync(primary[3:], bcp, correlations)
    assert plan.unsafe() == []
    plan.raise_if_unsafe(force=False)


def test_type_with_fewer_than_ten_synced_entities_is_never_held():
    _, bcp, correlations = synced_skills(9)
    plan = plan_sync([], bcp, correlations)
    assert len(plan.changes) == 9
    assert plan.unsafe() == []
    plan.raise_if_unsafe(force=False)


def test_safety_hold_is_counted_per_type():
    skills_primary, skills_bcp, skills_corr = synced_skills(10)
    roles_primary = [role(200 + i, f"Role {i}") for i in range(10)]
    roles_bcp, roles_corr = mirror(*roles_primary)
    plan = plan_sync(skills_primary[2:] + roles_primary[5:], skills_bcp + roles_bcp, skills_corr + roles_corr)
    assert [u["type"] for u in plan.unsafe()] == ["roles"]


# --- plan shape: order, JSON, counts -------------------------------------------------------


def busy_plan(reverse: bool = False):
    """A plan with every action and type, from inputs given in either order."""
    primary = acme()
    bcp, correlations = mirror(*primary[:8])
    primary = replaced(
        without(primary, 13),
        edited(primary[4], media_type="chat", disposition_ids=[12]),
        edited(primary[5], is_active=False),
    )
    primary += [disposition(31, "Angry"), disposition(30, "Busy"), skill(32, "Billing", disposition_ids=[30, 31, 12])]
    bcp += [disposition(7000, "Busy"), skill(7001, "Local")]
    if reverse:
        primary, bcp, correlations = primary[::-1], bcp[::-1], correlations[::-1]
    return plan_sync(primary, bcp, correlations)


def test_changes_come_in_dependency_order_and_by_action_then_name_within_a_type():
    assert summary(busy_plan()) == [
        ("delete", "dispositions", "Callback"),
        ("adopt", "dispositions", "Busy"),
        ("create", "dispositions", "Angry"),
        ("create", "skills", "Billing"),
        ("update", "skills", "Sales"),
        ("deactivate", "roles", "Agent"),
        ("create", "agent-settings", str(16 + BCP_OFFSET)),
        ("create", "points-of-contact", "voice|+15551230000"),
        ("create", "files", "prompts/welcome.wav"),
        ("create", "scripts", "Inbound/Main"),
    ]


def test_plan_is_the_same_whatever_order_the_inputs_come_in():
    assert busy_plan().to_dict() == busy_plan(reverse=True).to_dict()
    assert busy_plan().changes == busy_plan(reverse=True).changes


def test_plan_is_json_even_with_pending_references_warnings_and_failures():
    primary = acme() + [script(22, "Inbound/Broken", "<oops")]
    plan = plan_sync(primary, types=set(ENTITY_TYPES) - {"users"})
    assert any(isinstance(v, Pending) for c in plan.changes for v in (c.data or {}).values())
    assert plan.warnings and plan.failed
    shown = json.loads(json.dumps(plan.to_dict()))
    assert set(shown) == {"changes", "counts", "drift", "warnings", "errors", "unsafe"}
    assert shown["changes"][0] == {
        "action": "create",
        "type": "business-unit",
        "name": "",
        "primary_id": 10,
        "bcp_id": None,
        "fields": sorted(primary[0].data),
    }


def test_counts_give_every_action_per_type():
    primary, bcp, correlations = synced_skills(10)
    changed = [edited(primary[0], media_type="chat"), edited(primary[1], is_active=False)] + primary[3:]
    changed += [skill(50, "New"), skill(51, "Adopted"), agent(52, 999)]
    plan = plan_sync(changed, bcp + [skill(7000, "Adopted")], correlations)
    assert plan.counts() == {
        "skills": {
            "created": 1,
            "updated": 1,
            "adopted": 1,
            "deactivated": 1,
            "deleted": 1,
            "unchanged": 7,
            "failed": 0,
        },
        "agent-settings": {
            "created": 0,
            "updated": 0,
            "adopted": 0,
            "deactivated": 0,
            "deleted": 0,
            "unchanged": 0,
            "failed": 1,
        },
    }
    assert all(tuple(c) == COUNT_KEYS for c in plan.counts().values())
