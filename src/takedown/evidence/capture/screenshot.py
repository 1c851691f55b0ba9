"""Full-page screenshots with Debian's Chromium driven by Playwright, never on the open network.

Why a route handler: the browser must obey the same SSRF guard, resolver map
and size limits as every other fetch. Every request the page makes is
intercepted and answered by ``fetch_exchange`` through the guarded client;
anything else is aborted. The browser is also pointed at a dead proxy, so a
request that somehow escapes interception (a WebSocket, say) goes nowhere.
JavaScript is off by default: captured pages are hostile, and the testbed's
pages, like most platforms' no-JS fallbacks, render server-side.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from takedown.config import Settings
from takedown.evidence.capture.fetch import Limits, fetch_exchange
from takedown.kit.clock import utcnow

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DEAD_PROXY = "http://127.0.0.1:9"
HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


def chromium_path() -> Path | None:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


class BrowserScreenshotter:
    name = "chromium"

    def __init__(
        self,
        browser: Any,
        client: httpx.AsyncClient,
        limits: Limits,
        *,
        javascript: bool = False,
        pages: int = 4,
    ) -> None:
        self.browser = browser
        self.client = client
        self.limits = limits
        self.javascript = javascript
        self.version = str(getattr(browser, "version", ""))
        self._sem = asyncio.Semaphore(pages)

    async def _route(self, route: Any, request: Any) -> None:
        url = str(request.url)
        if request.method != "GET" or not url.startswith(("http://", "https://")):
            await route.abort("blockedbyclient")
            return
        try:
            ex = await fetch_exchange(self.client, url, self.limits, now=utcnow())
        except Exception:
            await route.abort("blockedbyclient")
            return
        headers = {k: v for k, v in ex.response_headers if k.lower() not in HOP_HEADERS}
        await route.fulfill(status=ex.status, headers=headers, body=ex.body)

    async def shot(self, url: str) -> bytes:
        async with self._sem:
            context = await self.browser.new_context(
                java_script_enabled=self.javascript,
                service_workers="block",
                viewport={"width": 1280, "height": 900},
                accept_downloads=False,
            )
            try:
                await context.route("**/*", self._route)
                page = await context.new_page()
                timeout_ms = self.limits.page_deadline * 1000
                await page.goto(url, wait_until="load", timeout=timeout_ms)
                png: bytes = await page.screenshot(full_page=True, timeout=timeout_ms)
                return png
            finally:
                await context.close()


@asynccontextmanager
async def browser_screenshotter(
    settings: Settings, client: httpx.AsyncClient, *, limits: Limits, javascript: bool = False
) -> AsyncIterator[BrowserScreenshotter | None]:
    """Yield a screenshotter, or None when no Chromium is installed (a warning per capture)."""
    path = chromium_path()
    if path is None:
        yield None
        return
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(path),
            args=LAUNCH_ARGS,
            headless=True,
            proxy={"server": DEAD_PROXY},
        )
        try:
            yield BrowserScreenshotter(browser, client, limits, javascript=javascript)
        finally:
            await browser.close()
