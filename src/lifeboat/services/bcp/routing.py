"""Voice routing (SPEC §7): where does a dialled number go now?

The answer comes from an in-memory table of every point of contact of every region and
the active side of every plan, rebuilt when older than ``route_cache_ttl_s`` and at once
after a switch in this process. A region that cannot be read keeps its last known points
of contact (they matter only while that region's tenant is active, and the switch does not
depend on them).

A directory that cannot be read (its primary lost, the standby not yet promoted) keeps the
whole last known table answering for up to ``route_stale_max_s`` (SPEC §13): calls keep
flowing through a failover, and no switch can commit meanwhile, so the active sides it
holds are still the true ones. One lookup per ``route_cache_ttl_s`` tries the directory
again; the others answer from the table without waiting for that attempt.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.fields import E164
from lifeboat.domain.records import Side
from lifeboat.errors import Conflict, Forbidden, Invalid, LifeboatError, NotFound, Unavailable
from lifeboat.services.switch_firsts import note_first_call
from lifeboat.store.database import Region
from lifeboat.store.tables import now

log = logging.getLogger("lifeboat.routing")


@dataclass(frozen=True)
class Contact:
    tenant_id: int
    id: int
    name: str
    address: str
    channel: str
    is_active: bool
    skill_id: int | None
    script_path: str | None


@dataclass(frozen=True)
class DrillRoute:
    """A test number of a running drill: routed to its BCP copy until the drill ends."""

    drill_id: int
    bcp_contact_id: int
    ends_at: float  # wall-clock seconds: past it the number routes as usual, ended or not yet


@dataclass
class RouteTable:
    by_address: dict[str, list[Contact]] = field(default_factory=dict)
    region_of: dict[int, str] = field(default_factory=dict)  # tenant -> region
    # tenant -> (primary, bcp, active side, epoch)
    plan_of: dict[int, tuple[int, int, Side, int]] = field(default_factory=dict)
    contacts_by_region: dict[str, list[Contact]] = field(default_factory=dict)
    drilled: dict[str, DrillRoute] = field(default_factory=dict)  # test number -> its drill route
    built_at: float = 0.0  # 0: invalidated, rebuild before answering
    tried_at: float = 0.0  # the last attempt to rebuild it, successful or not


CACHE = "routes"
TENANTS_PER_QUERY = 500  # bounded IN lists: both databases limit the parameters of a statement


def invalidate_routes(platform: Platform) -> None:
    """Make the next lookup rebuild the table (after a switch in this process)."""
    table = platform.caches.get(CACHE)
    if table is not None:
        table.built_at = 0.0


def is_fresh(platform: Platform) -> bool:
    table = platform.caches.get(CACHE)
    return table is not None and _is_fresh(platform, table)


def _is_fresh(platform: Platform, table: RouteTable) -> bool:
    return bool(table.built_at) and time.monotonic() - table.tried_at <= platform.settings.route_cache_ttl_s


def _is_usable(platform: Platform, table: RouteTable) -> bool:
    """Good enough to answer while the directory cannot be read: built, and not too old."""
    return bool(table.built_at) and time.monotonic() - table.built_at <= platform.settings.route_stale_max_s


def route_table(platform: Platform) -> RouteTable:
    table: RouteTable | None = platform.caches.get(CACHE)
    if table is not None and _is_fresh(platform, table):
        return table
    # One thread rebuilds; the others wait for its table, unless they have one to answer with
    # (the rebuilder may be waiting out the connect timeout of a lost directory).
    if table is not None and _is_usable(platform, table):
        if not platform.cache_lock.acquire(blocking=False):
            return table
    else:
        platform.cache_lock.acquire()
    try:
        table = platform.caches.get(CACHE)
        if table is None or not _is_fresh(platform, table):
            table = _rebuild(platform, table)
        return table
    finally:
        platform.cache_lock.release()


def _rebuild(platform: Platform, previous: RouteTable | None) -> RouteTable:
    try:
        table = _build(platform, previous)
    except Unavailable as exc:
        if exc.code != "directory_unavailable" or previous is None or not _is_usable(platform, previous):
            raise  # nothing to answer with: 503
        previous.tried_at = time.monotonic()  # the next attempt waits one TTL
        return previous
    platform.caches[CACHE] = table
    return table


def _build(platform: Platform, previous: RouteTable | None) -> RouteTable:
    started = time.monotonic()
    table = RouteTable()
    with platform.directory_unit(write=False) as uow:
        tenants, _ = uow.tenants.page(limit=1_000_000, offset=0)
        plans = uow.plans.sides()
        drills = uow.drills.running()
    table.region_of = {t.id: t.region for t in tenants}
    for plan in plans:
        primary_id, bcp_id, _, _ = plan
        table.plan_of[primary_id] = table.plan_of[bcp_id] = plan
    for region in platform.regions.values():
        try:
            contacts = _read_contacts(platform, region, [t.id for t in tenants if t.region == region.name])
        except Unavailable:
            contacts = (previous.contacts_by_region if previous else {}).get(region.name, [])
        table.contacts_by_region[region.name] = contacts
        for contact in contacts:
            table.by_address.setdefault(contact.address, []).append(contact)
    for drill in drills:
        for number, bcp_id in drill.routes.items():
            table.drilled[number] = DrillRoute(drill.id, bcp_id, drill.ends_at.timestamp())
    table.built_at = table.tried_at = max(started, 1e-9)
    return table


def _read_contacts(platform: Platform, region: Region, tenant_ids: list[int]) -> list[Contact]:
    # Asked by tenant so that the (tenant_id, type) index finds the rows: by type alone it
    # is a scan of every entity of the region, files and scripts included. It also leaves
    # out the contacts of a tenant created after the tenants were read (no region known).
    rows: list[tuple[int, int, dict[str, Any]]] = []
    with platform.region_unit(region, write=False) as uow:
        for start in range(0, len(tenant_ids), TENANTS_PER_QUERY):
            rows += uow.entities.data_of_type(tenant_ids[start : start + TENANTS_PER_QUERY], "points-of-contact")
    return [
        Contact(
            tenant_id,
            id_,
            data["name"],
            data["address"],
            data["channel"],
            data.get("is_active", True),
            data.get("skill_id"),
            data.get("script_path"),
        )
        for tenant_id, id_, data in rows
    ]


def lookup(platform: Platform, principal: Principal, number: Any) -> dict[str, Any]:
    if not (principal.is_operator or principal.kind == "voice"):
        raise Forbidden("Routing answers operators and voice-edge tokens only.", code="permission_denied")
    try:
        answer = route(platform, number)
    except LifeboatError as exc:
        platform.metrics.route_answered(exc.code)
        raise
    platform.metrics.route_answered("ok")
    # Only lookups over the API are calls (the edge asks it for each call it cannot answer from
    # its cache): `lifeboat route` answers with route() and stamps nothing, for a switch or a drill.
    note_first_call(platform, answer["tenant_id"], answer["epoch"])  # the switch's first call (once per process)
    if "drill_id" in answer:
        _count_call(platform, answer["drill_id"])
    return answer


def route(platform: Platform, number: Any) -> dict[str, Any]:
    """The route of a number, or NotFound ``unknown_number`` / Conflict ``not_routable``; a test
    number of a running drill has the drill's id in ``drill_id``. Counts nothing (``lookup`` does)."""
    if not isinstance(number, str) or not E164.match(number.strip()):
        raise Invalid(
            "number must be E.164, e.g. +15551234567.", code="bad_number", details={"number": str(number)[:40]}
        )
    number = number.strip()
    table = route_table(platform)
    contacts = table.by_address.get(number)
    if not contacts:
        raise NotFound(
            f"No point of contact has the number {number}.", code="unknown_number", details={"number": number}
        )
    drilled = table.drilled.get(number)
    if drilled is not None and time.time() < drilled.ends_at:
        answer = _drill_answer(platform, table, number, drilled)
        if answer is not None:
            return answer
    reasons = []
    for contact in sorted(contacts, key=lambda c: c.id):
        answer, reason = _answer(platform, table, number, contact)
        if answer is not None:
            return answer
        reasons.append(reason)
    raise Conflict(
        f"{number} is not routable now: {reasons[0]}",
        code="not_routable",
        details={"number": number, "reasons": reasons},
    )


def _answer(platform: Platform, table: RouteTable, number: str, contact: Contact) -> tuple[dict[str, Any] | None, str]:
    plan = table.plan_of.get(contact.tenant_id)
    kind = "standalone"
    epoch = None
    if plan is not None:
        primary_id, bcp_id, side, epoch = plan
        kind = Side.PRIMARY if contact.tenant_id == primary_id else Side.BCP
        if kind != side:
            return None, f"the {kind} tenant is not active (the {side} tenant is)"
        if side == Side.BCP and contact.channel != "voice":
            return None, f"{contact.channel} has no route while the BCP tenant is active"
    if not contact.is_active:
        return None, f"point of contact {contact.id} is inactive"
    region = table.region_of[contact.tenant_id]
    return {
        "number": number,
        "tenant_id": contact.tenant_id,
        "tenant_kind": kind,
        "region": region,
        "cluster": platform.region(region).voice_cluster,
        "point_of_contact_id": contact.id,
        "channel": contact.channel,
        "skill_id": contact.skill_id,
        "script_path": contact.script_path,
        "epoch": epoch,
    }, ""


def _drill_answer(platform: Platform, table: RouteTable, number: str, drilled: DrillRoute) -> dict[str, Any] | None:
    """The BCP copy's route of a test number; None if the copy is gone or inactive (the number
    then routes as usual: a drill never makes a number unroutable)."""
    candidates = table.by_address.get(number, []) + [c for cs in table.contacts_by_region.values() for c in cs]
    copy = next((c for c in candidates if c.id == drilled.bcp_contact_id), None)
    if copy is None or not copy.is_active or copy.channel != "voice":
        return None
    plan = table.plan_of.get(copy.tenant_id)
    region = table.region_of[copy.tenant_id]
    return {
        "number": number,
        "tenant_id": copy.tenant_id,
        "tenant_kind": Side.BCP,
        "region": region,
        "cluster": platform.region(region).voice_cluster,
        "point_of_contact_id": copy.id,
        "channel": copy.channel,
        "skill_id": copy.skill_id,
        "script_path": copy.script_path,
        "epoch": plan[3] if plan else None,
        "drill_id": drilled.drill_id,
    }


def _count_call(platform: Platform, drill_id: int) -> None:
    """One more routed call for the drill's record; a directory that cannot be written loses
    the count, never the call."""
    try:
        with platform.directory_unit() as uow:
            uow.drills.count_call(drill_id, now())
    except Exception:
        log.warning("could not count a routed call of drill %s", drill_id, exc_info=True)
