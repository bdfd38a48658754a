"""Answers that list per-item results stay bounded, however many items the request has:
validation errors list at most 1,000 problems and count the rest, a script's references
and the script checklist are paged. (The BCP types CSV: ``test_bcp_types_csv.py``.)"""

from __future__ import annotations

import pytest

from tests.examples import TenantApi, error_of, new_tenant
from tests.shared_platform import shared_api, shared_platform, tenant_name  # noqa: F401


@pytest.fixture
def acme(shared_api) -> TenantApi:
    return new_tenant(shared_api, tenant_name("Bounded"))


def test_a_body_of_many_unknown_fields_lists_the_first_thousand_and_counts_them_all(acme):
    body = {"name": "Sales", **{f"extra{i}": 1 for i in range(50_000)}}

    response = acme.post("skills", body)

    assert response.status_code == 422
    details = error_of(response)["details"]
    assert len(details["errors"]) == 1000
    assert (details["errors_total"], details["errors_truncated"]) == (50_000, True)
    assert {e["code"] for e in details["errors"]} == {"unknown_field"}
    assert len(response.content) < 200_000
    assert acme.get("skills").json()["total"] == 0


def test_a_few_problems_are_listed_without_a_count(acme):
    details = error_of(acme.post("skills", {"name": "Sales", "stray": 1}))["details"]

    assert [e["field"] for e in details["errors"]] == ["stray"]
    assert "errors_total" not in details


def test_the_references_of_a_script_are_paged(acme):
    skill = acme.create("skills")["id"]
    props = {str(i): {"name": "Skill", "value": str(skill)} for i in range(250)}
    content = {"actions": {"1": {"name": "REQAGENT"}}, "properties": {"1": props}}
    script = acme.create("scripts", content=content)["id"]
    url = f"/api/v1/tenants/{acme.id}/scripts/{script}/references"

    first = acme.api.get(url, headers=acme.headers).json()
    rest = acme.api.get(url, params={"limit": 1000, "offset": 100}, headers=acme.headers).json()

    assert (len(first["items"]), first["total"]) == (100, 250)
    assert (len(rest["items"]), rest["total"]) == (150, 250)
    assert all(ref["exists"] for ref in first["items"] + rest["items"])
