"""Employees' BCP type (SPEC §5): who may enter the BCP tenant, set in bulk from a CSV.

The CSV has the columns ``username,bcp_type``. Every bad row changes nothing and is counted;
the first ``MAX_REPORTED_ROWS`` are listed with their line numbers. The good rows are applied
together in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from lifeboat.bootstrap import Platform
from lifeboat.domain.access import Principal
from lifeboat.domain.entities import BCP_TYPES, Entity
from lifeboat.errors import BadInput, TooLarge, Unavailable
from lifeboat.services.entities.escalation import held_by, stronger_user
from lifeboat.services.tenancy.tenants import open_tenant
from lifeboat.store.database import Region
from lifeboat.store.region import EntityRepo, FieldIs
from lifeboat.store.tables import now
from lifeboat.store.units import region_unit

MAX_CSV_BYTES = 5 * 1_048_576
MAX_REPORTED_ROWS = 1000  # bad rows listed in an answer; the count covers them all
HEADER = ["username", "bcp_type"]
BCP_TYPE_FIELD = FieldIs("bcp_type", default="none")
STRONGER = object()  # stands for a user the uploader may not change


def set_bcp_types_csv(platform: Platform, principal: Principal, tenant_id: int, body: bytes) -> dict[str, Any]:
    """Apply the good rows; answer the counts and the first ``MAX_REPORTED_ROWS`` bad rows.

    The rows are read one at a time, twice (once to find duplicated usernames), and never
    kept: memory follows the tenant's users and the rows reported, not the CSV's length."""
    tenant, region = open_tenant(platform, principal, tenant_id, "admin.edit")
    text = _decode(body)
    _check_header(text)
    with platform.region_unit(region) as uow:
        users = {u.data["username"]: u for u in uow.entities.all_of(tenant.id, ["users"], with_content=False)}
        report, changes = _check_rows(text, _within_reach(uow.entities, tenant.id, users, held_by(principal)))
        stamp = now()
        updated = [replace(u, data={**u.data, "bcp_type": value}, updated_at=stamp) for u, value in changes]
        for user in updated:
            uow.entities.update(user)
        uow.audit_many(
            [
                {
                    "actor": principal.actor,
                    "action": "users.bcp_type",
                    "tenant_id": tenant.id,
                    "entity_type": "users",
                    "entity_id": new.id,
                    "before": {"bcp_type": old.data.get("bcp_type")},
                    "after": {"bcp_type": new.data["bcp_type"]},
                    "details": {"source": "csv"},
                }
                for (old, _), new in zip(changes, updated)
            ]
        )
    return report.view()


@dataclass
class _Report:
    applied: int = 0
    unchanged: int = 0
    errors: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)

    def bad(self, line: int, username: str, value: str, error: dict[str, str]) -> None:
        self.errors += 1
        if len(self.bad_rows) < MAX_REPORTED_ROWS:
            self.bad_rows.append({"line": line, "username": username[:200], "bcp_type": value[:200], **error})

    def view(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "bad_rows": self.bad_rows,
            "bad_rows_truncated": self.errors > len(self.bad_rows),
        }


def _decode(body: bytes) -> str:
    if len(body) > MAX_CSV_BYTES:
        raise TooLarge(
            f"The CSV is over {MAX_CSV_BYTES} bytes.", code="csv_too_large", details={"limit": MAX_CSV_BYTES}
        )
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput(f"The CSV is not UTF-8 text (byte {exc.start}).", code="malformed_csv") from None


def _numbered(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each non-blank row with its line number (blank rows are skipped, still counted)."""
    try:
        for line, row in enumerate(csv.reader(io.StringIO(text, newline=""), strict=True), start=1):
            if any(cell.strip() for cell in row):
                yield line, row
    except csv.Error as exc:
        raise BadInput(f"The CSV cannot be read: {exc}.", code="malformed_csv") from None


def _check_header(text: str) -> None:
    first = next(_numbered(text), None)
    if first is None or [c.strip().lower() for c in first[1]] != HEADER:
        raise BadInput(
            "The first line must be the header 'username,bcp_type'.",
            code="malformed_csv",
            details={"expected_header": ",".join(HEADER)},
        )


def _within_reach(
    repo: EntityRepo, tenant_id: int, users: dict[str, Any], held: frozenset[str] | None
) -> dict[str, Any]:
    """Each user, or ``STRONGER`` for one whose role carries a permission the uploader lacks
    (out of its reach: see ``domain.permissions``)."""
    if held is None:
        return users
    roles = {
        r.id: frozenset(r.data.get("permissions") or ()) for r in repo.all_of(tenant_id, ["roles"], with_content=False)
    }
    return {name: STRONGER if stronger_user(roles, user, held) else user for name, user in users.items()}


def _data_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    rows = _numbered(text)
    next(rows)  # the header, checked already
    return rows


def _check_rows(text: str, users: dict[str, Any]) -> tuple[_Report, list[tuple[Any, str]]]:
    # Only the tenant's usernames are counted: any other is refused as unknown anyway.
    seen = Counter(name for name in (row[0].strip().lower() for _, row in _data_rows(text) if row) if name in users)
    report, changes = _Report(), list[tuple[Any, str]]()
    for line, row in _data_rows(text):
        username = row[0].strip().lower() if row else ""
        value = row[1].strip().lower() if len(row) > 1 else ""
        error = _row_error(row, username, value, users, seen)
        if error:
            report.bad(line, username, value, error)
            continue
        user = users[username]
        if user.data.get("bcp_type", "none") == value:
            report.unchanged += 1
        else:
            report.applied += 1
            changes.append((user, value))
    return report, changes


def _row_error(
    row: list[str], username: str, value: str, users: dict[str, Any], seen: Counter[str]
) -> dict[str, str] | None:
    if len(row) != 2:
        return {"code": "malformed_line", "message": f"expected 2 columns (username,bcp_type), found {len(row)}"}
    if seen[username] > 1:
        return {"code": "duplicate_username", "message": f"{username!r} appears {seen[username]} times; none applied"}
    if value not in BCP_TYPES:
        return {"code": "bad_bcp_type", "message": f"bcp_type must be one of {', '.join(BCP_TYPES)}"}
    if username not in users:
        return {"code": "unknown_user", "message": f"no user {username[:200]!r} in this tenant"}
    if users[username] is STRONGER:
        return {"code": "permission_escalation", "message": "this user holds permissions you do not; not changed"}
    return None


def access_counts(region: Region, tenant_id: int) -> dict[str, int] | None:
    """Active users with single and multiple BCP access (billing weight); None if the region is down.
    Counted by the database: a tenant's users are never loaded for it."""
    try:
        with region_unit(region, write=False) as uow:  # the unit Platform.region_unit hands out, from the Region
            counts = uow.entities.count_values(tenant_id, "users", BCP_TYPE_FIELD)
    except Unavailable:
        return None
    return {
        "single": counts.get("single", 0),
        "multiple": counts.get("multiple", 0),
        "total": counts.get("single", 0) + counts.get("multiple", 0),
    }


def bcp_type_counts(platform: Platform, principal: Principal, tenant_id: int) -> dict[str, int] | None:
    """``access_counts`` for a principal who may read the tenant's users (admin.view, as GET /users)."""
    tenant, region = open_tenant(platform, principal, tenant_id, "admin.view")
    return access_counts(region, tenant.id)


def list_users(
    platform: Platform,
    principal: Principal,
    tenant_id: int,
    *,
    search: str | None = None,
    bcp_type: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[Entity], int]:
    """A page of the tenant's users (admin.view, as GET /users): usernames holding ``search``,
    of one BCP type if given. The database pages; 10,000 users cost what 50 do."""
    tenant, region = open_tenant(platform, principal, tenant_id, "admin.view")
    only = replace(BCP_TYPE_FIELD, value=bcp_type) if bcp_type in BCP_TYPES else None
    with platform.region_unit(region, write=False) as uow:
        return uow.entities.page(tenant.id, "users", limit=limit, offset=offset, key_contains=search, field_is=only)
