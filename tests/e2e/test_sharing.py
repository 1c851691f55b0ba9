"""The sharing page in a real browser: a supervisor opens it from the navigation and sees
the partner, the collection with its TLP ceiling, what was shared with whom at which
TLP, an object awaiting review and a deconfliction question with its hit."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_sharing_page(live_server: LiveServer, browser_page, page_log: PageLog) -> None:  # type: ignore[no-untyped-def]
    from takedown.accounts import service as accounts
    from takedown.kit.clock import SystemClock
    from takedown.sharing import collections, deconfliction, inbox, partners, psi, shares
    from takedown.sharing.tlp import MARKING_IDS, Tlp

    sup = live_server.create_user(role="supervisor")
    with live_server.session() as s:
        user = accounts.get_user(s, sup.id)
        who = accounts.principal_for(user, accounts.get_agency(s, user.agency_id), via="cli")
        p = partners.create_partner(
            s, who,
            partners.PartnerIn(name="IRU Synthetica", country="DE",
                               contact_point="desk@synthetica.invalid", trust="review",
                               tlp_ceiling="AMBER",
                               deconfliction_url="http://synthetica.invalid/psi"),
            secret_key="e2e",
        )  # fmt: skip
        coll = collections.create_collection(
            s, who, title="For IRU Synthetica", audience="organisation", partner_id=p.id
        )
        from takedown.items import service as items

        item, _ = items.report_url(s, who, "https://x.com/e2eshare/status/777")
        shares.share(s, who, coll.id, "item", item.id, tlp="AMBER")
        obj = {
            "type": "url", "spec_version": "2.1",
            "id": "url--0b9c2a5e-1c7e-5b0a-9a1e-2f4d6c8e0a11",
            "value": "https://t.me/synthincoming", "object_marking_refs": [MARKING_IDS[Tlp.GREEN]],
        }  # fmt: skip
        inbox.receive(s, owner_agency_id=who.agency_id, source_agency_id=p.agency_id,
                      channel="taxii-pull", objects=[obj], now=SystemClock().now())  # fmt: skip
        key = psi.epoch_key("e2e", SystemClock().now().date())

        def post(url: str, body: dict[str, object], token: str) -> dict[str, object]:
            ans = psi.answer(psi.unb64(body["request"], "r"), ["url:x:status/777"], key)
            return {"response": psi.b64(ans.response), "setups": [psi.b64(x) for x in ans.setups]}

        from takedown.config import Settings

        deconfliction.ask(s, who, p.id, settings=Settings(secret_key="e2e"),
                          item_ids=[item.id], post=post)  # fmt: skip
    page = browser_page
    live_server.login(page, sup)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sharing").click()
    page.wait_for_url(live_server.url("/sharing"))
    assert page.get_by_test_id("partners").get_by_text("IRU Synthetica").is_visible()
    assert page.get_by_test_id("collections").get_by_text("TLP:AMBER+STRICT").count() == 0
    assert page.get_by_test_id("collections").get_by_text("TLP:AMBER").is_visible()
    shared = page.get_by_test_id("shared")
    assert shared.get_by_text("item").first.is_visible()
    assert "IRU Synthetica" in shared.inner_text()
    assert page.get_by_test_id("inbox").get_by_text("url").first.is_visible()
    assert "1" in page.get_by_test_id("questions").inner_text()
    assert page.get_by_test_id("followups").get_by_text("url:x:status/777").is_visible()
    save_screenshot(page, "sharing", full_page=True)
    assert page_log.csp_violations == [] and page_log.dialogs == []
