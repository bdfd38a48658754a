"""Webhooks cannot reach inside (issue 7, item 2), on SQLite and PostgreSQL: a target on
loopback, a private or link-local range, in any spelling, or a name resolving there, is
refused when subscribed and again when sent; redirects are not followed; what a tenant
reads back about a failed delivery is its class, not what answered.

Names are resolved by a stand-in for ``socket.getaddrinfo`` (this machine has no DNS to
rely on), which answers for the names of the test and passes the rest to the real one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from lifeboat.services.alerts import deliver_due
from lifeboat.store.tables import alert_outbox
from tests.alert_receivers import WebhookReceiver
from tests.conftest import sqlite_settings
from tests.integration.test_alerts import Plan, deliver_all, error_code, ok, outbox_row

PUBLIC = "93.184.215.14"  # a global unicast address (nothing connects to it here)
REFUSED_TARGETS = [
    "http://127.0.0.1:8080/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/hook",  # ... in hex
    "http://0x7f.1/hook",
    "http://127.1/hook",  # short form
    "http://0177.0.0.1/hook",  # octal
    "http://127.0.0.1./hook",  # fully qualified
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]/hook",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/hook",  # mapped 169.254.169.254
    "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 of the metadata service
    "http://[2002:c0a8:101::1]/hook",  # 6to4 of 192.168.1.1
    "http://[::]/hook",
    "http://[fe80::1%25eth0]/hook",
    "http://[fd12:3456::1]/hook",  # unique local
    "http://[ff02::1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    "http://0.0.0.0:8000/hook",
    "http://0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://localhost:8000/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "https://user:pw@127.0.0.1/hook",
]


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def settings(backend, request, tmp_path):
    """The shared settings with a short alert timeout; private networks are not allowed."""
    overrides = {"alert_retry_base_s": 0.2, "alert_timeout_s": 1.0}
    if backend == "postgres":
        return request.getfixturevalue("postgres_settings")(**overrides)
    return sqlite_settings(tmp_path / "data", **overrides)


@pytest.fixture
def plan(api) -> Plan:
    return Plan(api, api.operator())


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """``dns["hooks.example.test"] = ["127.0.0.1"]``: what the resolver answers for a name,
    for this test. Each lookup is counted in ``dns["lookups"]``."""
    answers: dict[str, Any] = {"lookups": []}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        answers["lookups"].append(host)
        found = answers[host]
        if callable(found):
            found = found()
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (a, port or 0) if ":" not in a else (a, port or 0, 0, 0),
            )
            for a in found
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def subscribe(plan: Plan, target: str):
    return plan.api.post(
        plan.url("/alert-subscriptions"),
        json={"kind": "webhook", "target": target, "events": ["switched"]},
        headers=plan.ops,
    )


def assert_not_allowed(response) -> None:
    assert response.status_code == 422, response.text
    assert error_code(response) == "webhook_target_not_allowed", response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == "target"


def on_port(url: str, host: str) -> str:
    """The receiver's URL with another host."""
    return url.replace("127.0.0.1", host, 1)


# ----------------------------------------------------------------------- subscribe time


def test_every_spelling_of_an_inside_address_is_refused_and_nothing_is_stored(plan):
    for target in REFUSED_TARGETS:
        response = subscribe(plan, target)
        assert response.status_code == 422 and error_code(response) == "webhook_target_not_allowed", (
            target,
            response.text,
        )
    assert plan.subscriptions() == []


def test_a_name_that_resolves_inside_is_refused_even_when_one_of_its_addresses_is_public(plan, dns):
    dns["inside.example.test"] = ["127.0.0.1"]
    dns["metadata.example.test"] = ["169.254.169.254"]
    dns["mixed.example.test"] = [PUBLIC, "10.1.2.3"]
    dns["v6.example.test"] = ["::1"]
    dns["public.example.test"] = [PUBLIC, "2606:4700::1111"]

    for name in ("inside", "metadata", "mixed", "v6"):
        assert_not_allowed(subscribe(plan, f"https://{name}.example.test/hook"))
    made = ok(subscribe(plan, "https://public.example.test/hook"), 201)

    assert [s["id"] for s in plan.subscriptions()] == [made["id"]]
    assert "public.example.test" in dns["lookups"]


def test_public_addresses_and_names_not_resolvable_yet_are_accepted(plan, dns):
    dns["not-yet.example.test"] = []  # its records are not published yet: it is checked when sent
    for target in (
        f"https://{PUBLIC}/hook",
        "https://[2606:4700::1111]:8443/hook",
        "https://not-yet.example.test/hook",
        "http://[64:ff9b::5db8:d70e]/hook",
    ):  # NAT64 of a public address
        ok(subscribe(plan, target), 201)
    assert len(plan.subscriptions()) == 4


def test_with_private_networks_allowed_a_local_receiver_works_but_link_local_stays_refused(platform, plan, hooks):
    platform.settings.alert_allow_private_networks = True
    sub = ok(subscribe(plan, hooks.url), 201)
    assert_not_allowed(subscribe(plan, "http://169.254.169.254/latest/meta-data/"))
    assert_not_allowed(subscribe(plan, "http://[::ffff:169.254.169.254]/"))

    ok(plan.switch("bcp"))
    deliver_all(platform)

    (post,) = hooks.wait_for("switched")
    assert post.signature_is_valid(sub["secret"])
    assert outbox_row(platform, sub["id"])["status"] == "delivered"


# ------------------------------------------------------------------------ delivery time


def test_a_name_that_resolves_inside_by_delivery_time_is_not_sent(platform, plan, hooks, dns):
    dns["rebind.example.test"] = [PUBLIC]  # public when subscribed ...
    sub = ok(subscribe(plan, on_port(hooks.url, "rebind.example.test")), 201)
    dns["rebind.example.test"] = ["127.0.0.1"]  # ... the receiver on loopback when sent

    ok(plan.switch("bcp"))
    deliver_all(platform)

    assert hooks.deliveries == []
    row = outbox_row(platform, sub["id"])
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, "not delivered: target not allowed")


def test_the_connection_goes_to_the_address_that_was_checked(platform, plan, hooks, dns):
    """The name is looked up once per delivery and the connection uses that answer: a
    resolver that would answer differently a moment later (DNS rebinding) is not asked again."""
    platform.settings.alert_allow_private_networks = True
    answers = iter([["127.0.0.1"], ["127.0.0.1"]])  # one for subscribing, one for sending; a third lookup fails
    dns["pinned.example.test"] = lambda: next(answers, [])
    sub = ok(subscribe(plan, on_port(hooks.url, "pinned.example.test")), 201)

    ok(plan.switch("bcp"))
    deliver_all(platform)

    (post,) = hooks.wait_for("switched")
    assert post.headers["host"].startswith("pinned.example.test:")  # the Host header keeps the name
    assert dns["lookups"] == ["pinned.example.test"] * 2
    assert outbox_row(platform, sub["id"])["status"] == "delivered"


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_redirect_is_not_followed_and_counts_as_a_failed_delivery(platform, plan, hooks, status):
    platform.settings.alert_allow_private_networks = True
    sub = ok(subscribe(plan, hooks.url), 201)
    hooks.answer_next(status)

    ok(plan.switch("bcp"))
    deliver_all(platform)

    assert [(d.path, d.answered) for d in hooks.deliveries] == [("/hooks/lifeboat", status)]
    row = outbox_row(platform, sub["id"])
    assert (row["status"], row["last_error"]) == ("pending", "not delivered: HTTP 3xx")


# ----------------------------------------------------------------- what a tenant reads


def test_a_tenant_reads_the_class_of_a_failure_never_the_answer_or_the_connection(platform, plan, hooks):
    platform.settings.alert_allow_private_networks = True
    hooks.answer_body = b"redis_version:7.2.4 internal banner"
    answered = ok(subscribe(plan, hooks.url), 201)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"  # nothing listens once closed
    refused = ok(subscribe(plan, refused_url), 201)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections are accepted by the kernel and never answered
    try:
        mute = ok(subscribe(plan, f"http://127.0.0.1:{silent.getsockname()[1]}/hook"), 201)
        hooks.answer_next(503)

        ok(plan.switch("bcp"))
        assert deliver_due(platform) == 3  # one try each
    finally:
        silent.close()

    recent = {s["id"]: s["recent"][0]["last_error"] for s in plan.subscriptions()}
    assert recent == {
        answered["id"]: "not delivered: HTTP 5xx",
        refused["id"]: "not delivered: connection failed",
        mute["id"]: "not delivered: timed out",
    }


def test_an_error_stored_before_errors_were_classed_is_not_shown(platform, plan):
    platform.settings.alert_allow_private_networks = True
    sub = ok(subscribe(plan, "http://10.0.0.7/hook"), 201)
    ok(plan.switch("bcp"))
    with platform.directory.write() as conn:
        conn.execute(
            update(alert_outbox)
            .where(alert_outbox.c.subscription_id == sub["id"])
            .values(last_error="ConnectError: [Errno 111] Connection refused by 10.0.0.7:6379", attempts=1)
        )

    (listed,) = plan.subscriptions()

    assert listed["recent"][0]["last_error"] == "not delivered"
