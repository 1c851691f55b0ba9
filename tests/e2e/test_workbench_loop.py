"""The analyst's loop on the testbed's small scenario, in a real browser: import an
agency's report file (messy URLs, malformed lines) through the intake page, triage by
keyboard, assess, and take the assessed item through the referral steps that have pages.

The batch is drafted through the API with the browser's own session (the queue's
"Refer selected" posts to ``/referrals/new``, which the referrals pages provide).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from takedown.sim.reports import export_reports
from takedown.sim.scenario import load_scenario, resolve_scenario_path
from takedown.sim.world import World
from tests.e2e.conftest import LiveServer, PageLog

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
#: Imports and logins (argon2) on a shared 2-core CI box can take longer than the default.
LOADED_BOX_MS = 30_000


def _report_file(out: Path) -> Path:
    export_reports(World(load_scenario(resolve_scenario_path("small"))), out)
    csvs = sorted(out.glob("*-report.csv"))
    assert csvs, sorted(p.name for p in out.iterdir())
    return csvs[0]


def test_small_scenario_import_triage_assess_refer(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog, tmp_path: Path
) -> None:
    page = browser_page
    page.set_default_timeout(LOADED_BOX_MS)
    report = _report_file(tmp_path)
    lines = len(report.read_bytes().splitlines()) - 1  # the CSV header
    agency_id, _ = live_server.create_agency("Loop IRU", contact_point="desk@loop.example")
    analyst = live_server.create_user(role="analyst", agency_id=agency_id)

    # 1. Import the agency's report file.
    live_server.login(page, analyst, next_path="/intake")
    page.get_by_label("File").set_input_files(str(report))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(re.compile(r".*/intake/\d+$"))
    counts = page.get_by_test_id("import-counts").inner_text()
    assert f"Rows read\t{lines}" in counts or f"Rows read\n{lines}" in counts, counts
    assert page.get_by_test_id("import-errors").locator("tbody tr").count() >= 2  # malformed

    # 2. Triage: the first item of the queue, by keyboard, to its assessment form.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    page.wait_for_url(live_server.url("/queue"))
    page.keyboard.press("j")
    item_id = page.locator("tr.is-focused").get_attribute("data-item-id")
    assert item_id
    page.keyboard.press("a")
    page.wait_for_url(live_server.url(f"/items/{item_id}#assess"))

    # 3. Assess.
    page.get_by_label("Verdict").select_option("terrorist_content")
    page.get_by_label("(a) incites the commission of terrorist offences").check()
    page.get_by_role("button", name="Save assessment").click()
    page.wait_for_url(live_server.url(f"/items/{item_id}"))
    assert "assessed" in page.get_by_test_id("item-identity").inner_text()

    # 4. Refer: a draft ToS batch with the browser's session, then submit it on its page.
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    r = page.request.post(
        live_server.url("/api/v1/referrals"),
        data={"item_ids": [int(item_id)], "kind": "tos", "channel": "portal"},
        headers={"X-CSRF-Token": token or ""},
    )
    assert r.status == 201, r.text()
    batch = r.json()[0]
    page.goto(live_server.url(f"/referrals/{batch['id']}"))
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(live_server.url(f"/referrals/{batch['id']}"))
    assert page.get_by_text("Submitted.").is_visible()

    # 5. The item page links the referral and the check timeline.
    page.goto(live_server.url(f"/items/{item_id}"))
    assert batch["reference"] in page.get_by_test_id("referrals").inner_text()
    page.get_by_role("link", name="Check timeline").click()
    page.wait_for_url(live_server.url(f"/verification/items/{item_id}"))
    assert page_log.csp_violations == [] and page_log.dialogs == []
