"""``GET /metrics`` for Prometheus (SPEC §13), outside ``/api/v1`` like the probes.

No login by default: bind the port where only the monitoring reaches it. With the setting
``metrics_token`` the scrape must send ``Authorization: Bearer <metrics_token>``; anything
else is 401 and reads nothing. The gauges of shared state (RPO per plan, regions, edges)
are read from the directory while the answer is written (``services.gauges``)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lifeboat.api.deps import PlatformDep
from lifeboat.errors import NotAuthenticated
from lifeboat.metrics import CONTENT_TYPE

router = APIRouter(tags=["status"])
metrics_bearer = HTTPBearer(
    auto_error=False, scheme_name="MetricsToken", description="The setting metrics_token, when it is set"
)


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE.split(";")[0]: {}}, "description": "The Prometheus text format"},
        401: {"description": "metrics_token is set and the request does not carry it"},
    },
)
def metrics(
    platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(metrics_bearer)]
) -> Response:
    _require_token(platform.settings.metrics_token, credentials)
    return Response(platform.metrics.render(), media_type=CONTENT_TYPE)


def _require_token(expected: str | None, credentials: HTTPAuthorizationCredentials | None) -> None:
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):  # constant time: no guessing by timing
        raise NotAuthenticated(
            "Send 'Authorization: Bearer <metrics_token>' to read the metrics.", code="invalid_metrics_token"
        )
