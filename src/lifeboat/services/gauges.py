"""The shared state ``/metrics`` reports, read from the directory at scrape time (SPEC §13).

Every replica answers the same figures, because they come from the one directory and not
from a process's memory: how long ago each plan's last sync succeeded (RPO now), which
regions the region monitor last found down (its stored state: a scrape never probes a
region's database), and the answer counts the voice edges last reported. Three small reads
in one read-only transaction; the RPO gauge is one query whatever the number of plans.
"""

from __future__ import annotations

import logging
from datetime import datetime

from lifeboat.bootstrap import Platform
from lifeboat.errors import Unavailable
from lifeboat.metrics import PlanFreshness, SharedState
from lifeboat.store.tables import now

log = logging.getLogger("lifeboat.metrics")


def shared_state(platform: Platform) -> SharedState | None:
    """What the directory says now; None when it cannot be reached (the scrape still answers)."""
    try:
        with platform.directory_unit(write=False) as uow:
            plans = uow.runs.last_success_of_synced_plans()
            stored = uow.region_states.all()
            edges = uow.edges.all()
    except Unavailable:
        log.warning("metrics: the directory did not answer; shared-state gauges left out of this scrape")
        return None
    at = now()
    return SharedState(
        plans=[PlanFreshness(plan_id, tenant, _age(at, last or enabled)) for plan_id, tenant, enabled, last in plans],
        # A region the monitor has not stored yet is up: the monitor itself starts from that.
        regions={name: stored.get(name, "up") == "up" for name in platform.regions},
        edge_answers={edge.name: edge.answers for edge in edges},
    )


def _age(at: datetime, since: datetime | None) -> float:
    """Seconds since ``since``; a plan whose sync was never enabled at a known time counts from now."""
    return max(0.0, (at - since).total_seconds()) if since else 0.0
