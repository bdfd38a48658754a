"""The recorder of ``lifeboat.metrics``: one registry per platform, bounded label values."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from lifeboat.metrics import Metrics, SharedState


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_two_platforms_count_apart():
    one, other = Metrics(), Metrics()
    one.login("ok")
    assert samples(one)[("lifeboat_logins_total", (("outcome", "ok"),))] == 1
    assert not [key for key in samples(other) if key[0] == "lifeboat_logins_total"]


def test_a_run_counts_only_what_it_wrote():
    metrics = Metrics()
    metrics.sync_run_ended("succeeded", 2.5, {"skills": {"created": 2, "unchanged": 9, "failed": 1, "updated": 0}})
    written = {key[1]: v for key, v in samples(metrics).items() if key[0] == "lifeboat_sync_entities_written_total"}
    assert written == {(("action", "created"), ("type", "skills")): 2}


def test_made_up_methods_and_unrouted_paths_add_no_series_of_their_own():
    metrics = Metrics()
    for method in ("BREW", "PROPFIND", "GET"):
        metrics.http_request(None, method, 404, 0.001)
    counted = {key[1]: v for key, v in samples(metrics).items() if key[0] == "lifeboat_http_requests_total"}
    assert counted == {
        (("method", "other"), ("route", "unmatched"), ("status", "404")): 2,
        (("method", "GET"), ("route", "unmatched"), ("status", "404")): 1,
    }


def test_shared_state_is_read_only_once_a_source_is_given():
    metrics = Metrics()
    assert not [key for key in samples(metrics) if key[0] == "lifeboat_directory_up"]  # a worker: none
    metrics.read_shared_state_with(lambda: SharedState(regions={"na1": True, "eu1": False}))
    read = samples(metrics)
    assert read[("lifeboat_directory_up", ())] == 1
    assert read[("lifeboat_region_up", (("region", "eu1"),))] == 0
    metrics.read_shared_state_with(lambda: None)  # the directory did not answer
    assert samples(metrics)[("lifeboat_directory_up", ())] == 0


def test_a_worker_serves_its_own_counts_on_a_port_of_its_own():
    metrics = Metrics()
    metrics.sync_run_ended("failed", 1.0, {})
    server = metrics.serve("127.0.0.1", 0)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'lifeboat_sync_runs_total{status="failed"} 1.0' in text
