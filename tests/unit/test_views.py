"""The views: what the API answers and the CLI prints, from the records the services return.
Pure functions of plain values: no database, no platform."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from lifeboat.domain.access import Principal
from lifeboat.domain.entities import Entity
from lifeboat.domain.json_limits import READABLE_DEPTH
from lifeboat.domain.records import BcpPlan, PlanStatus, RunStatus, Side, Subscription, SyncRun, Tenant, Trigger
from lifeboat.views.alerts import delivery_view, subscription_view, subscription_with_recent
from lifeboat.views.audit import audit_row_view
from lifeboat.views.bcp import plan_view, run_view, settings_view
from lifeboat.views.entities import public_view
from lifeboat.views.tenants import login_view, tenant_view

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 9, 31, 5, tzinfo=UTC)
PRIMARY = Tenant(1, "acme", "us-east", T0)
BCP = Tenant(2, "acme-bcp", "eu-west", T0)
SETTINGS = {
    "mode": "default",
    "entity_types": ["skills"],
    "schedule": {"kind": "daily"},
    "script_ids": "remap",
    "remap_free_text": False,
}
PLAN = BcpPlan(7, 1, 2, "hash", Side.PRIMARY, 3, True, SETTINGS, T0, T1, T0, T1)


def run(status: RunStatus = RunStatus.SUCCEEDED, report: dict | None = None, **changes: object) -> SyncRun:
    base = SyncRun(11, 7, Trigger.MANUAL, False, status, None, T0, T0, T1, "alice", None, None, 1, report)
    return replace(base, **changes)  # type: ignore[arg-type]


def too_deep() -> object:
    value: object = 1
    for _ in range(READABLE_DEPTH + 1):
        value = [value]
    return value


# --------------------------------------------------------------------------- entities


def test_an_entity_is_shown_with_its_id_fields_and_timestamps_in_that_order():
    entity = Entity(5, 1, "skills", {"name": "Billing", "is_active": True}, T0, T1)

    assert json.dumps(public_view(entity)) == (
        '{"id": 5, "name": "Billing", "is_active": true, '
        '"created_at": "2026-03-01T09:30:00+00:00", "updated_at": "2026-03-01T09:31:05+00:00"}'
    )


def test_a_user_is_shown_without_its_password_hash():
    user = Entity(5, 1, "users", {"username": "ada", "password_hash": "$argon2id$x"}, T0, T1)

    assert "password_hash" not in public_view(user)


def test_a_file_shows_its_bytes_only_when_asked_for_its_content():
    file = Entity(6, 1, "files", {"path": "a.wav", "size": 3}, T0, T1, content=b"abc")

    assert "content" not in public_view(file)
    assert public_view(file, with_content=True)["content"] == "YWJj"


def test_a_stored_value_too_deep_to_answer_with_is_null_and_named_in_withheld():
    entity = Entity(5, 1, "skills", {"name": "Billing", "tags": too_deep()}, T0, T1)

    shown = public_view(entity)

    assert shown["tags"] is None
    assert [w["field"] for w in shown["withheld"]] == ["tags"]


# --------------------------------------------------------------------------- tenants and login


def test_a_tenant_is_shown_with_its_region_and_creation_time():
    assert tenant_view(PRIMARY) == {
        "id": 1,
        "name": "acme",
        "region": "us-east",
        "created_at": "2026-03-01T09:30:00+00:00",
    }


class Answer:
    def __init__(self, **values: object) -> None:
        self.token, self.principal, self.tenant, self.user, self.choose = (
            values.get(k) for k in ("token", "principal", "tenant", "user", "choose")
        )


def test_an_employee_login_answers_the_token_the_user_and_the_tenant():
    user = Entity(5, 1, "users", {"username": "ada", "password_hash": "x"}, T0, T1)
    answer = login_view(Answer(token="tok", principal=Principal("user", 5, "ada"), tenant=PRIMARY, user=user))

    assert answer["token"] == "tok"
    assert answer["user"] == public_view(user)
    assert answer["tenant"] == {"id": 1, "name": "acme", "region": "us-east"}


def test_an_operator_login_answers_the_operator_and_no_tenant():
    answer = login_view(Answer(token="tok", principal=Principal("operator", 3, "root")))

    assert answer == {"token": "tok", "user": {"id": 3, "username": "root", "operator": True}, "tenant": None}


def test_a_login_that_must_choose_answers_only_the_choice():
    choose = [{"tenant_id": 1, "side": "primary"}, {"tenant_id": 2, "side": "bcp"}]

    assert login_view(Answer(choose=choose)) == {"choose": choose}


# --------------------------------------------------------------------------- bcp


def test_the_settings_show_whether_sync_is_on_and_since_when_around_the_settings():
    assert list(settings_view(PLAN)) == ["enabled", *SETTINGS, "enabled_at"]
    assert settings_view(replace(PLAN, sync_enabled=False, sync_enabled_at=None))["enabled_at"] is None


def test_a_run_shows_its_report_and_a_queued_run_empty_lists():
    report = {"duration_s": 1.5, "counts": {"skills": {"created": 2}}, "errors": [{"code": "x"}], "full_compare": True}
    shown = run_view(run(report=report))
    queued = run_view(run(RunStatus.QUEUED, None, started_at=None, finished_at=None))

    assert (shown["status"], shown["duration_s"], shown["counts"], shown["errors"]) == (
        "succeeded",
        1.5,
        {"skills": {"created": 2}},
        [{"code": "x"}],
    )
    assert (queued["started_at"], queued["counts"], queued["drift"], queued["full_compare"]) == (None, {}, [], None)


def test_a_run_serialises_its_enums_as_the_stored_strings():
    assert json.dumps(run_view(run()))[:60] == '{"id": 11, "trigger": "manual", "force": false, "status": "s'


def status(**changes: object) -> PlanStatus:
    base = PlanStatus(
        PLAN,
        PRIMARY,
        BCP,
        last_run=run(RunStatus.FAILED),
        last_success=run(finished_at=T0),
        open_run=None,
        primary_access={"single": 1, "multiple": 2, "total": 3},
        bcp_access=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_plan_shows_both_tenants_the_active_one_and_the_runs():
    shown = plan_view(status())

    assert list(shown) == [
        "id",
        "primary",
        "bcp",
        "active_side",
        "active_tenant_id",
        "epoch",
        "sync_settings",
        "sync_paused",
        "last_run",
        "last_successful_run_at",
        "stale",
        "stale_since",
        "open_run",
        "next_run_at",
        "created_at",
        "bcp_access",
    ]
    assert shown["primary"] == {"tenant_id": 1, "name": "acme", "region": "us-east"}
    assert (shown["active_tenant_id"], shown["sync_paused"], shown["next_run_at"]) == (1, False, T1.isoformat())
    assert (shown["last_run"]["status"], shown["last_successful_run_at"], shown["open_run"]) == (
        "failed",
        T0.isoformat(),
        None,
    )
    assert shown["bcp_access"] == {"primary": {"single": 1, "multiple": 2, "total": 3}, "bcp": None}


def test_while_the_bcp_tenant_is_active_sync_is_paused_and_no_run_is_next():
    shown = plan_view(status(plan=replace(PLAN, active_side=Side.BCP)))

    assert (shown["active_tenant_id"], shown["sync_paused"], shown["next_run_at"]) == (2, True, None)


def test_a_stale_copy_is_shown_with_the_moment_it_became_stale():
    assert (plan_view(status())["stale"], plan_view(status())["stale_since"]) == (False, None)

    shown = plan_view(status(stale_since=T1))

    assert (shown["stale"], shown["stale_since"]) == (True, T1.isoformat())


def test_a_plan_never_synced_has_no_last_run_and_no_last_success():
    shown = plan_view(status(last_run=None, last_success=None, open_run=run(RunStatus.QUEUED)))

    assert (shown["last_run"], shown["last_successful_run_at"], shown["open_run"]["status"]) == (None, None, "queued")


# --------------------------------------------------------------------------- alerts and audit


SUB = Subscription(4, 1, "webhook", "https://hooks.example/x", "secret", ["sync_failed"], T0)


def test_a_subscription_is_shown_without_its_secret():
    assert "secret" not in json.dumps(subscription_view(SUB))


def test_a_delivery_error_written_before_errors_were_classed_is_only_not_delivered():
    row = {"event": "sync_failed", "status": "failed", "attempts": 3, "created_at": T0}

    assert delivery_view({**row, "last_error": "connect to 10.0.0.5 refused"})["last_error"] == "not delivered"
    assert delivery_view({**row, "last_error": "not delivered: 500"})["last_error"] == "not delivered: 500"
    assert delivery_view({**row, "last_error": None})["last_error"] is None


def test_a_subscription_with_recent_deliveries_lists_them_after_its_fields():
    row = {"event": "switched", "status": "sent", "attempts": 1, "last_error": None, "created_at": T1}
    shown = subscription_with_recent(SUB, [row])

    assert list(shown)[-1] == "recent"
    assert shown["recent"] == [delivery_view(row)]


def test_an_audit_row_withholds_a_value_too_deep_and_shows_empty_details_as_an_object():
    row = {
        "at": T0,
        "actor": "alice",
        "action": "skills.update",
        "entity_type": "skills",
        "entity_id": 5,
        "before": {"name": "a", "tags": too_deep()},
        "after": None,
        "details": None,
    }

    shown = audit_row_view(row)

    assert shown["before"]["tags"] is None and shown["before"]["withheld"][0]["field"] == "tags"
    assert (shown["after"], shown["details"], shown["at"]) == (None, {}, T0.isoformat())
