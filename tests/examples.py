"""A minimal valid payload for every entity type, and a tenant driven through the HTTP API.

``example(type, need)`` builds a payload whose references are real: ``need("skills")``
must return the id of a skill that exists. ``TenantApi`` supplies ``need`` by creating
the referenced entity first, so ``TenantApi.create("agent-settings")`` makes a user (and
its role), a skill (and its hours and disposition), then the agent settings.

Every payload carries a fresh number, so natural keys (names, usernames, addresses) never
collide, inside a tenant or across tenants.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Callable
from typing import Any

Need = Callable[[str], int]

PASSWORD = "correct horse battery"
FILE_BYTES = b"RIFF\x00\x00\x00\x00WAVEfmt lifeboat test prompt"
SCRIPT = {
    "header": {"name": "Inbound/Main", "mediaType": "voice"},
    "actions": {"1": {"name": "BEGIN"}, "2": {"name": "HANGUP"}},
    "properties": {},
    "branches": {"1": {"Default": "2"}},
}

_numbers = itertools.count(1)


def _hours(n: int, need: Need) -> dict[str, Any]:
    return {
        "name": f"Office hours {n}",
        "time_zone": "America/New_York",
        "weekly": [{"day": "mon", "open": "08:00", "close": "17:30"}],
        "holidays": [{"date": "2025-12-25", "name": "Christmas Day"}],
    }


EXAMPLES: dict[str, Callable[[int, Need], dict[str, Any]]] = {
    "business-unit": lambda n, need: {
        "name": f"Contact center {n}",
        "time_zone": "Europe/Paris",
        "settings": {"language": "fr"},
    },
    "hours-of-operation": _hours,
    "dispositions": lambda n, need: {"name": f"Resolved {n}", "classification": "positive"},
    "skills": lambda n, need: {
        "name": f"Billing {n}",
        "media_type": "voice",
        "hours_of_operation_id": need("hours-of-operation"),
        "disposition_ids": [need("dispositions")],
    },
    "roles": lambda n, need: {"name": f"Agent role {n}", "permissions": ["acd.view", "agent"]},
    "teams": lambda n, need: {"name": f"Team {n}", "lead_user_id": need("users")},
    "users": lambda n, need: {
        "username": f"agent{n}",
        "email": f"agent{n}@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "role_id": need("roles"),
        "password": PASSWORD,
    },
    "agent-settings": lambda n, need: {
        "user_id": need("users"),
        "skills": [{"skill_id": need("skills"), "proficiency": 5}],
    },
    "points-of-contact": lambda n, need: {
        "name": f"Main line {n}",
        "channel": "voice",
        "address": f"+1555{n:07d}",
        "skill_id": need("skills"),
        "script_path": "Inbound/Main",
    },
    "files": lambda n, need: {"path": f"prompts/welcome-{n}.wav", "content": base64.b64encode(FILE_BYTES).decode()},
    "scripts": lambda n, need: {"path": f"Inbound/Main-{n}", "media_type": "voice", "content": SCRIPT},
}

# One field a user would change on each type, and its new value (for PATCH).
CHANGES: dict[str, tuple[str, Any]] = {
    "hours-of-operation": ("weekly", [{"day": "sat", "open": "09:00", "close": "12:00"}]),
    "dispositions": ("classification", "negative"),
    "skills": ("media_type", "chat"),
    "roles": ("permissions", ["acd.edit", "acd.view"]),
    "teams": ("is_active", False),
    "users": ("first_name", "Grace"),
    "agent-settings": ("max_concurrent_chats", 4),
    "points-of-contact": ("name", "Renamed line"),
    "files": ("path", "prompts/renamed.wav"),
    "scripts": ("is_active", False),
}


def unique(base: str) -> str:
    """``base`` with a number no other call of the run gets (for usernames and names)."""
    return f"{base}{next(_numbers)}"


def example(type_name: str, need: Need) -> dict[str, Any]:
    return EXAMPLES[type_name](next(_numbers), need)


class TenantApi:
    """One tenant seen through the API, with the headers of whoever is acting."""

    def __init__(self, api: Any, headers: dict[str, str], tenant: dict[str, Any]):
        self.api = api
        self.headers = headers
        self.tenant = tenant
        self.id: int = tenant["id"]
        self.entities: dict[str, dict[str, Any]] = {}  # filled by tests that need one of each
        self.user: dict[str, Any] | None = None  # set by as_user
        self.role: dict[str, Any] | None = None

    def url(self, type_name: str, entity_id: int | None = None) -> str:
        base = f"/api/v1/tenants/{self.id}/{type_name}"
        return base if entity_id is None else f"{base}/{entity_id}"

    def payload(self, type_name: str, **overrides: Any) -> dict[str, Any]:
        """A valid payload; the entities it refers to are created now."""
        return {**example(type_name, self.need), **overrides}

    def create(self, type_name: str, **overrides: Any) -> dict[str, Any]:
        response = self.api.post(self.url(type_name), json=self.payload(type_name, **overrides), headers=self.headers)
        assert response.status_code == 201, response.text
        return response.json()

    def need(self, type_name: str) -> int:
        return self.create(type_name)["id"]

    def get(self, type_name: str, entity_id: int | None = None) -> Any:
        return self.api.get(self.url(type_name, entity_id), headers=self.headers)

    def post(self, type_name: str, body: Any) -> Any:
        return self.api.post(self.url(type_name), json=body, headers=self.headers)

    def patch(self, type_name: str, entity_id: int, body: Any) -> Any:
        return self.api.patch(self.url(type_name, entity_id), json=body, headers=self.headers)

    def delete(self, type_name: str, entity_id: int) -> Any:
        return self.api.delete(self.url(type_name, entity_id), headers=self.headers)

    def as_user(self, *permissions: str, username: str | None = None) -> TenantApi:
        """The same tenant, acting as a new user whose role holds exactly ``permissions``."""
        role = self.create("roles", permissions=sorted(permissions))
        user = self.create("users", role_id=role["id"], **({"username": username} if username else {}))
        acting = TenantApi(self.api, self.api.login(user["username"], PASSWORD), self.tenant)
        acting.user, acting.role = user, role
        return acting


def new_tenant(api: Any, name: str, region: str = "na1") -> TenantApi:
    """A fresh tenant, driven by the operator."""
    headers = api.operator()
    response = api.post("/api/v1/tenants", json={"name": name, "region": region}, headers=headers)
    assert response.status_code == 201, response.text
    return TenantApi(api, headers, response.json())


def error_of(response: Any) -> dict[str, Any]:
    """The ``error`` object of an error answer, after checking its shape (SPEC §9)."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert isinstance(body["error"]["details"], dict), body
    return body["error"]


def field_errors(response: Any) -> dict[str, str]:
    """``{field: code}`` of a 422 answer."""
    assert response.status_code == 422, response.text
    error = error_of(response)
    return {e["field"]: e["code"] for e in error["details"]["errors"]}
