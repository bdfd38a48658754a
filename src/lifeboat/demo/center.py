"""``lifeboat demo``: a realistic contact center to try lifeboat on, loaded idempotently.

It makes sure there is an operator account, a primary tenant "Acme Contact Center" in
``na1`` full of configuration (sized by ``demo.profile.scaled``), and an empty tenant
"Acme Contact Center BCP" in ``eu1`` to pair with it. Everything is found by name or
natural key first, so a second run adds nothing and says so. The command line prints the
summary (``cli.demo``); the benchmarks call ``load_contact_center`` directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter

from lifeboat.bootstrap import Platform
from lifeboat.demo.profile import Profile, configuration, scaled, usernames
from lifeboat.demo.scripts import script_drafts
from lifeboat.domain.access import Principal
from lifeboat.domain.records import Tenant
from lifeboat.errors import NotFound
from lifeboat.services.bcp.pairing import create_plan, open_bcp_plan, update_settings
from lifeboat.services.entities.bulk import TypeCounts, load_entities
from lifeboat.services.entities.crud import get_business_unit, update_entity
from lifeboat.services.tenancy.auth import create_operator, find_operator
from lifeboat.services.tenancy.tenants import create_tenant, find_tenant

DEMO_PASSWORD = "lifeboat-demo"  # every demo account's password, printed on purpose
OPERATOR_NAME = "operator"
PRIMARY_TENANT = "Acme Contact Center"
BCP_TENANT = "Acme Contact Center BCP"
PRIMARY_REGION, BCP_REGION = "na1", "eu1"
BUSINESS_UNIT = {
    "name": PRIMARY_TENANT,
    "time_zone": "America/New_York",
    "settings": {"default_language": "en-US", "service_level_seconds": 20, "abandon_after_seconds": 5},
}
ROLE_OF_USERNAME = {
    "admin": "Administrator",
    "bcpadmin": "BCP Administrator",
    "supervisor1": "Supervisor",
    "agent1": "Agent",
}

Say = Callable[[str], None]


@dataclass
class DemoSummary:
    primary: Tenant
    bcp: Tenant | None  # None when only one region is configured
    operator: str
    operator_created: bool
    password: str
    tenants_created: list[str]
    business_unit_updated: bool
    counts: dict[str, TypeCounts]
    logins: dict[str, str]  # username -> role, the accounts worth trying first
    seconds: float
    passkey: str | None = None  # set only on the run that paired the tenants: shown once
    paired: bool = False

    @property
    def created(self) -> int:
        return sum(c.created for c in self.counts.values())

    @property
    def already_loaded(self) -> bool:
        return not (self.created or self.tenants_created or self.operator_created or self.business_unit_updated)


def load_demo(platform: Platform, *, users: int = 50, say: Say | None = None) -> DemoSummary:
    """Load (or complete) the demo; ``say`` is told each step as it ends."""
    started = perf_counter()
    say = say or _silent
    operator_id, operator_created = _ensure_operator(platform)
    principal = Principal("operator", operator_id, OPERATOR_NAME)
    primary, bcp, tenants_created = _ensure_tenants(platform, principal)
    say(f"tenants: {primary.name} ({primary.region})" + (f", {bcp.name} ({bcp.region})" if bcp else ""))
    bu_updated = _set_business_unit(platform, principal, primary.id)
    profile = scaled(users)
    counts = load_contact_center(platform, principal, primary.id, profile, say)
    logins = {name: ROLE_OF_USERNAME[name] for name in usernames(profile) if name in ROLE_OF_USERNAME}
    passkey = _ensure_plan(platform, principal, primary, bcp, say) if bcp else None
    return DemoSummary(
        primary,
        bcp,
        OPERATOR_NAME,
        operator_created,
        DEMO_PASSWORD,
        tenants_created,
        bu_updated,
        counts,
        logins,
        perf_counter() - started,
        passkey,
        bcp is not None,
    )


def _ensure_plan(platform: Platform, principal: Principal, primary: Tenant, bcp: Tenant, say: Say) -> str | None:
    """Pair the demo tenants and turn sync on (its first run waits for a worker: `lifeboat serve`).
    Returns the passkey when this run paired them; an existing plan keeps its passkey."""
    if _is_paired(platform, principal, primary):
        return None
    _, passkey = create_plan(platform, principal, primary.id, bcp.id)
    update_settings(platform, principal, primary.id, {"enabled": True})
    say(f"paired {primary.name} with {bcp.name}; sync enabled (first run queued)")
    return passkey


def _is_paired(platform: Platform, principal: Principal, tenant: Tenant) -> bool:
    try:
        open_bcp_plan(platform, principal, tenant.id)
    except NotFound as exc:
        if exc.code != "bcp_plan_not_found":
            raise
        return False
    return True


def load_contact_center(
    platform: Platform, principal: Principal, tenant_id: int, profile: Profile, say: Say | None = None
) -> dict[str, TypeCounts]:
    """The profile's entities, then its scripts (which hold the ids the first load gave)."""
    say = say or _silent
    started = perf_counter()
    drafts = configuration(profile, DEMO_PASSWORD)
    first = load_entities(platform, principal, tenant_id, drafts)
    say(f"configuration: {first.created:,} created, {first.skipped:,} already there ({perf_counter() - started:.1f} s)")
    started = perf_counter()
    second = load_entities(platform, principal, tenant_id, script_drafts(profile, first.ids))
    say(f"scripts: {second.created:,} created, {second.skipped:,} already there ({perf_counter() - started:.1f} s)")
    return {**first.counts, **second.counts}


def _silent(message: str) -> None:
    pass


def _ensure_operator(platform: Platform) -> tuple[int, bool]:
    existing = find_operator(platform, OPERATOR_NAME)
    if existing is not None:
        return existing.id, False
    return create_operator(platform, OPERATOR_NAME, DEMO_PASSWORD), True


def _ensure_tenants(platform: Platform, principal: Principal) -> tuple[Tenant, Tenant | None, list[str]]:
    primary_region, bcp_region = _regions(platform)
    created: list[str] = []

    def ensure(name: str, region: str) -> Tenant:
        found = find_tenant(platform, principal, name)
        if found is not None:
            return found
        created.append(name)
        return create_tenant(platform, principal, name, region)

    primary = ensure(PRIMARY_TENANT, primary_region)
    bcp = ensure(BCP_TENANT, bcp_region) if bcp_region else None
    return primary, bcp, created


def _regions(platform: Platform) -> tuple[str, str | None]:
    """na1 and eu1 when configured, else the first region and another one (if any)."""
    names = list(platform.regions)
    primary = PRIMARY_REGION if PRIMARY_REGION in names else names[0]
    others = [n for n in names if n != primary]
    return primary, (BCP_REGION if BCP_REGION in others else next(iter(others), None))


def _set_business_unit(platform: Platform, principal: Principal, tenant_id: int) -> bool:
    before = get_business_unit(platform, principal, tenant_id)
    after = update_entity(platform, principal, tenant_id, "business-unit", None, BUSINESS_UNIT, replace_all=True)
    return after.updated_at != before.updated_at
