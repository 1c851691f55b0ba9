"""Opening a capture in a real browser contacts nobody (issue 19, point 4).

A raw TCP listener on a loopback ephemeral port plays the page's owner: it
serves the synthetic pages while they are captured (through the resolver map,
as ``leak.test``), then its count of accepted connections is reset and must
stay at zero while Chromium opens ``/evidence/{id}`` with the capture in its
sandboxed frame. Chromium resolves ``leak.test`` to that listener too
(``--host-resolver-rules``), so a lookup followed by a preconnect, a prefetch
or a fetch would all land there. One case per element kind of
``tests/evidence/leaky_html.py``; the frame's DOM, as Chromium parsed it, must
hold no reference to the host either.

Before the rewrite (the page served as captured, CSP only) the iframe case
connected to the listener, as the issue reported, and every case failed the DOM check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from typing import Any

import pytest

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.evidence.capture.fetch import Limits
from takedown.evidence.capturing import capture_items
from takedown.evidence.models import EvidenceFile
from takedown.evidence.storage import store_for_settings
from takedown.items.models import Item, Sighting
from tests.e2e.conftest import CHROMIUM_ARGS, IN_CI, LiveServer, LiveUser, chromium_path
from tests.e2e.conftest import save_screenshot as _save
from tests.evidence.hostile import png_bytes
from tests.evidence.leaky_html import KINDS, page
from tests.evidence.test_safe_html import assert_no_reference

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

HOST = "leak.test"
HELD_PAGE = "held-media"


@dataclass
class Owner:
    """The page's owner: serves the captures, then counts who comes back."""

    server: ThreadingHTTPServer
    accepted: list[tuple[str, int]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.server.server_address[1]}"

    def reset(self) -> None:
        self.accepted.clear()
        self.requests.clear()


def _owner() -> Owner:
    owner: Owner

    class Handler(BaseHTTPRequestHandler):
        timeout = 2  # a bare preconnect sends nothing: do not hold a thread for long

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            owner.requests.append(self.path)
            name = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
            if self.path.startswith("/page/") and name in KINDS:
                body, ctype = page(name, owner.origin).encode(), "text/html; charset=utf-8"
            elif self.path == f"/page/{HELD_PAGE}":
                body, ctype = _held_page(owner.origin).encode(), "text/html; charset=utf-8"
            elif self.path == "/media/held.png":
                body, ctype = png_bytes((20, 120, 200), 96), "image/png"
            elif self.path == "/media/moved.png":
                self.send_response(302)
                self.send_header("Location", "/media/held.png")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                body, ctype = b"not here", "text/plain"
                self.send_response(404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class CountingServer(ThreadingHTTPServer):
        daemon_threads = True

        def get_request(self) -> tuple[socket, Any]:
            conn, addr = super().get_request()
            owner.accepted.append(addr)  # every TCP connection, even one that sends nothing
            return conn, addr

    owner = Owner(CountingServer(("127.0.0.1", 0), Handler))
    return owner


def _held_page(origin: str) -> str:
    return (
        "<!doctype html><html><head><title>Synthetic held media</title>"
        "<style>body{font-family:sans-serif;color:#223} h1{color:#a33}</style></head><body>"
        "<h1>Synthetic page: held media</h1>"
        "<p>Invented text for tests, no real content.</p>"
        f'<img id="held" src="{origin}/media/held.png" alt="held image">'
        f'<img id="moved" src="/media/moved.png" alt="redirected image">'
        f'<img id="missing" src="{origin}/media/never-captured.png" alt="missing image">'
        f'<iframe src="{origin}/iframe"></iframe><p><a href="{origin}/elsewhere">a link</a></p>'
        "</body></html>"
    )


@pytest.fixture(scope="module")
def owner() -> Iterator[Owner]:
    o = _owner()
    t = threading.Thread(target=o.server.serve_forever, daemon=True)
    t.start()
    yield o
    o.server.shutdown()
    o.server.server_close()


@pytest.fixture(scope="module")
def leak_browser(owner: Owner) -> Iterator[Any]:
    """Chromium that resolves leak.test to the listener: a lookup and a connect would land."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {HOST} 127.0.0.1"],
        )
    except Exception as exc:
        pw.stop()
        if IN_CI:
            pytest.fail(f"chromium did not start: {exc}", pytrace=False)
        pytest.skip(f"chromium did not start: {exc}")
    yield b
    b.close()
    pw.stop()


@dataclass(frozen=True)
class Captured:
    analyst: LiveUser
    capture_ids: dict[str, int]


@pytest.fixture(scope="module")
def captured(live_server: LiveServer, owner: Owner) -> Captured:
    """One capture per kind (and the held-media page), taken once for the module."""
    analyst = live_server.create_user(role="analyst")
    principal = Principal(
        user_id=analyst.id, agency_id=analyst.agency_id, role=Role.ANALYST, via="session"
    )
    settings = Settings(
        data_dir=live_server.data_dir,
        resolve={HOST: f"127.0.0.1:{owner.server.server_address[1]}"},
        secret_key="e2e-secret-key",
    )
    names = [*sorted(KINDS), HELD_PAGE]
    items: dict[str, int] = {}
    now = dt.datetime.now(dt.UTC)
    with live_server.session() as s:
        for name in names:
            url = f"{owner.origin}/page/{name}"
            # Straight rows: the test host has no public suffix, and canonicalisation is
            # not what is under test here.
            item = Item(
                identity=f"web:{url}",
                platform="web",
                kind="page",
                key=url,
                canonical_url=url,
                fetch_url=url,
                first_seen_at=now,
                last_seen_at=now,
            )
            s.add(item)
            s.flush()
            s.add(
                Sighting(
                    item_id=item.id,
                    agency_id=analyst.agency_id,
                    reported_url=url,
                    reported_at=now,
                )
            )
            items[name] = item.id
    limits = Limits(page_deadline=10.0, read_timeout=5.0)
    summaries = capture_items(
        live_server.factory,
        principal,
        [items[n] for n in names],
        settings=settings,
        limits=limits,
        defer_hooks=True,
    )
    by_item = {s.item_id: s for s in summaries}
    ids = {}
    for name in names:
        summary = by_item[items[name]]
        assert summary.status == "complete" and summary.capture_id, summary
        ids[name] = summary.capture_id
    return Captured(analyst, ids)


@pytest.fixture(scope="module")
def analyst_context(
    live_server: LiveServer, leak_browser: Any, captured: Captured
) -> Iterator[Any]:
    """One logged-in browser context for the module (a login per case costs seconds)."""
    context = leak_browser.new_context(
        base_url=live_server.base_url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    live_server.login(pg, captured.analyst)
    pg.close()
    yield context
    context.close()


def _open_capture(live_server: LiveServer, context: Any, capture_id: int) -> Any:
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    pg.goto(live_server.url(f"/evidence/{capture_id}"))
    pg.frame_locator("iframe.ev-frame").locator("body").wait_for(state="attached")
    pg.wait_for_load_state("networkidle")
    return pg


def _frame_dom(pg: Any) -> str:
    frames = [f for f in pg.frames if "/evidence-view/" in f.url]
    assert len(frames) == 1, [f.url for f in pg.frames]
    return str(frames[0].content())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_opening_a_capture_contacts_nobody(
    kind: str, live_server: LiveServer, analyst_context: Any, owner: Owner, captured: Captured
) -> None:
    owner.reset()
    pg = _open_capture(live_server, analyst_context, captured.capture_ids[kind])
    try:
        dom = _frame_dom(pg)
        assert owner.accepted == [], f"{kind}: the browser connected to the page's owner"
        port = str(owner.server.server_address[1])
        assert_no_reference(dom, mark=HOST)
        assert_no_reference(dom, mark=f":{port}")
    finally:
        pg.close()
    assert owner.accepted == [] and owner.requests == []


def test_held_media_comes_from_our_store_and_the_original_is_untouched(
    live_server: LiveServer, analyst_context: Any, owner: Owner, captured: Captured
) -> None:
    cap_id = captured.capture_ids[HELD_PAGE]
    settings = Settings(data_dir=live_server.data_dir, secret_key="e2e-secret-key")
    store = store_for_settings(settings)
    with live_server.session() as s:
        files = s.query(EvidenceFile).filter(EvidenceFile.capture_id == cap_id).all()
        originals = {
            f.name: (f.sha256, hashlib.sha256(store.get(f.sha256)).hexdigest()) for f in files
        }
    warc = next(n for n in originals if n.endswith(".warc.gz"))
    assert originals[warc][0] == originals[warc][1]

    owner.reset()
    pg = _open_capture(live_server, analyst_context, cap_id)
    try:
        frame = next(f for f in pg.frames if "/evidence-view/" in f.url)
        widths = frame.evaluate(
            "Object.fromEntries([...document.images].map(i => [i.id, i.naturalWidth]))"
        )
        srcs = frame.evaluate("Object.fromEntries([...document.images].map(i => [i.id, i.src]))")
        assert widths["held"] == 96 and widths["moved"] == 96, widths  # from our store
        assert "/evidence-view/" in srcs["held"] and "/evidence-view/" in srcs["moved"]
        assert srcs["missing"].startswith("data:image/svg+xml") and widths["missing"] > 0
        note = pg.get_by_test_id("safe-view-note")
        assert "safe rendering" in note.inner_text() and originals[warc][0] in note.inner_text()
        pg.get_by_role("button", name="Show content").click()
        pg.locator(".ev-revealed").wait_for()
        from playwright.sync_api import expect

        expect(pg.locator(".ev-frame-wrap")).to_have_css("filter", "none")  # fades in 0.2 s
        _save(pg, "evidence-safe-view", full_page=True)
        assert owner.accepted == []
    finally:
        pg.close()

    with live_server.session() as s:
        after = s.query(EvidenceFile).filter(EvidenceFile.capture_id == cap_id).all()
        assert {f.name: f.sha256 for f in after} == {n: v[0] for n, v in originals.items()}
        for f in after:  # the bytes still hash to what the manifest says: nothing rewritten
            assert hashlib.sha256(store.get(f.sha256)).hexdigest() == f.sha256
