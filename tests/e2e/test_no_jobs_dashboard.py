"""The demo's dashboard runs no background jobs (#12.8): a referral's page offers no
"Verify now" that would wait forever, and says why; its delivery attempts show one
interrupted by a killed sender, then the retry that got through, each at its own time
(#19.6)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import service as items
from takedown.kit.clock import FrozenClock
from takedown.platforms.seed import ensure_seeded
from takedown.referrals import delivery
from takedown.referrals import service as referrals
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from tests.e2e.conftest import LiveServer, PageLog, save_screenshot, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def no_jobs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("e2e-no-jobs"), {"E2E_NO_JOBS": "1"}) as server:
        yield server


@pytest.fixture
def page(browser, no_jobs_server: LiveServer, page_log: PageLog):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=no_jobs_server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    p = context.new_page()
    p.set_default_timeout(30_000)
    p.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    yield p
    context.close()


def test_no_verify_now_without_jobs_and_an_interrupted_attempt_on_record(  # type: ignore[no-untyped-def]
    no_jobs_server: LiveServer, page, page_log: PageLog
) -> None:
    agency_id, _ = no_jobs_server.create_agency("No-jobs IRU")
    analyst = no_jobs_server.create_user(role="analyst", agency_id=agency_id)
    principal = Principal(analyst.id, agency_id, Role.ANALYST, via="session")
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)
    with no_jobs_server.session() as s:
        ensure_seeded(s)
        item, _ = items.report_url(s, principal, "https://x.com/nojobs_demo/status/4242424242")
        items.assess(s, principal, item.id, "terrorist_content", ["a"])
        [res] = referrals.create_batches(
            s, principal, item_ids=[item.id], kind="tos", channel="portal"
        )
        referrals.submit(s, principal, res.referral.id)
        referral_id = res.referral.id
        s.commit()
        d = referrals.repository.delivery_for(s, referral_id)
        assert d is not None
        # a sender claims it and is killed before the portal answers...
        assert delivery.claim(s, d.id, owner="gone-host:1:x", clock=FrozenClock(t0))
        s.commit()
        # ...and once its claim has lapsed, the next attempt goes through
        later = FrozenClock(t0 + delivery.SENDER_LEASE + dt.timedelta(seconds=5))
        started = delivery.claim(s, d.id, clock=later)
        assert started is not None
        result = delivery.send(s, started, ChannelRegistry([PortalChannel(later)]))
        delivery.finish(s, started, result, clock=later)
        s.commit()

    no_jobs_server.login(page, analyst, next_path=f"/referrals/{referral_id}")
    main = page.locator("main")
    note = page.get_by_test_id("check-now-unavailable")
    assert "this server runs no background jobs" in note.inner_text()
    assert page.get_by_role("button", name="Verify now").count() == 0
    attempts = page.get_by_test_id("delivery-attempt").all_inner_texts()
    assert len(attempts) == 2, attempts
    assert "interrupted" in attempts[0] and "received" in attempts[1]
    assert t0.strftime("%H:%M:%S") in attempts[0]  # the first attempt keeps its own time
    assert "after 2 attempt(s)" in main.inner_text()
    page.get_by_test_id("delivery-status").scroll_into_view_if_needed()
    save_screenshot(page, "referral-no-jobs")
    assert page_log.csp_violations == [], page_log.console_errors
