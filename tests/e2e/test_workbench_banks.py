"""The analyst's workbench in a real browser: banks and an upload, the match review queue,
a referral batch made from a selection and sent, and a forced password change.

Saves docs/screenshots/banks.png, bank.png, matches.png and referral-batch.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from takedown.accounts import service as accounts
from takedown.accounts.principal import Principal
from tests.e2e.conftest import PASSWORD, LiveServer, LiveUser, PageLog, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CSV = (
    "signal_type,value,group,outlet,tco_category\n"
    f"sha256,{'1f' * 32},Synthetic Front,Synthetic Media Wing,a\n"
    f"md5,{'2e' * 16},Synthetic Front,,b\n"
    f"pdq,{'3d' * 32},Example Brigade,Example Outlet,c\n"
    "sha256,this-is-not-a-hash,Synthetic Front,,a\n"
)


def _principal(s, user: LiveUser) -> Principal:  # type: ignore[no-untyped-def]
    row = accounts.get_user(s, user.id)
    return accounts.principal_for(row, accounts.get_agency(s, user.agency_id), via="session")


def _arrange_matches(live_server: LiveServer, analyst: LiveUser, bank_id: int) -> None:
    """Two items of the analyst's agency matched signals of the bank (as the capture hook does)."""
    from takedown.items import service as items
    from takedown.matching import repository, service
    from takedown.matching.models import MatchResult
    from takedown.matching.schemas import Labels, SignalIn

    with live_server.session() as s:
        p = _principal(s, analyst)
        for n, (group, distance) in enumerate([("Synthetic Front", 4), ("Example Brigade", 27)]):
            sig = service.add_signal(
                s, accounts.SYSTEM, bank_id,
                SignalIn(signal_type="pdq", value=f"{n + 10:02x}" * 32, source="partner list",
                         labels=Labels(group=group, content_type="image")),
            )  # fmt: skip
            item, _ = items.report_url(s, p, f"https://x.com/e2e_match_{n}/status/{880_000 + n}")
            repository.add(
                s,
                MatchResult(
                    item_id=item.id, agency_id=analyst.agency_id, signal_id=sig.id,
                    bank_id=bank_id, signal_type="pdq", distance=distance,
                    variant="original" if n == 0 else "band", media_sha256="ab" * 32,
                    details={"labels": dict(sig.labels)},
                ),
            )  # fmt: skip


def _arrange_items(live_server: LiveServer, analyst: LiveUser) -> list[int]:
    from takedown.items import service as items
    from tests.referrals.factories import ensure_platform

    with live_server.session() as s:
        ensure_platform(s, "x")
        p = _principal(s, analyst)
        ids = []
        for n in range(3):
            item, _ = items.report_url(s, p, f"https://x.com/e2e_batch_{n}/status/{770_000 + n}")
            items.assess(s, p, item.id, "terrorist_content", ["a"])
            ids.append(item.id)
        return ids


def test_banks_matches_batch_and_password(  # type: ignore[no-untyped-def]
    live_server: LiveServer, browser_page, page_log: PageLog
) -> None:
    page = browser_page
    agency_id, _ = live_server.create_agency("Banks Workbench IRU", contact_point="iru@wb.example")
    sup = live_server.create_user(role="supervisor", agency_id=agency_id, display_name="Sam Sup")
    analyst = live_server.create_user(role="analyst", agency_id=agency_id, display_name="Ana")

    # Banks: create one through the form (an error first, beside its field), then upload.
    live_server.login(page, sup, next_path="/banks")
    page.get_by_role("button", name="Create bank").click()
    assert "Give the bank a name" in page.locator("#f-name-error").inner_text()
    page.get_by_label("Name").fill("Synthetic propaganda posters")
    page.get_by_label("TLP 2.0 marking").select_option("AMBER")
    page.get_by_label("Description").fill("Posters of a synthetic group, for the demo.")
    page.get_by_role("button", name="Create bank").click()
    page.wait_for_url(re.compile(r".*/banks/\d+$"))
    bank_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_test_id("bank-tlp").inner_text().startswith("TLP:AMBER")
    page.get_by_label("Format").select_option("csv")
    page.get_by_label("Hash-list file").set_input_files(
        files=[{"name": "partner-list.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload").click()
    report = page.get_by_test_id("import-report")
    report.wait_for()
    assert "3 added" in report.inner_text() and "Row 5" in report.inner_text()
    expect(page.get_by_test_id("signal-row")).to_have_count(3)
    page.get_by_role("button", name="Disable signal").first.click()
    page.get_by_text(re.compile(r"Signal \d+ disabled\.")).wait_for()
    expect(page.get_by_test_id("signal-count")).to_have_text("2")
    # Pictures hashed and added on the page (#13.9): every hash of the poster is a signal.
    from tests.matching import media

    page.get_by_label("Files").set_input_files(
        files=[{"name": "poster.jpg", "mimeType": "image/jpeg", "buffer": media.poster(88)}]
    )
    page.get_by_label("Group (label)").fill("Synthetic Front")
    page.get_by_role("button", name="Hash and add").click()
    added = page.get_by_test_id("media-report")
    added.wait_for()
    assert "poster.jpg:" in added.inner_text() and "signal(s) added" in added.inner_text()
    assert int(page.get_by_test_id("signal-count").inner_text()) >= 5
    save_screenshot(page, "bank", full_page=True)
    with live_server.session() as s:
        from takedown.matching import service as matching
        from takedown.matching.schemas import BankCreate

        matching.create_bank(s, _principal(s, sup), BankCreate(
            name="Known logos (allow-list)", kind="allow", tlp="GREEN"))  # type: ignore[arg-type]  # fmt: skip
        matching.create_bank(s, _principal(s, sup), BankCreate(
            name="Partner case file", tlp="RED"))  # fmt: skip
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Banks").click()
    page.wait_for_url(live_server.url("/banks"))
    expect(page.get_by_test_id("bank-row")).to_have_count(3)
    assert page.get_by_role("note", name="Traffic Light Protocol marking").first.inner_text() \
        .startswith("TLP:RED")  # fmt: skip
    save_screenshot(page, "banks")

    # Matches awaiting review: the analyst rejects a false positive and confirms the other.
    _arrange_matches(live_server, analyst, bank_id)
    live_server.login(page, analyst, next_path="/matches")
    rows = page.get_by_test_id("match-row")
    expect(rows).to_have_count(2)
    assert "group: Synthetic Front" in page.locator("main").inner_text()
    save_screenshot(page, "matches")
    brigade = rows.filter(has_text="Example Brigade")
    brigade.get_by_label(re.compile("Note on match")).fill("different poster, same layout")
    brigade.get_by_role("button", name=re.compile("^Reject")).click()
    page.get_by_text(re.compile(r"Match \d+ rejected\.")).wait_for()
    expect(page.get_by_test_id("match-row")).to_have_count(1)
    page.get_by_test_id("match-row").get_by_role("button", name=re.compile("^Confirm")).click()
    page.get_by_text(re.compile(r"Match \d+ confirmed\.")).wait_for()
    assert page.get_by_text("No matches awaiting review.").is_visible()

    # A batch from a selection (as the queue posts it), submitted, then sent now.
    ids = _arrange_items(live_server, analyst)
    page.evaluate(
        """(ids) => {
            const f = document.createElement('form');
            f.method = 'post'; f.action = '/referrals/new';
            const add = (n, v) => { const i = document.createElement('input');
              i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i); };
            add('csrf_token', document.querySelector('meta[name=csrf-token]').content);
            add('kind', 'tos');
            ids.forEach((id) => add('item_ids', String(id)));
            document.body.appendChild(f); f.submit();
        }""",
        ids,
    )
    page.wait_for_url(re.compile(r".*/referrals/\d+$"))
    assert page.get_by_text("3 item(s) to send").is_visible()
    assert page.get_by_test_id("document-preview").is_visible()
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Submitted.").wait_for()
    # Send now (its confirm dialog is the browser's; submit the form itself).
    page.locator('form[action$="/deliver"]').evaluate("f => f.submit()")
    page.get_by_text("Sent and received by the platform").wait_for()
    expect(page.get_by_test_id("delivery-attempt")).to_have_count(1)
    assert "received" in page.get_by_test_id("delivery-attempt").inner_text()
    expect(page.locator('form[action$="/deliver"]')).to_have_count(0)
    save_screenshot(page, "referral-batch", full_page=True)
    page.get_by_test_id("document-preview").click()
    page.wait_for_url(re.compile(r".*/referrals/\d+/document$"))
    assert "x.com/e2e_batch_0" in page.content()

    # A user set up by an administrator must choose their own password first.
    newbie = live_server.create_user(role="analyst", agency_id=agency_id)
    with live_server.session() as s:
        accounts.get_user(s, newbie.id).must_change_password = True
    page.context.clear_cookies()
    page.goto(live_server.url("/login"))
    page.get_by_label("E-mail address").fill(newbie.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url("/account/password"))
    page.goto(live_server.url("/banks"))
    assert page.url == live_server.url("/account/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("Repeat the new password").fill("a different passphrase")
    page.get_by_role("button", name="Change password").click()
    assert "does not match" in page.locator("#f-repeat_password-error").inner_text()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("Repeat the new password").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    # Two argon2 operations on a busy CI machine: allow more than the default 10 s.
    page.wait_for_url(live_server.url("/"), timeout=30_000)
    assert page.get_by_text("Your password has been changed.").is_visible()
    page.goto(live_server.url("/banks"))
    assert page.url == live_server.url("/banks")

    assert page_log.csp_violations == []
