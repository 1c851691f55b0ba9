"""Check now, in a real browser, through the real job runtime, against the testbed.

The shared ``live_server`` cannot reach a testbed started later (its resolver map is fixed
at start), so this module serves its own, wired to its own testbed: the server's embedded
job pool runs ``verification.check_request`` exactly as ``takedown serve`` would.

An analyst opens a referred item the platform has since taken down, clicks "Check now",
watches the progress reach 1 of 1 (polled by htmx, read from the database) and follows it
to the check timeline, which shows the new ``removed`` check. One check is not a removal:
the item's status stays "referred" until a second check confirms it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import service as items
from takedown.kit.ssrf import format_resolve
from takedown.platforms.seed import ensure_seeded
from takedown.referrals import service as referrals
from takedown.sim.harness import SimHandle, running_sim
from tests.e2e.conftest import LiveServer, LiveUser, PageLog, save_screenshot, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
LOADED_BOX_MS = 30_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        yield handle


@pytest.fixture(scope="module")
def sim_server(sim: SimHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TAKEDOWN_RESOLVE": format_resolve(sim.resolve), "TAKEDOWN_TOR_PROXY": sim.tor_proxy}
    if sim.ca_path:
        env["TAKEDOWN_CA_BUNDLE"] = sim.ca_path
    with serve(tmp_path_factory.mktemp("e2e-check-now"), env) as server:
        yield server


@pytest.fixture
def page(browser, sim_server: LiveServer, page_log: PageLog):  # type: ignore[no-untyped-def]
    """Like ``browser_page``, on this module's server (console errors recorded)."""
    context = browser.new_context(
        base_url=sim_server.base_url, viewport={"width": 1280, "height": 800}, locale="en-GB"
    )
    p = context.new_page()
    p.set_default_timeout(LOADED_BOX_MS)
    p.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    yield p
    context.close()


def _referred_item(s: Session, analyst: LiveUser, url: str) -> int:
    """Reported, assessed and referred by portal (delivered): under verification."""
    principal = Principal(analyst.id, analyst.agency_id, Role.ANALYST, via="session")
    ensure_seeded(s)
    item, _ = items.report_url(s, principal, url)
    items.assess(s, principal, item.id, "terrorist_content", ["a"])
    [res] = referrals.create_batches(s, principal, item_ids=[item.id], kind="tos", channel="portal")
    referrals.submit(s, principal, res.referral.id)
    referrals.mark_delivered(s, res.referral, received_at=dt.datetime.now(dt.UTC),
                             ack_reference=None)  # fmt: skip
    return item.id


def test_check_now_records_the_removal_and_the_timeline_shows_it(  # type: ignore[no-untyped-def]
    sim_server: LiveServer, sim: SimHandle, page, page_log: PageLog
) -> None:
    agency_id, _ = sim_server.create_agency("Check-now IRU")
    analyst = sim_server.create_user(role="analyst", agency_id=agency_id)
    post = sim.items(platform="x", kind="post", alive=True)[0]
    with sim_server.session() as s:
        item_id = _referred_item(s, analyst, post["url"])
    with sim.control() as ctl:
        assert ctl.post("/remove", json={"item_id": post["id"]}).status_code == 200

    sim_server.login(page, analyst, next_path=f"/items/{item_id}")
    checks = page.locator("section[aria-labelledby=checks-h]")
    assert "Under verification since" in checks.inner_text()
    checks.get_by_role("button", name="Check now").click()
    status = checks.get_by_role("status")
    status.get_by_text("Finished.").wait_for()  # htmx polled the progress until 1 of 1
    box = checks.locator(".progress-box")
    assert "1 of 1" in box.inner_text()
    assert "Latest outcome: removed 1." in status.inner_text()
    assert page.url == sim_server.url(f"/items/{item_id}")  # the page never left or waited
    save_screenshot(page, "check-now")

    status.get_by_role("link", name="See the result").click()
    page.wait_for_url(sim_server.url(f"/verification/items/{item_id}"))
    rows = page.get_by_test_id("check-row").all_inner_texts()
    assert len(rows) == 1 and re.search(r"\tremoved\t", rows[0]), rows
    assert "status referred" in page.locator("main").inner_text()  # one check proves nothing
    assert page_log.csp_violations == [], page_log.console_errors
