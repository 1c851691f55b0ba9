"""The TCO authorities registry in a real browser: an admin opens it from the navigation,
confirms Ireland's authority (a wrong contact first, shown beside its field) and sees it
saved (issue 12.6)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CONTACT = "tco-scrutiny@ie-authority.example.invalid"


def test_admin_confirms_irelands_authority(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    from takedown.platforms import authorities

    page = browser_page
    failed: list[tuple[int, str]] = []
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    with live_server.session() as s:
        authorities.ensure_seeded(s)  # the harness only migrates; `db upgrade` also seeds
    admin = live_server.create_user(role="admin", operator=True)
    try:
        live_server.login(page, admin)
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="TCO authorities").click()
        page.wait_for_url(live_server.url("/admin/authorities"))
        assert page.get_by_test_id("authority-row").count() == 27
        row = page.get_by_test_id("authority-row").filter(has_text="Ireland (IE)")
        assert row.get_by_text("to be confirmed by the admin").is_visible()

        row.get_by_role("link", name="Ireland (IE) (edit)").click()
        page.wait_for_url(live_server.url("/admin/authorities/IE"))
        assert page.locator("#f-name").input_value() == "Coimisiún na Meán"
        contact = page.locator("#f-contact_point")
        contact.fill("not a contact")
        page.get_by_role("button", name="Save authority").click()
        error = page.locator("#f-contact_point-error")
        assert "Contact point must be an e-mail address or an http(s) URL" in error.inner_text()

        contact.fill(CONTACT)
        page.get_by_label("Name and contact point checked").check()
        page.get_by_role("button", name="Save authority").click()
        page.wait_for_url(live_server.url("/admin/authorities"))
        assert page.get_by_text("The authority of IE was saved.").is_visible()
        row = page.get_by_test_id("authority-row").filter(has_text="Ireland (IE)")
        assert row.get_by_role("cell", name=CONTACT).is_visible()
        assert row.get_by_text("confirmed", exact=True).is_visible()
        save_screenshot(page, "admin-authorities", full_page=True)
        assert failed == [(422, live_server.url("/admin/authorities/IE"))]
        assert page_log.csp_violations == [] and page_log.dialogs == []
    finally:  # the live server is shared: leave IE as seeded
        with live_server.session() as s:
            row = authorities.get(s, "IE")
            row.contact_point, row.confirmed = None, False
