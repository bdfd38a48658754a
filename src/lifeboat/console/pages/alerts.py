"""/alerts (SPEC §8, §11): the tenant's alert subscriptions, added and removed.

The same services as GET/POST/DELETE /alert-subscriptions: reading needs bcp.enablement.view,
a change bcp.enablement.edit, and a new subscription passes the API's validation (its
messages shown next to the fields). A webhook's signing secret is shown once, on the page
that answers its creation. Removing asks first with a <details> holding the real button, so
the confirmation works without JavaScript. "Send test event" queues a signed ``test`` event for
one subscription (the service of POST .../alert-subscriptions/{id}/test) and comes back to the
page, which says so; the delivery's outcome shows in the subscription's latest deliveries.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response

from lifeboat.console.context import Console, ConsoleDep
from lifeboat.console.pages.access import tenant_of
from lifeboat.console.web import ConsoleRoute, redirect, render, require_csrf
from lifeboat.errors import Invalid
from lifeboat.services import alerts
from lifeboat.views.alerts import subscription_with_recent

router = APIRouter(route_class=ConsoleRoute)

PATH = "/alerts"
KINDS = ("webhook", "email")


@router.get(PATH, include_in_schema=False)
def alerts_page(request: Request, ctx: ConsoleDep, removed: int | None = None, tested: int | None = None) -> Response:
    return _page(request, ctx, removed=removed, tested=tested)


def _page(request: Request, ctx: Console, *, status: int = 200, **values: Any) -> Response:
    tenant_id = tenant_of(ctx)
    subs = alerts.list_subscriptions(ctx.platform, ctx.principal, tenant_id)
    values.setdefault("form", {"kind": "webhook", "target": "", "events": list(alerts.EVENTS)})
    values.setdefault("errors", {})
    return render(
        request,
        "alerts.html",
        status=status,
        title="Alerts",
        ctx=ctx,
        subscriptions=[subscription_with_recent(s, recent) for s, recent in subs],
        may_edit=ctx.principal.can("bcp.enablement.edit"),
        kinds=KINDS,
        events=alerts.EVENTS,
        **values,
    )


@router.post(PATH, include_in_schema=False, dependencies=[Depends(require_csrf)])
def add_subscription(
    request: Request,
    ctx: ConsoleDep,
    kind: Annotated[str, Form()] = "",
    target: Annotated[str, Form()] = "",
    events: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """The page comes back either way: with the messages next to the fields, or with the new
    subscription (and a webhook's secret, which is never shown again)."""
    tenant_id = tenant_of(ctx)
    form = {"kind": kind, "target": target.strip(), "events": events or []}
    try:
        sub, secret = alerts.subscribe(ctx.platform, ctx.principal, tenant_id, form)
    except Invalid as exc:
        return _page(request, ctx, status=exc.status, form=form, errors=_field_errors(exc))
    return _page(request, ctx, added=sub.id, secret=secret)


def _field_errors(exc: Invalid) -> dict[str, str]:
    """One message per field (the first); one not tied to a field goes under "form"."""
    errors: dict[str, str] = {}
    for error in exc.details.get("errors", []):
        errors.setdefault(str(error.get("field", "form")), str(error.get("message", "")))
    return errors or {"form": exc.message}


@router.post(PATH + "/{subscription_id}/remove", include_in_schema=False, dependencies=[Depends(require_csrf)])
def remove_subscription(ctx: ConsoleDep, subscription_id: int) -> Response:
    alerts.delete_subscription(ctx.platform, ctx.principal, tenant_of(ctx), subscription_id)
    return redirect(f"{PATH}?removed={subscription_id}")


@router.post(PATH + "/{subscription_id}/test", include_in_schema=False, dependencies=[Depends(require_csrf)])
def send_test_event(ctx: ConsoleDep, subscription_id: int) -> Response:
    alerts.send_test_event(ctx.platform, ctx.principal, tenant_of(ctx), subscription_id)
    return redirect(f"{PATH}?tested={subscription_id}")
