"""The dashboard and a report page in Debian's chromium; saves the README's screenshots.

Skips without /usr/bin/chromium on a laptop; fails under CI=true (see tests/e2e).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.migrate import upgrade
from tests.e2e.conftest import (
    CHROMIUM_ARGS,
    IN_CI,
    PASSWORD,
    ROOT,
    _free_port,
    chromium_path,
    save_screenshot,
)
from tests.operations.factories import Seeded, seed_operation

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    chromium_path()
    data_dir = tmp_path_factory.mktemp("ops-var")
    engine = make_engine(f"sqlite:///{data_dir / 'takedown.sqlite3'}")
    upgrade(engine)
    with session_scope(make_sessionmaker(engine)) as s:
        seeded = seed_operation(s, random.Random(2019), n=400)
        seeded.op.name = "Synthetic action day (demo data)"
        seeded.lead.agency.name = "IRU-FR (synthetic)"  # stable names for the screenshots
        seeded.other.agency.name = "IRU-DE (synthetic)"
        s.flush()
        _ = (seeded.lead.user.email, seeded.op.id)  # loaded before the session closes
    port = _free_port()
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(data_dir),
        "TAKEDOWN_SECRET_KEY": "e2e-secret",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("TAKEDOWN_DATABASE_URL", None)
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "tests.operations.server:build_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a loaded CI box starts uvicorn slowly
        while True:
            if proc.poll() is not None:
                pytest.fail((data_dir / "server.log").read_text(), pytrace=False)
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not start", pytrace=False)
            time.sleep(0.1)
        yield base, seeded
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        engine.dispose()


@pytest.fixture(scope="module")
def page(server: tuple[str, Seeded]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    base, seeded = server
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    except Exception as exc:
        pw.stop()
        if IN_CI:
            pytest.fail(f"chromium did not start: {exc}", pytrace=False)
        pytest.skip(f"chromium did not start: {exc}")
    ctx = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(base + "/login?next=/operations")
    pg.get_by_label("E-mail address").fill(seeded.lead.user.email)
    pg.get_by_label("Password").fill(PASSWORD)
    pg.get_by_role("button", name="Log in").click()
    pg.wait_for_url(base + "/operations")
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    ctx.close()
    browser.close()
    pw.stop()


def test_dashboard(page, server) -> None:  # type: ignore[no-untyped-def]
    base, seeded = server
    page.get_by_role("link", name=seeded.op.name).click()
    page.wait_for_url(f"{base}/operations/{seeded.op.id}")
    live = page.get_by_test_id("op-live")
    assert live.is_visible()
    assert page.locator("svg[role=img]").count() >= 5
    items = page.locator('[data-figure="items"] dd').inner_text()
    assert items == "400"
    # the platform's word and the checks' confirmation, each under its own name
    assert page.locator('[data-figure="claimed_removed"] dt').inner_text() == (
        "Claimed removed (Annex II)"
    )
    assert page.locator('[data-figure="confirmed_removed"] dt').inner_text() == (
        "Confirmed removed (checks)"
    )
    assert page.locator('figure[aria-label="State by platform"]').is_visible()
    # htmx polls the live block (every 15 s) and swaps it in place, under the CSP
    with page.expect_response(
        lambda r: r.url.endswith(f"/operations/{seeded.op.id}/live"), timeout=25_000
    ) as resp:
        pass
    assert resp.value.status == 200
    page.wait_for_timeout(300)
    assert page.locator('[data-figure="items"] dd').inner_text() == "400"
    save_screenshot(page, "dashboard", full_page=True)
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors


def test_report_page(page, server) -> None:  # type: ignore[no-untyped-def]
    base, seeded = server
    page.goto(f"{base}/operations/{seeded.op.id}/report?final=true")
    assert page.get_by_test_id("report-stamp").inner_text().startswith("Final report")
    assert page.locator("#appendix-h").is_visible()
    save_screenshot(page, "report")  # the top of the page: stamp, key figures, charts
    assert not [e for e in page.errors if "Content Security Policy" in e], page.errors
