"""Alerts sent by a live ``lifeboat serve`` itself (SPEC §8): its own alert loop posts to a
real HTTP receiver and mails a real SMTP server (aiosmtpd), both started by the test, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from tests.alert_receivers import SmtpSink, WebhookReceiver
from tests.e2e.lifeboat_process import API, LifeboatServer, create_operator

MAILBOX = "oncall@example.com"


@pytest.fixture
def mail() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def server(installation, start_lifeboat, mail) -> LifeboatServer:
    create_operator(installation)
    return start_lifeboat(
        installation,
        env={
            "LIFEBOAT_SMTP_HOST": mail.host,
            "LIFEBOAT_SMTP_PORT": str(mail.port),
            "LIFEBOAT_ALERT_RETRY_BASE_S": "0.5",
            "LIFEBOAT_ALERT_ALLOW_PRIVATE_NETWORKS": "true",
        },
    )  # the receiver is on 127.0.0.1


def ok(response: httpx2.Response, status: int = 200) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
    )
    return response.json() if response.content else None


def test_the_server_posts_switch_and_revert_signed_after_commit_and_mails_them(server, hooks, mail):
    ops = server.operator()
    primary = ok(ops.post(f"{API}/tenants", json={"name": "Acme", "region": "na1"}), 201)
    bcp = ok(ops.post(f"{API}/tenants", json={"name": "Acme BCP", "region": "eu1"}), 201)
    plan_url = f"{API}/tenants/{primary['id']}/bcp"
    passkey = ok(ops.post(plan_url, json={"bcp_tenant_id": bcp["id"]}), 201)["passkey"]
    events = ["switched", "reverted"]
    webhook = ok(
        ops.post(
            f"{API}/tenants/{primary['id']}/alert-subscriptions",
            json={"kind": "webhook", "target": hooks.url, "events": events},
        ),
        201,
    )
    ok(
        ops.post(
            f"{API}/tenants/{bcp['id']}/alert-subscriptions",
            json={"kind": "email", "target": MAILBOX, "events": events},
        ),
        201,
    )
    observer = server.operator()  # reads the plan while the server waits for the receiver's answer
    hooks.observe = lambda: observer.get(plan_url).json()["active_side"]

    ok(ops.post(f"{plan_url}/switch", json={"to": "bcp", "passkey": passkey}))
    (switched,) = hooks.wait_for("switched")
    hooks.answer_next(500)  # the revert's first try fails; the server tries again
    ok(ops.post(f"{plan_url}/switch", json={"to": "primary", "passkey": passkey}))
    reverted = hooks.wait_for("reverted", count=2)

    assert switched.signature_is_valid(webhook["secret"]) and switched.observed == "bcp"
    assert switched.json()["active_tenant_id"] == bcp["id"]
    assert [r.answered for r in reverted] == [500, 200]
    assert all(r.signature_is_valid(webhook["secret"]) and r.observed == "primary" for r in reverted)
    assert reverted[0].body == reverted[1].body and reverted[1].at - reverted[0].at >= 0.45
    for event in events:
        message = mail.wait_for(lambda m, e=event: m["Subject"].startswith(f"[lifeboat] {e}:"))
        assert message["To"] == MAILBOX and f'"event": "{event}"' in message.get_content()
