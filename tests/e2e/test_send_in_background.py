"""The "Send now" button answers at once and shows the delivery's progress (#13.19).

The item lives on a slow site (a loopback server that takes a few seconds per request,
reached through the resolver map as ``slow.test``), so sending, which captures the page
and looks at it once more before delivering, takes several seconds, as it does against
real platforms. The batch page comes back at once with "Sending…", polls, and reloads by
itself when the send has ended: the batch is sent, its attempt listed, and the outcome said.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import service as items
from takedown.kit.ssrf import format_resolve
from takedown.platforms.seed import ensure_seeded
from takedown.referrals import service as referrals
from tests.e2e.conftest import LiveServer, PageLog, save_screenshot, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SLOW_SECONDS = 3.0
LOADED_BOX_MS = 90_000


class _Slow(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        time.sleep(SLOW_SECONDS)
        body = b"<html><head><title>Synthetic slow page</title></head><body><p>Synthetic.</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def slow_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def slow_server(slow_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TAKEDOWN_RESOLVE": format_resolve({"slow.test": f"127.0.0.1:{slow_port}"})}
    with serve(tmp_path_factory.mktemp("e2e-send"), env) as server:
        yield server


@pytest.fixture
def page(browser, slow_server: LiveServer, page_log: PageLog):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=slow_server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    p = context.new_page()
    p.set_default_timeout(LOADED_BOX_MS)
    p.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    p.on("dialog", lambda d: d.accept())  # "Send … now?": the user clicks OK
    yield p
    context.close()


def test_send_now_shows_sending_then_the_result(  # type: ignore[no-untyped-def]
    slow_server: LiveServer, page, page_log: PageLog
) -> None:
    agency_id, _ = slow_server.create_agency("Send IRU")
    analyst = slow_server.create_user(role="analyst", agency_id=agency_id)
    with slow_server.session() as s:
        ensure_seeded(s)
        principal = Principal(analyst.id, analyst.agency_id, Role.ANALYST, via="session")
        item, _ = items.report_url(s, principal, "http://slow.test/synthetic/statement")
        items.assess(s, principal, item.id, "terrorist_content", ["a"])
        [res] = referrals.create_batches(s, principal, item_ids=[item.id], kind="tos")
        referrals.submit(s, principal, res.referral.id)
        rid = res.referral.id

    slow_server.login(page, analyst, next_path=f"/referrals/{rid}")
    page.get_by_role("button", name="Send now").click()
    page.wait_for_url(slow_server.url(f"/referrals/{rid}"))
    state = page.get_by_test_id("send-state")
    assert "Sending…" in state.inner_text()  # the page came back while the send runs
    assert page.get_by_role("button", name="Send now").count() == 0  # not twice
    assert "Sending in the background" in page.locator("main").inner_text()
    save_screenshot(page, "referral-sending")

    # htmx polls the state and reloads the page once the send has ended
    outcome = page.get_by_test_id("send-outcome")
    outcome.wait_for()
    assert "Sent and received by the platform" in outcome.inner_text()
    assert page.get_by_test_id("delivery-attempt").count() == 1
    assert "delivered after 1 attempt" in page.get_by_test_id("delivery-status").inner_text()
    assert "Sending…" not in page.locator("main").inner_text()
    assert page_log.csp_violations == [], page_log.console_errors
