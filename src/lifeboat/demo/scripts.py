"""The Studio scripts of the generated contact center (see ``demo.profile``).

Scripts hold the numeric ids of skills, hours, dispositions and agents in their properties
(SPEC §3), so they are drafted only once those entities exist: ``script_drafts`` takes the
ids a first load gave each local key (``LoadResult.ids``). File and script paths are real
paths of the same profile. Deterministic, like the rest of the profile.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lifeboat.demo.profile import DEFAULT_SEED, Profile, ScriptSpec, file_paths, script_layout, skill_media
from lifeboat.services.entities.drafts import Draft

QUEUES = 4  # menu options, each a queue of five actions; with the frame, 30 actions a script
PURPOSES = ("welcome", "closed", "menu", "hold-music", "please-wait")  # the prompts a script plays


def script_drafts(profile: Profile, ids: Mapping[str, int], seed: int = DEFAULT_SEED) -> list[Draft]:
    """One draft per script of the profile, its references holding the ids in ``ids``."""
    layout = script_layout(profile)
    shared = [s.path for s in layout if s.shared]
    prompts = _prompts_by_purpose(file_paths(profile))
    media = skill_media(profile)
    drafts = []
    for i, spec in enumerate(layout):
        rng = random.Random(f"{seed}:script:{i}")
        skills = [n for n, m in enumerate(media) if m == spec.media_type] or list(range(len(media)))
        picks = _Picks(
            skills=[ids[f"skill:{n}"] for n in _some(rng, skills, QUEUES)],
            hours=ids[f"hours:{rng.randrange(profile.hours)}"],
            dispositions=[ids[f"disposition:{rng.randrange(profile.dispositions)}"] for _ in range(QUEUES)],
            agent=ids[f"user:{rng.randrange(profile.users)}"],
            files=[paths[i % len(paths)] for paths in prompts],
            sub=None if spec.shared else shared[i % len(shared)],
        )
        drafts.append(
            Draft(
                "scripts",
                f"script:{i}",
                {"path": spec.path, "media_type": spec.media_type, "content": studio_document(spec, picks)},
            )
        )
    return drafts


def _some(rng: random.Random, pool: list[int], count: int) -> list[int]:
    """``count`` items of ``pool``: distinct when the pool is big enough, else in turn."""
    if len(pool) >= count:
        return rng.sample(pool, count)
    start = rng.randrange(len(pool))
    return [pool[(start + k) % len(pool)] for k in range(count)]


def _prompts_by_purpose(paths: list[str]) -> list[list[str]]:
    """For each of PURPOSES, the prompt files made for it (any file when the profile has none)."""
    return [[p for p in paths if p.rsplit("/", 1)[-1].startswith(purpose)] or paths for purpose in PURPOSES]


@dataclass
class _Picks:
    """What one script refers to."""

    skills: list[int]
    hours: int
    dispositions: list[int]
    agent: int
    files: list[str]  # a prompt file for each of PURPOSES
    sub: str | None  # the shared script it runs, if any


@dataclass
class _Builder:
    """Appends actions in order, each branching to the next unless told otherwise."""

    actions: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    branches: dict[str, Any] = field(default_factory=dict)

    def add(
        self, name: str, label: str, props: list[tuple[str, str]] | None = None, branches: dict[str, str] | None = None
    ) -> str:
        action_id = str(len(self.actions) + 1)
        self.actions[action_id] = {
            "name": name,
            "label": label,
            "x": 120 + 160 * (len(self.actions) % 6),
            "y": 80 + 120 * (len(self.actions) // 6),
        }
        self.properties[action_id] = {str(n): {"name": k, "value": v} for n, (k, v) in enumerate(props or [])}
        self.branches[action_id] = {"Default": str(int(action_id) + 1)} if branches is None else branches
        return action_id


def studio_document(spec: ScriptSpec, picks: _Picks) -> dict[str, Any]:
    """A Studio JSON script: hours check, greeting and menu, then a queue per menu option."""
    voice = spec.media_type == "voice"
    doc = _Builder()
    doc.add("BEGIN", "Begin")
    doc.add(
        "SNIPPET",
        "Routing defaults",
        [
            (
                "Data",
                f"ASSIGN Priority = 5\nASSIGN DefaultSkill = {picks.skills[0]}\n"
                f'IF Caller.Tier = "gold" {{ ASSIGN Priority = 9 }}',
            )
        ],
    )
    doc.add("HOURS", "Open?", [("Profile", str(picks.hours))], {"Open": "6", "Closed": "4"})
    doc.add(
        *_say(voice, "Closed message", picks.files[1], "We are closed. Please contact us again during opening hours.")
    )
    doc.add("HANGUP", "Hang up", branches={})
    doc.add(*_say(voice, "Welcome", picks.files[0], "Welcome to Acme. How can we help?"))
    doc.add(
        *_say(voice, "Menu", picks.files[2], "Reply 1 for billing, 2 for orders, 3 for anything else.", action="MENU")
    )
    doc.add("CASE", "Choice", [("Variable", "MenuChoice")])
    for q, skill in enumerate(picks.skills):
        _queue(doc, voice, q, skill, picks)
    if picks.sub is not None:
        doc.add("RUNSUB", "After-call survey", [("ScriptName", picks.sub)])
    else:
        doc.add("ASSIGN", "Mark surveyed", [("Variable", "Surveyed"), ("Value", "1")])
    doc.add("HANGUP" if voice else "END", "End", branches={})
    header = {"name": spec.path, "mediaType": spec.media_type, "version": 1, "description": "lifeboat demo script"}
    return {"header": header, "actions": doc.actions, "properties": doc.properties, "branches": doc.branches}


def _queue(doc: _Builder, voice: bool, q: int, skill: int, picks: _Picks) -> None:
    doc.add("ASSIGN", f"Queue {q + 1}", [("Variable", "QueueName"), ("Value", f"queue-{q + 1}")])
    target = str(picks.agent) if q == 0 else ""  # the first queue prefers one agent, by id
    doc.add(
        "REQAGENT" if voice else "REQAGENT (digital)",
        f"Find agent {q + 1}",
        [("Skill", str(skill)), ("TargetAgent", target), ("Priority", "{Priority}")],
    )
    if voice:
        doc.add("MUSIC", f"Hold {q + 1}", [("MusicFile", picks.files[3])])
        doc.add(*_say(voice, f"Sorry to wait {q + 1}", picks.files[4], "Thank you for waiting."))
    else:
        doc.add(
            "ASSIGN", f"Hold text {q + 1}", [("Variable", "AutoReply"), ("Value", "An agent will be with you shortly.")]
        )
        doc.add("SUPPRESSCALL", f"Suppress {q + 1}", [("Disposition", str(picks.dispositions[q]))])
    doc.add(
        "SETDISPOSITION", f"Disposition {q + 1}", [("Skill", str(skill)), ("Disposition", str(picks.dispositions[q]))]
    )


def _say(
    voice: bool, label: str, prompt: str, text: str, *, action: str = "PLAY"
) -> tuple[str, str, list[tuple[str, str]]]:
    """Play a prompt file on voice (with the words as a spoken fallback); send the words otherwise."""
    if voice:
        return action, label, [("Sequence", f'"{prompt}" %"{text}"')]
    return "ASSIGN", label, [("Variable", "AutoReply"), ("Value", text)]
