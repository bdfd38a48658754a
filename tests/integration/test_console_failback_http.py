"""The console's Failback page (SPEC §11, §14) over HTTP, without a browser, on SQLite and
PostgreSQL: the report by type with each field's before and after, applying ticked changes
with a plain form post, one result per change, and the same permissions, CSRF refusal and
tenant isolation as the API."""

from __future__ import annotations

import re

import pytest

from tests.bcp_fixture import PASSWORD, SyncedPlan, build_plan
from tests.integration.test_console_http import console_login
from tests.integration.test_failback import NEW_WEEK, change_bcp_during_outage, primary_entity, report

PAGE = "/bcp/failback"


@pytest.fixture
def plan(api, platform) -> SyncedPlan:
    return build_plan(api, platform, bcp_only=False)


def ticked_values(html: str) -> set[str]:
    return set(re.findall(r'<input type="checkbox" name="item" value="([^"]+)"', html))


def results(html: str) -> dict[str, str]:
    """Item id -> the text of its result row (tags stripped)."""
    section = html.split('id="results-title"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>", 1)[1], re.S)
    found = {}
    for row in rows:
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        found[re.search(r"\(([a-z-]+:\d+)\)", text).group(1)] = text
    return found


def outage_in_console(api, plan: SyncedPlan) -> tuple[dict[str, str], str]:
    """Switch to BCP, change three things there, log the plan's administrator in to BCP."""
    assert plan.switch("bcp").status_code == 200
    bcp = change_bcp_during_outage(plan)
    ids = {
        "skill": f"skills:{bcp['skill']}",
        "hours": f"hours-of-operation:{bcp['hours']}",
        "disposition": f"dispositions:{bcp['resolved']}",
    }
    return ids, console_login(api, plan.usernames["admin"], plan.bcp_id)


def test_the_page_shows_the_report_by_type_with_before_and_after(api, plan):
    ids, _ = outage_in_console(api, plan)

    page = api.client.get(PAGE)

    assert page.status_code == 200, page.text
    assert 'href="/bcp/failback" aria-current="page">Failback</a>' in page.text
    assert ticked_values(page.text) == set(ids.values())
    for heading in ("Hours of operation", "Dispositions", "Skills"):
        assert f">{heading}</h3>" in page.text
    assert "Escalations" in page.text and "Created" in page.text and "Deactivated" in page.text
    # before -> after, field by field: the old week struck out, the new one inserted
    assert '<del><span class="visually-hidden">before: </span><code>[{&#34;day&#34;: &#34;mon&#34;' in page.text
    assert '<ins><span class="visually-hidden">after: </span><code>[{&#34;day&#34;: &#34;sat&#34;' in page.text
    assert f"id {plan.of('hours-of-operation', 'weekdays')}" in page.text  # the primary counterpart
    assert "Apply selected" in page.text and "<script>" not in page.text and "style=" not in page.text


def test_two_of_three_ticked_changes_are_applied_and_the_third_stays_reported(api, plan):
    ids, csrf = outage_in_console(api, plan)

    answer = api.client.post(PAGE, data={"csrf_token": csrf, "item": [ids["skill"], ids["hours"]]})

    assert answer.status_code == 200, answer.text
    assert 'role="status">2 applied, 0 failed.' in answer.text
    shown = results(answer.text)
    assert set(shown) == {ids["skill"], ids["hours"]}
    assert all("applied" in text for text in shown.values())
    assert ticked_values(answer.text) == {ids["disposition"]}  # still reported, not applied
    assert primary_entity(plan, "hours-of-operation", plan.of("hours-of-operation", "weekdays"))["weekly"] == NEW_WEEK
    assert primary_entity(plan, "dispositions", plan.of("dispositions", "resolved"))["is_active"] is True
    assert set(report(plan)) == {ids["disposition"]}


def test_a_change_that_cannot_be_copied_shows_its_error_next_to_the_others(api, plan):
    ids, csrf = outage_in_console(api, plan)
    callback = plan.make("dispositions", "callback", {"name": "Callback"}, tenant_id=plan.bcp_id)
    skill = plan.make(
        "skills",
        "callbacks",
        {"name": "Callbacks", "media_type": "voice", "disposition_ids": [callback]},
        tenant_id=plan.bcp_id,
    )

    answer = api.client.post(PAGE, data={"csrf_token": csrf, "item": [f"skills:{skill}", ids["hours"]]})

    assert answer.status_code == 200
    assert 'role="status">1 applied, 1 failed.' in answer.text
    failed = results(answer.text)[f"skills:{skill}"]
    assert "failed" in failed and "no_primary_counterpart" in failed and "no primary counterpart" in failed
    assert f"disposition_ids: Dispositions BCP id {callback}" in failed
    assert "applied" in results(answer.text)[ids["hours"]]
    assert f'value="skills:{skill}"' in answer.text  # still offered


def test_nothing_ticked_says_so_and_changes_nothing(api, plan):
    ids, csrf = outage_in_console(api, plan)
    answer = api.client.post(PAGE, data={"csrf_token": csrf})
    assert answer.status_code == 422 and 'role="alert"' in answer.text and "Tick at least one" in answer.text
    assert set(report(plan)) == set(ids.values())


def test_a_post_without_the_csrf_token_is_refused_and_applies_nothing(api, plan):
    ids, _ = outage_in_console(api, plan)
    for form in ({"item": [ids["hours"]]}, {"item": [ids["hours"]], "csrf_token": "forged"}):
        answer = api.client.post(PAGE, data=form)
        assert answer.status_code == 403 and "Not allowed" in answer.text
    assert set(report(plan)) == set(ids.values())


def test_the_page_says_when_nothing_changed_since_the_switch(api, plan):
    assert plan.switch("bcp").status_code == 200
    console_login(api, plan.usernames["admin"], plan.bcp_id)
    page = api.client.get(PAGE)
    assert page.status_code == 200
    assert "Nothing changed in the BCP tenant since the last switch to it." in page.text
    assert "Apply selected" not in page.text


def test_without_the_apis_permission_the_page_and_the_post_answer_403(api, plan):
    ids, _ = outage_in_console(api, plan)
    csrf = console_login(api, plan.usernames["single"])  # an agent, logged in to BCP (active)
    assert "/bcp/failback" not in api.client.get("/").text  # no link
    page = api.client.get(PAGE)
    assert page.status_code == 403 and "Not allowed" in page.text
    answer = api.client.post(PAGE, data={"csrf_token": csrf, "item": [ids["hours"]]})
    assert answer.status_code == 403
    assert set(report(plan)) == set(ids.values())


def test_another_tenants_administrator_neither_sees_nor_applies_the_plans_changes(api, plan, platform):
    other = build_plan(api, platform, bcp_only=False)
    ids, _ = outage_in_console(api, plan)
    csrf = console_login(api, other.usernames["admin"], other.primary_id)

    page = api.client.get(PAGE)
    assert page.status_code == 200 and ticked_values(page.text) == set()
    assert "Escalations" not in page.text
    answer = api.client.post(PAGE, data={"csrf_token": csrf, "item": list(ids.values())})

    assert answer.status_code == 200
    assert 'role="status">0 applied, 3 failed.' in answer.text
    assert all("failback_item_not_found" in text for text in results(answer.text).values())
    week = primary_entity(plan, "hours-of-operation", plan.of("hours-of-operation", "weekdays"))["weekly"]
    assert week != NEW_WEEK and set(report(plan)) == set(ids.values())


def test_reading_without_bcp_sync_edit_shows_the_report_without_a_form_and_the_post_answers_403(api, plan):
    ids, _ = outage_in_console(api, plan)
    role = plan.make("roles", "viewer", {"name": "Failback reader", "permissions": ["bcp.sync.view"]}, plan.bcp_id)
    username = f"reader{plan.bcp_id}"
    user = {"username": username, "email": f"{username}@example.com", "first_name": "Re", "last_name": "Ader"}
    extra = {"role_id": role, "bcp_type": "single", "password": PASSWORD}
    plan.make("users", "reader", {**user, **extra}, tenant_id=plan.bcp_id)
    csrf = console_login(api, username)

    page = api.client.get(PAGE)

    assert page.status_code == 200 and "Escalations" in page.text
    assert ticked_values(page.text) == set() and "Apply selected" not in page.text
    assert "Applying needs the permission bcp.sync.edit." in page.text
    answer = api.client.post(PAGE, data={"csrf_token": csrf, "item": [ids["hours"]]})
    assert answer.status_code == 403 and "Not allowed" in answer.text
    assert ids["hours"] in report(plan)


def test_references_in_the_diff_are_shown_by_name(api, plan):
    _, _ = outage_in_console(api, plan)
    callback = plan.make("dispositions", "callback", {"name": "Callback"}, tenant_id=plan.bcp_id)
    plan.make(
        "skills",
        "callbacks",
        {"name": "Callbacks", "media_type": "voice", "disposition_ids": [callback]},
        tenant_id=plan.bcp_id,
    )

    page = api.client.get(PAGE)

    diff = re.search(r'aria-label="Fields of Callbacks">(.*?)</ul>', page.text, re.S).group(1)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", diff))
    assert "disposition_ids : after: Callback" in text
    assert str(callback) not in text
