"""Coins in a real browser: an analyst opens Coins from the navigation, finds a donation
address, sees where it was first seen and its later sightings, its flow graph (the
campaign's donors, the mixer or exchange it was swept to) and the alerts it raised."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_address_its_sightings_and_flows(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    from takedown.accounts import service as accounts
    from takedown.coins import service, watch
    from takedown.coins.models import SightingSource
    from takedown.items import service as items
    from takedown.sim.wallets import write_as
    from tests.coins.chainhelp import chain
    from tests.coins.fakes import InProcessChain

    c = chain()
    camp = c.campaign_addresses[0]
    analyst = live_server.create_user(role="analyst")
    with live_server.session() as s:
        user = accounts.get_user(s, analyst.id)
        who = accounts.principal_for(user, accounts.get_agency(s, user.agency_id), via="cli")
        item, _ = items.report_url(
            s, who, "https://t.me/synthetic_front_news/412", title="Support the brothers"
        )
        service.observe_text(
            s,
            who.agency_id,
            f"Support the brothers, zakat: {write_as(camp, 'defanged', 4)}",
            service.Source(
                SightingSource.ITEM,
                f"item:{item.id}",
                item_id=item.id,
                post_url=item.canonical_url,
                attribution={"platform": "telegram", "group": "Synthetic Front"},
            ),
        )
        service.observe_text(
            s,
            who.agency_id,
            f"Market post. Pay to: {write_as(camp, 'spaced')}",
            service.Source(
                SightingSource.POST, "post:forum:77", post_url="http://market.onion/post/77"
            ),
        )
        for lab in c.labels:
            watch.add_label(s, None, lab["address"], lab["category"], name=lab["name"], shared=True)
        wl = watch.create_list(s, who, "Posted donation addresses", tlp="amber")
        e = watch.add_entry(s, who, wl.id, camp, label="Synthetic Front campaign")
        watch.trace_entry(s, who, InProcessChain(c), e.id, hops=2)
    page = browser_page
    live_server.login(page, analyst)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coins").click()
    page.wait_for_url(live_server.url("/coins"))
    page.get_by_test_id("addresses").get_by_role("link", name=camp).click()
    assert page.get_by_test_id("address").inner_text() == camp
    sightings = page.get_by_test_id("sightings")
    assert sightings.get_by_text("first").is_visible()
    assert "Synthetic Front" in sightings.inner_text()
    assert "defanged" in sightings.inner_text() and "split" in sightings.inner_text()
    graph = page.get_by_test_id("flow-graph")
    assert graph.locator("svg circle").count() > 10
    assert graph.locator(f'g[data-address="{camp}"]').count() == 1
    assert "Sim " in graph.inner_text()  # the mixer or exchange is named
    assert (
        page.get_by_test_id("address-alerts")
        .get_by_text("crowdfunding-small-deposits")
        .is_visible()
    )
    save_screenshot(page, "coins-address", full_page=True)
    page.goto(live_server.url("/coins/watch"))
    assert page.get_by_test_id("alerts").get_by_text("crowdfunding-small-deposits").is_visible()
    assert page.get_by_test_id("watch-list").get_by_text("TLP:AMBER").first.is_visible()
    save_screenshot(page, "coins-watch", full_page=True)
    assert page_log.csp_violations == [] and page_log.dialogs == []
