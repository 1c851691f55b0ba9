"""The API's documentation pages render offline, under the app's own CSP: Swagger UI at
/docs and ReDoc at /redoc, from npm assets served by the app (never a CDN)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _requests_elsewhere(page, live_server: LiveServer) -> list[str]:  # type: ignore[no-untyped-def]
    """URLs of other origins the page tried to reach, aborted here. Requests the CSP
    refuses never get this far (Chromium drops them before the network)."""
    seen: list[str] = []

    def leave(route) -> None:  # type: ignore[no-untyped-def]
        seen.append(route.request.url)
        route.abort()

    page.route(lambda url: not url.startswith(live_server.base_url), leave)
    return seen


def test_swagger_ui_renders_the_operations(
    live_server: LiveServer,
    browser_page,  # type: ignore[no-untyped-def]
    page_log: PageLog,
) -> None:
    page = browser_page
    elsewhere = _requests_elsewhere(page, live_server)
    page.goto(live_server.url("/docs"))
    # One line per capability (tag); a click opens its operations, rendered by Swagger UI
    # from /openapi.json.
    tags = page.locator(".opblock-tag")
    tags.first.wait_for()
    assert tags.count() >= 15  # every capability's tag, collapsed
    page.locator("#operations-tag-items").click()
    op = page.locator(".opblock-summary-path", has_text="/api/v1/items").first
    op.wait_for()
    assert page.locator(".opblock").count() > 5
    save_screenshot(page, "api-docs")
    assert page_log.csp_violations == []
    assert elsewhere == []


def test_redoc_renders_the_operations(
    live_server: LiveServer,
    browser_page,  # type: ignore[no-untyped-def]
    page_log: PageLog,
) -> None:
    page = browser_page
    elsewhere = _requests_elsewhere(page, live_server)
    page.goto(live_server.url("/redoc"))
    page.get_by_text("/api/v1/items", exact=False).first.wait_for()
    assert page.locator("[data-section-id^='operation/']").count() > 20
    assert page.get_by_role("heading", name="Create Session").count() >= 1
    page.wait_for_load_state("networkidle")
    save_screenshot(page, "api-redoc")
    # What the policy refused, and nothing else: the styles the bundle writes inline as it
    # loads, before it knows the page's nonce (an empty <style> and a copy of
    # perfect-scrollbar.css, which the page links instead), and Redocly's logo from its
    # CDN (refused, so never requested: see ``elsewhere``).
    refused = [
        m
        for m in page_log.csp_violations
        if not m.startswith("Applying inline style")
        and "https://cdn.redoc.ly/redoc/logo-mini.svg" not in m
    ]
    assert refused == []
    assert sum(m.startswith("Applying inline style") for m in page_log.csp_violations) <= 2
    assert elsewhere == []
