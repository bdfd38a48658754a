"""The Sync and Script checklist pages in a real chromium (SPEC §4, §11): Sync now watched to
its end, the run's details, Preview changes after an edit in the primary, a refused setting,
the checklist's filter and paging, keyboard only, and axe-core on each page."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console import axe_violations, log_in

PRIMARY = "Acme Contact Center"
RUN_URL = re.compile(r".*/bcp/sync/runs/(\d+)$")


def run_id_of(page) -> int:
    match = RUN_URL.match(page.url)
    assert match, page.url
    return int(match.group(1))


def run_of(console_server: ConsoleServer, run_id: int) -> dict:
    with console_server.server.login("operator", PASSWORD) as ops:
        return ops.get(f"/api/v1/tenants/{console_server.primary_id}/bcp/sync-runs/{run_id}").raise_for_status().json()


def test_sync_now_shows_the_run_until_it_succeeds_then_its_details(new_page, console_server):
    page = new_page()
    log_in(page, "bcpadmin", tenant=PRIMARY)
    page.get_by_role("link", name="Sync", exact=True).click()
    page.get_by_role("button", name="Sync now").click()
    page.wait_for_url(RUN_URL)
    run_id = run_id_of(page)
    heading = page.get_by_role("heading", name=f"Sync run {run_id}")
    expect(heading).to_be_visible()
    # queued, then running, then the page reloads itself once the worker is done
    expect(page.locator(".run-status")).to_have_text(re.compile("succeeded", re.I), timeout=60_000)
    assert run_of(console_server, run_id)["status"] == "succeeded"
    main = page.get_by_role("main")
    for section in (
        "Summary",
        re.compile(r"^Drift \(\d+\)$"),
        re.compile(r"^Warnings \(\d+\)$"),
        re.compile(r"^Errors \(\d+\)$"),
    ):
        expect(main.get_by_role("heading", name=section)).to_be_visible()
    assert "requested by bcpadmin" in main.inner_text()
    assert main.locator("time").first.get_attribute("title").endswith(" UTC")

    page.get_by_role("link", name="← Sync").click()
    row = page.get_by_role("row", name=re.compile(rf"^Run {run_id}\b"))
    expect(row).to_contain_text(re.compile("manual", re.I))
    expect(row).to_contain_text(re.compile("succeeded", re.I))
    row.get_by_role("link", name=f"Run {run_id}").click()
    page.wait_for_url(f"**/bcp/sync/runs/{run_id}")


def test_the_progress_of_an_open_run_updates_without_reloading_by_hand(new_page, console_server):
    """The fragment htmx polls: while the run is open it polls on, once ended it reloads the page."""
    page = new_page()
    log_in(page, "bcpadmin", tenant=PRIMARY)
    page.goto("/bcp/sync")
    page.get_by_role("button", name="Sync now").click()
    page.wait_for_url(RUN_URL)
    run_id = run_id_of(page)
    expect(page.locator(".run-status")).to_have_text(re.compile("succeeded", re.I), timeout=60_000)
    fragment = page.request.get(f"/bcp/sync/runs/{run_id}/progress", headers={"HX-Request": "true"})
    assert fragment.status == 200 and fragment.headers.get("hx-refresh") == "true"


def test_preview_changes_lists_an_entity_created_in_the_primary(new_page, console_server):
    name = f"Console preview {uuid.uuid4().hex[:8]}"
    with console_server.server.login("admin", PASSWORD, console_server.primary_id) as admin:
        admin.post(
            f"/api/v1/tenants/{console_server.primary_id}/dispositions",
            json={"name": name, "classification": "neutral"},
        ).raise_for_status()
    page = new_page()
    log_in(page, "bcpadmin", tenant=PRIMARY)
    page.goto("/bcp/sync")
    page.get_by_role("button", name="Preview changes").click()
    preview = page.locator("#preview")
    expect(preview.get_by_role("row", name=re.compile(re.escape(name)))).to_be_visible()
    row = preview.get_by_role("row", name=re.compile(re.escape(name)))
    expect(row).to_contain_text("create")
    expect(preview.get_by_role("row", name=re.compile(r"^Dispositions 1 "))).to_be_visible()  # per type: 1 to create
    assert page.url.removeprefix(console_server.url) == "/bcp/sync"  # in place, with htmx

    page.goto("/bcp/sync/preview")  # the same plan as a page of its own (no JavaScript needed)
    expect(page.get_by_role("heading", name="Preview changes")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(re.escape(name)))).to_be_visible()


def test_an_invalid_setting_shows_the_error_next_to_the_field_and_changes_nothing(new_page, console_server):
    before = console_server.plan()["sync_settings"]
    page = new_page()
    log_in(page, "bcpadmin", tenant=PRIMARY)
    page.goto("/bcp/sync")
    page.get_by_role("radio", name="Every N minutes").check()
    page.get_by_label("Minutes between runs").fill("2")
    page.get_by_role("radio", name="Keep").check()
    with page.expect_navigation() as answer:
        page.get_by_role("button", name="Save").click()
    assert answer.value.status == 422
    expect(page.get_by_role("alert").first).to_contain_text("at least 5")
    minutes = page.get_by_label("Minutes between runs")
    assert minutes.get_attribute("aria-invalid") == "true"
    assert minutes.input_value() == "2"  # what was typed stays, to be corrected
    assert "at least 5" in page.locator("#error-every_minutes").inner_text()
    assert console_server.plan()["sync_settings"] == before


def test_a_reader_without_sync_edit_sees_the_settings_read_only(new_page):
    page = new_page()
    log_in(page, "supervisor1", tenant=PRIMARY)
    page.goto("/bcp/sync")
    expect(page.get_by_role("checkbox", name="Enable sync")).to_be_disabled()
    assert page.get_by_role("button", name="Save").count() == 0
    assert page.get_by_role("button", name="Sync now").count() == 0
    expect(page.get_by_role("button", name="Preview changes")).to_be_visible()
    answer = page.request.post(
        "/bcp/sync/runs", form={"csrf_token": page.locator("input[name=csrf_token]").first.get_attribute("value")}
    )
    assert answer.status == 403


def test_the_checklist_filters_to_what_needs_a_look_and_paging_keeps_the_filter(new_page):
    page = new_page()
    log_in(page, "bcpadmin", tenant=PRIMARY)
    page.get_by_role("link", name="Script checklist").click()
    every = page.locator("table.checklist tbody tr").count()
    assert every > 0

    page.get_by_role("radio", name="Needs a look").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/bcp/checklist?show=look*")
    statuses = page.locator("table.checklist tbody tr td:last-child .status").all_text_contents()
    assert statuses and set(statuses) <= {"possible_id", "unresolved", "unreadable", "kept"}
    assert len(statuses) < every or page.get_by_role("navigation", name="Checklist pages").count() == 1

    page.get_by_role("radio", name="Every reference").check()
    page.get_by_label("Script path contains").fill("Inbound/")
    page.get_by_role("button", name="Filter").click()
    pages = page.get_by_role("navigation", name="Checklist pages")
    pages.get_by_role("link", name="Next →").click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert "script=Inbound%2F" in page.url
    assert page.get_by_label("Script path contains").input_value() == "Inbound/"
    scripts = page.locator("table.checklist tbody tr td:first-child").all_text_contents()
    assert scripts and all("Inbound/" in s for s in scripts)


def test_sync_now_from_the_keyboard_alone(new_page, console_server):
    page = new_page()
    page.goto("/login")
    page.get_by_label("Username").focus()
    page.keyboard.type("bcpadmin")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Continue").wait_for()
    page.keyboard.press("Tab")  # the active tenant is chosen already
    focus_on(page, "Continue")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    focus_on(page, "Sync")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bcp/sync")
    focus_on(page, "Sync now")
    page.keyboard.press("Enter")
    page.wait_for_url(RUN_URL)
    expect(page.locator(".run-status")).to_have_text(re.compile("succeeded", re.I), timeout=60_000)
    focus_on(page, "← Sync")
    page.keyboard.press("Enter")
    page.wait_for_url("**/bcp/sync")
    focus_on(page, "Preview changes")
    page.keyboard.press("Enter")
    expect(page.locator("#preview [role=status]")).to_be_visible()


def focus_on(page, name: str, most: int = 80) -> None:
    """Press Tab until the element named ``name`` has the focus (fails after ``most`` presses)."""
    for _ in range(most):
        focused = page.evaluate(
            "() => { const e = document.activeElement; return e ? (e.innerText || e.value || '').trim() : ''; }"
        )
        if focused == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{name!r} never took the focus by Tab")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_the_sync_pages(new_page, console_server, theme):
    page = new_page()
    page.emulate_media(color_scheme=theme)
    log_in(page, "bcpadmin", tenant=PRIMARY)
    problems = {}
    page.goto("/bcp/sync")
    page.get_by_role("button", name="Preview changes").click()
    page.locator("#preview [role=status]").wait_for()
    problems["/bcp/sync (preview shown)"] = axe_violations(page)
    page.get_by_role("radio", name="Every N minutes").check()
    page.get_by_label("Minutes between runs").fill("1")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("alert").first.wait_for()
    problems["/bcp/sync (invalid setting)"] = axe_violations(page)
    page.goto("/bcp/sync")
    run = page.get_by_role("row").nth(1).get_by_role("link").first
    run.click()
    page.wait_for_url(RUN_URL)
    problems["/bcp/sync/runs/<id>"] = axe_violations(page)
    for path in ("/bcp/sync/preview", "/bcp/checklist", "/bcp/checklist?show=look"):
        page.goto(path)
        problems[path] = axe_violations(page)
    page = new_page()
    page.emulate_media(color_scheme=theme)
    log_in(page, "supervisor1", tenant=PRIMARY)
    page.goto("/bcp/sync")
    problems["/bcp/sync (read only)"] = axe_violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
