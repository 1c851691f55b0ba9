"""Capture many pages concurrently: page, redirects, media, text, screenshot, WARC.

Pure of the database: it takes ``CaptureJob``s and returns ``CaptureOutput``s
(bytes plus facts), so the service can run the network part outside any
transaction and the benchmark can drive it alone. Every failure becomes an
output with ``failure`` set; nothing here raises for a hostile page.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from takedown import __version__
from takedown.evidence.capture import htmltext, sniff
from takedown.evidence.capture.fetch import CaptureFailed, Exchange, Limits, fetch_exchange
from takedown.evidence.capture.warc import build_warc
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import TakedownError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
TOOL = "takedown-evidence"


class Screenshotter(Protocol):
    name: str
    version: str

    async def shot(self, url: str) -> bytes: ...


@dataclass(frozen=True)
class CaptureJob:
    key: int  # the capture row's id (or any caller key)
    url: str
    canonical_url: str = ""
    with_screenshot: bool = False
    logged_in: bool = False


@dataclass(frozen=True)
class CapturedFile:
    name: str
    role: str
    data: bytes
    media_type: str
    source_url: str | None = None


@dataclass
class CaptureOutput:
    key: int
    url: str
    captured_at: dt.datetime
    files: list[CapturedFile] = field(default_factory=list)
    failure: tuple[str, str] | None = None  # (code, reason)
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    title: str | None = None
    text: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    redirect_chain: list[dict[str, Any]] = field(default_factory=list)
    tls: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    tool: dict[str, str] = field(default_factory=dict)
    access_context: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failure is None


def _safe_name(url: str, index: int, media_type: str) -> str:
    base = urlsplit(url).path.rsplit("/", 1)[-1] or "file"
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:80].strip("._") or "file"
    if "." not in base:
        ext = {
            "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
            "image/webp": ".webp", "video/mp4": ".mp4", "video/webm": ".webm",
        }.get(media_type, "")  # fmt: skip
        base += ext
    return f"media/{index:02d}-{base}"


def _failure(exc: BaseException, url: str) -> tuple[str, str]:
    if isinstance(exc, CaptureFailed):
        return exc.code, exc.detail
    if isinstance(exc, TakedownError):  # BlockedDestination, PayloadTooLarge...
        code = "blocked" if exc.type_slug == "blocked-destination" else exc.type_slug
        return code, exc.detail if url in exc.detail else f"{url}: {exc.detail}"
    if isinstance(exc, TimeoutError):
        return "deadline", f"{url}: no complete answer within the capture deadline"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"{url}: timed out ({type(exc).__name__})"
    if isinstance(exc, httpx.HTTPError):
        return "network", f"{url}: {type(exc).__name__}: {exc}"
    return "error", f"{url}: unexpected {type(exc).__name__}: {exc}"


class CaptureEngine:
    """Shared client, limits and (optional) screenshotter for a batch of captures."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        limits: Limits | None = None,
        concurrency: int = 64,
        screenshotter: Screenshotter | None = None,
        clock: Clock | None = None,
        access_context: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.limits = limits or Limits()
        self.concurrency = concurrency
        self.screenshotter = screenshotter
        self.clock = clock or SystemClock()
        self.access_context = access_context or {}

    async def capture_many(self, jobs: Sequence[CaptureJob]) -> list[CaptureOutput]:
        sem = asyncio.Semaphore(self.concurrency)

        async def one(job: CaptureJob) -> CaptureOutput:
            async with sem:
                return await self.capture(job)

        return list(await asyncio.gather(*(one(j) for j in jobs)))

    def _now(self) -> dt.datetime:
        return self.clock.now()

    async def _follow(
        self, url: str, out: CaptureOutput, *, max_body: int | None = None
    ) -> list[Exchange]:
        chain: list[Exchange] = []
        seen: set[str] = set()
        current = url
        for _hop in range(self.limits.max_redirects + 1):
            ex = await fetch_exchange(
                self.client,
                current,
                self.limits,
                max_body=max_body,
                now=self._now(),
                connection_facts=max_body is None,  # TLS and peer address: for the page only
            )
            chain.append(ex)
            location = ex.header("location")
            if ex.status in REDIRECTS and location:
                seen.add(ex.url)
                current = urljoin(ex.url, location.strip())
                if urlsplit(current).scheme not in ("http", "https"):
                    raise CaptureFailed("bad_redirect", f"{ex.url}: redirect to {current!r}")
                if current in seen and len(chain) > self.limits.max_redirects // 2:
                    raise CaptureFailed(
                        "redirect_loop", f"{url}: redirect loop after {len(chain)} hops"
                    )
                continue
            return chain
        raise CaptureFailed(
            "too_many_redirects",
            f"{url}: more than {self.limits.max_redirects} redirects; capture stopped",
        )

    async def capture(self, job: CaptureJob) -> CaptureOutput:
        out = CaptureOutput(key=job.key, url=job.url, captured_at=self._now())
        out.tool = {"name": TOOL, "version": __version__, "httpx": httpx.__version__}
        out.access_context = {
            **self.access_context,
            "logged_in": job.logged_in,
            "user_agent": self.client.headers.get("user-agent", ""),
            "tor": urlsplit(job.url).hostname is not None
            and str(urlsplit(job.url).hostname).endswith(".onion"),
        }
        exchanges: list[Exchange] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.page_deadline
        try:
            async with asyncio.timeout_at(deadline):
                exchanges = await self._follow(job.url, out)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            out.failure = _failure(exc, job.url)
            return out
        page = exchanges[-1]
        out.final_url = page.url
        out.http_status = page.status
        out.content_type = page.content_type or None
        out.response_headers = page.response_headers
        out.tls = next((e.tls for e in exchanges if e.tls), None)
        out.redirect_chain = [{"url": e.url, "status": e.status} for e in exchanges]
        if not page.decoded:
            out.warnings.append(
                f"{page.url}: Content-Encoding {page.header('content-encoding')!r} not decoded; "
                "the WARC holds the body as received"
            )
        mismatch = sniff.check_declared(page.url, page.content_type, page.body)
        declared = sniff.main_type(page.content_type)
        is_html = mismatch is None and (
            declared in ("text/html", "application/xhtml+xml")
            or (not declared and sniff.looks_html(page.body))
        )
        media_urls: list[tuple[str, str]] = []
        if mismatch is not None:
            out.failure = mismatch
        elif is_html:
            facts = htmltext.extract(
                page.body.decode(sniff.charset(page.content_type), errors="replace"),
                page.url,
                max_media=self.limits.max_media,
            )
            out.title = facts.title or None
            out.text = facts.text
            media_urls = facts.media
        elif declared.startswith(("text/", "application/json")):
            out.text = page.body.decode(sniff.charset(page.content_type), errors="replace")
        elif page.body and 200 <= page.status < 300:
            mtype = declared or (sniff.magic(page.body) or ("application/octet-stream", ""))[0]
            out.files.append(
                CapturedFile(_safe_name(page.url, 1, mtype), "media", page.body, mtype, page.url)
            )
        if media_urls:
            media_ex = await self._media(media_urls, out, deadline)
            exchanges.extend(media_ex)
        screenshot: tuple[str, bytes, dt.datetime] | None = None
        if job.with_screenshot and out.failure is None:
            screenshot = await self._screenshot(page.url, out, deadline)
        info: dict[str, Any] = {
            "capture_id": job.key,
            "url_reported": job.url,
            "url_canonical": job.canonical_url,
            "captured_at": out.captured_at.isoformat(),
            "access_context": out.access_context,
        }
        warc = build_warc(
            exchanges, software=f"{TOOL}/{__version__} warcio", info=info, screenshot=screenshot
        )
        out.files.insert(0, CapturedFile("capture.warc.gz", "warc", warc, "application/warc"))
        if out.text:
            out.files.append(
                CapturedFile(
                    "text.txt", "text", out.text.encode("utf-8"), "text/plain; charset=utf-8"
                )
            )
        if screenshot is not None:
            out.files.append(
                CapturedFile("screenshot.png", "screenshot", screenshot[1], "image/png")
            )
        return out

    async def _media(
        self, urls: list[tuple[str, str]], out: CaptureOutput, deadline: float
    ) -> list[Exchange]:
        sem = asyncio.Semaphore(4)
        results: list[tuple[int, list[Exchange], str | None]] = []

        async def one(i: int, url: str) -> None:
            async with sem:
                try:
                    async with asyncio.timeout_at(deadline):
                        chain = await self._follow(url, out, max_body=self.limits.max_media_bytes)
                    results.append((i, chain, None))
                except Exception as exc:
                    results.append((i, [], _failure(exc, url)[1]))

        await asyncio.gather(*(one(i, u) for i, (u, _how) in enumerate(urls, start=1)))
        exchanges: list[Exchange] = []
        for i, chain, problem in sorted(results, key=lambda r: r[0]):
            if problem is not None:
                out.warnings.append(f"media not captured: {problem}")
                continue
            exchanges.extend(chain)
            last = chain[-1]
            if not (200 <= last.status < 300) or not last.body:
                out.warnings.append(f"media not captured: {last.url} answered {last.status}")
                continue
            declared = sniff.main_type(last.content_type)
            real = sniff.magic(last.body)
            mtype = real[0] if real else (declared or "application/octet-stream")
            if declared.startswith(("image/", "video/")) and sniff.looks_html(last.body):
                out.warnings.append(f"media not captured: {last.url} is HTML, not {declared}")
                continue
            out.files.append(
                CapturedFile(_safe_name(last.url, i, mtype), "media", last.body, mtype, last.url)
            )
        return exchanges

    async def _screenshot(
        self, url: str, out: CaptureOutput, deadline: float
    ) -> tuple[str, bytes, dt.datetime] | None:
        if self.screenshotter is None:
            out.warnings.append("screenshot requested but no browser is available")
            return None
        try:
            async with asyncio.timeout_at(deadline):
                png = await self.screenshotter.shot(url)
        except Exception as exc:
            out.warnings.append(f"screenshot failed: {_failure(exc, url)[1]}")
            return None
        out.tool["browser"] = f"{self.screenshotter.name} {self.screenshotter.version}"
        return url, png, self._now()
