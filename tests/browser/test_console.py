"""The web console in a real chromium (SPEC §11): logins, navigation by permission, CSRF,
the switch and its revert, accessibility (axe-core), and nothing loaded from elsewhere.

Accessible names are the spec's contract: these tests find everything by role and label."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from lifeboat.store.database import build_engine
from lifeboat.store.tables import switch_attempts
from tests.browser.conftest import NONE_USER, PASSWORD, ConsoleServer

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
BCP_LINKS = (
    "Sync",
    "Script checklist",
    "BCP access",
    "Switchover",
    "Drills",
    "Failback",
    "Configuration",
    "Audit log",
    "Alerts",
)
BCP_PAGES = (
    "/bcp/sync",
    "/bcp/checklist",
    "/bcp/access",
    "/bcp/switchover",
    "/bcp/drills",
    "/bcp/failback",
    "/config",
    "/audit",
    "/alerts",
)


def log_in(page, username: str, *, password: str = PASSWORD, tenant: str | None = None) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if tenant is not None:
        page.get_by_role("radio", name=re.compile(re.escape(tenant) + r" \(")).check()
        page.get_by_role("button", name="Continue").click()


def nav_links(page) -> list[str]:
    return page.get_by_role("navigation", name="Main").get_by_role("link").all_inner_texts()


def test_a_single_user_goes_straight_to_the_active_tenant(new_page):
    page = new_page()
    log_in(page, "agent1")
    page.wait_for_url("**/")
    header = page.get_by_role("banner")
    assert "Acme Contact Center" in header.inner_text()
    assert "Primary tenant" in header.inner_text() and "active" in header.inner_text()
    assert page.get_by_role("button", name="Log out").is_visible()


def test_a_multiple_user_chooses_a_tenant_and_the_active_one_is_marked(new_page):
    page = new_page()
    log_in(page, "bcpadmin")
    radios = page.get_by_role("radio")
    assert radios.count() == 2
    primary = page.get_by_role("radio", name="Acme Contact Center (primary, active)")
    bcp = page.get_by_role("radio", name="Acme Contact Center BCP (BCP)")
    assert primary.is_checked() and not bcp.is_checked()
    bcp.check()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/")
    assert "BCP tenant" in page.get_by_role("banner").inner_text()
    assert "not active" in page.get_by_role("banner").inner_text()


def test_a_wrong_password_is_told_in_an_alert(new_page):
    page = new_page()
    log_in(page, "bcpadmin", password="not-the-password")
    assert "wrong password" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Username").input_value() == "bcpadmin"


def test_an_agent_sees_no_bcp_links_and_gets_403_on_their_pages(new_page):
    page = new_page()
    log_in(page, "agent1")
    page.wait_for_url("**/")
    assert nav_links(page) == ["Overview"]
    for path in BCP_PAGES:
        response = page.goto(path)
        assert response.status == 403, path
        assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_an_administrator_sees_every_link(new_page):
    page = new_page()
    log_in(page, "bcpadmin", tenant="Acme Contact Center")
    assert nav_links(page) == ["Overview", *BCP_LINKS]


def test_the_overview_shows_the_plan_readiness_and_local_times(new_page, console_server):
    page = new_page(timezone_id="Asia/Tokyo")
    log_in(page, "bcpadmin", tenant="Acme Contact Center")
    main = page.get_by_role("main")
    assert main.get_by_role("heading", name="Active side").is_visible()
    assert "Epoch" in main.inner_text() and "na1" in main.inner_text() and "eu1" in main.inner_text()
    assert main.get_by_role("heading", name=re.compile("^Readiness")).is_visible()
    assert main.get_by_role("row", name=re.compile("Last successful sync")).is_visible()
    moment = main.locator("time").first
    assert moment.get_attribute("title").endswith(" UTC")
    assert "GMT+9" in moment.inner_text()  # rendered in the viewer's zone by console.js


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(new_page, console_server: ConsoleServer):
    page = new_page()
    log_in(page, "bcpadmin", tenant="Acme Contact Center")
    before = console_server.plan()
    answer = page.request.post("/bcp/switchover", form={"to": "bcp", "passkey": console_server.passkey})
    assert answer.status == 403
    assert console_server.plan()["epoch"] == before["epoch"]
    assert console_server.plan()["active_side"] == "primary"
    answer = page.request.post(
        "/bcp/switchover", form={"to": "bcp", "passkey": console_server.passkey, "csrf_token": "forged"}
    )
    assert answer.status == 403
    assert console_server.plan()["epoch"] == before["epoch"]


def test_a_wrong_passkey_is_told_in_an_alert_and_changes_nothing(new_page, console_server: ConsoleServer):
    page = new_page()
    log_in(page, "bcpadmin", tenant="Acme Contact Center")
    page.get_by_role("link", name="Switchover").click()
    page.get_by_label("Passkey").fill("WRONG-WRONG-WRONG-WRONG")
    page.get_by_role("button", name="Switch to BCP").click()
    assert "passkey is wrong" in page.get_by_role("alert").inner_text()
    assert console_server.plan()["active_side"] == "primary"


def age_switch_tries(console: ConsoleServer) -> None:
    """Lift a passkey lock as time would: the stored tries move 31 minutes into the past, out
    of what the lock rule reads at all (the server is another process; its clock stays real)."""
    engine = build_engine(console.install.database_url("directory"))
    try:
        with engine.begin() as conn:
            t = switch_attempts.c
            for seq, at in conn.execute(select(t.seq, t.at)).all():
                conn.execute(update(switch_attempts).where(t.seq == seq).values(at=at - timedelta(minutes=31)))
    finally:
        engine.dispose()


def test_wrong_passkeys_lock_switching_and_once_the_lock_is_over_the_right_one_switches(new_page, console_server):
    page = new_page()
    log_in(page, "bcpadmin", tenant="Acme Contact Center")
    before = console_server.plan()
    page.goto("/bcp/switchover")
    try:
        messages = []
        for n in range(1, 7):  # earlier tests' wrong tries may count too: five in 15 minutes lock
            page.get_by_label("Passkey").fill(f"WRONG-WRONG-WRONG-{n:05d}")
            page.get_by_role("button", name="Switch to BCP").click()
            messages.append(page.get_by_role("alert").inner_text())
            if "locked" in messages[-1]:
                break
        assert "locked until" in messages[-1] and "Nothing changed" in messages[-1], messages
        assert all("passkey is wrong" in m for m in messages[:-1]) and len(messages) >= 2
        page.get_by_label("Passkey").fill(console_server.passkey)  # the right one, during the lock
        page.get_by_role("button", name="Switch to BCP").click()
        assert "locked until" in page.get_by_role("alert").inner_text()
        after = console_server.plan()
        assert (after["active_side"], after["epoch"]) == ("primary", before["epoch"])
    finally:
        age_switch_tries(console_server)  # the other tests switch with this plan

    page.get_by_label("Passkey").fill(console_server.passkey)
    page.get_by_role("button", name="Switch to BCP").click()
    page.wait_for_url("**/login?**")
    plan = console_server.plan()
    assert (plan["active_side"], plan["epoch"]) == ("bcp", before["epoch"] + 1)


def test_a_switch_ends_every_console_session_and_a_revert_brings_the_primary_back(new_page, console_server):
    epoch = console_server.plan()["epoch"]
    admin, other = new_page(), new_page()
    log_in(admin, "bcpadmin", tenant="Acme Contact Center")
    log_in(other, "supervisor1", tenant="Acme Contact Center")
    admin.goto("/bcp/switchover")
    admin.get_by_label("Passkey").fill(console_server.passkey)
    admin.get_by_role("button", name="Switch to BCP").click()
    admin.wait_for_url("**/login?**")
    assert "switch" in admin.get_by_role("status").inner_text()
    assert console_server.plan()["active_side"] == "bcp"

    other.reload()  # a second browser, another user: its session ended with the switch
    assert "/login" in other.url
    assert other.get_by_role("button", name="Log in").is_visible()

    nobody = new_page()
    log_in(nobody, NONE_USER)
    assert "no BCP access" in nobody.get_by_role("alert").inner_text()

    log_in(admin, "bcpadmin")
    assert admin.get_by_role("radio", name="Acme Contact Center BCP (BCP, active)").is_checked()
    admin.get_by_role("button", name="Continue").click()
    admin.wait_for_url("**/")
    assert "BCP is active" in admin.get_by_role("status").first.inner_text()
    admin.get_by_role("link", name="Switchover").click()
    admin.get_by_label("Passkey").fill(console_server.passkey)
    admin.get_by_role("button", name="Revert to primary").click()
    admin.wait_for_url("**/login?**")
    plan = console_server.plan()
    assert plan["active_side"] == "primary" and plan["epoch"] == epoch + 2  # other tests switch too


def test_logging_out_ends_the_session(new_page):
    page = new_page()
    log_in(page, "agent1")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?reason=logged_out")
    page.goto("/")
    assert "/login" in page.url


def test_an_unknown_page_is_a_404_page(new_page):
    page = new_page()
    log_in(page, "agent1")
    response = page.goto("/no/such/page")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()


def test_console_pages_carry_the_security_headers(new_page):
    page = new_page()
    response = page.goto("/login")
    headers = response.headers
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    log_in(page, "agent1")
    cookie = next(c for c in page.context.cookies() if c["name"] == "lifeboat_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def axe_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())  # through the DevTools protocol: the page's CSP does not apply
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return [f"{v['id']} ({v['impact']}): {v['nodes'][:3]}" for v in found if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_the_pages_built(new_page, theme):
    page = new_page()
    page.emulate_media(color_scheme=theme)
    page.goto("/login")
    problems = {"/login": axe_violations(page)}
    log_in(page, "bcpadmin")
    problems["/login (tenant choice)"] = axe_violations(page)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/")
    for path in ("/", "/bcp/switchover", "/bcp/sync", "/no/such/page"):
        page.goto(path)
        problems[path] = axe_violations(page)
    page.goto("/bcp/switchover")
    page.get_by_label("Passkey").fill("WRONG-WRONG-WRONG-WRONG")
    page.get_by_role("button", name="Switch to BCP").click()
    page.get_by_role("alert").wait_for()
    problems["/bcp/switchover (wrong passkey)"] = axe_violations(page)
    assert {path: found for path, found in problems.items() if found} == {}
