"""A small but complete primary tenant, built over the HTTP API, and the checks that a BCP
tenant mirrors it (SPEC §4). Shared by the integration tests (FastAPI's TestClient) and the
end-to-end tests (a live ``lifeboat serve``): both are driven through ``Http``.

    http = Http(api, api.operator())                 # or Http(lifeboat_server.operator())
    primary = build_primary(http, "na1")
    bcp = new_tenant(http, "eu1")
    passkey = pair(http, primary.id, bcp["id"])
    enable_sync(http, primary.id)
    ... a worker runs ...
    mirror = assert_bcp_mirrors_primary(http, primary.id, bcp["id"])

The primary holds every entity type of SPEC §2 with references between them: a team whose
lead is a member of the team (a cycle), a voice and a chat point of contact, a file, and a
Studio script whose REQAGENT, HOURS, SETDISPOSITION and SNIPPET properties hold real ids.

The reference fields below are written out from SPEC §2 on purpose rather than read from
``lifeboat.domain.entities``: a link missing from that table must make these tests fail.
"""

from __future__ import annotations

import base64
import copy
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

API = "/api/v1"
PASSWORD = "agent-password-1"
WELCOME_WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 2
ENTITY_TYPES = (
    "business-unit",
    "hours-of-operation",
    "dispositions",
    "skills",
    "roles",
    "teams",
    "users",
    "agent-settings",
    "points-of-contact",
    "files",
    "scripts",
)
COLLECTIONS = ENTITY_TYPES[1:]
# SPEC §2: field -> referenced type. A tuple names the id inside each item of a list.
REFERENCES: dict[str, dict[str, str | tuple[str, str]]] = {
    "skills": {"hours_of_operation_id": "hours-of-operation", "disposition_ids": "dispositions"},
    "teams": {"lead_user_id": "users"},
    "users": {"role_id": "roles", "team_id": "teams"},
    "agent-settings": {"user_id": "users", "skills": ("skill_id", "skills")},
    "points-of-contact": {"skill_id": "skills"},
}
NOT_COMPARED = {"id", "created_at", "updated_at"}
ScriptRefs = dict[str, list[tuple[str, str, str]]]
_tags = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**9}-{next(_tags)}"


class Http:
    """A client (TestClient or httpx2) with the headers of whoever acts; asserts statuses."""

    def __init__(self, client: Any, headers: dict[str, str] | None = None):
        self.client = client
        self.headers = headers or {}

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        return self.client.request(method, path, json=json, params=params, headers=self.headers)

    def call(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None, expect: int = 200
    ) -> Any:
        response = self.request(method, path, json=json, params=params)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a paged list."""
        items: list[dict[str, Any]] = []
        while True:
            page = self.get(path, limit=1000, offset=len(items), **params)
            items += page["items"]
            if len(items) >= page["total"] or not page["items"]:
                return items


def error_code(response: Any) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def new_tenant(http: Http, region: str) -> dict[str, Any]:
    return http.call("POST", f"{API}/tenants", json={"name": unique(f"Acme {region}"), "region": region}, expect=201)


# ----------------------------------------------------------------------- the primary tenant


@dataclass
class Primary:
    """The tenant and the ids of what was made in it, by type and label."""

    tenant: dict[str, Any]
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    script_content: dict[str, Any] = field(default_factory=dict)
    # script path -> (action id, property index, referenced type) of each numeric id in it
    script_refs: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.tenant["id"]

    def url(self, type_name: str, entity_id: int | None = None) -> str:
        return entity_url(self.id, type_name, entity_id)

    def of(self, type_name: str, label: str) -> int:
        return self.ids[type_name][label]

    @property
    def usernames(self) -> list[str]:
        return [f"{label}{self.id}" for label in ("lead", "agent")]


def entity_url(tenant_id: int, type_name: str, entity_id: int | None = None) -> str:
    base = f"{API}/tenants/{tenant_id}/{type_name}"
    return base if entity_id is None else f"{base}/{entity_id}"


def _make(http: Http, primary: Primary, type_name: str, label: str, payload: dict[str, Any]) -> int:
    made = http.call("POST", primary.url(type_name), json=payload, expect=201)
    primary.ids.setdefault(type_name, {})[label] = made["id"]
    return made["id"]


def build_primary(http: Http, region: str = "na1") -> Primary:
    """A primary tenant with every entity type, references between them and a script."""
    primary = Primary(new_tenant(http, region))
    tag = primary.id
    http.call(
        "PUT",
        primary.url("business-unit"),
        json={
            "name": f"Acme primary {tag}",
            "time_zone": "America/Chicago",
            "settings": {"language": "en", "max_queue": 40},
        },
    )
    _make(http, primary, "dispositions", "resolved", {"name": "Resolved", "classification": "positive"})
    _make(http, primary, "dispositions", "escalated", {"name": "Escalated", "classification": "negative"})
    _make(
        http,
        primary,
        "hours-of-operation",
        "weekdays",
        {
            "name": "Weekdays",
            "time_zone": "America/New_York",
            "weekly": [
                {"day": "mon", "open": "08:00", "close": "17:30"},
                {"day": "fri", "open": "09:00", "close": "16:00"},
            ],
            "holidays": [{"date": "2025-12-25", "name": "Christmas Day"}],
        },
    )
    _make(
        http,
        primary,
        "hours-of-operation",
        "weekend",
        {"name": "Weekend", "weekly": [{"day": "sat", "open": "10:00", "close": "14:00"}]},
    )
    # Created in the reverse order of their names, so that BCP ids (allocated in name order)
    # do not follow the primary's: a list of references must still compare equal.
    _make(
        http,
        primary,
        "skills",
        "support",
        {
            "name": "Support",
            "media_type": "voice",
            "hours_of_operation_id": primary.of("hours-of-operation", "weekend"),
            "disposition_ids": [primary.of("dispositions", "resolved")],
        },
    )
    _make(
        http,
        primary,
        "skills",
        "billing",
        {
            "name": "Billing",
            "media_type": "voice",
            "hours_of_operation_id": primary.of("hours-of-operation", "weekdays"),
            "disposition_ids": [primary.of("dispositions", "resolved"), primary.of("dispositions", "escalated")],
        },
    )
    _make(http, primary, "skills", "chat", {"name": "Chat sales", "media_type": "chat"})
    _make(
        http,
        primary,
        "roles",
        "supervisor",
        {"name": "Supervisor", "permissions": ["admin.view", "admin.edit", "acd.view", "acd.edit", "bcp.sync.view"]},
    )
    _make(http, primary, "roles", "agent", {"name": "Agent", "permissions": ["agent", "acd.view"]})
    _make(
        http,
        primary,
        "users",
        "lead",
        {
            "username": f"lead{tag}",
            "email": f"lead{tag}@example.com",
            "first_name": "Lena",
            "last_name": "Lead",
            "role_id": primary.of("roles", "supervisor"),
            "bcp_type": "multiple",
            "password": PASSWORD,
        },
    )
    _make(http, primary, "teams", "tier1", {"name": "Tier 1", "lead_user_id": primary.of("users", "lead")})
    _make(
        http,
        primary,
        "users",
        "agent",
        {
            "username": f"agent{tag}",
            "email": f"agent{tag}@example.com",
            "first_name": "Ada",
            "last_name": "Agent",
            "role_id": primary.of("roles", "agent"),
            "team_id": primary.of("teams", "tier1"),
            "bcp_type": "single",
            "password": PASSWORD + "-agent",
        },
    )
    # The cycle: the team's lead is a member of the team.
    http.call(
        "PATCH", primary.url("users", primary.of("users", "lead")), json={"team_id": primary.of("teams", "tier1")}
    )
    _make(
        http,
        primary,
        "agent-settings",
        "agent",
        {
            "user_id": primary.of("users", "agent"),
            "max_concurrent_chats": 3,
            "refusal_timeout_s": 45,
            "skills": [
                {"skill_id": primary.of("skills", "billing"), "proficiency": 5},
                {"skill_id": primary.of("skills", "support"), "proficiency": 12},
            ],
        },
    )
    _make(
        http,
        primary,
        "files",
        "welcome",
        {"path": "prompts/welcome.wav", "content": base64.b64encode(WELCOME_WAV).decode()},
    )
    primary.script_content, primary.script_refs["Inbound/Main"] = studio_script(primary)
    _make(
        http,
        primary,
        "scripts",
        "main",
        {"path": "Inbound/Main", "media_type": "voice", "content": primary.script_content},
    )
    _make(
        http,
        primary,
        "points-of-contact",
        "voice",
        {
            "name": "Main line",
            "channel": "voice",
            "address": voice_number(tag),
            "skill_id": primary.of("skills", "billing"),
            "script_path": "Inbound/Main",
        },
    )
    _make(
        http,
        primary,
        "points-of-contact",
        "chat",
        {"name": "Web chat", "channel": "chat", "address": f"chat-{tag}", "skill_id": primary.of("skills", "chat")},
    )
    return primary


def voice_number(n: int) -> str:
    return f"+1555{n % 10**7:07d}"


def studio_script(primary: Primary) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """A Studio script holding real ids, a name, a variable, Default, a file and free text."""
    billing, support = primary.of("skills", "billing"), primary.of("skills", "support")
    content = {
        "header": {"name": "Main", "version": 3},
        "actions": {
            "1": {"name": "BEGIN"},
            "2": {"name": "HOURS"},
            "3": {"name": "PLAY"},
            "4": {"name": "REQAGENT"},
            "5": {"name": "SETDISPOSITION"},
            "6": {"name": "SNIPPET"},
            "7": {"name": "REQAGENT"},
        },
        "properties": {
            "2": {"0": {"name": "Profile", "value": str(primary.of("hours-of-operation", "weekdays"))}},
            "3": {"0": {"name": "Sequence", "value": '"prompts/welcome.wav" %"Thanks for calling"'}},
            "4": {
                "0": {"name": "Skill", "value": str(billing)},
                "1": {"name": "TargetAgent", "value": str(primary.of("users", "agent"))},
                "2": {"name": "Priority", "value": "5"},
            },
            "5": {
                "0": {"name": "Skill", "value": str(support)},
                "1": {"name": "Disposition", "value": str(primary.of("dispositions", "resolved"))},
            },
            "6": {"0": {"name": "Data", "value": f'ASSIGN fallback = {billing}\nASSIGN queue = "{{SkillNo}}"'}},
            "7": {"0": {"name": "Skill", "value": "{SkillNo}"}, "1": {"name": "TargetAgent", "value": "Default"}},
        },
        "branches": {"1": {"Default": "2"}, "2": {"Open": "3", "Closed": "5"}, "3": {"Default": "4"}},
    }
    refs = [
        ("2", "0", "hours-of-operation"),
        ("4", "0", "skills"),
        ("4", "1", "users"),
        ("5", "0", "skills"),
        ("5", "1", "dispositions"),
    ]
    return content, refs


# --------------------------------------------------------------------------- the BCP plan


def pair(http: Http, primary_id: int, bcp_id: int) -> str:
    """Pair the tenants (as an operator); returns the passkey."""
    created = http.call("POST", f"{API}/tenants/{primary_id}/bcp", json={"bcp_tenant_id": bcp_id}, expect=201)
    return created["passkey"]


def put_settings(http: Http, tenant_id: int, **settings: Any) -> dict[str, Any]:
    return http.call("PUT", f"{API}/tenants/{tenant_id}/bcp/sync-settings", json=settings)


def enable_sync(http: Http, tenant_id: int, **settings: Any) -> dict[str, Any]:
    """Turn sync on; returns the queued first run."""
    answer = put_settings(http, tenant_id, enabled=True, **settings)
    assert answer["first_run"] is not None, answer
    return answer["first_run"]


def get_run(http: Http, tenant_id: int, run_id: int) -> dict[str, Any]:
    return http.get(f"{API}/tenants/{tenant_id}/bcp/sync-runs/{run_id}")


def correlation_map(http: Http, tenant_id: int) -> dict[tuple[str, int], int]:
    """(type, primary id) -> BCP id, through ``GET /bcp/correlations``."""
    items = http.all(f"{API}/tenants/{tenant_id}/bcp/correlations")
    mapping = {(c["type"], c["primary_id"]): c["bcp_id"] for c in items}
    assert len(mapping) == len(items), "a primary entity has two correlations"
    return mapping


def read_tenant(http: Http, tenant_id: int) -> dict[str, dict[int, dict[str, Any]]]:
    """Every entity of the tenant as the API shows it: {type: {id: entity}} (files with content)."""
    out: dict[str, dict[int, dict[str, Any]]] = {
        "business-unit": {(bu := http.get(entity_url(tenant_id, "business-unit")))["id"]: bu}
    }
    for type_name in COLLECTIONS:
        out[type_name] = {e["id"]: e for e in http.all(entity_url(tenant_id, type_name))}
    for file_id in out["files"]:
        out["files"][file_id] = http.get(entity_url(tenant_id, "files", file_id))
    return out


def in_scope(type_name: str, entity: dict[str, Any], types: Iterable[str] = ENTITY_TYPES) -> bool:
    """Synced: a selected type, and of points of contact only the voice ones."""
    return type_name in types and (type_name != "points-of-contact" or entity["channel"] == "voice")


def change_counts(run: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The run's counts without the zeros and without ``unchanged``."""
    out = {}
    for type_name, counts in run["counts"].items():
        changed = {k: v for k, v in counts.items() if v and k != "unchanged"}
        if changed:
            out[type_name] = changed
    return out


@dataclass
class Mirror:
    primary: dict[str, dict[int, dict[str, Any]]]
    bcp: dict[str, dict[int, dict[str, Any]]]
    corr: dict[tuple[str, int], int]

    def bcp_of(self, type_name: str, primary_id: int) -> dict[str, Any]:
        return self.bcp[type_name][self.corr[(type_name, primary_id)]]


def assert_bcp_mirrors_primary(
    http: Http,
    primary_id: int,
    bcp_id: int,
    *,
    script_refs: ScriptRefs,
    script_ids: str = "remap",
    types: Iterable[str] = ENTITY_TYPES,
) -> Mirror:
    """Every synced primary entity has exactly one correlated BCP entity, with a different
    id, whose every field equals the primary's with each reference translated through the
    correlations; entities out of scope (chat points of contact) have none."""
    types = set(types)
    mirror = Mirror(read_tenant(http, primary_id), read_tenant(http, bcp_id), correlation_map(http, primary_id))
    assert correlation_map(http, bcp_id) == mirror.corr, "GET /bcp/correlations differs between the two tenants"
    expected_keys = {(t, i) for t in ENTITY_TYPES for i, e in mirror.primary[t].items() if in_scope(t, e, types)}
    assert set(mirror.corr) == expected_keys, {
        "missing": expected_keys - set(mirror.corr),
        "extra": set(mirror.corr) - expected_keys,
    }
    assert len(set(mirror.corr.values())) == len(mirror.corr), "two primary entities share a BCP entity"
    for (type_name, p_id), b_id in sorted(mirror.corr.items()):
        assert b_id != p_id, f"{type_name} {p_id} kept its id in BCP"
        assert b_id in mirror.bcp[type_name], f"{type_name} {p_id}: its BCP entity {b_id} does not exist"
        expected = expected_bcp_fields(
            type_name, mirror.primary[type_name][p_id], mirror.corr, script_refs=script_refs, script_ids=script_ids
        )
        got = {k: v for k, v in mirror.bcp[type_name][b_id].items() if k not in NOT_COMPARED}
        assert canonical(got) == canonical(expected), f"{type_name} {p_id} -> {b_id}"
    return mirror


def expected_bcp_fields(
    type_name: str,
    entity: dict[str, Any],
    corr: dict[tuple[str, int], int],
    *,
    script_refs: ScriptRefs,
    script_ids: str = "remap",
) -> dict[str, Any]:
    """The primary entity's fields as they must read in BCP."""
    out = {k: copy.deepcopy(v) for k, v in entity.items() if k not in NOT_COMPARED}

    def bcp(target: str, value: int | None) -> int | None:
        return None if value is None else corr[(target, value)]

    for name, target in REFERENCES.get(type_name, {}).items():
        value = out.get(name)
        if isinstance(target, tuple):
            key, target_type = target
            out[name] = [{**item, key: bcp(target_type, item[key])} for item in value or []]
        elif isinstance(value, list):
            out[name] = [bcp(target, v) for v in value]
        else:
            out[name] = bcp(target, value)
    if type_name == "scripts" and script_ids == "remap":
        for action_id, index, target in script_refs.get(entity["path"], []):
            prop = out["content"]["properties"][action_id][index]
            prop["value"] = str(bcp(target, int(prop["value"])))
    return out


def canonical(fields: dict[str, Any]) -> dict[str, Any]:
    """Lists of references compare as sets: their order carries no meaning."""
    out = dict(fields)
    for name in ("disposition_ids",):
        if isinstance(out.get(name), list):
            out[name] = sorted(out[name])
    if isinstance(out.get("skills"), list) and all(isinstance(s, dict) for s in out["skills"]):
        out["skills"] = sorted(out["skills"], key=lambda s: s["skill_id"])
    return out


# ------------------------------------------------------------------- outside the HTTP API


def store_platform(data_dir: Any, config: Any = None) -> Any:
    """A ``Platform`` over an installation's databases, to read what the API never shows
    (password hashes, audit rows) or to count rows while a worker process writes them."""
    from lifeboat.bootstrap import build_platform
    from lifeboat.config import load_settings

    return build_platform(load_settings(config, data_dir=data_dir))


def wait_for_run(http: Http, tenant_id: int, run_id: int, *, timeout: float = 120) -> dict[str, Any]:
    """Poll a run until it has ended (a worker outside the test carries it out)."""
    deadline = time.monotonic() + timeout
    while True:
        run = get_run(http, tenant_id, run_id)
        if run["status"] in ("succeeded", "failed", "held"):
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run['status']} after {timeout} s"
        time.sleep(0.1)
