"""Issue #8's acceptance flow on the testbed's small scenario, in a real browser, with real
users of two agencies and a platform, every step through the pages:

0. the agency's supervisor creates the operation on ``/operations/new`` and starts it
   (planned -> running) from its dashboard;
1. an analyst imports an agency's report file (messy URLs, malformed lines) into an
   operation through the intake page;
2. triages the operation's queue by keyboard (``j``, ``a``) and assesses an item;
3. selects it in the queue (``x``) and uses "Refer selected" as a removal order: the
   form asks for the justification (reasons preselected from the assessment), marked an
   emergency so the platform's first order is not held 12 hours; then submits it;
4. a supervisor of the same agency (not the author: four eyes) approves the order and
   sends it now through the portal channel (the browser's confirm dialogs accepted);
5. the testbed platform takes the item down (its control API), and the platform's
   liaison finds the order in the portal and confirms the removal (Annex II);
6. verification runs until the removal is confirmed. The shared server cannot reach this
   testbed, so "Check now" is not used (``test_check_now.py`` covers it):
   ``takedown.verification.service.verify_due`` runs in-process, as the machine's
   scheduler would, against the live server's database and the testbed. The
   first two runs use the wall clock (online, then the first ``removed``); the third runs
   on a clock six minutes ahead, past the policy's five-minute confirmation gap;
7. the operation's dashboard shows the confirmed removal, and the item's check timeline
   shows the checks.

The referral page also keeps the earlier loop's checks (item page links the referral and
the check timeline).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from takedown.kit.clock import Clock, FrozenClock, SystemClock
from takedown.platforms import service as platforms
from takedown.platforms.seed import ensure_seeded
from takedown.sim.harness import SimHandle, running_sim
from takedown.sim.reports import export_reports
from takedown.verification.engine import EngineConfig
from takedown.verification.service import verify_due
from tests.e2e.conftest import LiveServer, LiveUser, PageLog, save_screenshot
from tests.verification.simutil import sim_registry

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
#: Imports and logins (argon2) on a shared 2-core CI box can take longer than the default.
LOADED_BOX_MS = 30_000
ENGINE = EngineConfig(retries=2, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)
MINUTE = "%Y-%m-%dT%H:%M"  # a datetime-local input's value
JUSTIFICATION = "Synthetic stand-in for a designated group's call to attack (test content)."


@pytest.fixture
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:  # scenario time frozen: the testbed acts when told
        yield handle


@pytest.fixture
def http_errors() -> list[str]:
    return []


@pytest.fixture
def loop_page(browser, live_server: LiveServer, page_log: PageLog, http_errors: list[str]):  # type: ignore[no-untyped-def]
    """A page whose confirm dialogs are accepted (and recorded), like a user clicking OK;
    every 4xx/5xx answer the page gets is recorded in ``http_errors``."""
    context = browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 800}, locale="en-GB"
    )
    page = context.new_page()
    page.set_default_timeout(LOADED_BOX_MS)
    page.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )

    def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
        page_log.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.accept()

    page.on("dialog", on_dialog)
    page.on(
        "response",
        lambda r: (
            http_errors.append(f"{r.status} {r.request.method} {r.url}")
            if r.status >= 400
            else None
        ),
    )
    yield page
    context.close()


def _report_file(sim: SimHandle, out: Path) -> Path:
    sim.call(lambda: export_reports(sim.world, out))
    csvs = sorted(out.glob("*-report.csv"))
    assert csvs, sorted(p.name for p in out.iterdir())
    return csvs[0]


def _operation(page, live_server: LiveServer, lead: LiveUser, name: str) -> int:  # type: ignore[no-untyped-def]
    """The lead's supervisor creates the operation on its page and starts it (planned ->
    running) from its dashboard."""
    live_server.login(page, lead, next_path="/operations")
    page.get_by_role("link", name="New operation").click()
    page.wait_for_url(live_server.url("/operations/new"))
    now = dt.datetime.now(dt.UTC)
    form = page.get_by_test_id("operation-form")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Kind").select_option("action_day")
    form.get_by_label("Starts (UTC)").fill((now - dt.timedelta(minutes=5)).strftime(MINUTE))
    form.get_by_label("Ends (UTC)").fill((now + dt.timedelta(days=2)).strftime(MINUTE))
    form.get_by_label("Groups").fill("Synthetic Group A")
    form.get_by_label("Platforms").fill("x, telegram")
    form.get_by_label("Notes").fill("Synthetic action day for the loop test.")
    save_screenshot(page, "operation-new", full_page=True)
    form.get_by_role("button", name="Create operation").click()
    page.wait_for_url(re.compile(r".*/operations/\d+$"))
    op_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_role("heading", name=name).is_visible()
    assert "planned" in page.get_by_test_id("op-meta").inner_text()
    page.get_by_role("button", name="Start the operation (running)").click()
    page.get_by_text("The operation is now running.").wait_for()
    assert "running" in page.get_by_test_id("op-meta").inner_text()
    assert page.get_by_role("button", name="Close the operation").is_visible()  # the next step
    save_screenshot(page, "operation-manage", full_page=True)
    return op_id


def _verify(live_server: LiveServer, sim: SimHandle, clock: Clock, item_id: str) -> str:
    """One scheduler run; the outcome for ``item_id`` (other tests' items may be due too).

    Off this thread: sync Playwright keeps an event loop running here."""
    registry = sim_registry(sim)
    seen: dict[str, str] = {}
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            verify_due,
            live_server.factory,
            lambda: sim.client(per_host_limit=4),
            registry=registry,
            clock=clock,
            engine_config=ENGINE,
            on_result=lambda r: seen.__setitem__(str(r.key), r.outcome.value),
        ).result(timeout=120)
    assert item_id in seen, f"item {item_id} was not due: {seen}"
    return seen[item_id]


def _figure(page, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(page.locator(f'[data-figure="{name}"] dd').inner_text()).strip()


def test_issue_8_analyst_loop_to_a_confirmed_removal(  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    loop_page,
    page_log: PageLog,
    http_errors: list[str],
    sim: SimHandle,
    tmp_path: Path,
) -> None:
    page = loop_page
    report = _report_file(sim, tmp_path)
    lines = len(report.read_bytes().splitlines()) - 1  # the CSV header
    agency_id, _ = live_server.create_agency("Loop IRU", contact_point="desk@loop.example")
    analyst = live_server.create_user(role="analyst", agency_id=agency_id)
    supervisor = live_server.create_user(role="supervisor", agency_id=agency_id)
    x_agency, _ = live_server.create_agency(
        "X Trust & Safety (synthetic)", kind="platform", platform_slug="x", country="IE"
    )
    liaison = live_server.create_user(role="liaison", agency_id=x_agency)
    with live_server.session() as s:
        # The shared server may or may not hold the seeded registry (test_platforms seeds
        # it, where X delivers by e-mail): seed it here too, and send X's orders by portal.
        ensure_seeded(s)
        platforms.update(s, None, "x", {"delivery_channel": "portal"})
    op_name = "Loop action day (synthetic)"
    op_id = _operation(page, live_server, supervisor, op_name)

    # 1. Import the agency's report file into the operation.
    live_server.login(page, analyst, next_path="/intake")
    page.get_by_label("File").set_input_files(str(report))
    page.get_by_label("Add to operation").select_option(label=op_name)
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/intake/\d+$"))
    counts = page.get_by_test_id("import-counts").inner_text()
    assert f"Rows read\t{lines}" in counts or f"Rows read\n{lines}" in counts, counts
    assert page.get_by_test_id("import-errors").locator("tbody tr").count() >= 2  # malformed

    # 2. Triage: the operation's new X items, by keyboard, the first to its assessment form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    page.wait_for_url(live_server.url("/queue"))
    filters = page.get_by_role("search", name="Filter the queue")
    filters.get_by_label("Operation").select_option(label=op_name)
    filters.get_by_label("URL contains").fill("https://x.com/")
    filters.get_by_label("Status").select_option("new")
    filters.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*/queue\?.*operation=\d+"))
    assert page.get_by_test_id("queue-row").count() >= 1
    page.keyboard.press("j")
    item_id = page.locator("tr.is-focused").get_attribute("data-item-id")
    assert item_id
    url = page.locator("tr.is-focused code.url").inner_text()
    assert url in {i["url"] for i in sim.items(platform="x", alive=True)}  # up on the testbed
    page.keyboard.press("a")
    page.wait_for_url(live_server.url(f"/items/{item_id}#assess"))

    # 3. Assess.
    page.get_by_label("Verdict").select_option("terrorist_content")
    page.get_by_label("(a) incites the commission of terrorist offences").check()
    page.get_by_role("button", name="Save assessment").click()
    page.wait_for_url(live_server.url(f"/items/{item_id}"))
    assert "assessed" in page.get_by_test_id("item-identity").inner_text()

    # 4. Select it in the queue and refer it as a removal order; the form asks for more.
    page.goto(live_server.url(f"/queue?operation={op_id}&status=assessed"))
    row = page.locator(f'tr[data-item-id="{item_id}"]')
    page.keyboard.press("j")
    for _ in range(page.get_by_test_id("queue-row").count()):
        if page.locator("tr.is-focused").get_attribute("data-item-id") == item_id:
            break
        page.keyboard.press("j")
    page.keyboard.press("x")
    assert row.get_by_role("checkbox").is_checked()
    page.get_by_label("Referral kind").select_option("order")
    page.get_by_test_id("bulk-refer").click()
    page.wait_for_url(live_server.url("/referrals/new"))
    assert page.get_by_role("heading", name="New removal order").is_visible()
    assert "1 item(s) selected" in page.locator("main").inner_text()
    # The form comes first, nothing marked wrong before anything is typed (#13.6).
    assert page.locator("#f-justification-error").count() == 0
    assert page.get_by_role("checkbox", name=re.compile(r"^a\b|\(a\)")).first.is_checked()
    save_screenshot(page, "referral-new-order", full_page=True)
    page.get_by_label("Justification: required for a removal order").fill(JUSTIFICATION)
    page.get_by_label("Emergency removal order").check()
    page.get_by_role("button", name="Create draft batches").click()
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    batch_id = int(page.url.rsplit("/", 1)[1])
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith("Removal order "), heading
    reference = heading.removeprefix("Removal order ").strip()
    assert page.get_by_text("1 item(s) to send").is_visible()
    assert "portal" in page.locator("dl.facts").inner_text()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(live_server.url(f"/referrals/{batch_id}"))
    assert page.get_by_text("Submitted.").is_visible()
    assert "pending approval" in page.locator("dl.facts").inner_text()
    assert page.get_by_role("button", name="Approve the order").count() == 0  # the author

    # 5. The supervisor approves (four eyes) and sends it now by the portal.
    live_server.login(page, supervisor, next_path=f"/referrals/{batch_id}")
    page.get_by_role("button", name="Approve the order").click()
    page.get_by_text("Approved: the order is queued for delivery.").wait_for()
    assert "approved" in page.locator("dl.facts").inner_text()
    page.get_by_role("button", name="Send now").click()
    page.get_by_text("Sent and received by the platform").wait_for()
    assert "received" in page.get_by_test_id("delivery-attempt").inner_text()
    assert "Deadline" in page.locator("dl.facts").inner_text()  # the 1-hour clock runs
    assert page_log.dialogs == [
        "confirm: Approve and issue this removal order?",
        f"confirm: Send {reference} to x now by portal?",
    ]

    # The scheduler's first check: the item is still up.
    assert _verify(live_server, sim, SystemClock(), item_id) in {"online", "restricted"}

    # 6. The platform takes the item down; its liaison answers in the portal (Annex II).
    with sim.control() as ctl:
        r = ctl.post("/remove", json={"url": url, "reason": "tco-order"})
        assert r.status_code == 200, r.text
    assert url not in {i["url"] for i in sim.items(platform="x", alive=True)}
    live_server.login(page, liaison, next_path="/portal")
    assert page.get_by_role("heading", name="Platform portal").is_visible()
    page.get_by_role("link", name=reference).click()
    page.wait_for_url(live_server.url(f"/referrals/{batch_id}"))
    assert url in page.get_by_test_id("referral-item").inner_text()
    assert page.get_by_text("Cannot comply (Annex III)").is_visible()
    save_screenshot(page, "portal", full_page=True)  # the order, as the liaison answers it
    page.get_by_label("Select every unanswered item").check()
    assert page.get_by_label(f"Select item {item_id}").is_checked()
    page.get_by_role("button", name="Confirm removal of the selected items (Annex II)").click()
    page.get_by_text("Annex II (removed) recorded for 1 item(s).").wait_for()
    assert "Annex II: removed" in page.get_by_test_id("referral-item").inner_text()
    assert "1 of 1 item(s)" in page.get_by_test_id("answers-summary").inner_text()
    assert "closed" in page.locator("dl.facts").inner_text()

    # The dashboard waits for the checks: the platform's word alone is not a removal.
    live_server.login(page, supervisor, next_path=f"/operations/{op_id}")
    assert _figure(page, "referred") == "1"
    assert _figure(page, "claimed_removed") == "1"  # the platform's word, under its own name
    assert _figure(page, "confirmed_removed") == "0"
    chart = page.locator('figure[aria-label="State by platform"]').inner_html()
    assert "claimed removed (Annex II), not confirmed" in chart
    assert "confirmed removed (checks), still gone" not in chart

    # 7. Verification: a first "removed" now, the confirming one six minutes on.
    now = dt.datetime.now(dt.UTC)
    assert _verify(live_server, sim, SystemClock(), item_id) == "removed"
    assert _verify(live_server, sim, FrozenClock(now + dt.timedelta(minutes=6)), item_id) == (
        "removed"
    )

    # 8. The operation's dashboard shows the confirmed removal.
    page.reload()
    assert page.get_by_role("heading", name=op_name).is_visible()
    assert _figure(page, "referred") == "1"
    assert _figure(page, "confirmed_removed") == "1"
    assert _figure(page, "claimed_removed") == "1"
    assert _figure(page, "removed_share") != "0%"
    assert "x" in page.locator('table[data-table="time_to_removal_by_platform"]').inner_text()

    # The item page links the referral and the check timeline (the analyst's view).
    live_server.login(page, analyst, next_path=f"/items/{item_id}")
    assert reference in page.get_by_test_id("referrals").inner_text()
    page.get_by_role("link", name="Check timeline").click()
    page.wait_for_url(live_server.url(f"/verification/items/{item_id}"))
    outcomes = [c.split("\t")[1] for c in page.get_by_test_id("check-row").all_inner_texts()]
    # oldest first: the look just before sending (this server does not reach the testbed, so
    # it could not tell, and the order went out), the scheduler's first check, the two removals
    assert outcomes[0] == "unreachable" and outcomes[1] in {"online", "restricted"}
    assert outcomes[-2:] == ["removed", "removed"] and len(outcomes) == 4
    facts = page.locator("dl.facts").inner_text()
    assert re.search(r"Removal confirmed\s+\d{4}-\d{2}-\d{2}", facts), facts
    assert page_log.csp_violations == [], page_log.console_errors
    # No error answer anywhere: the order's form is shown before anything is asked (#13.6).
    assert http_errors == [], http_errors
