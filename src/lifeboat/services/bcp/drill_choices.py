"""What a drill may be given (SPEC §14), for the console's Drill page: the primary's active
voice numbers (each with whether it has a BCP copy yet, which a drill needs) and its
usernames, searched, a bounded page of each. Reading them needs what starting a drill
needs (``bcp.enablement.edit``): they are offered only to someone who may start one.

A tenant of 10,000 users costs what one of 50 does: the database searches and pages the
usernames. Voice numbers are read whole, as ``drills.start`` reads them: a tenant has a few
dozen, not thousands.
"""

from __future__ import annotations

from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.records import Drill
from lifeboat.errors import NotFound
from lifeboat.services.bcp import drills
from lifeboat.services.bcp.pairing import open_bcp_plan

CONTACTS = "points-of-contact"


def voice_numbers(
    platform: Platform, principal: Principal, tenant_id: int, *, search: str | None, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Up to ``limit`` of the primary's active voice numbers whose number or name holds
    ``search`` (any case), by number: ``{number, name, synced}``; and how many match."""
    tenants = open_bcp_plan(platform, principal, tenant_id, drills.PERMISSION)
    with platform.region_unit(tenants.primary_region, write=False) as uow:
        contacts = uow.entities.data_of_type([tenants.primary.id], CONTACTS)
    with platform.region_unit(tenants.bcp_region, write=False) as uow:
        copied = {c.primary_id for c in uow.correlations(tenants.bcp.id).all([CONTACTS])}
    wanted = (search or "").strip().lower()
    found = sorted(
        (
            {"number": data["address"], "name": str(data.get("name", "")), "synced": id_ in copied}
            for _, id_, data in contacts
            if data.get("channel") == "voice" and data.get("is_active", True)
        ),
        key=lambda row: row["number"],
    )
    matching = [r for r in found if wanted in r["number"].lower() or wanted in r["name"].lower()]
    return matching[:limit], len(matching)


def usernames(
    platform: Platform, principal: Principal, tenant_id: int, *, search: str | None, limit: int
) -> tuple[list[str], int]:
    """Up to ``limit`` usernames of the primary holding ``search`` (any case), and how many do."""
    tenants = open_bcp_plan(platform, principal, tenant_id, drills.PERMISSION)
    with platform.region_unit(tenants.primary_region, write=False) as uow:
        users, total = uow.entities.page(
            tenants.primary.id, "users", limit=limit, offset=0, key_contains=(search or "").strip() or None
        )
    return [str(u.data["username"]) for u in users], total


def running_or_none(platform: Platform, principal: Principal, tenant_id: int) -> Drill | None:
    """The plan's running drill for someone who may see drills; None otherwise (the banner)."""
    if not principal.can(drills.VIEW_PERMISSION):
        return None
    try:
        return drills.running(platform, principal, tenant_id)
    except NotFound:
        return None
