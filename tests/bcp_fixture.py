"""A paired, synced BCP plan to log in to, switch and route through (SPEC §5–§8), built over
the HTTP API with the helpers of ``tests/sync_fixture.py``.

    plan = build_plan(api, platform)             # primary in na1, BCP in eu1, first sync done
    plan.login("single")                          # the POST /auth/login response
    plan.headers("admin", tenant_id=plan.bcp_id)  # bearer headers of a new session
    plan.switch("bcp")                            # as the operator, with the passkey
    plan.sync()                                   # "sync now" and a worker carries it out

The primary holds one user of each BCP type, labelled by it (``none``, ``single``,
``multiple``) and ``admin``: ``multiple`` with every permission, ``bcp.enablement.edit``
included. ``single`` is the agent of both voice skills, so every readiness check passes
after the first sync. Points of contact: a voice one (skill Billing, script Inbound/Main)
and a chat and an sms one with E.164 addresses (digital: never synced). The script holds
only structured references that resolve. After the first sync, ``bcp_only`` is created
directly in the BCP tenant with a role of its own there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lifeboat.jobs import work_once
from tests.sync_fixture import API, Http, correlation_map, enable_sync, entity_url, get_run, new_tenant, pair

PASSWORD = "bcp-test-password"
ALL_PERMISSIONS = [
    "admin.view",
    "admin.edit",
    "acd.view",
    "acd.edit",
    "studio.view",
    "studio.edit",
    "bcp.sync.view",
    "bcp.sync.edit",
    "bcp.enablement.view",
    "bcp.enablement.edit",
    "agent",
]
AGENT_PERMISSIONS = ["agent", "acd.view"]
BCP_TYPE = {"none": "none", "single": "single", "multiple": "multiple", "admin": "multiple"}
CLUSTER = {"na1": "sip:na1.voice.lifeboat.test", "eu1": "sip:eu1.voice.lifeboat.test"}


@dataclass
class SyncedPlan:
    """Both tenants of a plan, the primary's ids by type and label, and how to act on them."""

    api: Any  # tests.conftest.Api
    platform: Any
    ops: Http  # the operator
    primary: dict[str, Any]
    bcp: dict[str, Any]
    passkey: str
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # primary ids: type -> label -> id
    usernames: dict[str, str] = field(default_factory=dict)  # label -> username
    numbers: dict[str, str] = field(default_factory=dict)  # channel -> address
    bcp_only_id: int | None = None

    @property
    def primary_id(self) -> int:
        return self.primary["id"]

    @property
    def bcp_id(self) -> int:
        return self.bcp["id"]

    def url(self, rest: str = "", tenant_id: int | None = None) -> str:
        return f"{API}/tenants/{tenant_id or self.primary_id}/bcp{rest}"

    def of(self, type_name: str, label: str) -> int:
        return self.ids[type_name][label]

    def bcp_of(self, type_name: str, label: str) -> int:
        """The BCP id of a synced primary entity, from ``GET /bcp/correlations``."""
        return correlation_map(self.ops, self.primary_id)[(type_name, self.of(type_name, label))]

    def login(self, label: str, tenant_id: int | None = None, password: str = PASSWORD) -> Any:
        body: dict[str, Any] = {"username": self.usernames[label], "password": password}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        return self.api.post(f"{API}/auth/login", json=body)

    def headers(self, label: str, tenant_id: int | None = None) -> dict[str, str]:
        response = self.login(label, tenant_id)
        assert response.status_code == 200 and "token" in response.json(), response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def switch(
        self,
        to: str,
        *,
        passkey: str | None = None,
        headers: dict[str, str] | None = None,
        tenant_id: int | None = None,
    ) -> Any:
        return self.api.post(
            self.url("/switch", tenant_id),
            json={"to": to, "passkey": passkey or self.passkey},
            headers=headers if headers is not None else self.ops.headers,
        )

    def describe(self) -> dict[str, Any]:
        return self.ops.get(self.url())

    def sync(self) -> dict[str, Any]:
        """Sync now, carried out by a worker; the run as the API reports it (it must succeed)."""
        queued = self.ops.call("POST", self.url("/sync-runs"), expect=202)
        return self.work(queued["id"])

    def work(self, run_id: int) -> dict[str, Any]:
        assert work_once(self.platform) is not None, "no run was waiting"
        run = get_run(self.ops, self.primary_id, run_id)
        assert run["status"] == "succeeded", run
        return run

    def make(self, type_name: str, label: str, payload: dict[str, Any], tenant_id: int | None = None) -> int:
        made = self.ops.call("POST", entity_url(tenant_id or self.primary_id, type_name), json=payload, expect=201)
        if tenant_id in (None, self.primary_id):
            self.ids.setdefault(type_name, {})[label] = made["id"]
        return made["id"]


def build_plan(api: Any, platform: Any, *, bcp_only: bool = True, synced: bool = True) -> SyncedPlan:
    """Primary with users, skills, a script and points of contact; paired; first sync done
    (``synced=False``: sync stays off and the BCP tenant empty)."""
    ops = Http(api, api.operator())
    primary = new_tenant(ops, "na1")
    bcp = new_tenant(ops, "eu1")
    plan = SyncedPlan(api, platform, ops, primary, bcp, passkey="")
    _fill_primary(plan)
    plan.passkey = pair(ops, plan.primary_id, plan.bcp_id)
    if not synced:
        return plan
    first = enable_sync(ops, plan.primary_id)
    plan.work(first["id"])
    if bcp_only:
        add_bcp_only_user(plan)
    return plan


def _fill_primary(plan: SyncedPlan) -> None:
    tag = plan.primary_id
    hours = plan.make(
        "hours-of-operation",
        "weekdays",
        {"name": "Weekdays", "weekly": [{"day": "mon", "open": "08:00", "close": "17:00"}]},
    )
    resolved = plan.make("dispositions", "resolved", {"name": "Resolved"})
    billing = plan.make(
        "skills",
        "billing",
        {"name": "Billing", "media_type": "voice", "hours_of_operation_id": hours, "disposition_ids": [resolved]},
    )
    support = plan.make("skills", "support", {"name": "Support", "media_type": "voice"})
    chat = plan.make("skills", "chat", {"name": "Chat", "media_type": "chat"})
    roles = {
        "agent": plan.make("roles", "agent", {"name": "Agent", "permissions": AGENT_PERMISSIONS}),
        "admin": plan.make("roles", "admin", {"name": "BCP admin", "permissions": ALL_PERMISSIONS}),
    }
    for label, bcp_type in BCP_TYPE.items():
        username = f"{label}{tag}"
        plan.usernames[label] = username
        plan.make(
            "users",
            label,
            {
                "username": username,
                "email": f"{username}@example.com",
                "first_name": label.title(),
                "last_name": "Tester",
                "role_id": roles["admin" if label == "admin" else "agent"],
                "bcp_type": bcp_type,
                "password": PASSWORD,
            },
        )
    plan.make(
        "agent-settings",
        "single",
        {
            "user_id": plan.of("users", "single"),
            "skills": [{"skill_id": billing, "proficiency": 5}, {"skill_id": support, "proficiency": 10}],
        },
    )
    plan.make(
        "scripts",
        "main",
        {
            "path": "Inbound/Main",
            "media_type": "voice",
            "content": {
                "header": {"name": "Main"},
                "actions": {"1": {"name": "BEGIN"}, "2": {"name": "HOURS"}, "3": {"name": "REQAGENT"}},
                "properties": {
                    "2": {"0": {"name": "Profile", "value": str(hours)}},
                    "3": {"0": {"name": "Skill", "value": str(billing)}},
                },
                "branches": {"1": {"Default": "2"}, "2": {"Open": "3"}},
            },
        },
    )
    plan.numbers = {
        channel: f"+1{prefix}{tag % 10**7:07d}"
        for channel, prefix in (("voice", "555"), ("chat", "556"), ("sms", "557"))
    }
    plan.make(
        "points-of-contact",
        "voice",
        {
            "name": "Main line",
            "channel": "voice",
            "address": plan.numbers["voice"],
            "skill_id": billing,
            "script_path": "Inbound/Main",
        },
    )
    plan.make(
        "points-of-contact",
        "chat",
        {"name": "Web chat", "channel": "chat", "address": plan.numbers["chat"], "skill_id": chat},
    )
    plan.make(
        "points-of-contact",
        "sms",
        {"name": "Texts", "channel": "sms", "address": plan.numbers["sms"], "skill_id": chat},
    )


def add_bcp_only_user(plan: SyncedPlan) -> None:
    """A user created directly in the BCP tenant, with a role of its own there."""
    username = f"local{plan.bcp_id}"
    role = plan.make("roles", "local", {"name": "BCP local", "permissions": AGENT_PERMISSIONS}, tenant_id=plan.bcp_id)
    plan.usernames["bcp_only"] = username
    plan.bcp_only_id = plan.make(
        "users",
        "bcp_only",
        {
            "username": username,
            "email": f"{username}@example.com",
            "first_name": "Local",
            "last_name": "Only",
            "role_id": role,
            "bcp_type": "none",
            "password": PASSWORD,
        },
        tenant_id=plan.bcp_id,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def with_region_down(settings: Any, name: str) -> Any:
    """The same settings with region ``name`` out of reach: on SQLite its file sits in a folder
    that does not exist, on PostgreSQL nothing listens on its port. (Stopping the shared test
    server would take every region down at once.)"""
    import socket

    if settings.directory_url is None or settings.directory_url.startswith("sqlite"):
        url = f"sqlite:///{settings.data_dir / 'no-such-folder' / f'region-{name}.db'}"
    else:
        with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
            probe.bind(("127.0.0.1", 0))
            url = f"postgresql+psycopg://postgres@127.0.0.1:{probe.getsockname()[1]}/lifeboat_{name}"
    regions = [r.model_copy(update={"database_url": url}) if r.name == name else r for r in settings.regions]
    return settings.model_copy(update={"regions": regions, "database_connect_timeout_s": 2})
