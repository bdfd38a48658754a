"""Free-form JSON (business-unit settings, Studio script content) is bounded on input, and a
value over the bounds stored before they existed breaks no read, no audit log, no dry run and
no sync; ``lifeboat check-stored`` finds it. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from typer.testing import CliRunner

from lifeboat.cli import app as cli
from lifeboat.domain.json_limits import READABLE_DEPTH
from lifeboat.services.entities.stored_values import check_stored_values
from lifeboat.store.tables import entities, now, region_audit
from tests.bcp_fixture import build_plan
from tests.sync_fixture import API, Http, enable_sync, entity_url, error_code, get_run, new_tenant

OLD_DEPTH = 500  # what the API stored before the limits; it broke every sync of its tenant


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"next": value}
    return value


def script(extra: Any = None) -> dict[str, Any]:
    return {"actions": {"1": {"name": "BEGIN"}}, "properties": {}, "branches": {}, "notes": extra}


@pytest.fixture
def ops(api) -> Http:
    return Http(api, api.operator())


@pytest.fixture
def tenant(ops) -> int:
    return new_tenant(ops, "na1")["id"]


def audit_actions(ops: Http, tenant_id: int) -> list[str]:
    return [item["action"] for item in ops.get(f"{API}/tenants/{tenant_id}/audit", limit=1000)["items"]]


# --- refused on input, nothing stored ------------------------------------------------------


@pytest.mark.parametrize("form", ["object", "json-text", "xml"])
def test_a_deep_script_is_refused_as_too_deep_and_nothing_is_stored(ops, tenant, form):
    content = {
        "object": script(nested(300)),
        "json-text": json.dumps(script(nested(300))),
        "xml": "<Script>" + "<a>" * 300 + "</a>" * 300 + "</Script>",
    }[form]

    response = ops.request("POST", entity_url(tenant, "scripts"), json={"path": "Deep/One", "content": content})

    assert response.status_code == 422, response.text
    assert error_code(response) == "too_deep"
    assert response.json()["error"]["details"]["limit"] == 64
    assert ops.get(entity_url(tenant, "scripts"))["total"] == 0
    assert "scripts.create" not in audit_actions(ops, tenant)


def test_a_script_may_nest_up_to_the_limit(ops, tenant):
    content = script(nested(64 - 1))  # the script object itself is the first level

    created = ops.call("POST", entity_url(tenant, "scripts"), json={"path": "Deep/Ok", "content": content}, expect=201)

    assert created["content"] == content


def test_a_patch_with_deep_script_content_changes_nothing(ops, tenant):
    created = ops.call("POST", entity_url(tenant, "scripts"), json={"path": "Main", "content": script()}, expect=201)

    response = ops.request("PATCH", entity_url(tenant, "scripts", created["id"]), json={"content": script(nested(100))})

    assert (response.status_code, error_code(response)) == (422, "too_deep")
    assert ops.get(entity_url(tenant, "scripts", created["id"]))["content"] == script()


def test_deep_business_unit_settings_are_refused_and_the_business_unit_is_unchanged(ops, tenant):
    before = ops.get(entity_url(tenant, "business-unit"))

    response = ops.request("PUT", entity_url(tenant, "business-unit"), json={"name": "Deep", "settings": nested(300)})

    assert response.status_code == 422, response.text
    assert error_code(response) == "too_deep"
    assert response.json()["error"]["details"]["field"] == "settings"
    assert ops.get(entity_url(tenant, "business-unit")) == before
    assert "business-unit.update" not in audit_actions(ops, tenant)


def test_business_unit_settings_over_max_json_bytes_are_refused_as_too_large(ops, tenant):
    response = ops.request(
        "PUT", entity_url(tenant, "business-unit"), json={"name": "Big", "settings": {"blob": "x" * 300_000}}
    )

    assert response.status_code == 413, response.text
    assert error_code(response) == "value_too_large"
    assert response.json()["error"]["details"]["limit"] == 262_144
    assert ops.get(entity_url(tenant, "business-unit"))["settings"] == {}


@pytest.mark.parametrize(
    "body",
    [b'{"path": "\xff\xfe", "content": {}}', b"[" * 100_000 + b"]" * 100_000],
    ids=["not-utf-8", "deeper-than-the-parser"],
)
def test_a_body_that_cannot_be_decoded_is_malformed_json(ops, tenant, body):
    response = ops.client.post(
        entity_url(tenant, "scripts"), content=body, headers={**ops.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert error_code(response) == "malformed_json"


# --- stored before the limits: read, audited, planned and synced all the same --------------


def write_around_the_api(
    platform, tenant_id: int, type_name: str, field: str, value: Any, entity_id: int | None = None
) -> int:
    """Put ``value`` into a stored entity's field as old data would be (the API refuses it now)."""
    with platform.region("na1").db.write() as conn:
        which = [entities.c.id == entity_id] if entity_id else []
        row = conn.execute(
            select(entities.c.id, entities.c.data).where(
                entities.c.tenant_id == tenant_id, entities.c.type == type_name, *which
            )
        ).first()
        conn.execute(
            update(entities)
            .where(entities.c.id == row.id)
            .values(data={**row.data, field: value}, version=entities.c.version + 1)
        )
        conn.execute(
            insert(region_audit).values(
                at=now(),
                tenant_id=tenant_id,
                actor="old-version",
                action=f"{type_name}.update",
                entity_type=type_name,
                entity_id=row.id,
                after={field: value},
            )
        )
    return row.id


@pytest.fixture
def old_plan(api, platform):
    """A paired plan whose primary holds a script and business-unit settings nested
    ``OLD_DEPTH`` levels deep, written before the limits existed; sync not yet run."""
    plan = build_plan(api, platform, synced=False)
    plan.deep_bu = write_around_the_api(platform, plan.primary_id, "business-unit", "settings", nested(OLD_DEPTH))
    old = plan.make("scripts", "old", {"path": "Deep/Old", "content": script()})
    plan.deep_script = write_around_the_api(
        platform, plan.primary_id, "scripts", "content", script(nested(OLD_DEPTH)), old
    )
    return plan


def test_reads_answer_for_old_values_too_deep_to_show_and_say_what_they_withhold(old_plan):
    ops, t = old_plan.ops, old_plan.primary_id

    listed = ops.get(entity_url(t, "scripts"))["items"]
    one = ops.get(entity_url(t, "scripts", old_plan.deep_script))
    unit = ops.get(entity_url(t, "business-unit"))
    audit = ops.get(f"{API}/tenants/{t}/audit", limit=1000)["items"]

    assert [s["content"] for s in listed if s["id"] == old_plan.deep_script] == [None]
    assert one["content"] is None and one["withheld"][0]["field"] == "content"
    assert one["withheld"][0]["code"] == "too_deep" and str(READABLE_DEPTH) in one["withheld"][0]["message"]
    assert unit["settings"] is None and [w["field"] for w in unit["withheld"]] == ["settings"]
    old_records = [r for r in audit if r["actor"] == "old-version"]
    assert len(old_records) == 2
    assert all(list(r["after"].values())[0] is None and r["after"]["withheld"] for r in old_records)


def test_the_dry_run_and_the_sync_fail_each_old_value_on_its_own_and_copy_the_rest(old_plan):
    ops = old_plan.ops

    dry = ops.call("POST", old_plan.url("/plan"))
    run = old_plan.work(enable_sync(ops, old_plan.primary_id)["id"])

    failed = {(e["type"], e["primary_id"], e["code"]) for e in dry["errors"]}
    assert failed == {("business-unit", old_plan.deep_bu, "too_deep"), ("scripts", old_plan.deep_script, "too_deep")}
    assert run["status"] == "succeeded"
    assert {(e["type"], e["primary_id"], e["code"]) for e in run["errors"]} == failed
    assert run["counts"]["scripts"]["failed"] == 1 and run["counts"]["scripts"]["created"] == 1
    assert run["counts"]["business-unit"]["failed"] == 1
    assert run["counts"]["skills"]["created"] == 3 and run["counts"]["users"]["created"] == 4
    bcp_scripts = ops.all(entity_url(old_plan.bcp_id, "scripts"))
    assert [s["path"] for s in bcp_scripts] == ["Inbound/Main"]
    again = old_plan.sync()  # and the next run too
    assert again["status"] == "succeeded" and {e["code"] for e in again["errors"]} == {"too_deep"}


def test_check_stored_lists_each_old_value_over_the_limits(old_plan, platform):
    result = check_stored_values(platform)

    found = {(f["tenant_id"], f["type"], f["id"], f["field"], f["code"]) for f in result.findings}
    t = old_plan.primary_id
    assert {
        (t, "business-unit", old_plan.deep_bu, "settings", "too_deep"),
        (t, "scripts", old_plan.deep_script, "content", "too_deep"),
    } <= found
    assert {(f["type"], f["field"]) for f in result.findings if f["type"] == "audit"} == {
        ("audit", "after.settings"),
        ("audit", "after.content"),
    }
    assert len(result.findings) == 4
    assert result.regions_down == [] and result.checked > 4


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_check_stored_command_prints_them_and_exits_with_1(old_plan, settings):
    result = CliRunner().invoke(cli, ["check-stored", "--data-dir", str(settings.data_dir)], env={"COLUMNS": "200"})

    assert result.exit_code == 1, result.output
    assert "business-unit" in result.output and str(old_plan.deep_script) in result.output
    assert "4 over the limits" in result.output


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_check_stored_command_exits_with_0_when_nothing_is_over(platform, settings):
    result = CliRunner().invoke(cli, ["check-stored", "--data-dir", str(settings.data_dir)])

    assert result.exit_code == 0, result.output
    assert "0 over the limits" in result.output


def test_a_lower_limit_fails_entities_the_sync_copied_before(api, platform, settings):
    """Values within the limit when written, over it after the operator lowers it: the
    sync leaves their BCP copies as they are and reports them."""
    plan = build_plan(api, platform)
    platform.settings.max_json_depth = 8
    write_around_the_api(
        platform, plan.primary_id, "scripts", "content", script(nested(10)), plan.of("scripts", "main")
    )

    run = plan.sync()

    assert [(e["type"], e["code"]) for e in run["errors"]] == [("scripts", "too_deep")]
    assert get_run(plan.ops, plan.primary_id, run["id"])["counts"]["scripts"]["failed"] == 1
