"""Ending a drill, whoever ends it: an administrator, a real switch or the time limit.

Apart from ``services.bcp.drills`` so that a switch can end a drill in its own transaction
without the switch and the drill depending on each other. The end is a conditional update:
of several replicas that try at once, one ends it and raises ``drill_ended``.
"""

from __future__ import annotations

from lifeboat.domain.records import AlertEvent, Drill
from lifeboat.services.bcp.pairing import PairedTenants
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

BY_SWITCH = "switch"
BY_TIME_LIMIT = "time_limit"


def end_running_drill(uow: DirectoryUnit, tenants: PairedTenants, by: str) -> Drill | None:
    """End the plan's running drill, if there is one, in ``uow``; the ended drill."""
    running = uow.drills.running(tenants.plan.id)
    return end_drill(uow, tenants, running[0], by) if running else None


def end_drill(uow: DirectoryUnit, tenants: PairedTenants, drill: Drill, by: str) -> Drill | None:
    """End ``drill`` in ``uow`` unless someone ended it first (then None): audited, alerted.
    The caller invalidates routes and flushes the edges after commit."""
    ended = uow.drills.end(drill.id, by, now())
    if ended is None:
        return None
    summary = {"calls_routed": ended.calls_routed, "pilot_logins": ended.pilot_logins}
    uow.audit(
        by,
        "bcp.drill_end",
        tenant_id=tenants.ids,
        details={"drill_id": ended.id, "ended_by": by, **summary},
    )
    uow.alert(
        tenants.ids,
        AlertEvent.DRILL_ENDED,
        {
            "plan_id": tenants.plan.id,
            "drill_id": ended.id,
            "ended_by": by,
            **summary,
            "summary": f"the drill of {tenants.primary.name} has ended ({by})",
        },
    )
    return ended
