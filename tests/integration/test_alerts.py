"""Alert subscriptions and their delivery (SPEC §8), on SQLite and PostgreSQL: what a real
HTTP receiver and a real SMTP server started by the test get, for every event.

The API is driven with FastAPI's TestClient; the job loops' part is played by calling
``deliver_due``, ``work_once`` and ``check_regions`` the way the loops do.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lifeboat.domain.records import AlertEvent
from lifeboat.jobs import work_once
from lifeboat.services import alerts
from lifeboat.services.alerts import deliver_due
from lifeboat.services.monitor import check_regions
from lifeboat.store.alerts import OutboxRepo, count_pending
from lifeboat.store.database import Database, build_engine
from lifeboat.store.plans import PlanRepo
from tests.alert_receivers import Delivery, SmtpSink, WebhookReceiver
from tests.conftest import sqlite_settings

API = "/api/v1"
PASSWORD = "user-password-1"
RETRY_BASE_S = 0.5
WAIT_S = 30
_tags = itertools.count(1)


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def mail() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def hooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def settings(backend, request, tmp_path, mail):
    """The shared settings, with the test's SMTP server and a short retry backoff; the
    webhook receiver listens on 127.0.0.1, so private networks are allowed."""
    overrides = {
        "smtp_host": mail.host,
        "smtp_port": mail.port,
        "alert_retry_base_s": RETRY_BASE_S,
        "alert_allow_private_networks": True,
    }
    if backend == "postgres":
        return request.getfixturevalue("postgres_settings")(**overrides)
    return sqlite_settings(tmp_path / "data", **overrides)


@pytest.fixture
def ops(api) -> dict[str, str]:
    return api.operator()


def ok(response, status: int = 200) -> Any:
    request = response.request
    assert response.status_code == status, f"{request.method} {request.url}: {response.status_code} {response.text}"
    return response.json() if response.content else None


def error_code(response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class Plan:
    """A paired primary (na1) and BCP tenant (eu1), set up by the operator."""

    def __init__(self, api, ops: dict[str, str]):
        tag = next(_tags)
        self.api, self.ops = api, ops
        self.primary = ok(api.post(f"{API}/tenants", json={"name": f"Acme {tag}", "region": "na1"}, headers=ops), 201)
        self.bcp = ok(api.post(f"{API}/tenants", json={"name": f"Acme BCP {tag}", "region": "eu1"}, headers=ops), 201)
        paired = ok(api.post(self.url("/bcp"), json={"bcp_tenant_id": self.bcp["id"]}, headers=ops), 201)
        self.id, self.passkey = paired["plan"]["id"], paired["passkey"]

    def url(self, rest: str, tenant: dict[str, Any] | None = None) -> str:
        return f"{API}/tenants/{(tenant or self.primary)['id']}{rest}"

    def subscribe(self, kind: str, target: str, events: list[str] | None = None, *, tenant=None) -> dict[str, Any]:
        body = {"kind": kind, "target": target, **({"events": events} if events is not None else {})}
        return ok(self.api.post(self.url("/alert-subscriptions", tenant), json=body, headers=self.ops), 201)

    def switch(self, to: str, passkey: str | None = None, *, tenant=None):
        return self.api.post(
            self.url("/bcp/switch", tenant), json={"to": to, "passkey": passkey or self.passkey}, headers=self.ops
        )

    def subscriptions(self, tenant=None) -> list[dict[str, Any]]:
        return ok(self.api.get(self.url("/alert-subscriptions", tenant), headers=self.ops))["items"]


@pytest.fixture
def plan(api, ops) -> Plan:
    return Plan(api, ops)


def deliver_until(platform, check: Callable[[], Any], *, timeout: float = WAIT_S) -> Any:
    """Run the alert sender's step, as its loop does, until ``check`` holds."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not delivered within {timeout}s")
        deliver_due(platform)
        time.sleep(0.02)  # the loop's poll, shortened
    return value


def deliver_all(platform) -> None:
    """Send everything that is due now (the receiver answers at once)."""
    while deliver_due(platform):
        pass


def assert_signed(delivery: Delivery, secret: str) -> None:
    assert delivery.signature_is_valid(secret), delivery.headers
    assert not delivery.signature_is_valid(secret + "x"), "the signature check cannot fail"
    assert abs(time.time() - int(delivery.headers["x-lifeboat-timestamp"])) < 300
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-lifeboat-event"] == delivery.event
    assert delivery.path == "/hooks/lifeboat"


def active_side(platform, plan_id: int) -> str:
    """The plan as another connection sees it: only what was committed."""
    with platform.directory.read() as conn:
        return PlanRepo(conn).get(plan_id).active_side


@contextlib.contextmanager
def unreachable(platform, region_name: str, tmp_path: Path) -> Iterator[None]:
    """The region's database cannot be reached inside the block (its folder does not exist)."""
    region = platform.regions[region_name]
    real = region.db
    region.db = Database(region_name, build_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'region.db'}"))
    try:
        assert not region.db.is_up()
        yield
    finally:
        region.db.dispose()
        region.db = real


def outbox_row(platform, subscription_id: int) -> dict[str, Any]:
    """The one delivery of a subscription, as stored (attempts and errors before it is sent)."""
    with platform.directory.read() as conn:
        (row,) = OutboxRepo(conn).of_subscription(subscription_id)
    return row


def user_with(api, ops: dict[str, str], tenant_id: int, *permissions: str) -> dict[str, str]:
    """A new user of the tenant whose role holds exactly ``permissions``, logged in."""
    tag = f"{tenant_id}u{next(_tags)}"
    role = ok(
        api.post(
            f"{API}/tenants/{tenant_id}/roles",
            headers=ops,
            json={"name": f"Role {tag}", "permissions": list(permissions)},
        ),
        201,
    )
    ok(
        api.post(
            f"{API}/tenants/{tenant_id}/users",
            headers=ops,
            json={
                "username": f"user{tag}",
                "email": f"user{tag}@example.com",
                "first_name": "Una",
                "last_name": "User",
                "role_id": role["id"],
                "password": PASSWORD,
            },
        ),
        201,
    )
    return api.login(f"user{tag}", PASSWORD)


# ------------------------------------------------------------------------ subscriptions


def test_a_webhook_secret_is_shown_once_and_signs_every_post(plan, hooks, platform):
    sub = plan.subscribe("webhook", hooks.url)

    assert sub["kind"] == "webhook" and sub["target"] == hooks.url
    assert sorted(sub["events"]) == sorted(alerts.EVENTS)  # every event by default
    assert len(sub["secret"]) >= 32
    listed = plan.subscriptions()
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]

    ok(plan.switch("bcp"))
    deliver_all(platform)

    (post,) = hooks.wait_for("switched")
    assert_signed(post, sub["secret"])
    assert str(post.json()["plan_id"]) == str(plan.id)
    assert post.headers["x-lifeboat-delivery"].isdigit()


INVALID_SUBSCRIPTIONS = [  # body, the field at fault, its code
    ({"kind": "webhook", "target": "not a url"}, "target", "bad_url"),
    ({"kind": "webhook", "target": "ftp://hooks.example.com/x"}, "target", "bad_url"),
    ({"kind": "webhook"}, "target", "bad_url"),
    ({"kind": "email", "target": "oncall-at-example.com"}, "target", "bad_email"),
    ({"kind": "email", "target": "http://example.com"}, "target", "bad_email"),
    (
        {"kind": "webhook", "target": "https://hooks.example.com/x", "events": ["switched", "coffee_ready"]},
        "events",
        "bad_events",
    ),
    ({"kind": "webhook", "target": "https://hooks.example.com/x", "events": []}, "events", "bad_events"),
    ({"kind": "pager", "target": "https://hooks.example.com/x"}, "kind", "bad_choice"),
    ({"kind": "webhook", "target": "https://hooks.example.com/x", "secret": "mine"}, "secret", "unknown_field"),
]


def test_an_invalid_subscription_is_refused_with_the_field_and_code(api, plan):
    for body, field, code in INVALID_SUBSCRIPTIONS:  # one tenant for all: each refusal leaves nothing behind
        response = api.post(plan.url("/alert-subscriptions"), json=body, headers=plan.ops)

        assert response.status_code == 422 and error_code(response) == "validation_failed", (body, response.text)
        errors = [{"field": e["field"], "code": e["code"]} for e in response.json()["error"]["details"]["errors"]]
        assert {"field": field, "code": code} in errors, (body, errors)
    assert plan.subscriptions() == []


def test_subscribing_needs_bcp_enablement_edit(api, ops, plan, hooks):
    tenant_id = plan.primary["id"]
    viewer = user_with(api, ops, tenant_id, "bcp.enablement.view", "bcp.sync.edit", "admin.edit")
    editor = user_with(api, ops, tenant_id, "bcp.enablement.edit", "bcp.enablement.view")
    body = {"kind": "webhook", "target": hooks.url, "events": ["switched"]}

    refused = api.post(plan.url("/alert-subscriptions"), json=body, headers=viewer)
    assert refused.status_code == 403 and error_code(refused) == "permission_denied"
    assert ok(api.get(plan.url("/alert-subscriptions"), headers=viewer))["items"] == []

    made = ok(api.post(plan.url("/alert-subscriptions"), json=body, headers=editor), 201)
    assert "secret" in made
    other_tenant = api.post(plan.url("/alert-subscriptions", plan.bcp), json=body, headers=editor)
    assert other_tenant.status_code in (403, 404), other_tenant.text
    not_deleted = api.delete(plan.url(f"/alert-subscriptions/{made['id']}"), headers=viewer)
    assert not_deleted.status_code == 403
    assert api.delete(plan.url(f"/alert-subscriptions/{made['id']}"), headers=editor).status_code == 204
    assert plan.subscriptions() == []


def test_a_test_event_reaches_the_webhook_signed_like_every_alert_and_is_audited(platform, plan, hooks):
    sub = plan.subscribe("webhook", hooks.url, ["switched"])  # "test" is never named: it is sent on request
    other = plan.subscribe("webhook", hooks.url + "?other", ["switched"])

    queued = ok(plan.api.post(plan.url(f"/alert-subscriptions/{sub['id']}/test"), headers=plan.ops), 202)
    assert queued["subscription_id"] == sub["id"] and queued["event"] == "test" and queued["status"] == "pending"
    assert hooks.deliveries == []  # queued, not sent by the request
    deliver_all(platform)

    (post,) = hooks.wait_for("test")
    assert_signed(post, sub["secret"])
    assert not post.signature_is_valid(other["secret"])
    assert post.headers["x-lifeboat-delivery"] == str(queued["delivery_id"])
    assert post.json()["subscription_id"] == sub["id"] and post.json()["tenant_id"] == plan.primary["id"]
    assert [d.event for d in hooks.deliveries] == ["test"]  # the other subscription got nothing
    listed = {s["id"]: s["recent"] for s in plan.subscriptions()}
    assert [(d["event"], d["status"]) for d in listed[sub["id"]]] == [("test", "delivered")]
    assert listed[other["id"]] == []
    audit = ok(plan.api.get(plan.url("/audit?action=alerts.test"), headers=plan.ops))["items"]
    assert [(a["action"], a["after"]["id"]) for a in audit] == [("alerts.test", sub["id"])]


def test_a_test_event_needs_bcp_enablement_edit_and_a_subscription_of_the_tenant(api, ops, platform, plan, hooks):
    sub = plan.subscribe("webhook", hooks.url, ["switched"])
    bcp_sub = plan.subscribe("webhook", hooks.url, ["switched"], tenant=plan.bcp)
    viewer = user_with(api, ops, plan.primary["id"], "bcp.enablement.view", "admin.edit")

    refused = api.post(plan.url(f"/alert-subscriptions/{sub['id']}/test"), headers=viewer)
    assert refused.status_code == 403 and error_code(refused) == "permission_denied"
    for unknown in (bcp_sub["id"], sub["id"] + 10_000, 0):
        answer = api.post(plan.url(f"/alert-subscriptions/{unknown}/test"), headers=ops)
        assert answer.status_code == 404 and error_code(answer) == "subscription_not_found", answer.text
    assert deliver_due(platform) == 0
    assert hooks.deliveries == []


def test_only_the_events_subscribed_to_are_sent(platform, plan, hooks):
    plan.subscribe("webhook", hooks.url, ["reverted"])

    ok(plan.switch("bcp"))
    ok(plan.switch("primary"))
    deliver_all(platform)

    hooks.wait_for("reverted")
    assert [d.event for d in hooks.deliveries] == ["reverted"]


# ------------------------------------------------------------------------------- events


def test_switch_and_revert_are_posted_once_what_they_report_has_committed(platform, plan, hooks):
    sub = plan.subscribe("webhook", hooks.url, ["switched", "reverted"])
    hooks.observe = lambda: active_side(platform, plan.id)

    switched = ok(plan.switch("bcp"))
    deliver_all(platform)
    reverted = ok(plan.switch("primary", tenant=plan.bcp))  # from either tenant
    deliver_all(platform)

    (on_switch,) = hooks.wait_for("switched")
    (on_revert,) = hooks.wait_for("reverted")
    for post in (on_switch, on_revert):
        assert_signed(post, sub["secret"])
    assert on_switch.observed == "bcp" and on_revert.observed == "primary"
    expected = {"epoch": switched["epoch"], "active_side": "bcp", "active_tenant_id": plan.bcp["id"]}
    assert on_switch.json() | expected == on_switch.json()
    assert on_revert.json()["active_side"] == "primary" and on_revert.json()["epoch"] == reverted["epoch"]
    assert on_revert.json()["active_tenant_id"] == plan.primary["id"]


def test_a_refused_switch_queues_no_alert(api, ops, platform, plan, hooks):
    plan.subscribe("webhook", hooks.url)
    no_permission = user_with(api, ops, plan.primary["id"], "bcp.enablement.view")

    assert error_code(plan.switch("bcp", "WRONG-PASSKEY")) == "wrong_passkey"
    forbidden = api.post(plan.url("/bcp/switch"), json={"to": "bcp", "passkey": plan.passkey}, headers=no_permission)
    assert error_code(forbidden) == "permission_denied"
    assert error_code(plan.switch("primary")) == "already_active"

    with platform.directory.read() as conn:
        assert count_pending(conn) == 0
    assert deliver_due(platform) == 0
    assert all(s["recent"] == [] for s in plan.subscriptions())
    assert hooks.deliveries == [] and active_side(platform, plan.id) == "primary"


def test_an_alert_of_a_transaction_that_rolls_back_is_never_sent(platform, plan, hooks):
    plan.subscribe("webhook", hooks.url)

    with pytest.raises(RuntimeError), platform.directory_unit() as uow:
        assert uow.alert([plan.primary["id"]], AlertEvent.SWITCHED, {"summary": "never committed"}) == 1
        raise RuntimeError("the switch failed after the alert was queued")

    assert deliver_due(platform) == 0
    assert hooks.deliveries == []


def test_five_wrong_passkeys_post_passkey_locked_once(platform, plan, hooks):
    sub = plan.subscribe("webhook", hooks.url, ["passkey_locked", "switched"])

    answers = [plan.switch("bcp", f"WRONG-{n}") for n in range(5)]
    assert [error_code(a) for a in answers] == ["wrong_passkey"] * 5
    locked = plan.switch("bcp")  # the right passkey, too late
    assert locked.status_code == 423 and error_code(locked) == "passkey_locked"
    deliver_all(platform)

    (post,) = hooks.wait_for("passkey_locked")
    assert_signed(post, sub["secret"])
    assert post.json()["unlock_at"] == locked.json()["error"]["details"]["unlock_at"]
    assert [d.event for d in hooks.deliveries] == ["passkey_locked"]


def test_a_held_sync_run_posts_sync_held(api, platform, plan, hooks):
    sub = plan.subscribe("webhook", hooks.url, ["sync_held", "sync_failed"])
    skills = [
        ok(api.post(plan.url("/skills"), json={"name": f"Skill {n:02d}", "media_type": "voice"}, headers=plan.ops), 201)
        for n in range(10)
    ]
    ok(api.put(plan.url("/bcp/sync-settings"), json={"enabled": True}, headers=plan.ops))
    assert work_once(platform).status == "succeeded"
    for skill in skills[:4]:  # 40% of the synced skills
        ok(api.delete(plan.url(f"/skills/{skill['id']}"), headers=plan.ops), 204)

    run = ok(api.post(plan.url("/bcp/sync-runs"), json={}, headers=plan.ops), 202)
    assert work_once(platform).status == "held"
    deliver_all(platform)

    (post,) = hooks.wait_for("sync_held")
    assert_signed(post, sub["secret"])
    assert post.json()["run_id"] == run["id"] and post.json()["trigger"] == "manual"
    assert [d.event for d in hooks.deliveries] == ["sync_held"]


def test_a_run_while_the_primary_region_is_down_posts_sync_failed(api, platform, plan, hooks, tmp_path):
    sub = plan.subscribe("webhook", hooks.url, ["sync_failed"], tenant=plan.bcp)  # the BCP side is told too
    ok(api.put(plan.url("/bcp/sync-settings"), json={"enabled": True}, headers=plan.ops))

    with unreachable(platform, "na1", tmp_path):
        run = work_once(platform)
    deliver_all(platform)

    assert run.status == "failed"
    (post,) = hooks.wait_for("sync_failed")
    assert_signed(post, sub["secret"])
    assert post.json()["run_id"] == run.id and post.json()["error"] == "region_unavailable"


def test_a_region_going_down_and_coming_back_posts_region_down_then_region_up(platform, plan, hooks, tmp_path):
    primary_sub = plan.subscribe("webhook", hooks.url, ["region_down", "region_up"])
    partner_sub = plan.subscribe("webhook", hooks.url, ["region_down", "region_up"], tenant=plan.bcp)
    assert check_regions(platform) == []  # all up: nothing to say

    with unreachable(platform, "na1", tmp_path):
        assert check_regions(platform) == [("na1", "down")]
        assert check_regions(platform) == []  # still down: said once
        deliver_all(platform)
        down = hooks.wait_for("region_down", count=2)
    assert check_regions(platform) == [("na1", "up")]
    deliver_all(platform)
    up = hooks.wait_for("region_up", count=2)

    secrets_ = {primary_sub["secret"], partner_sub["secret"]}
    for posts in (down, up):
        assert len(posts) == 2 and all(p.json()["region"] == "na1" for p in posts)
        assert {next(s for s in secrets_ if p.signature_is_valid(s)) for p in posts} == secrets_
    assert [d.event for d in hooks.deliveries] == ["region_down"] * 2 + ["region_up"] * 2


# ----------------------------------------------------------------------------- delivery


def test_a_webhook_answering_500_is_retried_with_backoff_and_delivered_on_the_third_try(platform, plan, hooks):
    sub = plan.subscribe("webhook", hooks.url, ["switched"])
    hooks.answer_next(500, 500)

    ok(plan.switch("bcp"))
    for attempt in (1, 2):
        deliver_until(platform, lambda n=attempt: len(hooks.deliveries) == n)
        row = outbox_row(platform, sub["id"])
        assert (row["status"], row["attempts"]) == ("pending", attempt)
        assert row["last_error"] == "not delivered: HTTP 5xx"
    deliver_until(platform, lambda: any(d.answered == 200 for d in hooks.deliveries))

    tries = hooks.wait_for("switched", count=3)
    assert [t.answered for t in tries] == [500, 500, 200]
    assert len({t.headers["x-lifeboat-delivery"] for t in tries}) == 1, "a retry is the same delivery"
    assert len({t.body for t in tries}) == 1
    assert all(t.signature_is_valid(sub["secret"]) for t in tries)
    first_wait, second_wait = tries[1].at - tries[0].at, tries[2].at - tries[1].at
    assert first_wait >= 0.95 * RETRY_BASE_S, first_wait
    assert second_wait >= 0.95 * 2 * RETRY_BASE_S, second_wait  # the wait doubles
    (recent,) = plan.subscriptions()[0]["recent"]
    assert (recent["status"], recent["attempts"], recent["last_error"]) == ("delivered", 3, None)
    assert deliver_due(platform) == 0


def test_a_webhook_that_keeps_failing_is_given_up_after_the_last_attempt(platform, plan, hooks):
    platform.settings.alert_max_attempts = 2
    plan.subscribe("webhook", hooks.url, ["switched"])
    hooks.answer_next(503, 503, 503)

    ok(plan.switch("bcp"))
    deliver_until(platform, lambda: outbox_row(platform, plan.subscriptions()[0]["id"])["status"] != "pending")

    assert [d.answered for d in hooks.deliveries] == [503, 503]
    (recent,) = plan.subscriptions()[0]["recent"]
    assert (recent["status"], recent["attempts"], recent["last_error"]) == ("failed", 2, "not delivered: HTTP 5xx")
    assert deliver_due(platform) == 0


def test_an_email_alert_reaches_the_smtp_server_with_the_event_in_the_subject(platform, plan, mail):
    sub = plan.subscribe("email", "oncall@example.com", ["switched"])
    assert "secret" not in sub

    ok(plan.switch("bcp"))
    deliver_all(platform)

    message = mail.wait_for(lambda m: "switched" in m["Subject"])
    assert message["To"] == "oncall@example.com" and message["From"] == platform.settings.smtp_from
    assert mail.envelopes == [(platform.settings.smtp_from, ["oncall@example.com"])]
    assert plan.bcp["name"] in message["Subject"]
    assert '"event": "switched"' in message.get_content()
    (recent,) = plan.subscriptions()[0]["recent"]
    assert recent["status"] == "delivered"
