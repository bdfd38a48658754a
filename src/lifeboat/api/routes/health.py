"""``/healthz`` and ``/readyz`` for load balancers and orchestrators (SPEC §13), outside
``/api/v1`` and without a login, like every probe expects.

``/healthz`` says only that the process answers: restart it when this fails. ``/readyz``
says whether it can do its work: every switch and login needs the directory, so without
it the replica answers 503 and the load balancer sends traffic elsewhere. A region that is
down does not make a replica unready — switching away from it is the point."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from lifeboat.api.deps import PlatformDep
from lifeboat.services.tenancy import status

router = APIRouter(tags=["status"])


@router.get("/healthz", summary="The process answers (liveness)")
def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The directory answers (readiness); regions listed with their status",
    responses={503: {"description": "The directory cannot be reached"}},
)
def readyz(platform: PlatformDep) -> JSONResponse:
    report = status.region_status(platform)
    ready = report["directory"] == "up"
    return JSONResponse({"status": "ready" if ready else "not_ready", **report}, status_code=200 if ready else 503)
