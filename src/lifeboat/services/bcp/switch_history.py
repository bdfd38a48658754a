"""Every switch measured (SPEC §14): the record a switch writes, and the first call and the
first login that complete it.

The switch writes its record in its own transaction, with the age of the BCP copy then (the
end of the newest successful sync); once it has committed and its effects have run, the
same figure the answer gives as ``switch_ms`` is stored. The first route lookup answered for
the tenant the switch made active, at the epoch it began, stamps ``first_call_at``; the first
login into that tenant at that epoch stamps ``first_login_at``. A lookup or a login at another
epoch (before the switch, or answered from a table older than it) matches no record.
(``services.switch_firsts`` does the stamping.)
"""

from __future__ import annotations

import logging
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.records import BcpPlan, Side, SwitchRecord
from lifeboat.errors import LifeboatError
from lifeboat.services.bcp.pairing import open_bcp_plan
from lifeboat.store.tables import now
from lifeboat.store.units import DirectoryUnit

log = logging.getLogger("lifeboat.switches")

PERMISSION = "bcp.enablement.view"  # who may read the plan's switch state (readiness) reads its history


def record_switch(
    uow: DirectoryUnit, plan: BcpPlan, answer: dict[str, Any], principal: Principal, asked_in: int
) -> int:
    """Write the record of the switch ``answer`` describes, in its transaction; its id."""
    last_sync_at = uow.runs.last_success_times([plan.id]).get(plan.id)
    return uow.switches.record(
        plan.id,
        answer["epoch"],
        Side(answer["active_side"]),
        answer["active_tenant_id"],
        asked_in,
        principal.actor,
        now(),
        last_sync_at,
    )


def record_switch_ms(platform: Platform, switch_id: int, seconds: float) -> None:
    """Store how long the committed switch took. The switch stands whatever happens here, so
    a directory lost at this moment costs only the figure (the answer still carries it)."""
    try:
        with platform.directory_unit() as uow:
            uow.switches.set_switch_ms(switch_id, round(seconds * 1000, 1))
    except LifeboatError as exc:
        log.warning("switch %s: its duration was not stored: %s", switch_id, exc)


def list_switches(
    platform: Platform, principal: Principal, tenant_id: int, *, limit: int, offset: int
) -> tuple[list[SwitchRecord], int]:
    """The plan's switches and reverts, newest first, and how many there are."""
    tenants = open_bcp_plan(platform, principal, tenant_id, PERMISSION)
    with platform.directory_unit(write=False) as uow:
        return uow.switches.page(tenants.plan.id, limit=limit, offset=offset)
