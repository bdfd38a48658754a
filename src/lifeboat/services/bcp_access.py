"""Employees' BCP type (SPEC §5): who may enter the BCP tenant, set in bulk from a CSV.

The CSV has the columns ``username,bcp_type``. Every bad row is reported with its line
number and changes nothing; the good rows are applied together in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import replace
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import BCP_TYPES
from lifeboat.errors import BadInput, TooLarge, Unavailable
from lifeboat.services.tenants import open_tenant
from lifeboat.store.audit import AuditRepo
from lifeboat.store.database import Region
from lifeboat.store.region import EntityRepo
from lifeboat.store.tables import now, region_audit

MAX_CSV_BYTES = 5 * 1_048_576
HEADER = ["username", "bcp_type"]


def set_bcp_types_csv(platform: Platform, principal: Principal, tenant_id: int, body: bytes) -> dict[str, Any]:
    tenant, region = open_tenant(platform, principal, tenant_id, "admin.edit")
    rows = _parse(body)
    with region.db.write() as conn:
        repo = EntityRepo(conn, region.id_block)
        users = {u.data["username"]: u for u in repo.all_of(tenant.id, ["users"], with_content=False)}
        results, changes = _check_rows(rows, users)
        stamp = now()
        updated = [replace(u, data={**u.data, "bcp_type": value}, updated_at=stamp) for u, value in changes]
        for user in updated:
            repo.update(user)
        AuditRepo(conn, region_audit).record_many([
            {"actor": principal.actor, "action": "users.bcp_type", "tenant_id": tenant.id, "entity_type": "users",
             "entity_id": new.id, "before": {"bcp_type": old.data.get("bcp_type")}, "after": {"bcp_type": new.data["bcp_type"]},
             "details": {"source": "csv"}} for (old, _), new in zip(changes, updated)])
    summary = Counter(r["status"] for r in results)
    return {"applied": summary["applied"], "unchanged": summary["unchanged"], "errors": summary["error"], "rows": results}


def _parse(body: bytes) -> list[tuple[int, list[str]]]:
    if len(body) > MAX_CSV_BYTES:
        raise TooLarge(f"The CSV is over {MAX_CSV_BYTES} bytes.", code="csv_too_large", details={"limit": MAX_CSV_BYTES})
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"The CSV is not UTF-8 text (byte {exc.start}).", code="malformed_csv") from None
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise BadInput(f"The CSV cannot be read: {exc}.", code="malformed_csv") from None
    numbered = [(i, row) for i, row in enumerate(lines, start=1) if any(cell.strip() for cell in row)]
    if not numbered or [c.strip().lower() for c in numbered[0][1]] != HEADER:
        raise BadInput("The first line must be the header 'username,bcp_type'.", code="malformed_csv",
                       details={"expected_header": ",".join(HEADER)})
    return numbered[1:]


def _check_rows(rows: list[tuple[int, list[str]]], users: dict[str, Any]) -> tuple[list[dict[str, Any]], list]:
    seen = Counter(row[0].strip().lower() for _, row in rows if row)
    results, changes = [], []
    for line, row in rows:
        username = row[0].strip().lower() if row else ""
        value = row[1].strip().lower() if len(row) > 1 else ""
        error = _row_error(row, username, value, users, seen)
        if error:
            results.append({"line": line, "username": username, "bcp_type": value, "status": "error", **error})
            continue
        user = users[username]
        status = "unchanged" if user.data.get("bcp_type", "none") == value else "applied"
        if status == "applied":
            changes.append((user, value))
        results.append({"line": line, "username": username, "bcp_type": value, "status": status})
    return results, changes


def _row_error(row: list[str], username: str, value: str, users: dict[str, Any], seen: Counter) -> dict[str, str] | None:
    if len(row) != 2:
        return {"code": "malformed_line", "message": f"expected 2 columns (username,bcp_type), found {len(row)}"}
    if seen[username] > 1:
        return {"code": "duplicate_username", "message": f"{username!r} appears {seen[username]} times; none applied"}
    if value not in BCP_TYPES:
        return {"code": "bad_bcp_type", "message": f"bcp_type must be one of {', '.join(BCP_TYPES)}"}
    if username not in users:
        return {"code": "unknown_user", "message": f"no user {username!r} in this tenant"}
    return None


def access_counts(region: Region, tenant_id: int) -> dict[str, int] | None:
    """Active users with single and multiple BCP access (billing weight); None if the region is down."""
    try:
        with region.db.read() as conn:
            users = EntityRepo(conn, region.id_block).all_of(tenant_id, ["users"], with_content=False)
    except Unavailable:
        return None
    counts = Counter(u.data.get("bcp_type", "none") for u in users if u.data.get("is_active", True))
    return {"single": counts["single"], "multiple": counts["multiple"], "total": counts["single"] + counts["multiple"]}
