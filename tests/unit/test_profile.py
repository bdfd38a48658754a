"""The generated contact center (demo.profile): profile L's proportions, a believable
center at any size, every draft valid, and the same drafts every time."""

from __future__ import annotations

import base64
import itertools
from collections import Counter
from typing import Any

import pytest

from lifeboat.demo.profile import PROFILE_L, configuration, scaled, usernames
from lifeboat.demo.scripts import script_drafts
from lifeboat.domain.entities import ENTITY_TYPES, validate
from lifeboat.domain.scripts import find_references, parse_script
from lifeboat.services.entities.drafts import Draft, Ref

PASSWORD = "lifeboat-demo"
COLLECTIONS = [name for name, kind in ENTITY_TYPES.items() if not kind.singleton]


def fake_ids(drafts: list[Draft]) -> dict[str, int]:
    """What a load would answer: an id for every local key."""
    return {draft.key: 10_000 + n for n, draft in enumerate(drafts)}


def everything(users: int) -> tuple[list[Draft], dict[str, int]]:
    profile = scaled(users)
    config = configuration(profile, PASSWORD)
    ids = fake_ids(config)
    return config + script_drafts(profile, ids), ids


def resolved(payload: Any, ids: dict[str, int]) -> Any:
    if isinstance(payload, Ref):
        return ids[payload.key]
    if isinstance(payload, list):
        return [resolved(v, ids) for v in payload]
    if isinstance(payload, dict):
        return {k: resolved(v, ids) for k, v in payload.items()}
    return payload


@pytest.fixture(scope="module")
def profile_l_drafts() -> tuple[list[Draft], dict[str, int]]:
    config = configuration(PROFILE_L, PASSWORD)
    ids = fake_ids(config)
    return config + script_drafts(PROFILE_L, ids), ids


def test_ten_thousand_users_scale_to_exactly_profile_l():
    assert scaled(10_000) == PROFILE_L


def test_profile_l_has_the_sizes_of_the_benchmark_issue():
    p = PROFILE_L
    assert (p.users, p.skills, p.teams, p.roles, p.hours) == (10_000, 500, 200, 50, 100)
    assert (p.dispositions, p.voice_contacts, p.digital_contacts) == (200, 1_000, 200)
    assert (p.scripts, p.files, p.actions_per_script, p.file_bytes) == (300, 500, 30, 10_240)


def test_profile_l_drafts_count_what_profile_l_says(profile_l_drafts):
    drafts, _ = profile_l_drafts
    counts = Counter(d.type for d in drafts)
    channels = Counter(
        "voice" if d.payload["channel"] == "voice" else "digital" for d in drafts if d.type == "points-of-contact"
    )
    assert counts == {
        "users": 10_000,
        "agent-settings": 10_000,
        "skills": 500,
        "teams": 200,
        "roles": 50,
        "hours-of-operation": 100,
        "dispositions": 200,
        "points-of-contact": 1_200,
        "scripts": 300,
        "files": 500,
    }
    assert channels == {"voice": 1_000, "digital": 200}


def test_profile_l_files_are_10_kb_wave_prompts(profile_l_drafts):
    files = [base64.b64decode(d.payload["content"]) for d in profile_l_drafts[0] if d.type == "files"]
    assert {len(f) for f in files} == {10_240}
    assert all(f[:4] == b"RIFF" and f[8:12] == b"WAVE" for f in files)


def test_profile_l_scripts_have_thirty_actions(profile_l_drafts):
    scripts = [parse_script(d.payload["content"]) for d in profile_l_drafts[0] if d.type == "scripts"]
    assert {len(s.actions) for s in scripts} == {30}


def test_every_agent_has_three_distinct_skills_with_proficiency_1_to_20(profile_l_drafts):
    for draft in (d for d in profile_l_drafts[0] if d.type == "agent-settings"):
        skills = draft.payload["skills"]
        assert len({s["skill_id"] for s in skills}) == 3
        assert all(1 <= s["proficiency"] <= 20 for s in skills)


def test_natural_keys_are_unique_so_a_load_never_collides_with_itself(profile_l_drafts):
    drafts, ids = profile_l_drafts
    keys = Counter(
        (d.type, ENTITY_TYPES[d.type].key_of(validate(ENTITY_TYPES[d.type], resolved(d.payload, ids)))) for d in drafts
    )
    assert [key for key, n in keys.items() if n > 1] == []


@pytest.mark.parametrize("users", [1, 2, 3, 5, 20, 50])
def test_a_tiny_center_still_has_at_least_one_of_every_type(users):
    drafts, _ = everything(users)
    counts = Counter(d.type for d in drafts)
    assert {name: counts[name] >= 1 for name in COLLECTIONS} == dict.fromkeys(COLLECTIONS, True)
    assert counts["users"] == users == counts["agent-settings"]
    channels = {d.payload["channel"] for d in drafts if d.type == "points-of-contact"}
    assert channels == {"voice", "chat", "email", "sms"}


@pytest.mark.parametrize("users", [1, 50])
def test_every_draft_passes_the_checks_of_a_single_create(users):
    drafts, ids = everything(users)
    for draft in drafts:
        validate(ENTITY_TYPES[draft.type], resolved(draft.payload, ids))
    for draft in (d for d in drafts if d.type == "scripts"):
        parse_script(draft.payload["content"])


def test_default_demo_size_has_the_easy_logins():
    names = usernames(scaled(50))
    assert names[:4] == ["admin", "bcpadmin", "supervisor1", "supervisor2"]
    assert "agent1" in names and len(set(names)) == 50
    assert usernames(scaled(2)) == ["admin", "agent1"]


def test_scripts_hold_the_ids_they_are_given_and_real_paths():
    profile = scaled(50)
    config = configuration(profile, PASSWORD)
    ids = fake_ids(config)
    type_of = {ids[d.key]: d.type for d in config}
    scripts = script_drafts(profile, ids)
    paths = {("files", d.payload["path"]) for d in config if d.type == "files"}
    paths |= {("scripts", d.payload["path"]) for d in scripts}
    refs = [r for d in scripts for r in find_references(parse_script(d.payload["content"]))]
    id_refs = [r for r in refs if r.kind == "id"]
    assert {r.target for r in id_refs} == {"skills", "users", "hours-of-operation", "dispositions"}
    assert [r for r in id_refs if type_of.get(int(r.value)) != r.target] == []
    assert [r for r in refs if r.kind == "path" and (r.target, r.value) not in paths] == []


def test_generation_is_deterministic_for_a_seed():
    profile = scaled(50)
    assert configuration(profile, PASSWORD) == configuration(profile, PASSWORD)
    ids = fake_ids(configuration(profile, PASSWORD))
    assert script_drafts(profile, ids) == script_drafts(profile, ids)
    assert configuration(profile, PASSWORD, seed=1) != configuration(profile, PASSWORD, seed=2)


def test_sizes_follow_profile_l_proportions_above_the_minimums():
    tenth = scaled(1_000)
    assert (tenth.skills, tenth.teams, tenth.roles, tenth.hours, tenth.dispositions) == (50, 20, 5, 10, 20)
    assert (tenth.voice_contacts, tenth.digital_contacts, tenth.scripts, tenth.files) == (100, 20, 30, 50)
    assert all(a <= b for a, b in itertools.pairwise([scaled(n).skills for n in (1, 10, 100, 1_000, 10_000, 20_000)]))
