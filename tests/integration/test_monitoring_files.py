"""The Grafana dashboard and the Prometheus rules in ``deploy/`` name only metrics that
``/metrics`` exports (collected from a live scrape after some activity, each family with the
names its type gives it: ``_total``, ``_bucket``/``_sum``/``_count``), and ``promtool``
accepts the rules. Without ``promtool`` (Debian's ``prometheus`` package) that one check is
skipped, except under ``CI=true``, where ``.ci/run`` installs it and its absence fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from lifeboat.api.app import create_app
from lifeboat.bootstrap import Platform, build_platform, migrate_platform
from lifeboat.services.tenancy.auth import create_operator
from tests.bcp_fixture import build_plan
from tests.conftest import OPERATOR, Api, sqlite_settings
from tests.sync_fixture import API

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana-dashboard.json"
RULES = DEPLOY / "prometheus-rules.yml"
METRIC_NAME = re.compile(r"\blifeboat_[a-zA-Z0-9_]+")
NAMES_BY_TYPE = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "gauge": ("",),
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    built = build_platform(sqlite_settings(tmp_path_factory.mktemp("monitoring") / "data"))
    migrate_platform(built)
    create_operator(built, *OPERATOR)
    yield built
    built.close()


@pytest.fixture(scope="module")
def exported(platform: Platform) -> set[str]:
    """Every metric name a scrape shows after a sync, a switch and revert, lookups and logins."""
    with TestClient(create_app(platform)) as client:
        plan = build_plan(Api(client), platform)
        assert plan.switch("bcp").status_code == 200 and plan.switch("primary").status_code == 200
        plan.switch("bcp", passkey="wrong-passkey")
        client.get(f"{API}/voice/route", params={"number": plan.numbers["voice"]}, headers=plan.ops.headers)
        plan.login("single", password="wrong")
        text = client.get("/metrics").text
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + suffix for suffix in NAMES_BY_TYPE.get(family.type, ("",))}
        names |= {sample.name for sample in family.samples}
    return names


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels and all(p["targets"] for p in panels)
    return [target["expr"] for panel in panels for target in panel["targets"]]


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert rules and all(rule["alert"] and rule["labels"]["severity"] for rule in rules)
    return [str(rule["expr"]) for rule in rules]


def named(expressions: list[str]) -> set[str]:
    return {name for expr in expressions for name in METRIC_NAME.findall(expr)}


def test_the_scrape_exports_every_family_of_the_readme(exported):
    for name in (
        "lifeboat_sync_runs_total",
        "lifeboat_sync_run_duration_seconds_bucket",
        "lifeboat_sync_entities_written_total",
        "lifeboat_sync_seconds_since_success",
        "lifeboat_switches_total",
        "lifeboat_switch_duration_seconds_count",
        "lifeboat_passkey_failures_total",
        "lifeboat_route_lookups_total",
        "lifeboat_logins_total",
        "lifeboat_region_up",
        "lifeboat_directory_up",
        "lifeboat_voice_edge_answers_total",
        "lifeboat_alert_deliveries_total",
        "lifeboat_http_requests_total",
        "lifeboat_http_request_duration_seconds_bucket",
    ):
        assert name in exported


@pytest.mark.parametrize("source", [dashboard_expressions, rule_expressions], ids=["dashboard", "rules"])
def test_the_deploy_files_name_only_exported_metrics(source, exported):
    names = named(source())
    assert names, "no lifeboat metric found: the regex or the file is wrong"
    assert sorted(names - exported) == []


def test_the_dashboard_covers_what_operators_watch():
    covered = named(dashboard_expressions())
    for family in (
        "lifeboat_sync_seconds_since_success",  # RPO per plan
        "lifeboat_sync_runs_total",
        "lifeboat_switch_duration_seconds_bucket",
        "lifeboat_route_lookups_total",
        "lifeboat_voice_edge_answers_total",
        "lifeboat_http_request_duration_seconds_bucket",
        "lifeboat_region_up",
    ):
        assert family in covered


def test_promtool_accepts_the_rules():
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("promtool not found: .ci/run installs Debian's prometheus package")
        pytest.skip("promtool not installed (Debian package prometheus); the rules' metric names are still checked")
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
