"""The item page is no longer blind (#13.5), in a real browser, against the testbed.

An analyst opens an item nobody has captured, clicks "Capture now", and without leaving
the page sees the capture arrive (the embedded job pool runs ``evidence.capture`` as
``takedown serve`` would; htmx polls the panel): the post's title and text, and its photo
as a blurred thumbnail that "Show content" reveals. The queue's search then finds the item
by a word of its captured text that is not in its URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import service as items
from takedown.kit.ssrf import format_resolve
from takedown.platforms.seed import ensure_seeded
from takedown.sim.harness import SimHandle, running_sim
from tests.e2e.conftest import LiveServer, PageLog, save_screenshot, serve

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
LOADED_BOX_MS = 60_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        yield handle


@pytest.fixture(scope="module")
def sim_server(sim: SimHandle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {"TAKEDOWN_RESOLVE": format_resolve(sim.resolve), "TAKEDOWN_TOR_PROXY": sim.tor_proxy}
    if sim.ca_path:
        env["TAKEDOWN_CA_BUNDLE"] = sim.ca_path
    with serve(tmp_path_factory.mktemp("e2e-item-capture"), env) as server:
        yield server


@pytest.fixture
def page(browser, sim_server: LiveServer, page_log: PageLog):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=sim_server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    p = context.new_page()
    p.set_default_timeout(LOADED_BOX_MS)
    p.on(
        "console",
        lambda msg: page_log.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    yield p
    context.close()


def test_capture_now_shows_the_text_and_a_blurred_thumbnail(  # type: ignore[no-untyped-def]
    sim_server: LiveServer, sim: SimHandle, page, page_log: PageLog
) -> None:
    agency_id, _ = sim_server.create_agency("Capture IRU")
    analyst = sim_server.create_user(role="analyst", agency_id=agency_id)
    post = next(
        p for p in sim.items(platform="x", kind="post", alive=True) if p["media"]
    )  # a post with a photo
    with sim_server.session() as s:
        ensure_seeded(s)
        principal = Principal(analyst.id, analyst.agency_id, Role.ANALYST, via="session")
        item, _ = items.report_url(s, principal, post["url"])
        item_id = item.id

    sim_server.login(page, analyst, next_path=f"/items/{item_id}")
    panel = page.get_by_test_id("latest-capture")
    assert "No capture by your agency yet." in panel.inner_text()
    panel.get_by_role("button", name="Capture now").click()
    page.get_by_test_id("capture-excerpt").wait_for()  # htmx polled until the capture was in
    assert page.url == sim_server.url(f"/items/{item_id}")  # the page never left
    panel = page.get_by_test_id("latest-capture")
    excerpt = panel.get_by_test_id("capture-excerpt").inner_text()
    assert len(excerpt) > 20, excerpt
    assert "HTTP 200" in panel.get_by_test_id("latest-capture-facts").inner_text()
    thumb = panel.get_by_test_id("capture-thumb")
    img = thumb.locator("img.ev-blur")
    img.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert "blur" in img.evaluate("el => getComputedStyle(el).filter")
    save_screenshot(page, "item-latest-capture")
    panel.get_by_role("button", name="Show content").click()
    page.wait_for_function(  # a 0.2 s transition
        "el => getComputedStyle(el).filter === 'none'", arg=img.element_handle()
    )
    assert panel.get_by_role("button", name="Blur content").get_attribute("aria-pressed") == "true"

    # a word of the captured text that is not in the URL finds the item in the queue
    words = [w.strip(".,:;!?\"'()[]").lower() for w in excerpt.split()]
    word = next(w for w in words if len(w) >= 5 and w.isalpha() and w not in post["url"].lower())
    page.goto(sim_server.url(f"/queue?q={word}"))
    assert page.locator(f'a[href="/items/{item_id}"]').count() >= 1
    assert page_log.csp_violations == [], page_log.console_errors
