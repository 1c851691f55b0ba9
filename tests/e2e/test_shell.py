"""The shell in a real browser: login with TOTP, navigation, admin forms, audit chain,
htmx with the CSRF header, escaping, logout. Saves the README's screenshots."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def test_admin_walkthrough(live_server: LiveServer, browser_page, page_log: PageLog) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    agency_id, _ = live_server.create_agency("National IRU Demo", contact_point="iru@demo.example")
    live_server.create_agency("Coordination Unit", country="EU", kind="coordinator")
    admin = live_server.create_user(
        role="admin", agency_id=agency_id, totp=True, display_name="Ada Admin", operator=True
    )

    # Log in (with a one-time code).
    page.goto(live_server.url("/admin/users"))
    assert "/login?next=/admin/users" in page.url
    page.get_by_label("E-mail address").fill(admin.email)
    save_screenshot(page, "login")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_text("Wrong e-mail, password or one-time code").is_visible()
    page.get_by_label("Password").fill(admin.password)
    page.get_by_label("One-time code").fill(admin.totp_now())
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url("/admin/users"))

    # The shell: agency and role visible; navigation by capability.
    page.get_by_role("link", name="Home").click()
    page.wait_for_url(live_server.url("/"))
    assert page.get_by_test_id("agency-name").inner_text() == "National IRU Demo"
    assert page.get_by_test_id("user-role").inner_text() == "Administrator"
    save_screenshot(page, "home")

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"

    # Add a user through the form; a server-side error shows beside the field first.
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Users").click()
    page.get_by_label("E-mail address").fill("brook.analyst@demo.example")
    page.get_by_label("Name").fill("Brook Analyst")
    page.get_by_label("Agency").select_option(label="National IRU Demo (FR)")
    page.get_by_label("Role", exact=True).select_option("analyst")
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Add user").click()
    error = page.locator("#f-password-error")
    assert "at least 12 characters" in error.inner_text()
    described = page.locator("#f-password").get_attribute("aria-describedby") or ""
    assert "f-password-error" in described
    page.get_by_label("Initial password").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_url(live_server.url("/admin/users"))
    assert page.get_by_text("User brook.analyst@demo.example added.").is_visible()
    assert live_server.user_exists("brook.analyst@demo.example")
    live_server.create_user(role="supervisor", agency_id=agency_id, display_name="Sam Supervisor")
    page.reload()
    save_screenshot(page, "admin-users")

    # A hostile agency name renders as text, never as markup.
    nav.get_by_role("link", name="Agencies").click()
    page.get_by_label("Name").fill(XSS)
    page.get_by_label("Country").select_option(label="Germany (DE)")  # a select: no typos
    page.get_by_label("Contact point").fill(XSS)
    page.get_by_role("button", name="Add agency").click()
    page.wait_for_url(live_server.url("/admin/agencies"))
    assert page.get_by_role("cell", name=XSS).count() >= 2  # name, contact point (as text)
    assert page.locator("main img").count() == 0
    assert page_log.dialogs == []
    save_screenshot(page, "admin-agencies")

    # htmx sends the CSRF header: a POST through htmx.ajax is accepted.
    nav.get_by_role("link", name="API tokens").click()
    page.wait_for_url(live_server.url("/account/tokens"))
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate(
        """() => htmx.ajax('POST', '/account/tokens',
             {target: '#main', swap: 'outerHTML', select: '#main',
              values: {name: 'made through htmx', expires_in_days: '30'}})"""
    )
    page.get_by_test_id("issued-token").wait_for()
    assert re.match(r"tdk_\S+", page.locator("#new-token").inner_text())

    # The audit log: chain status loads after the page (htmx), filters work.
    nav.get_by_role("link", name="Audit log").click()
    status = page.get_by_test_id("chain-status")
    status.wait_for()
    assert status.inner_text().startswith("OK")
    page.get_by_label("Action").fill("user.create")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*action=user\.create.*"))
    rows = page.get_by_test_id("audit-row")
    # Only this agency's events (#19.3): the user the admin added on the page; the users
    # the test set up directly were created by the system, outside any agency's log.
    assert rows.count() >= 1
    assert all("user.create" in t for t in rows.all_inner_texts())
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(live_server.url("/admin/audit"))
    with page.expect_response(live_server.url("/admin/audit/chain")) as checked:
        page.get_by_role("link", name="Check the chain now").click()  # htmx, no navigation
    assert checked.value.request.headers.get("hx-request") == "true"
    page.wait_for_load_state("networkidle")
    assert page.url == live_server.url("/admin/audit")
    assert page.get_by_test_id("chain-status").inner_text().startswith("OK")
    save_screenshot(page, "audit")

    # Log out.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url("/login"))
    assert page.get_by_text("You have logged out.").is_visible()
    page.goto(live_server.url("/admin/users"))
    assert "/login" in page.url

    assert page_log.csp_violations == []


def test_an_analyst_sees_no_admin_pages(live_server: LiveServer, browser_page) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    analyst = live_server.create_user(role="analyst")
    live_server.login(page, analyst)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Users").count() == 0
    assert nav.get_by_role("link", name="Audit log").count() == 0
    response = page.goto(live_server.url("/admin/agencies"))
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_component_gallery_and_progress_polling(
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:  # type: ignore[no-untyped-def]
    page = browser_page
    admin = live_server.create_user(role="admin")
    live_server.login(page, admin, next_path="/admin/ui")
    banners = page.get_by_role("note", name="Traffic Light Protocol marking")
    assert banners.count() == 2  # top and bottom of the page
    assert "TLP:AMBER" in banners.first.inner_text()
    # The progress bar polls its endpoint through htmx until the job finishes.
    page.get_by_text("Finished.").wait_for(timeout=15_000)
    assert page.locator("#demo-progress-bar").get_attribute("value") == "8"
    assert page.locator("#demo-progress").get_attribute("hx-trigger") is None
    save_screenshot(page, "components", full_page=True)
    assert page_log.csp_violations == []
