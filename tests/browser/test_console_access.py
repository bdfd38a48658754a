"""BCP access and the audit log in a real chromium (SPEC §11): the inline BCP type change (by
mouse and by keyboard alone) persists, the CSV upload reports a bad line by its number, search
and paging keep the filters (and the back button works), the audit filters, and axe-core.

The demo's ``admin`` (every permission) makes the changes: its BCP administrator may not
change users holding a permission it lacks, agents included. Every change is put back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import axe_violations, log_in

TENANT = "Acme Contact Center"
USERS_URL = "/api/v1/tenants/{t}/users"


def api_user(console: ConsoleServer, username: str) -> dict:
    with console.server.login("operator", PASSWORD) as ops:
        users = ops.get(USERS_URL.format(t=console.primary_id), params={"limit": 1000}).raise_for_status().json()
    return next(u for u in users["items"] if u["username"] == username)


@contextmanager
def restored(console: ConsoleServer, *usernames: str) -> Iterator[None]:
    """Put these users' BCP types back as they were (the other browser tests rely on them)."""
    before = {name: api_user(console, name)["bcp_type"] for name in usernames}
    try:
        yield
    finally:
        rows = "".join(f"{name},{value}\n" for name, value in before.items())
        with console.server.login("operator", PASSWORD) as ops:
            ops.post(
                f"/api/v1/tenants/{console.primary_id}/users/bcp-types",
                headers={"Content-Type": "text/csv"},
                content="username,bcp_type\n" + rows,
            ).raise_for_status()


def other_type(value: str) -> str:
    return "multiple" if value != "multiple" else "single"


def count_of(page, kind: str) -> int:
    text = page.locator("#bcp-counts").inner_text()
    return int(re.search(rf"(\d+)\s+{kind}", text).group(1))


def test_an_inline_change_saves_at_once_and_persists(new_page, console_server):
    page = new_page()
    log_in(page, "admin", tenant=TENANT)
    page.get_by_role("link", name="BCP access").click()
    with restored(console_server, "agent5"):
        select = page.get_by_label("BCP type for agent5", exact=True)
        was, multiple_before = select.input_value(), count_of(page, "multiple")
        select.select_option(other_type(was))
        page.get_by_role("row", name=re.compile("agent5")).get_by_text("Saved").wait_for()
        assert api_user(console_server, "agent5")["bcp_type"] == other_type(was)
        assert count_of(page, "multiple") == multiple_before + (1 if other_type(was) == "multiple" else 0)
        page.reload()
        assert page.get_by_label("BCP type for agent5", exact=True).input_value() == other_type(was)


def test_an_inline_change_from_the_keyboard_alone(new_page, console_server):
    page = new_page()
    log_in(page, "admin", tenant=TENANT)
    page.goto("/bcp/access?q=agent6")
    with restored(console_server, "agent6"):
        was = page.get_by_label("BCP type for agent6", exact=True).input_value()
        page.get_by_label("Search usernames").focus()
        for _ in range(12):  # Tab along until the row's select has the focus
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('aria-label')") == "BCP type for agent6":
                break
        else:
            pytest.fail("the BCP type select is not reachable with Tab")
        page.keyboard.press("ArrowDown" if was != "multiple" else "ArrowUp")
        page.get_by_text("Saved").wait_for()
        assert api_user(console_server, "agent6")["bcp_type"] != was
        focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert focused == "BCP type for agent6"  # the saved row keeps the focus


def test_a_csv_upload_applies_the_good_lines_and_reports_a_bad_one_by_its_line(new_page, console_server, tmp_path):
    page = new_page()
    log_in(page, "admin", tenant=TENANT)
    page.goto("/bcp/access")
    with restored(console_server, "agent7"):
        target = other_type(api_user(console_server, "agent7")["bcp_type"])
        csv = tmp_path / "bcp-types.csv"
        csv.write_text(f"username,bcp_type\nagent7,{target}\nno-such-person,single\n")
        page.get_by_label("CSV file").set_input_files(csv)
        page.get_by_role("button", name="Upload").click()
        result = page.get_by_role("region", name=re.compile("^Upload result"))
        assert "1 changed" in re.sub(r"\s+", " ", result.get_by_role("status").inner_text())
        bad = result.get_by_role("row", name=re.compile("no-such-person"))
        assert bad.get_by_role("cell").first.inner_text() == "3"
        assert "no user" in bad.inner_text()
        assert api_user(console_server, "agent7")["bcp_type"] == target


def test_search_and_paging_keep_the_filters_and_the_back_button_works(new_page):
    page = new_page()
    log_in(page, "admin", tenant=TENANT)
    page.goto("/bcp/access")
    page.get_by_label("Search usernames").fill("agent")
    page.get_by_label("Rows").select_option("10")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=agent"))
    first = page.locator("select[aria-label^='BCP type for']").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert len(first) == 10 and all("agent" in name for name in first)
    pages = page.get_by_role("navigation", name="Pages")
    pages.get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "q=agent" in page.url and "per=10" in page.url
    assert page.get_by_label("Search usernames").input_value() == "agent"
    second = page.locator("select[aria-label^='BCP type for']").evaluate_all(
        "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert second and not set(second) & set(first) and all("agent" in name for name in second)
    page.go_back()
    page.wait_for_url(lambda url: "q=agent" in url and "page=2" not in url)
    assert page.locator("select[aria-label^='BCP type for']").first.get_attribute("aria-label") == first[0]
    page.goto("/bcp/access?q=nobody-by-that-name")
    assert "No employee matches" in page.get_by_role("main").inner_text()


def test_the_audit_log_filters_and_shows_local_times_with_utc_on_hover(new_page):
    page = new_page(timezone_id="Asia/Tokyo")
    log_in(page, "admin", tenant=TENANT)
    page.get_by_role("link", name="Audit log").click()
    assert page.get_by_role("table").is_visible()
    page.get_by_label("Action").fill("bcp.sync_succeeded")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"action=bcp.sync_succeeded"))
    actions = page.get_by_role("table").locator("tbody tr td:nth-child(3)").all_inner_texts()
    assert actions and set(actions) == {"bcp.sync_succeeded"}
    moment = page.get_by_role("table").locator("time").first
    assert moment.get_attribute("title").endswith(" UTC") and "GMT+9" in moment.inner_text()
    page.get_by_label("Actor").fill("nobody-at-all")
    page.get_by_role("button", name="Filter").click()
    assert "No record matches" in page.get_by_role("main").inner_text()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_bcp_access_and_the_audit_log(new_page, console_server, theme):
    page = new_page()
    page.emulate_media(color_scheme=theme)
    log_in(page, "admin", tenant=TENANT)
    problems = {}
    for path in (
        "/bcp/access",
        "/bcp/access?q=agent&per=10&page=2",
        "/bcp/access?q=nobody",
        "/audit",
        "/audit?since=not-a-date",
        "/audit?actor=nobody",
    ):
        page.goto(path)
        problems[path] = axe_violations(page)
    with restored(console_server, "agent8"):
        page.goto("/bcp/access?q=agent8")
        select = page.get_by_label("BCP type for agent8", exact=True)
        select.select_option(other_type(select.input_value()))
        page.get_by_text("Saved").wait_for()
        problems["/bcp/access (saved)"] = axe_violations(page)
        page.get_by_label("CSV file").set_input_files(
            files=[{"name": "t.csv", "mimeType": "text/csv", "buffer": b"username,bcp_type\nghost,single\n"}]
        )
        page.get_by_role("button", name="Upload").click()
        page.get_by_role("region", name=re.compile("^Upload result")).wait_for()
        problems["/bcp/access (upload result)"] = axe_violations(page)
    log_in(page, "bcpadmin", tenant=TENANT)
    page.goto("/bcp/access?q=agent9")
    select = page.get_by_label("BCP type for agent9", exact=True)
    select.select_option(other_type(select.input_value()))
    page.get_by_role("alert").wait_for()  # agents hold a permission a BCP administrator lacks
    problems["/bcp/access (refused)"] = axe_violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
