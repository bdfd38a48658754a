"""Failback: what changed in the BCP tenant since the switch, and copying it back (SPEC §14)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from lifeboat.api.deps import CurrentPrincipal, PlatformDep
from lifeboat.api.openapi import errors
from lifeboat.services.bcp import failback
from lifeboat.views.failback import report_view, results_view

router = APIRouter(prefix="/tenants/{tenant_id}/bcp/failback", tags=["bcp"])

APPLY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["items"],
                    "additionalProperties": False,
                    "properties": {"items": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
                }
            }
        },
    }
}


@router.get("", summary="Every BCP entity created, changed, deactivated or deleted since the last switch to BCP")
def report(platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int) -> dict[str, Any]:
    return report_view(failback.failback_report(platform, principal, tenant_id))


@router.post(
    "/apply",
    responses=errors(422, 503),
    summary="Copy chosen failback items into the primary, each in its own transaction",
    openapi_extra=APPLY_DOC,
)
def apply(
    platform: PlatformDep, principal: CurrentPrincipal, tenant_id: int, payload: Annotated[Any, Body()]
) -> dict[str, Any]:
    return results_view(failback.apply_failback(platform, principal, tenant_id, payload))
