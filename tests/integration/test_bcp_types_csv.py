"""Employees' BCP type in bulk: ``POST /tenants/{t}/users/bcp-types`` with a CSV body
``username,bcp_type`` (SPEC §5), on SQLite and PostgreSQL.

Each bad row is reported with its line number and changes nothing; the good rows apply;
the change reaches the BCP copies at the next sync; ``GET /bcp`` counts who has access.
"""

from __future__ import annotations

import pytest

from tests.bcp_fixture import PASSWORD, SyncedPlan, build_plan
from tests.shared_platform import shared_api, shared_platform  # noqa: F401
from tests.sync_fixture import API, entity_url, error_code


@pytest.fixture
def plan(shared_api, shared_platform) -> SyncedPlan:
    """A plan of its own on the module's platform (tenants do not see each other)."""
    return build_plan(shared_api, shared_platform)


def upload(plan: SyncedPlan, text: str | bytes, headers: dict[str, str] | None = None, tenant_id: int | None = None):
    body = text.encode() if isinstance(text, str) else text
    return plan.api.post(
        f"{API}/tenants/{tenant_id or plan.primary_id}/users/bcp-types",
        content=body,
        headers={**(headers or plan.ops.headers), "Content-Type": "text/csv"},
    )


def bcp_types(plan: SyncedPlan, tenant_id: int) -> dict[str, str]:
    """username -> bcp_type of every user of the tenant, as the users API shows them."""
    return {u["username"]: u["bcp_type"] for u in plan.ops.all(entity_url(tenant_id, "users"))}


def add_user(plan: SyncedPlan, label: str, bcp_type: str = "none") -> str:
    username = f"{label}{plan.primary_id}"
    plan.make(
        "users",
        label,
        {
            "username": username,
            "email": f"{username}@example.com",
            "first_name": "Extra",
            "last_name": "User",
            "role_id": plan.of("roles", "agent"),
            "bcp_type": bcp_type,
            "password": PASSWORD,
        },
    )
    plan.usernames[label] = username
    return username


def access(plan: SyncedPlan) -> dict[str, dict[str, int]]:
    return plan.describe()["bcp_access"]


def test_good_rows_apply_and_each_bad_row_is_reported_with_its_line_and_changes_nothing(plan):
    u = plan.usernames
    broken, late = add_user(plan, "broken"), add_user(plan, "late")
    before = bcp_types(plan, plan.primary_id)
    csv_text = (
        "\n".join(
            [
                "username,bcp_type",  # 1
                f"{u['none'].upper()},single",  # 2 applied (usernames are not case-sensitive)
                f"{u['single']},single",  # 3 unchanged
                f"ghost{plan.primary_id},multiple",  # 4 unknown user
                f"{u['multiple']},sometimes",  # 5 bad value
                f"{u['admin']},none",  # 6 duplicate ...
                f"{u['admin']},single",  # 7 ... both refused
                "",  # 8 blank: skipped, still counted
                f"{broken},single,oops",  # 9 wrong column count
                f"{late},multiple",  # 10 applied after the bad rows
            ]
        )
        + "\n"
    )

    response = upload(plan, csv_text)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["applied"], answer["unchanged"], answer["errors"]) == (2, 1, 5)
    assert answer["bad_rows_truncated"] is False
    rows = {row["line"]: row for row in answer["bad_rows"]}
    assert {line: row["code"] for line, row in rows.items()} == {
        4: "unknown_user",
        5: "bad_bcp_type",
        6: "duplicate_username",
        7: "duplicate_username",
        9: "malformed_line",
    }
    assert all(row["message"] for row in answer["bad_rows"])
    assert (rows[5]["username"], rows[5]["bcp_type"]) == (u["multiple"], "sometimes")
    assert bcp_types(plan, plan.primary_id) == {**before, u["none"]: "single", late: "multiple"}


def test_an_upload_changes_the_bcp_copies_at_the_next_sync_and_the_access_counts(plan):
    u = plan.usernames
    bcp_before = bcp_types(plan, plan.bcp_id)
    assert access(plan) == {
        "primary": {"single": 1, "multiple": 2, "total": 3},
        "bcp": {"single": 1, "multiple": 2, "total": 3},
    }

    answer = upload(plan, f"username,bcp_type\n{u['none']},multiple\n{u['single']},none\n").json()

    assert answer["applied"] == 2
    assert access(plan) == {
        "primary": {"single": 0, "multiple": 3, "total": 3},
        "bcp": {"single": 1, "multiple": 2, "total": 3},
    }
    assert bcp_types(plan, plan.bcp_id) == bcp_before  # sync is one way and runs later

    run = plan.sync()

    assert run["counts"]["users"]["updated"] == 2
    assert bcp_types(plan, plan.bcp_id) == {**bcp_before, u["none"]: "multiple", u["single"]: "none"}
    assert access(plan)["bcp"] == {"single": 0, "multiple": 3, "total": 3}


def test_the_counts_are_the_same_from_either_tenant_of_the_plan(plan):
    upload(plan, f"username,bcp_type\n{plan.usernames['none']},single\n")

    assert plan.ops.get(plan.url(tenant_id=plan.bcp_id))["bcp_access"] == access(plan)


@pytest.mark.parametrize(
    "text",
    [
        "{none},multiple\n",  # no header
        "user,type\n{none},multiple\n",  # another header
        "bcp_type,username\nmultiple,{none}\n",  # columns swapped
        "",  # nothing at all
        "\n\n",
    ],
)
def test_a_csv_without_its_header_is_400_and_changes_nothing(plan, text):
    before = bcp_types(plan, plan.primary_id)

    response = upload(plan, text.format(none=plan.usernames["none"]))

    assert response.status_code == 400, response.text
    assert error_code(response) == "malformed_csv"
    assert bcp_types(plan, plan.primary_id) == before


def test_a_csv_that_is_not_utf8_is_400_and_changes_nothing(plan):
    before = bcp_types(plan, plan.primary_id)
    body = f"username,bcp_type\n{plan.usernames['none']},single\nb\xe9atrice,none\n".encode("latin-1")

    response = upload(plan, body)

    assert response.status_code == 400, response.text
    assert error_code(response) == "malformed_csv"
    assert bcp_types(plan, plan.primary_id) == before


def test_a_csv_over_5_mb_is_413_and_changes_nothing(plan):
    before = bcp_types(plan, plan.primary_id)
    row = f"{plan.usernames['none']},single\n"
    body = ("username,bcp_type\n" + row * (5 * 1_048_576 // len(row) + 1)).encode()

    response = upload(plan, body)

    assert response.status_code == 413, response.text[:300]
    assert error_code(response) == "csv_too_large"
    assert bcp_types(plan, plan.primary_id) == before


def test_a_spreadsheet_export_with_a_bom_crlf_quotes_and_spaces_is_read(plan):
    u = plan.usernames
    body = (f'\ufeffUsername,BCP_Type\r\n"{u["none"]}", Multiple \r\n {u["multiple"]} ,none\r\n').encode()

    response = upload(plan, body)

    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 2
    types = bcp_types(plan, plan.primary_id)
    assert (types[u["none"]], types[u["multiple"]]) == ("multiple", "none")


def test_a_header_alone_changes_nothing(plan):
    before = bcp_types(plan, plan.primary_id)

    answer = upload(plan, "username,bcp_type\n").json()

    assert answer == {"applied": 0, "unchanged": 0, "errors": 0, "bad_rows": [], "bad_rows_truncated": False}
    assert bcp_types(plan, plan.primary_id) == before


def test_uploading_needs_admin_edit(plan):
    before = bcp_types(plan, plan.primary_id)
    agent = plan.headers("single")  # role: agent, acd.view

    response = upload(plan, f"username,bcp_type\n{plan.usernames['single']},multiple\n", headers=agent)

    assert response.status_code == 403
    assert error_code(response) == "permission_denied"
    assert bcp_types(plan, plan.primary_id) == before


def test_a_tenant_admin_uploads_for_its_own_tenant_only(plan, shared_api, shared_platform):
    other = build_plan(shared_api, shared_platform)
    admin = plan.headers("admin", plan.primary_id)

    mine = upload(plan, f"username,bcp_type\n{plan.usernames['none']},single\n", headers=admin)
    theirs = upload(
        plan, f"username,bcp_type\n{other.usernames['none']},single\n", headers=admin, tenant_id=other.primary_id
    )
    # Usernames are looked up in the tenant of the URL only.
    foreign = upload(plan, f"username,bcp_type\n{other.usernames['none']},single\n", headers=admin)

    assert mine.status_code == 200 and mine.json()["applied"] == 1
    assert theirs.status_code == 404
    assert [r["code"] for r in foreign.json()["bad_rows"]] == ["unknown_user"]
    assert bcp_types(other, other.primary_id)[other.usernames["none"]] == "none"


def test_every_access_change_is_in_the_audit_log_with_before_and_after(plan):
    user_id = plan.of("users", "none")

    upload(plan, f"username,bcp_type\n{plan.usernames['none']},single\n{plan.usernames['single']},single\n")

    audit = plan.ops.get(f"{API}/tenants/{plan.primary_id}/audit", limit=100)["items"]
    changes = [a for a in audit if a["action"] == "users.bcp_type"]
    assert [(a["entity_id"], a["before"], a["after"], a["actor"]) for a in changes] == [
        (user_id, {"bcp_type": "none"}, {"bcp_type": "single"}, "operator:ops")
    ]


def test_a_csv_of_many_bad_rows_answers_the_counts_and_the_first_thousand_with_their_lines(plan):
    """A 4.5 MB CSV of 350,000 bad rows: the answer stays small, the counts cover every row, and
    the good rows (first, in the middle, last) apply."""
    u = plan.usernames
    bad = [f"n{i},none" for i in range(350_000)]
    lines = [
        "username,bcp_type",
        f"{u['none']},single",
        *bad[:175_000],
        f"{u['single']},multiple",
        *bad[175_000:],
        f"{u['multiple']},none",
    ]
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) > 4_000_000

    response = upload(plan, body)

    assert response.status_code == 200, response.text[:300]
    assert len(response.content) < 200_000
    answer = response.json()
    assert (answer["applied"], answer["unchanged"], answer["errors"]) == (3, 0, 350_000)
    assert answer["bad_rows_truncated"] is True
    assert len(answer["bad_rows"]) == 1000
    assert [r["line"] for r in answer["bad_rows"][:3]] == [3, 4, 5]
    assert answer["bad_rows"][-1]["line"] == 1002
    assert {r["code"] for r in answer["bad_rows"]} == {"unknown_user"}
    types = bcp_types(plan, plan.primary_id)
    assert (types[u["none"]], types[u["single"]], types[u["multiple"]]) == ("single", "multiple", "none")
