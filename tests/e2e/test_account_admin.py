"""An administrator resets a user's password and edits their agency, in a real browser
(#13.4). The user logs in with the password shown once and must choose their own."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
NEW = "a passphrase of my own"


def test_reset_a_password_then_the_user_must_change_it(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    page = browser_page
    agency_id, _ = live_server.create_agency()
    boss = live_server.create_user(role="admin", agency_id=agency_id)
    user = live_server.create_user(role="analyst", agency_id=agency_id)
    live_server.login(page, boss, next_path="/admin/users")
    row = page.get_by_test_id("user-row").filter(has_text=user.email)
    assert row.get_by_role("button", name="Reset password").is_visible()
    # its confirm dialog is the browser's (the harness dismisses dialogs): submit the form
    row.locator('form[action$="/password-reset"]').evaluate("f => f.submit()")
    secret = page.get_by_test_id("reset-password")
    secret.wait_for()
    assert user.email in secret.inner_text() and "only once" in secret.inner_text()
    password = page.locator("#reset-secret").inner_text().strip()
    assert len(password) >= 20
    save_screenshot(page, "account-password-reset")

    # the agency's own page: its contact point changes
    page.goto(live_server.url(f"/admin/agencies/{agency_id}"))
    page.get_by_label("Contact point").fill("npc@e2e-admin.example")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Agency saved.").wait_for()
    assert page.get_by_label("Contact point").input_value() == "npc@e2e-admin.example"
    assert "active" in page.get_by_test_id("agency-facts").inner_text()
    save_screenshot(page, "agency-edit")

    # the user: the old password is gone, the new one works once, then their own
    page.context.clear_cookies()
    page.goto(live_server.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("wrong e-mail, password or one-time code").wait_for()
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url("/account/password"))
    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    page.wait_for_url(live_server.url("/"), timeout=30_000)
    assert page.get_by_text("Your password has been changed.").is_visible()
    assert page_log.csp_violations == [], page_log.console_errors
