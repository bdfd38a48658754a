"""What lifeboat counts for Prometheus (SPEC §13): one ``Metrics`` per ``Platform``, each with
its own registry (never prometheus-client's global one), so that several platforms in one
process — the tests build many — never share or collide on a counter.

Counters and histograms are per process: the service that does a thing records it in one
call next to its audit record (``platform.metrics.switched(...)``), and Prometheus adds the
replicas up. What describes shared state — how old each plan's last good sync is, which
regions the monitor last saw down, what the voice edges answered — is read from the
directory when ``/metrics`` is scraped, through the source the API gives
``read_shared_state_with`` (a service: this base module reaches no database).

Families, all prefixed ``lifeboat_`` (the README lists them with their labels)::

    sync_runs_total{status}              sync_run_duration_seconds{status}
    sync_entities_written_total{type,action}
    sync_seconds_since_success{plan_id,tenant}             (gauge, read at scrape)
    switches_total{to}                   switch_duration_seconds{to}
    passkey_failures_total{reason}       logins_total{outcome}
    route_lookups_total{answer}          voice_edge_answers_total{edge,code}   (read at scrape)
    region_up{region}  directory_up      (gauges, read at scrape)
    alert_deliveries_total{outcome}
    http_requests_total{route,method,status}  http_request_duration_seconds{route,method}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "lifeboat_"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# A sync run takes seconds to an hour; a switch well under a second (it changes one row and
# ends sessions), seconds when the passkey hash or the edges' flush are slow.
SYNC_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
SWITCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
UNMATCHED_ROUTE = "unmatched"  # requests no route took: one label value, not one per path tried
# Any other method a client makes up is counted as "other", so no client can add series at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The actions a sync report counts that wrote something in BCP (not "unchanged", "failed").
WRITTEN_ACTIONS = ("created", "adopted", "updated", "deactivated", "deleted")


@dataclass(frozen=True)
class PlanFreshness:
    plan_id: int
    tenant: str  # the primary tenant's name
    seconds_since_success: float


@dataclass(frozen=True)
class SharedState:
    """The directory's answer at scrape time; the services fill it in."""

    plans: list[PlanFreshness] = field(default_factory=list)
    regions: dict[str, bool] = field(default_factory=dict)  # region -> up, as the region monitor last saw it
    edge_answers: dict[str, dict[str, int]] = field(default_factory=dict)  # edge -> SIP code -> answers


SharedStateSource = Callable[[], SharedState | None]  # None: the directory did not answer


class _SharedStateCollector(Collector):
    """Gauges of shared state, read once per scrape from the source (none until one is set:
    a worker process counts its own runs but leaves the shared state to the API's replicas)."""

    def __init__(self) -> None:
        self.source: SharedStateSource | None = None

    def collect(self) -> Iterator[Metric]:
        if self.source is None:
            return
        state = self.source()
        directory = GaugeMetricFamily(PREFIX + "directory_up", "1 when the directory answered this scrape, else 0.")
        directory.add_metric([], 0 if state is None else 1)
        yield directory
        if state is None:
            return
        yield from _shared_families(state)


def _shared_families(state: SharedState) -> Iterator[Metric]:
    age = GaugeMetricFamily(
        PREFIX + "sync_seconds_since_success",
        "Seconds since the plan's last successful sync (since sync was enabled if none has succeeded): RPO now.",
        labels=["plan_id", "tenant"],
    )
    for plan in state.plans:
        age.add_metric([str(plan.plan_id), plan.tenant], plan.seconds_since_success)
    yield age
    regions = GaugeMetricFamily(
        PREFIX + "region_up", "1 when the region monitor last found the region up, 0 when down.", labels=["region"]
    )
    for name, up in sorted(state.regions.items()):
        regions.add_metric([name], 1 if up else 0)
    yield regions
    answers = CounterMetricFamily(
        PREFIX + "voice_edge_answers",
        "SIP answers of each voice edge by code, as the edge last reported them (reset when the edge restarts).",
        labels=["edge", "code"],
    )
    for edge, counts in sorted(state.edge_answers.items()):
        for code, n in sorted(counts.items()):
            answers.add_metric([edge, code], n)
    yield answers


class Metrics:
    """The registry of one platform and the calls that record into it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.sync_runs = Counter(PREFIX + "sync_runs", "Sync runs ended, by status.", ["status"], registry=registry)
        self.sync_duration = Histogram(
            PREFIX + "sync_run_duration_seconds",
            "How long sync runs took, by status.",
            ["status"],
            buckets=SYNC_BUCKETS,
            registry=registry,
        )
        self.entities_written = Counter(
            PREFIX + "sync_entities_written",
            "Entities written in BCP by successful sync runs, by type and action.",
            ["type", "action"],
            registry=registry,
        )
        self.switches = Counter(
            PREFIX + "switches", "Switches (to=bcp) and reverts (to=primary) committed.", ["to"], registry=registry
        )
        self.switch_duration = Histogram(
            PREFIX + "switch_duration_seconds",
            "From the switch request to its commit and the edges told (the RTO of the switch itself).",
            ["to"],
            buckets=SWITCH_BUCKETS,
            registry=registry,
        )
        self.passkey_failures = Counter(
            PREFIX + "passkey_failures",
            "Switch tries refused for the passkey: wrong_passkey, or locked after too many.",
            ["reason"],
            registry=registry,
        )
        self.route_lookups = Counter(
            PREFIX + "route_lookups",
            "Routing API answers: ok, or the error code (unknown_number, not_routable, bad_number, ...).",
            ["answer"],
            registry=registry,
        )
        self.logins = Counter(
            PREFIX + "logins",
            "Logins by outcome: ok, choose_tenant, or why refused (wrong_password, too_many_attempts, ...).",
            ["outcome"],
            registry=registry,
        )
        self.alert_deliveries = Counter(
            PREFIX + "alert_deliveries",
            "Alert delivery attempts: delivered, retry (failed, tried again later), gave_up.",
            ["outcome"],
            registry=registry,
        )
        self.http_requests = Counter(
            PREFIX + "http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            PREFIX + "http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            registry=registry,
        )
        self._shared = _SharedStateCollector()
        registry.register(self._shared)

    def read_shared_state_with(self, source: SharedStateSource) -> None:
        self._shared.source = source

    def render(self) -> bytes:
        """The text exposition format, shared state read now."""
        return generate_latest(self.registry)

    def serve(self, host: str, port: int) -> WSGIServer:
        """Answer scrapes on ``http://host:port/`` from a thread: for ``lifeboat worker``, which
        has no API to mount ``/metrics`` on (its sync runs are counted in its own process)."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        return server

    def sync_run_ended(self, status: str, duration_s: float, counts: dict[str, dict[str, int]]) -> None:
        self.sync_runs.labels(status).inc()
        self.sync_duration.labels(status).observe(duration_s)
        for type_name, by_action in counts.items():
            for action in WRITTEN_ACTIONS:
                if by_action.get(action):
                    self.entities_written.labels(type_name, action).inc(by_action[action])

    def switched(self, to: str, duration_s: float) -> None:
        self.switches.labels(to).inc()
        self.switch_duration.labels(to).observe(duration_s)

    def passkey_failed(self, reason: str) -> None:
        self.passkey_failures.labels(reason).inc()

    def route_answered(self, answer: str) -> None:
        self.route_lookups.labels(answer).inc()

    def login(self, outcome: str) -> None:
        self.logins.labels(outcome).inc()

    def alert_delivery(self, outcome: str) -> None:
        self.alert_deliveries.labels(outcome).inc()

    def http_request(self, route: str | None, method: str, status: int, duration_s: float) -> None:
        route = route or UNMATCHED_ROUTE
        method = method if method in METHODS else "other"
        self.http_requests.labels(route, method, str(status)).inc()
        self.http_duration.labels(route, method).observe(duration_s)
