"""The monitoring page in a real browser: sources with their last crawl, the feed, and a
proposed source accepted from the review queue."""

from __future__ import annotations

import httpx
import pytest

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.politeness import HostBudget
from takedown.monitoring import service
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from tests.e2e.conftest import LiveServer, PageLog, save_screenshot
from tests.monitoring.mockweb import tg_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _channel(req: httpx.Request) -> httpx.Response:
    html = tg_page("synthe2efeed", [41, 42, 43], more=False, text="synthetic update")
    html = html.replace(
        "synthetic update 43",
        'we moved: <a href="https://t.me/synthe2efeed_back">t.me/synthe2efeed_back</a>',
    )
    return httpx.Response(200, html=html)


def test_sources_feed_and_a_proposal_accepted(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    page = browser_page
    failed: list[tuple[int, str]] = []
    page.on("response", lambda r: failed.append((r.status, r.url)) if r.status >= 400 else None)
    analyst = live_server.create_user(role="analyst")
    principal = Principal(analyst.id, analyst.agency_id, Role.ANALYST, via="session")
    with live_server.session() as s:
        src, _ = service.add_source(s, principal, "https://t.me/synthe2efeed")
        source_id = src.id
    client = httpx.Client(transport=httpx.MockTransport(_channel))
    rep = crawl_due(
        live_server.factory,
        client,
        source_ids=[source_id],
        config=CrawlConfig(match=False),
        budget=HostBudget(),
    )
    assert rep.new_items >= 3 and rep.proposals == 1

    live_server.login(page, analyst)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Monitoring").click()
    page.wait_for_url(live_server.url("/monitoring"))
    row = page.locator(f'#sources tr[data-source="{source_id}"]')
    assert "https://t.me/s/synthe2efeed" in row.inner_text()
    assert "ok" in row.inner_text()
    feed = page.locator("#feed")
    assert "telegram:message/synthe2efeed/43" in feed.inner_text()
    assert "outlink" in feed.inner_text()

    page.get_by_label("Channel, room, account or site URL").fill("https://x.com/synth_e2e_acc")
    page.get_by_role("button", name="Watch", exact=True).click()
    page.wait_for_url(live_server.url("/monitoring"))
    assert "Now watching https://x.com/synth_e2e_acc (account)" in page.content()

    proposals = page.locator("#proposals")
    assert "https://t.me/synthe2efeed_back" in proposals.inner_text()
    save_screenshot(page, "monitoring", full_page=True)
    proposals.get_by_role("button", name="Watch https://t.me/synthe2efeed_back").click()
    page.wait_for_url(live_server.url("/monitoring"))
    assert "Now watching https://t.me/synthe2efeed_back" in page.content()
    rows = page.locator("#sources tbody tr").filter(has_text="https://t.me/s/synthe2efeed_back")
    assert rows.count() == 1
    assert "(proposal)" in page.locator("#sources").inner_text()
    assert not failed, failed
