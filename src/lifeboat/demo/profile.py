"""The demo and benchmark contact center, generated: its sizes and the drafts describing it.

``scaled(users)`` keeps the proportions of the benchmark profile L (10,000 users, 500
skills, ...) with a floor that still makes a believable contact center. ``configuration``
gives every entity but the Studio scripts as bulk-load drafts (``services.entities.drafts``); the
scripts come from ``demo.scripts`` once the ids they must hold exist.

Pure and deterministic: the same profile and seed give the same drafts, so loading them
again adds nothing, and the benchmark loads exactly what the demo loads.
"""

from __future__ import annotations

import base64
import math
import random
import struct
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import NamedTuple

from lifeboat.domain.entities import PERMISSIONS
from lifeboat.services.entities.drafts import Draft, Ref

DEFAULT_SEED = 2026
EMAIL_DOMAIN = "acme-contact.example"

DEPARTMENTS = (
    "Billing",
    "Sales",
    "Technical Support",
    "Customer Care",
    "Retention",
    "Collections",
    "Claims",
    "Onboarding",
    "Returns",
    "Escalations",
    "Warranty",
    "Appointments",
    "Orders",
    "Shipping",
    "Accounts",
    "Loyalty",
    "Fraud",
    "Renewals",
    "Installations",
    "Outages",
)
SITES = ("Atlanta", "Denver", "Tampa", "Phoenix", "Columbus", "Manila", "Dublin", "Austin", "Omaha", "Raleigh")
FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Carlos",
    "Priya",
    "John",
    "Fatima",
    "Liam",
    "Sofia",
    "Noah",
    "Amara",
    "Diego",
    "Hannah",
    "Kenji",
    "Olivia",
    "Mateo",
    "Zoe",
    "Ethan",
    "Leila",
    "Lucas",
    "Grace",
    "Omar",
    "Chloe",
    "Ravi",
    "Emma",
    "Samuel",
    "Mei",
    "Daniel",
    "Isabel",
    "Kwame",
    "Nora",
    "Tomas",
    "Ava",
    "Yusuf",
    "Julia",
)
LAST_NAMES = (
    "Garcia",
    "Smith",
    "Okafor",
    "Chen",
    "Rodriguez",
    "Patel",
    "Johnson",
    "Haddad",
    "Murphy",
    "Rossi",
    "Kim",
    "Nguyen",
    "Lopez",
    "Schmidt",
    "Tanaka",
    "Williams",
    "Silva",
    "Brown",
    "Cohen",
    "Kowalski",
    "Jones",
    "Ali",
    "Martin",
    "Dubois",
    "Singh",
    "Taylor",
    "Mensah",
    "Novak",
    "Reyes",
    "Walker",
    "Larsen",
    "Moreau",
)
TIME_ZONES = (
    "America/New_York",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Asia/Manila",
    "Europe/Dublin",
)
HOLIDAYS = (
    ("2026-01-01", "New Year's Day"),
    ("2026-05-25", "Memorial Day"),
    ("2026-07-03", "Independence Day (observed)"),
    ("2026-09-07", "Labor Day"),
    ("2026-11-26", "Thanksgiving Day"),
    ("2026-12-25", "Christmas Day"),
)
DISPOSITIONS = (
    ("Resolved", "positive"),
    ("Sale Completed", "positive"),
    ("Appointment Booked", "positive"),
    ("Callback Scheduled", "neutral"),
    ("Transferred", "neutral"),
    ("Information Provided", "neutral"),
    ("Voicemail Left", "neutral"),
    ("Escalated", "negative"),
    ("No Sale", "negative"),
    ("Wrong Number", "negative"),
)
DIGITAL_CHANNELS = ("chat", "email", "sms")
PROMPTS = (
    "welcome",
    "closed",
    "menu",
    "hold-music",
    "please-wait",
    "survey",
    "goodbye",
    "holiday",
    "callback-offer",
    "transfer",
)
LANGUAGES = ("en-US", "es-US", "fr-CA")
AREA_CODES = (
    "202",
    "212",
    "305",
    "312",
    "404",
    "415",
    "512",
    "617",
    "702",
    "713",
    "720",
    "206",
    "303",
    "480",
    "503",
    "602",
    "615",
    "704",
    "813",
    "919",
)

ROLE_PERMISSIONS = {
    "Administrator": sorted(PERMISSIONS),
    "Supervisor": [
        "acd.edit",
        "acd.view",
        "admin.view",
        "agent",
        "bcp.enablement.view",
        "bcp.sync.view",
        "studio.view",
    ],
    "Agent": ["agent"],
    "BCP Administrator": [
        "admin.edit",
        "admin.view",
        "bcp.enablement.edit",
        "bcp.enablement.view",
        "bcp.sync.edit",
        "bcp.sync.view",
    ],
}
VARIANT_PERMISSIONS = {
    "Agent": ["acd.view", "agent"],
    "Team Lead": ["acd.view", "admin.view", "agent"],
    "Analyst": ["acd.view", "admin.view", "studio.view"],
}


@dataclass(frozen=True)
class Profile:
    users: int
    skills: int
    teams: int
    roles: int
    hours: int
    dispositions: int
    voice_contacts: int
    digital_contacts: int
    scripts: int
    files: int
    actions_per_script: int = 30
    file_bytes: int = 10_240
    skills_per_agent: int = 3


PROFILE_L = Profile(
    users=10_000,
    skills=500,
    teams=200,
    roles=50,
    hours=100,
    dispositions=200,
    voice_contacts=1_000,
    digital_contacts=200,
    scripts=300,
    files=500,
)

# The fewest that still make a believable center: the four named roles, three voice skills
# and one per digital channel, a sub-script plus a voice and a digital main script, ...
MINIMUM = {
    "skills": 6,
    "teams": 2,
    "roles": 4,
    "hours": 2,
    "dispositions": 4,
    "voice_contacts": 2,
    "digital_contacts": 3,
    "scripts": 3,
    "files": 4,
}
SCALED = tuple(f.name for f in fields(Profile) if f.name in MINIMUM)


def scaled(users: int) -> Profile:
    """Profile L's proportions for ``users`` employees (exactly profile L for 10,000)."""
    if users < 1:
        raise ValueError("a contact center needs at least one user")
    counts = {name: max(MINIMUM[name], round(getattr(PROFILE_L, name) * users / PROFILE_L.users)) for name in SCALED}
    return Profile(users=users, **counts)


# --- layout shared with the scripts: which index is what ---------------------------------


def numbered(combinations: Sequence[str], count: int) -> list[str]:
    """``count`` distinct names: the combinations, then again with " 2", " 3", ... appended."""
    size = len(combinations)
    return [combinations[i % size] + (f" {i // size + 1}" if i >= size else "") for i in range(count)]


def skill_media(profile: Profile) -> list[str]:
    """Media type of each skill: a fifth digital (chat, email, sms in turn), the rest voice."""
    digital = max(len(DIGITAL_CHANNELS), round(profile.skills / 5))
    voice = profile.skills - digital
    return ["voice"] * voice + [DIGITAL_CHANNELS[j % len(DIGITAL_CHANNELS)] for j in range(digital)]


def file_paths(profile: Profile) -> list[str]:
    combos = [
        f"prompts/{lang}/{_slug(dept)}/{prompt}.wav" for lang in LANGUAGES for dept in DEPARTMENTS for prompt in PROMPTS
    ]
    return [
        path.replace(".wav", f"-{n}.wav") if n else path
        for path, n in ((combos[i % len(combos)], i // len(combos)) for i in range(profile.files))
    ]


class ScriptSpec(NamedTuple):
    path: str
    media_type: str
    shared: bool  # a sub-script that main scripts RUNSUB


def script_layout(profile: Profile) -> list[ScriptSpec]:
    """Each script's path and media: a tenth shared sub-scripts, a fifth digital, the rest voice."""
    subs = max(1, profile.scripts // 10)
    digital = max(1, round(profile.scripts / 5))
    voice = profile.scripts - subs - digital
    shared = numbered(
        [f"Shared/{dept} {what}" for what in ("Verification", "Survey", "Callback") for dept in DEPARTMENTS], subs
    )
    flows = ("Main", "After Hours", "Spanish", "VIP", "Overflow", "Outage", "Priority", "Callback", "Campaign", "Queue")
    inbound = numbered([f"Inbound/{dept}/{flow}" for flow in flows for dept in DEPARTMENTS], voice)
    chats = numbered([f"Digital/{dept}/{_label(ch)}" for dept in DEPARTMENTS for ch in DIGITAL_CHANNELS], digital)
    return (
        [ScriptSpec(p, "voice", True) for p in shared]
        + [ScriptSpec(p, "voice", False) for p in inbound]
        + [ScriptSpec(p, DIGITAL_CHANNELS[j % len(DIGITAL_CHANNELS)], False) for j, p in enumerate(chats)]
    )


def user_kinds(profile: Profile) -> list[str]:
    """admin, bcpadmin (from 3 users), one supervisor per team while there are 20 users each, agents."""
    kinds = ["admin"] + (["bcpadmin"] if profile.users >= 3 else [])
    supervisors = min(profile.teams, max(0, profile.users - len(kinds)) // 20)
    kinds += ["supervisor"] * supervisors
    return kinds + ["agent"] * (profile.users - len(kinds))


def usernames(profile: Profile) -> list[str]:
    seen = {"supervisor": 0, "agent": 0}
    names = []
    for kind in user_kinds(profile):
        if kind in seen:
            seen[kind] += 1
            names.append(f"{kind}{seen[kind]}")
        else:
            names.append(kind)
    return names


# --- the drafts ----------------------------------------------------------------------------


def configuration(profile: Profile, password: str, seed: int = DEFAULT_SEED) -> list[Draft]:
    """Every entity of the contact center except the scripts, as bulk-load drafts."""
    return [
        *_hours(profile, seed),
        *_dispositions(profile),
        *_skills(profile, seed),
        *_roles(profile),
        *_teams(profile),
        *_users(profile, password, seed),
        *_agent_settings(profile, seed),
        *_contacts(profile),
        *_files(profile),
    ]


def _hours(profile: Profile, seed: int) -> list[Draft]:
    rng = random.Random(f"{seed}:hours")
    names = numbered(
        [
            f"{dept} {what}"
            for what in ("Hours", "Extended Hours", "Holiday Hours", "Weekend Hours", "Overnight Hours")
            for dept in DEPARTMENTS
        ],
        profile.hours,
    )
    drafts = []
    for i, name in enumerate(names):
        opens, closes = rng.choice(("07:00", "08:00", "09:00")), rng.choice(("17:00", "18:00", "20:00", "22:00"))
        weekly = [{"day": day, "open": opens, "close": closes} for day in ("mon", "tue", "wed", "thu", "fri")]
        if rng.random() < 0.6:
            weekly.append({"day": "sat", "open": "09:00", "close": "15:00"})
        holidays = [{"date": d, "name": n} for d, n in HOLIDAYS if rng.random() < 0.8]
        drafts.append(
            Draft(
                "hours-of-operation",
                f"hours:{i}",
                {"name": name, "time_zone": TIME_ZONES[i % len(TIME_ZONES)], "weekly": weekly, "holidays": holidays},
            )
        )
    return drafts


def _dispositions(profile: Profile) -> list[Draft]:
    combos = [(name, cls) for name, cls in DISPOSITIONS] + [
        (f"{name} - {dept}", cls) for dept in DEPARTMENTS for name, cls in DISPOSITIONS
    ]
    names = numbered([name for name, _ in combos], profile.dispositions)
    return [
        Draft("dispositions", f"disposition:{i}", {"name": name, "classification": combos[i % len(combos)][1]})
        for i, name in enumerate(names)
    ]


def _skills(profile: Profile, seed: int) -> list[Draft]:
    rng = random.Random(f"{seed}:skills")
    media = skill_media(profile)
    voice = media.count("voice")
    voice_names = numbered(
        [f"{dept}{suffix}" for suffix in ("", " Spanish", " VIP", " Overflow", " After Hours") for dept in DEPARTMENTS],
        voice,
    )
    digital_names = numbered(
        [f"{dept} {_label(ch)}" for dept in DEPARTMENTS for ch in DIGITAL_CHANNELS], profile.skills - voice
    )
    drafts = []
    for i, (name, medium) in enumerate(zip(voice_names + digital_names, media)):
        dispositions = rng.sample(range(profile.dispositions), min(3, profile.dispositions))
        drafts.append(
            Draft(
                "skills",
                f"skill:{i}",
                {
                    "name": name,
                    "media_type": medium,
                    "hours_of_operation_id": Ref(f"hours:{i % profile.hours}"),
                    "disposition_ids": [Ref(f"disposition:{d}") for d in dispositions],
                },
            )
        )
    return drafts


def _roles(profile: Profile) -> list[Draft]:
    named = list(ROLE_PERMISSIONS.items())
    variants = [(f"{dept} {kind}", perms) for kind, perms in VARIANT_PERMISSIONS.items() for dept in DEPARTMENTS]
    names = numbered([name for name, _ in named + variants], profile.roles)
    perms = [p for _, p in named + variants]
    return [
        Draft("roles", f"role:{i}", {"name": name, "permissions": perms[i % len(perms)]})
        for i, name in enumerate(names)
    ]


def _teams(profile: Profile) -> list[Draft]:
    names = numbered([f"{dept} {site}" for site in SITES for dept in DEPARTMENTS], profile.teams)
    leads = [u for u, kind in enumerate(user_kinds(profile)) if kind == "supervisor"] or [0]
    return [
        Draft("teams", f"team:{t}", {"name": name, "lead_user_id": Ref(f"user:{leads[t % len(leads)]}")})
        for t, name in enumerate(names)
    ]


def _users(profile: Profile, password: str, seed: int) -> list[Draft]:
    rng = random.Random(f"{seed}:users")
    named = list(ROLE_PERMISSIONS)
    role_of = {
        "admin": named.index("Administrator"),
        "supervisor": named.index("Supervisor"),
        "agent": named.index("Agent"),
        "bcpadmin": named.index("BCP Administrator"),
    }
    kinds, names = user_kinds(profile), usernames(profile)
    drafts, supervisor, agent = [], 0, 0
    for u, (kind, username) in enumerate(zip(kinds, names)):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        team = None
        if kind == "supervisor":
            team, supervisor = supervisor, supervisor + 1
        elif kind == "agent":
            team, agent = agent % profile.teams, agent + 1
        access = "multiple" if kind != "agent" else ("single" if agent == 1 or rng.random() < 0.7 else "none")
        drafts.append(
            Draft(
                "users",
                f"user:{u}",
                {
                    "username": username,
                    "email": f"{first}.{last}.{u}@{EMAIL_DOMAIN}".lower(),
                    "first_name": first,
                    "last_name": last,
                    "role_id": Ref(f"role:{role_of[kind]}"),
                    "bcp_type": access,
                    "password": password,
                    "team_id": Ref(f"team:{team}") if team is not None else None,
                },
            )
        )
    return drafts


def _agent_settings(profile: Profile, seed: int) -> list[Draft]:
    rng = random.Random(f"{seed}:agent-settings")
    drafts = []
    for u in range(profile.users):
        skills = rng.sample(range(profile.skills), profile.skills_per_agent)
        drafts.append(
            Draft(
                "agent-settings",
                f"agent-settings:{u}",
                {
                    "user_id": Ref(f"user:{u}"),
                    "max_concurrent_chats": rng.randint(1, 4),
                    "refusal_timeout_s": rng.choice((15, 30, 45, 60)),
                    "skills": [{"skill_id": Ref(f"skill:{s}"), "proficiency": rng.randint(1, 20)} for s in skills],
                },
            )
        )
    return drafts


def _contacts(profile: Profile) -> list[Draft]:
    media, scripts = skill_media(profile), script_layout(profile)
    voice_skills = [i for i, m in enumerate(media) if m == "voice"]
    voice_scripts = [s.path for s in scripts if s.media_type == "voice" and not s.shared]
    drafts = [
        Draft(
            "points-of-contact",
            f"voice-contact:{i}",
            {
                "name": f"{DEPARTMENTS[i % len(DEPARTMENTS)]} line {i + 1}",
                "channel": "voice",
                "address": phone_number(i),
                "skill_id": Ref(f"skill:{voice_skills[i % len(voice_skills)]}"),
                "script_path": voice_scripts[i % len(voice_scripts)],
            },
        )
        for i in range(profile.voice_contacts)
    ]
    for j in range(profile.digital_contacts):
        channel = DIGITAL_CHANNELS[j % len(DIGITAL_CHANNELS)]
        skills = [i for i, m in enumerate(media) if m == channel]
        paths = [s.path for s in scripts if s.media_type == channel] or [
            s.path for s in scripts if s.media_type != "voice"
        ]
        dept = _slug(DEPARTMENTS[(j // len(DIGITAL_CHANNELS)) % len(DEPARTMENTS)])
        address = {
            "chat": f"https://chat.{EMAIL_DOMAIN}/{dept}/{j}",
            "email": f"{dept}.{j}@{EMAIL_DOMAIN}",
            "sms": phone_number(profile.voice_contacts + j),
        }[channel]
        drafts.append(
            Draft(
                "points-of-contact",
                f"digital-contact:{j}",
                {
                    "name": f"{dept} {channel} {j + 1}",
                    "channel": channel,
                    "address": address,
                    "skill_id": Ref(f"skill:{skills[j % len(skills)]}"),
                    "script_path": paths[j % len(paths)],
                },
            )
        )
    return drafts


def phone_number(i: int) -> str:
    """The i-th fictitious E.164 number: +1 <area> 555 01xx (the range kept for fiction)."""
    area = AREA_CODES[i // 100] if i // 100 < len(AREA_CODES) else str(220 + i // 100)
    return f"+1{area}55501{i % 100:02d}"


def _files(profile: Profile) -> list[Draft]:
    return [
        Draft(
            "files",
            f"file:{i}",
            {"path": path, "content": base64.b64encode(prompt_audio(i, profile.file_bytes)).decode()},
        )
        for i, path in enumerate(file_paths(profile))
    ]


def prompt_audio(index: int, size: int) -> bytes:
    """``size`` bytes of a RIFF/WAVE file: 8 kHz, 8-bit mono, a steady tone per prompt."""
    samples = size - 44
    period = 16 + index % 48
    cycle = bytes(int(128 + 90 * math.sin(2 * math.pi * k / period)) for k in range(period))
    data = (cycle * (samples // period + 1))[:samples]
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + samples, b"WAVE", b"fmt ", 16, 1, 1, 8000, 8000, 1, 8, b"data", samples
    )
    return header + data


def _label(channel: str) -> str:
    return "SMS" if channel == "sms" else channel.title()


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")
