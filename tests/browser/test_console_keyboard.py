"""Every console flow from the keyboard alone (SPEC §11: "every action works from the
keyboard"): Tab and Shift+Tab to move, Enter and Space to act, arrow keys in radio groups and
selects. No mouse click and no element.click() anywhere; the file chooser is opened by Space
on the file field, and only the file is handed to it.

One test, one administrator (the demo's ``admin``, a ``multiple`` user), in this order: login
with the tenant choice, BCP access (inline change, CSV upload), Configuration (create with a
validation error first, edit, deactivate, delete through the confirmation), Sync now to its
end and the run's page, Preview changes, Switch to BCP and Revert to primary, Alerts add (and
a test event) and remove. What it changes is put back."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, ConsoleServer
from tests.browser.test_console_access import api_user, other_type, restored
from tests.browser.test_console_alerts import targets
from tests.browser.test_console_config import NAME, RENAMED, _remove_through_the_api, dispositions

PRIMARY = "Acme Contact Center"
BCP = "Acme Contact Center BCP"
TARGET = "keyboard-oncall@example.com"
RUN_URL = re.compile(r".*/bcp/sync/runs/(\d+)$")
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return '';
  const label = e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].innerText : '');
  const named = ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName) ? label : (e.innerText || label);
  return named.replace(/\\s+/g, ' ').trim();
}"""


def focused(page) -> str:
    return page.evaluate(FOCUSED)


def tab_to(page, name: str | re.Pattern[str], *, back: bool = False, most: int = 150) -> None:
    """Press Tab (Shift+Tab with ``back``) until the element named ``name`` has the focus; a
    control never reached fails the test (unreachable, or behind a keyboard trap)."""
    seen = []
    for _ in range(most):
        now = focused(page)
        if name.fullmatch(now) if isinstance(name, re.Pattern) else now == name:
            return
        seen.append(now)
        page.keyboard.press("Shift+Tab" if back else "Tab")
    raise AssertionError(f"{name!r} never took the focus; the focus went through {seen[-20:]}")


def choose_file(page, field: str, path) -> None:
    """Open the file chooser of ``field`` with Space and hand it ``path``. On a loaded machine a
    late swap elsewhere on the page can take the focus between reaching the field and pressing
    Space; then nothing opens, and the field is reached again (three tries, each one checked)."""
    for _ in range(3):
        tab_to(page, field, back=True)
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeout:
            continue
        chooser.value.set_files(path)
        return
    raise AssertionError(f"Space on {field!r} never opened the file chooser; the focus is on {focused(page)!r}")


def go(page, link: str, url: str) -> None:
    tab_to(page, link)
    page.keyboard.press("Enter")
    page.wait_for_url(url)


def log_in(page, tenant: str) -> None:
    page.goto("/login")
    tab_to(page, "Username")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Continue").wait_for()
    tab_to(page, re.compile(re.escape(PRIMARY) + r" \(.*|" + re.escape(BCP) + r" \(.*"))  # the checked radio
    for key in ("ArrowDown", "ArrowUp", "ArrowDown"):  # arrows move the choice within the group
        page.keyboard.press(key)
        if focused(page).startswith(tenant + " ("):
            break
    assert page.get_by_role("radio", name=re.compile(re.escape(tenant) + r" \(")).is_checked()
    tab_to(page, "Continue")
    page.keyboard.press("Enter")
    page.wait_for_url("**/")


def test_every_flow_from_the_keyboard_alone(new_page, console_server: ConsoleServer, tmp_path):
    page = new_page()
    log_in(page, PRIMARY)
    assert "Primary tenant" in page.get_by_role("banner").inner_text()
    bcp_access(page, console_server, tmp_path)
    configuration(page, console_server)
    sync_and_preview(page)
    switch_and_revert(page, console_server)
    alerts_add_and_remove(page, console_server)


def bcp_access(page, console: ConsoleServer, tmp_path) -> None:
    go(page, "BCP access", "**/bcp/access")
    with restored(console, "agent12", "agent13"):
        tab_to(page, "Search usernames")
        page.keyboard.type("agent12")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"q=agent12"))
        was = api_user(console, "agent12")["bcp_type"]
        tab_to(page, "BCP type for agent12")
        page.keyboard.press("ArrowDown" if was != "multiple" else "ArrowUp")
        page.get_by_role("row", name=re.compile("agent12")).get_by_text("Saved").wait_for()
        assert api_user(console, "agent12")["bcp_type"] != was
        assert focused(page) == "BCP type for agent12"  # the saved row keeps the focus

        target = other_type(api_user(console, "agent13")["bcp_type"])
        csv = tmp_path / "keyboard.csv"
        csv.write_text(f"username,bcp_type\nagent13,{target}\nnobody-by-that-name,single\n")
        choose_file(page, "CSV file", csv)
        tab_to(page, "Upload")
        page.keyboard.press("Enter")
        result = page.get_by_role("region", name=re.compile("^Upload result"))
        expect(result.get_by_role("status")).to_contain_text(re.compile(r"1\s+changed"))
        assert (
            result.get_by_role("row", name=re.compile("nobody-by-that-name")).get_by_role("cell").first.inner_text()
            == "3"
        )
        assert api_user(console, "agent13")["bcp_type"] == target


def configuration(page, console: ConsoleServer) -> None:
    go(page, "Configuration", "**/config")
    go(page, "Dispositions", "**/config/dispositions")
    try:
        go(page, "New disposition", "**/config/dispositions/new")
        tab_to(page, "Save")
        page.keyboard.press("Enter")  # no name: the API's check, shown by the field
        page.get_by_text("Name must be 1 to 200 characters").wait_for()
        assert NAME not in dispositions(console)
        tab_to(page, re.compile(r"Name( \(required\))?"), back=True)
        page.keyboard.type(NAME)
        tab_to(page, re.compile(r"Classification( \(required\))?"))
        page.keyboard.type("positive")
        tab_to(page, "Save")
        page.keyboard.press("Enter")
        page.wait_for_url("**/config/dispositions/*?done=saved")

        go(page, f"Edit {NAME}", "**/config/dispositions/*/edit")
        tab_to(page, re.compile(r"Name( \(required\))?"))
        page.keyboard.press("Control+A")
        page.keyboard.type(RENAMED)
        tab_to(page, "Save")
        page.keyboard.press("Enter")
        page.wait_for_url("**/config/dispositions/*?done=saved")
        assert RENAMED in dispositions(console)

        tab_to(page, f"Deactivate {RENAMED}")
        page.keyboard.press("Enter")  # opens the confirmation
        tab_to(page, f"Yes, deactivate {RENAMED}")
        page.keyboard.press("Enter")
        page.wait_for_url("**/config/dispositions/*?done=deactivated")

        tab_to(page, f"Delete {RENAMED}")
        page.keyboard.press("Space")  # a summary opens with Space as with Enter
        tab_to(page, f"Yes, delete {RENAMED}")
        page.keyboard.press("Enter")
        page.wait_for_url("**/config/dispositions?deleted=*")
        assert RENAMED not in dispositions(console)
    finally:
        _remove_through_the_api(console)


def sync_and_preview(page) -> None:
    go(page, "Sync", "**/bcp/sync")
    tab_to(page, "Sync now")
    page.keyboard.press("Enter")
    page.wait_for_url(RUN_URL)
    run_id = int(RUN_URL.match(page.url).group(1))
    expect(page.locator(".run-status")).to_have_text(re.compile("succeeded", re.I), timeout=60_000)
    go(page, "← Sync", "**/bcp/sync")
    go(page, f"Run {run_id}", f"**/bcp/sync/runs/{run_id}")  # the run opens from the history too
    expect(page.get_by_role("heading", name=f"Sync run {run_id}")).to_be_visible()
    go(page, "← Sync", "**/bcp/sync")
    tab_to(page, "Preview changes")
    page.keyboard.press("Enter")
    expect(page.locator("#preview [role=status]")).to_be_visible()


def switch_and_revert(page, console: ConsoleServer) -> None:
    epoch = console.plan()["epoch"]
    for tenant, button, side in ((PRIMARY, "Switch to BCP", "bcp"), (BCP, "Revert to primary", "primary")):
        if side == "primary":
            log_in(page, tenant)  # the switch ended every session, this one too
        go(page, "Switchover", "**/bcp/switchover")
        tab_to(page, "Passkey")
        page.keyboard.type(console.passkey)
        tab_to(page, button)
        page.keyboard.press("Space")
        page.wait_for_url("**/login?**")
        assert console.plan()["active_side"] == side
    assert console.plan()["epoch"] == epoch + 2


def alerts_add_and_remove(page, console: ConsoleServer) -> None:
    log_in(page, PRIMARY)
    go(page, "Alerts", "**/alerts")
    try:
        tab_to(page, "webhook")  # the kind radios: the checked one takes the focus
        page.keyboard.press("ArrowDown")
        assert page.get_by_role("radio", name="email").is_checked()
        tab_to(page, "Target")
        page.keyboard.type(TARGET)
        tab_to(page, "Add subscription")
        tab_to(page, "region_up", back=True)
        page.keyboard.press("Space")
        assert not page.get_by_role("checkbox", name="region_up").is_checked()
        tab_to(page, "Add subscription")
        page.keyboard.press("Enter")
        page.get_by_role("status").filter(has_text="added").wait_for()
        row = page.get_by_role("row", name=re.compile(re.escape(TARGET)))
        assert "region_up" not in row.inner_text() and "sync_failed" in row.inner_text()

        tab_to(page, f"Send test event to {TARGET}", back=True)
        page.keyboard.press("Enter")
        page.get_by_role("status").filter(has_text="Test event queued").wait_for()
        tab_to(page, f"Remove {TARGET}")
        page.keyboard.press("Enter")  # opens the confirmation
        tab_to(page, f"Yes, remove {TARGET}")
        page.keyboard.press("Enter")
        page.wait_for_url("**/alerts?removed=*")
        assert TARGET not in targets(console)
    finally:
        if TARGET in targets(console):
            remove_through_the_api(console)


def remove_through_the_api(console: ConsoleServer) -> None:
    with console.server.login("operator", PASSWORD) as ops:
        url = f"/api/v1/tenants/{console.primary_id}/alert-subscriptions"
        for sub in ops.get(url).raise_for_status().json()["items"]:
            if sub["target"] == TARGET:
                ops.delete(f"{url}/{sub['id']}").raise_for_status()
