"""Resurgence in a real browser: an analyst sees a proposed successor with its evidence,
confirms it and refers it in one step, and lands on the referral. Saves
docs/screenshots/resurgence.png (the page with the candidate, its evidence and the figures)."""

from __future__ import annotations

import datetime as dt

import pytest

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import service as items
from takedown.items.models import ItemStatus
from takedown.platforms.seed import ensure_seeded
from takedown.referrals.models import Referral
from takedown.resurgence import service
from tests.e2e.conftest import LiveServer, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
LOADED_BOX_MS = 30_000


def test_confirm_a_successor_and_refer_it_in_one_step(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    page = browser_page
    page.set_default_timeout(LOADED_BOX_MS)
    agency_id, _ = live_server.create_agency("Resurgence IRU")
    analyst = live_server.create_user(role="analyst", agency_id=agency_id)
    principal = Principal(analyst.id, agency_id, Role.ANALYST, via="session")
    now = dt.datetime.now(dt.UTC)
    with live_server.session() as s:
        ensure_seeded(s)
        old, _ = items.report_url(s, principal, "https://t.me/synthetic_voice_e2e",
                                  title="Synthetic Voice")  # fmt: skip
        items.assess(s, principal, old.id, "terrorist_content", ["a", "c"],
                     group="Synthetic Front")  # fmt: skip
        old.first_seen_at = now - dt.timedelta(days=10)
        old.status, old.status_changed_at = ItemStatus.REMOVED.value, now - dt.timedelta(hours=6)
        new, _ = items.report_url(s, principal, "https://t.me/synthetic_voice_e2e2",
                                  title="Synthetic Voice")  # fmt: skip
        new.first_seen_at = now - dt.timedelta(hours=2)
        s.flush()
        service.scan(s, seen_ids=[new.id])
        [view], _ = service.list_candidates(s, principal)
        cid, new_id = view.candidate.id, new.id

    live_server.login(page, analyst, next_path="/resurgence")
    row = page.get_by_test_id(f"candidate-{cid}")
    text = row.inner_text()
    assert "https://t.me/synthetic_voice_e2e2" in text and "digit" in text
    assert "title" in text and "created_after" in text
    assert "terrorist content (a, c)" in text
    save_screenshot(page, "resurgence", full_page=True)

    row.get_by_role("textbox", name="Note").fill("same name, number bumped")
    row.get_by_role("button", name="Confirm and refer").click()
    page.wait_for_url("**/referrals/*")
    assert "confirmed as successor of" in page.locator("body").inner_text()
    assert "https://t.me/synthetic_voice_e2e2" in page.locator("main").inner_text()

    with live_server.session() as s:
        v = service.get_candidate(s, principal, cid)
        assert v.candidate.status == "confirmed" and v.candidate.referral_id is not None
        assert v.successor.id == new_id and v.successor.status == ItemStatus.ASSESSED.value
        ref = s.get(Referral, v.candidate.referral_id)
        assert ref is not None and ref.status != "draft"  # submitted: on its way to delivery
    page.goto(live_server.url("/resurgence?status=confirmed"))
    assert "referral" in page.get_by_test_id(f"candidate-{cid}").inner_text()
    assert page_log.csp_violations == [], page_log.console_errors
