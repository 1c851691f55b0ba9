"""The analyst's workbench in a real browser: import a URL list, triage the queue by
keyboard, assess an item; another agency gets a 404 on it; a hostile item renders inert.
Saves docs/screenshots/intake.png, queue.png and item.png."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import service as items
from takedown.matching.models import Bank, MatchResult, Signal
from tests.e2e.conftest import LiveServer, LiveUser, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
#: Imports and logins (argon2) on a shared 2-core CI box can take longer than the default.
LOADED_BOX_MS = 30_000

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


def _principal(user: LiveUser) -> Principal:
    return Principal(user.id, user.agency_id, Role(user.role), via="session", email=user.email)


def _match(s: Session, agency_id: int, item_id: int) -> None:
    """A hash match attached to the item, as the matching hook leaves it (synthetic labels)."""
    labels = {"group": "Synthetic Front", "outlet": "Synthetic Outlet Media", "tco_category": "a"}
    bank = Bank(agency_id=agency_id, name="Synthetic known content")
    s.add(bank)
    s.flush()
    sig = Signal(bank_id=bank.id, signal_type="pdq", value="f" * 64, digest="f" * 64, labels=labels)
    s.add(sig)
    s.flush()
    s.add(
        MatchResult(
            item_id=item_id,
            agency_id=agency_id,
            signal_id=sig.id,
            bank_id=bank.id,
            signal_type="pdq",
            distance=6,
            details={"labels": labels, "bank": bank.name, "tlp": "AMBER"},
        )
    )


def test_intake_queue_keyboard_and_assess(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    page = browser_page
    page.set_default_timeout(LOADED_BOX_MS)
    agency_id, _ = live_server.create_agency(
        "Workbench IRU", contact_point="desk@workbench.example"
    )
    analyst = live_server.create_user(role="analyst", agency_id=agency_id)
    intruder = live_server.create_user(role="analyst")
    with live_server.session() as s:
        hostile, _ = items.report_url(
            s,
            _principal(analyst),
            "https://example.com/<script>alert(3)</script>/page",
            title=XSS,
            note=XSS,
        )
        hostile_id = hostile.id
        rich, _ = items.report_url(
            s,
            _principal(analyst),
            "https://x.com/synthetic_outlet_news/status/424242",
            title="The synthetic outlet announces a new series of videos for its supporters",
            note="Seen in a public channel during the monitoring shift.",
        )
        rich_id = rich.id
        _match(s, agency_id, rich_id)

    # Intake: paste a URL list (one bad line, one duplicate) and import it.
    live_server.login(page, analyst, next_path="/intake")
    urls = [
        "https://x.com/synthetic_e2e_one/status/7001",
        "https://t.me/s/synthetic_e2e_channel",
        "this is not a url",
        "https://www.youtube.com/watch?v=SynthE2E_01",
        "https://x.com/synthetic_e2e_one/status/7001?s=20",
    ]
    page.get_by_label("Paste URLs").fill("\n".join(urls))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/intake/\d+$"))
    counts = page.get_by_test_id("import-counts").inner_text()
    assert "New items\n3" in counts or "New items\t3" in counts, counts
    errors = page.get_by_test_id("import-errors")
    assert errors.get_by_role("cell", name="3", exact=True).is_visible()
    assert "invalid URL" in errors.inner_text()
    assert "synthetic_e2e_one" in page.get_by_test_id("import-folded").inner_text()
    save_screenshot(page, "intake", full_page=True)

    # Queue: j/k move the focus, x selects, a opens the item at its assessment form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    page.wait_for_url(live_server.url("/queue"))
    rows = page.get_by_test_id("queue-row")
    assert rows.count() == 5
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    focused = page.locator("tr.is-focused")
    assert focused.count() == 1
    second = rows.nth(1).get_attribute("data-item-id")
    assert focused.get_attribute("data-item-id") == second
    page.keyboard.press("x")
    assert rows.nth(1).locator('input[name="item_ids"]').is_checked()
    save_screenshot(page, "queue")
    page.keyboard.press("a")
    page.wait_for_url(live_server.url(f"/items/{second}#assess"))
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "f-verdict"

    # Assess: the server's message appears beside the field, then the assessment saves.
    page.get_by_label("Verdict").select_option("terrorist_content")
    page.get_by_role("button", name="Save assessment").click()
    assert "at least one category" in page.locator("#f-categories-error").inner_text()
    page.get_by_label("(a) incites the commission of terrorist offences").check()
    page.get_by_role("textbox", name="Group").fill("Synthetic Front")
    page.get_by_role("button", name="Save assessment").click()
    page.wait_for_url(live_server.url(f"/items/{second}"))
    assert page.get_by_text("Assessment saved.").is_visible()
    assert "assessed" in page.get_by_test_id("item-identity").inner_text()
    assert "Synthetic Front" in page.get_by_test_id("assessments").inner_text()

    # An item with a hash match and a title: the suggestions fill the form.
    page.goto(live_server.url(f"/items/{rich_id}"))
    suggestion = page.get_by_test_id("suggestion").inner_text()
    assert "Synthetic Front" in suggestion and "en" in suggestion
    assert page.get_by_role("textbox", name="Outlet").input_value() == "Synthetic Outlet Media"
    save_screenshot(page, "item", full_page=True)

    # h asks for the reason, then holds the focused item from the queue (#13.15).
    page.get_by_role("link", name="‹ Queue").click()
    page.wait_for_url(live_server.url("/queue"))
    page.keyboard.press("j")
    held = page.locator("tr.is-focused").get_attribute("data-item-id")
    page.keyboard.press("h")
    dialog = page.get_by_test_id("hold-dialog")
    assert dialog.is_visible() and f"Hold item {held}" in dialog.inner_text()
    page.keyboard.press("Escape")  # Esc closes it; nothing is held
    assert not dialog.is_visible()
    page.keyboard.press("h")
    page.keyboard.press("Enter")  # no reason: the browser keeps the dialog open
    assert dialog.is_visible()
    page.keyboard.type("checking with partner agency")
    save_screenshot(page, "queue-hold")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("Put a hold on 1 item.").is_visible()
    assert page.locator(f'tr[data-item-id="{held}"] .badge-hold').is_visible()

    # r and "Refer selected" post to the referrals' /referrals/new (stubbed here: this
    # test checks what the queue sends, the referrals tests what that page does with it).
    sent: list[str] = []

    def stub(route) -> None:  # type: ignore[no-untyped-def]
        sent.append(route.request.post_data or "")
        route.fulfill(status=200, content_type="text/html", body="<p>stub</p>")

    page.route("**/referrals/new", stub)
    page.get_by_label("Referral kind").select_option("order")
    page.get_by_role("heading", name="Queue").click()  # out of the select: keys reach the rows
    page.keyboard.press("j")
    focused_id = page.locator("tr.is-focused").get_attribute("data-item-id")
    with page.expect_navigation():
        page.keyboard.press("r")
    assert f"item_ids={focused_id}" in sent[-1] and "kind=order" in sent[-1]
    assert "csrf_token=" in sent[-1] and "csrf_token=&" not in sent[-1]
    page.goto(live_server.url("/queue"))
    page.get_by_label(f"Select item {focused_id}").check()
    page.get_by_label(f"Select item {held}").check()
    page.get_by_role("button", name="Refer selected").click()
    page.wait_for_url(live_server.url("/referrals/new"))
    assert f"item_ids={focused_id}" in sent[-1] and f"item_ids={held}" in sent[-1]
    assert "kind=tos" in sent[-1]
    page.unroute("**/referrals/new")

    # The hostile item: its title and URL are text, nothing runs.
    page.goto(live_server.url(f"/items/{hostile_id}"))
    assert page.get_by_test_id("item-title").inner_text() == XSS
    assert page.locator("main img").count() == 0
    page.goto(live_server.url("/queue"))
    assert page.get_by_text(XSS).count() >= 1 and page.locator("main img").count() == 0

    assert page_log.csp_violations == [] and page_log.dialogs == []

    # Another agency opening the item's URL: not found.
    live_server.login(page, intruder, next_path="/")
    response = page.goto(live_server.url(f"/items/{second}"))
    assert response is not None and response.status == 404
    assert "Synthetic Front" not in page.content()


def test_large_upload_imports_in_the_background(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog, tmp_path
) -> None:
    page = browser_page
    page.set_default_timeout(LOADED_BOX_MS)
    analyst = live_server.create_user(role="analyst")
    big = tmp_path / "big-list.txt"
    big.write_text(
        "\n".join(f"https://x.com/synthetic_bulk_{i}/status/{90_000_000 + i}" for i in range(8000))
    )
    assert big.stat().st_size > 256 * 1024  # above the inline limit: a background run
    live_server.login(page, analyst, next_path="/intake")
    page.get_by_label("File").set_input_files(str(big))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/intake/runs/[\w-]+$"))
    assert page.get_by_role("heading", name="Importing big-list.txt").is_visible()
    # htmx polls the progress fragment until the run is finished, then links the result.
    page.get_by_role("link", name="See the result").click(timeout=60_000)
    page.wait_for_url(re.compile(r".*/intake/\d+$"))
    assert "8000" in page.get_by_test_id("import-counts").inner_text()
    assert page_log.csp_violations == [] and page_log.dialogs == []
