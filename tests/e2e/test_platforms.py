"""The platform registry in a real browser: an admin opens it from the navigation, edits
X's TCO contact point (a wrong value first, shown beside its field) and sees it saved; an
admin adds a platform (a domain of X's first, refused beside the field)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CONTACT = "tco-orders@x.example.invalid"


def test_admin_edits_a_platforms_tco_contact_point(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    from takedown.platforms import service
    from takedown.platforms.seed import ensure_seeded

    page = browser_page
    failed: list[tuple[int, str]] = []
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    with live_server.session() as s:
        # The harness only migrates; `takedown serve` and `db upgrade` also seed (idempotent).
        ensure_seeded(s)
        original = service.get(s, "x").tco_contact_point
    admin = live_server.create_user(role="admin", operator=True)
    try:
        live_server.login(page, admin)
        nav = page.get_by_role("navigation", name="Main")
        nav.get_by_role("link", name="Platforms").click()
        page.wait_for_url(live_server.url("/admin/platforms"))
        assert page.get_by_test_id("platform-row").count() >= 10

        page.get_by_role("link", name="X (Twitter) (edit)").click()
        page.wait_for_url(live_server.url("/admin/platforms/x"))
        contact = page.get_by_label("TCO contact point")
        contact.fill("not a contact")
        page.get_by_role("button", name="Save platform").click()
        error = page.locator("#f-tco_contact_point-error")
        assert "TCO contact point must be an e-mail address or an http(s) URL" in error.inner_text()
        assert contact.get_attribute("aria-invalid") == "true"

        contact.fill(CONTACT)
        page.get_by_role("button", name="Save platform").click()
        page.wait_for_url(live_server.url("/admin/platforms"))
        assert page.get_by_text("Platform “X (Twitter)” saved.").is_visible()
        row = page.get_by_test_id("platform-row").filter(has_text="X (Twitter)")
        assert row.get_by_role("cell", name=CONTACT).is_visible()
        save_screenshot(page, "admin-platforms", full_page=True)
        with live_server.session() as s:
            assert service.get(s, "x").tco_contact_point == CONTACT
        # The wrong value only: the icon is no 404 any more (base.html links favicon.svg).
        assert failed == [(422, live_server.url("/admin/platforms/x"))]
        assert page_log.csp_violations == [] and page_log.dialogs == []
    finally:  # the live server is shared: leave X as the other browser tests expect it
        with live_server.session() as s:
            service.update(s, None, "x", {"tco_contact_point": original})


def test_admin_adds_a_platform(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    from takedown.platforms import service
    from takedown.platforms.seed import ensure_seeded

    page = browser_page
    failed: list[tuple[int, str]] = []
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    with live_server.session() as s:
        ensure_seeded(s)
    admin = live_server.create_user(role="admin", operator=True)
    live_server.login(page, admin, next_path="/admin/platforms")
    page.get_by_role("link", name="Add a platform").click()
    page.wait_for_url(live_server.url("/admin/platforms/new"))
    page.get_by_label("Slug").fill("e2e-video")
    page.get_by_label("Name").fill("E2E Video (synthetic)")
    page.get_by_label("Kind").select_option(label="Video host")
    page.get_by_label("Country of main establishment").select_option(label="Netherlands (NL)")
    domains = page.get_by_label("Domains")
    domains.fill("video.e2e.example\ntwitter.com")
    page.get_by_label("TCO contact point").fill("tco@video.e2e.example")
    page.get_by_role("button", name="Add platform").click()
    error = page.locator("#f-domains-error")
    assert "twitter.com already belongs to the platform 'x'" in error.inner_text()
    assert domains.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Slug").input_value() == "e2e-video"  # what was typed stays
    save_screenshot(page, "admin-platform-new", full_page=True)

    domains.fill("video.e2e.example")
    page.get_by_role("button", name="Add platform").click()
    page.wait_for_url(live_server.url("/admin/platforms"))
    assert page.get_by_text("Platform “E2E Video (synthetic)” added.").is_visible()
    with live_server.session() as s:
        made = service.get(s, "e2e-video")
        assert made.country == "NL" and made.domains == ["video.e2e.example"]
    assert failed == [(422, live_server.url("/admin/platforms/new"))]
    assert page_log.csp_violations == [] and page_log.dialogs == []
