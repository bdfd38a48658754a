"""``GET /metrics`` for Prometheus (SPEC §13), outside ``/api/v1`` like the probes.

No login by default: bind the port where only the monitoring reaches it. With the setting
``metrics_token`` the scrape must send ``Authorization: Bearer <metrics_token>``; anything
else is 401 and reads nothing. The gauges of shared state (RPO per plan, regions, edges)
are read from the directory while the answer is written (``services.gauges``)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from lifeboat.api.deps import PlatformDep
from lifeboat.errors import NotAuthenticated
from lifeboat.metrics import CONTENT_TYPE

router = APIRouter(tags=["status"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (text format); Bearer <metrics_token> when that setting is set",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE.split(";")[0]: {}}, "description": "The Prometheus text format"},
        401: {"description": "metrics_token is set and the request does not carry it"},
    },
)
def metrics(platform: PlatformDep, request: Request) -> Response:
    # The header is read here rather than declared as a security scheme: whether one is
    # needed depends on a setting, and the document must not claim a login is always required.
    _require_token(platform.settings.metrics_token, request.headers.get("authorization", ""))
    return Response(platform.metrics.render(), media_type=CONTENT_TYPE)


def _require_token(expected: str | None, authorization: str) -> None:
    if expected is None:
        return
    scheme, _, given = authorization.partition(" ")
    right = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
    if not right:  # compare_digest: constant time, so the token cannot be guessed by timing
        raise NotAuthenticated(
            "Send 'Authorization: Bearer <metrics_token>' to read the metrics.", code="invalid_metrics_token"
        )
