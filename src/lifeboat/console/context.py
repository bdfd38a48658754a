"""Who is looking at a page: the principal behind the session cookie, the tenant, the plan
facts every page header shows, and the navigation this principal may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from lifeboat.bootstrap import Platform
from lifeboat.console.web import SESSION_COOKIE
from lifeboat.domain.access import Principal
from lifeboat.domain.records import Drill, Side
from lifeboat.errors import Forbidden, NotAuthenticated, NotFound
from lifeboat.logs import note_actor
from lifeboat.services.bcp.drill_choices import running_or_none
from lifeboat.services.bcp.pairing import PairedTenants, open_bcp_plan
from lifeboat.services.tenancy import auth, tenants

# (label, path, the permission that shows the link: the one the API checks to read what the page shows)
NAVIGATION = (
    ("Overview", "/", None),
    ("Sync", "/bcp/sync", "bcp.sync.view"),
    ("Script checklist", "/bcp/checklist", "bcp.sync.view"),
    ("BCP access", "/bcp/access", "admin.view"),  # the list of users: GET /users needs admin.view
    ("Switchover", "/bcp/switchover", "bcp.enablement.view"),  # its readiness report needs it
    ("Drills", "/bcp/drills", "bcp.enablement.view"),  # GET .../bcp/drills needs it
    ("Failback", "/bcp/failback", "bcp.sync.view"),  # GET .../bcp/failback needs it
    ("Configuration", "/config", "config"),  # any of CONFIG_PERMISSIONS
    ("Audit log", "/audit", "admin.view"),
    ("Alerts", "/alerts", "bcp.enablement.view"),
)
CONFIG_PERMISSIONS = ("admin.view", "acd.view", "studio.view")
OPERATOR_NAVIGATION = (("Tenants", "/tenants"), ("Regions", "/regions"))


def may_see(principal: Principal, permission: str | None) -> bool:
    if permission is None:
        return True
    if permission == "config":
        return any(principal.can(p) for p in CONFIG_PERMISSIONS)
    return principal.can(permission)


@dataclass
class Console:
    """Everything the layout needs, plus what pages reuse (the plan, opened once)."""

    platform: Platform
    principal: Principal
    tenant_id: int | None
    tenant_name: str | None = None
    plan: PairedTenants | None = None
    nav: list[dict[str, Any]] = field(default_factory=list)
    drill: Drill | None = None  # the plan's running drill, for those who may see drills (the banner)

    @property
    def side(self) -> str | None:
        """Which tenant of the plan this is: primary or bcp (primary without a plan)."""
        if self.tenant_id is None:
            return None
        return Side.BCP if self.plan and self.plan.bcp.id == self.tenant_id else Side.PRIMARY

    @property
    def bcp_active(self) -> bool:
        return bool(self.plan and self.plan.plan.active_side == Side.BCP)

    @property
    def is_active(self) -> bool:
        return self.plan is None or self.plan.plan.active_side == self.side

    def own_tenant(self, operators_use: str) -> int:
        """The session's tenant, for a page that belongs to one. An operator's session has
        none: 403 ``tenant_required``, and ``operators_use`` tells them what to use instead."""
        if self.tenant_id is None:
            raise Forbidden(operators_use, code="tenant_required")
        return self.tenant_id


def principal_of(platform: Platform, request: Request) -> Principal:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("Log in first.", code="not_authenticated")
    principal = auth.remembered_principal(platform, token) or auth.authenticate(platform, token)
    note_actor(principal.actor)
    return principal


def load(platform: Platform, request: Request) -> Console:
    principal = principal_of(platform, request)
    console = Console(platform, principal, principal.tenant_id)
    if console.tenant_id is not None:
        try:  # the header's facts: any user of either tenant may know them (the login tells them too)
            console.plan = open_bcp_plan(platform, principal, console.tenant_id)
        except NotFound:
            console.plan = None
        console.tenant_name = (
            _name_in(console.plan, console.tenant_id)
            if console.plan
            else tenants.get_tenant(platform, principal, console.tenant_id).name
        )
        if console.plan is not None:
            console.drill = running_or_none(platform, principal, console.tenant_id)
    # every page but the overview belongs to a tenant: an operator's session, which has none, is not shown them
    pages = NAVIGATION if console.tenant_id is not None else NAVIGATION[:1]
    console.nav = [
        {"label": label, "path": path, "current": _current(request, path)}
        for label, path, permission in pages
        if may_see(principal, permission)
    ]
    if principal.is_operator:
        console.nav += [
            {"label": label, "path": path, "current": _current(request, path)} for label, path in OPERATOR_NAVIGATION
        ]
    request.state.console = console
    return console


def _name_in(view: PairedTenants, tenant_id: int) -> str:
    return view.bcp.name if view.bcp.id == tenant_id else view.primary.name


def _current(request: Request, path: str) -> bool:
    here = request.url.path
    return here == path if path == "/" else here == path or here.startswith(path + "/")


async def _console(request: Request) -> Console:
    return await run_in_threadpool(load, request.app.state.platform, request)


ConsoleDep = Annotated[Console, Depends(_console)]
