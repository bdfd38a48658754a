"""``lifeboat serve --log-format json --access-log`` (here through LIFEBOAT_LOG_FORMAT and
LIFEBOAT_ACCESS_LOG, as a container would set them): every line the server writes is one
JSON object, and a request's line carries the id the caller sent."""

from __future__ import annotations

import json

from tests.e2e.lifeboat_process import Installation
from tests.sync_fixture import API


def test_every_line_is_json_and_the_request_line_carries_its_id(start_lifeboat, tmp_path):
    server = start_lifeboat(
        Installation.sqlite(tmp_path / "data"), env={"LIFEBOAT_LOG_FORMAT": "json", "LIFEBOAT_ACCESS_LOG": "1"}
    )
    response = server.http.get(f"{API}/tenants/7/skills", headers={"X-Request-ID": "e2e-request-1"})
    assert response.status_code == 401 and response.headers["x-request-id"] == "e2e-request-1"
    server.stop()

    entries = [json.loads(line) for line in server.log_text().splitlines() if line.strip()]
    assert any("lifeboat listening on" in e["message"] for e in entries)
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # the server's own lines too
    [line] = [e for e in entries if e.get("request_id") == "e2e-request-1"]
    assert (line["method"], line["route"], line["status"]) == ("GET", "/api/v1/tenants/{tenant_id}/skills", 401)
    assert {"time", "level", "logger", "message", "duration_ms"} <= line.keys()
