"""The supervisor's actions on the batch page, in a real browser (#13.3): send an order
back to its author with a reason, then, once approved, meet the 12-hour prior notice
("Send now" disabled with its reason) and escalate to an emergency order."""

from __future__ import annotations

import itertools

import pytest

from tests.e2e.conftest import LiveServer, LiveUser, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
_n = itertools.count(1)


@pytest.fixture
def ok_page(browser, live_server: LiveServer, page_log: PageLog):  # type: ignore[no-untyped-def]
    """A page whose confirm dialogs are accepted, like a user clicking OK."""
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.on(
        "console", lambda m: page_log.console_errors.append(m.text) if m.type == "error" else None
    )
    page.on("dialog", lambda d: d.accept())
    yield page
    context.close()


def _pending_order(live_server: LiveServer, analyst: LiveUser) -> tuple[int, str]:
    """An order to a platform that has never had one (so the prior notice will hold it),
    submitted by the analyst: (id, reference)."""
    from takedown.accounts import service as accounts
    from takedown.items import service as items
    from takedown.platforms.seed import ensure_seeded
    from takedown.referrals import service as referrals

    n = next(_n)
    with live_server.session() as s:
        ensure_seeded(s)
        user = accounts.get_user(s, analyst.id)
        who = accounts.principal_for(user, accounts.get_agency(s, analyst.agency_id), via="session")
        url = f"https://www.youtube.com/watch?v=SynthOrd{n:03d}"
        item, _ = items.report_url(s, who, url)
        items.assess(s, who, item.id, "terrorist_content", ["a"])
        [res] = referrals.create_batches(
            s, who, item_ids=[item.id], kind="removal_order", reasons=["a"], channel="portal",
            justification="Synthetic stand-in for a call to attack (test content only).",
        )  # fmt: skip
        referrals.submit(s, who, res.referral.id)
        return res.referral.id, res.referral.reference


def test_send_back_then_notice_then_emergency(
    live_server: LiveServer,
    ok_page,  # type: ignore[no-untyped-def]
    page_log: PageLog,
) -> None:
    page = ok_page
    agency_id, _ = live_server.create_agency(contact_point="desk@iru.example")
    analyst = live_server.create_user(role="analyst", agency_id=agency_id)
    lead = live_server.create_user(role="supervisor", agency_id=agency_id)
    rid, reference = _pending_order(live_server, analyst)

    # The supervisor sends it back with a reason; the author reads it on the home page.
    live_server.login(page, lead, next_path=f"/referrals/{rid}")
    page.get_by_test_id("send-back").locator("summary").click()
    page.get_by_label("What must change").fill("Name the venue in the justification.")
    page.get_by_role("button", name="Send back as a draft").click()
    page.get_by_text("Sent back to its author as a draft").wait_for()
    assert "draft" in page.locator("dl.facts").inner_text()
    live_server.login(page, analyst, next_path="/")
    assert (
        "Name the venue in the justification."
        in page.get_by_test_id("notification").first.inner_text()
    )

    # The author edits and submits again; the supervisor approves; the notice holds it.
    page.goto(live_server.url(f"/referrals/{rid}"))
    page.get_by_test_id("edit-batch").locator("summary").click()
    page.get_by_label("Justification").fill(
        "Synthetic stand-in naming a synthetic venue (test content only)."
    )
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved.").wait_for()
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Submitted.").wait_for()
    live_server.login(page, lead, next_path=f"/referrals/{rid}")
    page.get_by_role("button", name="Approve the order").click()
    page.get_by_text("Approved").first.wait_for()
    notice = page.get_by_test_id("prior-notice")
    assert "12 hours' prior notice" in notice.inner_text()
    assert notice.get_by_role("button", name="Send now").is_disabled()
    page.get_by_test_id("escalate").locator("summary").click()
    save_screenshot(page, "referral-prior-notice", full_page=True)
    page.get_by_label("Why this is an emergency").fill(
        "Synthetic livestream of an ongoing attack, spreading now."
    )
    page.get_by_role("button", name="Make it an emergency order and allow sending now").click()
    page.get_by_text("Now an emergency order").wait_for()
    assert page.get_by_test_id("prior-notice").count() == 0
    assert page.get_by_role("button", name="Send now").is_enabled()
    assert reference in page.get_by_role("heading", level=1).inner_text()
    assert page_log.csp_violations == []
