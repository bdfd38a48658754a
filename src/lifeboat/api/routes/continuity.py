"""Emergency routes: switch and revert, readiness, voice routing, BCP types in bulk, alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from lifeboat.api.deps import CurrentPrincipal, PageDep, PlatformDep, page_of
from lifeboat.api.limits import body_up_to
from lifeboat.api.openapi import errors
from lifeboat.domain.fields import E164, EMAIL, NOT_BLANK, FieldError, storable
from lifeboat.services import alerts
from lifeboat.services.bcp import access, drills, edges, readiness, routing, switchover
from lifeboat.services.tenancy import auth
from lifeboat.views.alerts import subscription_view, subscription_with_recent
from lifeboat.views.bcp import drill_view
from lifeboat.views.edges import edge_view

router = APIRouter()


# route() strips spaces; an unencoded "+" arrives as one space, taken as "+" when digits follow.
NUMBER = r"^(?: [1-9][0-9]{6,14}|\s*\+[1-9][0-9]{6,14}\s*)$"
# The body reaches the service as it came: a malformed try is still a recorded try.
SWITCH_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["to", "passkey"],
                    "additionalProperties": False,
                    "properties": {"to": {"enum": ["bcp", "primary"]}, "passkey": {"type": "string", "minLength": 1}},
                }
            }
        },
    }
}


class VoiceTokenBody(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=NOT_BLANK, description="Who uses it; not only spaces")

    @field_validator("name")
    @classmethod
    def _storable(cls, name: str) -> str:
        try:
            return storable(name)
        except FieldError as exc:
            raise ValueError(exc.message) from None


@router.post(
    "/tenants/{tenant_id}/bcp/switch",
    tags=["switchover"],
    openapi_extra=SWITCH_DOC,
    responses=errors(409, 423),
    summary="Switch voice and logins to the BCP tenant, or revert to the primary (passkey required)",
)
def switch(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    return switchover.switch_to(platform, principal, tenant_id, payload)


DRILL_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["numbers", "passkey"],
                    "additionalProperties": False,
                    "properties": {
                        "numbers": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": drills.MAX_NUMBERS,
                            "items": {"type": "string", "pattern": E164.pattern},
                            "description": "E.164 test numbers: active voice points of contact of the primary",
                        },
                        "users": {
                            "type": "array",
                            "maxItems": drills.MAX_USERS,
                            "items": {"type": "string", "minLength": 1, "maxLength": 200},
                            "description": "pilot usernames of the primary",
                        },
                        "passkey": {"type": "string", "minLength": 1},
                        "minutes": {
                            "type": "integer",
                            "minimum": drills.MIN_MINUTES,
                            "maximum": drills.MAX_MINUTES,
                            "default": drills.DEFAULT_MINUTES,
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/tenants/{tenant_id}/bcp/drills",
    tags=["switchover"],
    status_code=201,
    openapi_extra=DRILL_DOC,
    responses=errors(409, 423),
    summary="Start a drill: test numbers route to BCP and pilots log in there (passkey required)",
)
def start_drill(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    return drill_view(drills.start(platform, principal, tenant_id, payload))


@router.get("/tenants/{tenant_id}/bcp/drills", tags=["switchover"], summary="Drills of the plan, newest first")
def list_drills(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, page: PageDep) -> dict[str, Any]:
    items, total = drills.page(platform, principal, tenant_id, limit=page.limit, offset=page.offset)
    return page_of([drill_view(d) for d in items], total)


@router.get("/tenants/{tenant_id}/bcp/drills/{drill_id}", tags=["switchover"], summary="One drill with its counters")
def get_drill(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, drill_id: int) -> dict[str, Any]:
    return drill_view(drills.get(platform, principal, tenant_id, drill_id))


@router.post(
    "/tenants/{tenant_id}/bcp/drills/{drill_id}/end",
    tags=["switchover"],
    responses=errors(409),
    summary="End a running drill: everything routes and logs in as before",
)
def end_drill(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, drill_id: int) -> dict[str, Any]:
    return drill_view(drills.end(platform, principal, tenant_id, drill_id))


@router.get(
    "/tenants/{tenant_id}/bcp/readiness",
    tags=["switchover"],
    summary="Is the BCP tenant ready? pass/warn/fail per check",
)
def get_readiness(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return readiness.readiness(platform, principal, tenant_id)


@router.get(
    "/voice/route",
    tags=["voice"],
    responses=errors(404, 409),
    summary="Where a dialled number goes now (operator or voice token)",
)
async def route(
    platform: PlatformDep,
    principal: CurrentPrincipal,
    number: Annotated[
        str,
        Query(
            description="E.164, e.g. +15551234567 (a + sent unencoded arrives as a space)",
            json_schema_extra={"pattern": NUMBER},
        ),
    ],
) -> dict[str, Any]:
    if number.startswith(" ") and number[1:].isdigit():  # "?number=+1555…" unencoded: the + arrives as a space
        number = "+" + number[1:]
    if not routing.is_fresh(platform):  # rebuilding reads every region: not on the event loop
        await run_in_threadpool(routing.route_table, platform)
    return routing.lookup(platform, principal, number)


EDGE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["name", "rpc_url"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"},
                        "rpc_url": {
                            "type": "string",
                            "example": "http://127.0.0.1:5080/RPC",
                            "description": "an IP address in the operator's edge_rpc_networks (else 422 "
                            "edge_rpc_not_allowed)",
                        },
                        "answers": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                    },
                }
            }
        },
    }
}


@router.post(
    "/voice/edges",
    tags=["voice"],
    openapi_extra=EDGE_DOC,
    summary="A voice edge registers or reports: name, RPC address, answers by code (voice token)",
)
def report_edge(platform: PlatformDep, principal: CurrentPrincipal, payload: Annotated[Any, Body()]) -> dict[str, Any]:
    return edge_view(edges.report_edge(platform, principal, payload))


@router.get("/voice/edges", tags=["voice"], summary="The registered voice edges and their answers by code (operator)")
def list_edges(platform: PlatformDep, principal: CurrentPrincipal) -> dict[str, Any]:
    items = [edge_view(edge) for edge in edges.list_edges(platform, principal)]
    return page_of(items, len(items))


@router.post(
    "/voice/tokens", status_code=201, tags=["voice"], summary="A token for the voice edge (operator); shown once"
)
def voice_token(platform: PlatformDep, principal: CurrentPrincipal, body: VoiceTokenBody) -> dict[str, Any]:
    return {"name": body.name, "token": auth.create_voice_token(platform, principal, body.name)}


CSV_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "example": "username,bcp_type\nalice,multiple\nbob,single\n"}}
        },
    }
}


@router.post(
    "/tenants/{tenant_id}/users/bcp-types",
    tags=["users"],
    openapi_extra=CSV_DOC,
    summary="Set many employees' BCP type from a CSV (username,bcp_type); per-row results",
)
async def bcp_types(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, request: Request
) -> dict[str, Any]:
    body = await body_up_to(request, access.MAX_CSV_BYTES)
    return await run_in_threadpool(access.set_bcp_types_csv, platform, principal, tenant_id, body)


@router.get("/tenants/{tenant_id}/alert-subscriptions", tags=["alerts"], summary="Alert subscriptions of a tenant")
def list_alerts(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    subscriptions = alerts.list_subscriptions(platform, principal, tenant_id)
    items = [subscription_with_recent(sub, recent) for sub, recent in subscriptions]
    return page_of(items, len(items))


WEBHOOK_URL = r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]+"  # what alerts._is_http_url() takes
ALERT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "target"],
                    "additionalProperties": False,
                    "properties": {
                        "kind": {"enum": ["webhook", "email"]},
                        "target": {
                            "type": "string",
                            "maxLength": alerts.MAX_TARGET,
                            "description": "An http(s) URL or an email address",
                        },
                        "events": {"type": "array", "minItems": 1, "items": {"enum": list(alerts.EVENTS)}},
                    },
                    "oneOf": [
                        {"properties": {"kind": {"const": "webhook"}, "target": {"pattern": WEBHOOK_URL}}},
                        {"properties": {"kind": {"const": "email"}, "target": {"pattern": EMAIL.pattern}}},
                    ],
                }
            }
        },
    }
}


@router.post(
    "/tenants/{tenant_id}/alert-subscriptions",
    status_code=201,
    tags=["alerts"],
    openapi_extra=ALERT_DOC,
    summary="Subscribe a webhook (signed) or an email address to events; a webhook's secret is shown once",
)
def subscribe(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    sub, secret = alerts.subscribe(platform, principal, tenant_id, payload)
    return {**subscription_view(sub), **({"secret": secret} if secret else {})}


@router.delete(
    "/tenants/{tenant_id}/alert-subscriptions/{subscription_id}",
    status_code=204,
    tags=["alerts"],
    summary="Remove an alert subscription",
)
def unsubscribe(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, subscription_id: int) -> Response:
    alerts.delete_subscription(platform, principal, tenant_id, subscription_id)
    return Response(status_code=204)


@router.post(
    "/tenants/{tenant_id}/alert-subscriptions/{subscription_id}/test",
    status_code=202,
    tags=["alerts"],
    summary="Queue a signed test event for one subscription; the alert sender delivers it like every alert",
)
def send_test_event(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, subscription_id: int
) -> dict[str, Any]:
    return alerts.send_test_event(platform, principal, tenant_id, subscription_id)
