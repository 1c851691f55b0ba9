"""Every request a crawl makes: the injected client, the shared host budget, the limits.

Why one place: a hostile source must end its own crawl with a reason, never
stall the others or the worker. So every request here takes a slot from the
host's budget, reads at most ``max_bytes``, counts against the crawl's request
and time budget, and turns what can go wrong into a ``CrawlStop`` with a
sentence an analyst can read: a private address, a redirect loop, a page too
large, a host that keeps answering 429.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from takedown.kit.backends import is_onion
from takedown.kit.errors import PayloadTooLarge
from takedown.kit.http import read_limited_sync
from takedown.kit.politeness import HostBudget
from takedown.kit.ssrf import BlockedDestination
from takedown.monitoring.base import CrawlStop, Limits
from takedown.monitoring.models import CrawlResult


@dataclass(slots=True)
class Fetched:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass(slots=True)
class Fetcher:
    client: httpx.Client
    budget: HostBudget
    limits: Limits = field(default_factory=Limits)
    monotonic: Callable[[], float] = time.monotonic
    requests: int = 0
    started: float | None = None
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if self.started is None:
            self.started = self.monotonic()

    def _check_budget(self, url: str) -> None:
        if self.requests >= self.limits.max_requests:
            raise CrawlStop(
                CrawlResult.PARTIAL.value,
                f"request limit reached ({self.limits.max_requests} requests in one crawl)",
            )
        assert self.started is not None
        if self.monotonic() - self.started > self.limits.max_seconds:
            raise CrawlStop(
                CrawlResult.PARTIAL.value,
                f"time limit reached ({self.limits.max_seconds:g} s for one crawl)",
            )

    def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int | None = None,
        onion_only: bool = False,
    ) -> Fetched:
        """GET ``url``; 304 and error statuses are returned, failures become ``CrawlStop``."""
        req_url = httpx.URL(url)
        host = req_url.host.lower()
        if onion_only and not is_onion(host):
            raise CrawlStop(CrawlResult.ERROR.value, f"{host}: not an .onion host (Tor only)")
        limit = max_bytes or self.limits.max_bytes
        attempts_429 = 0
        while True:
            self._check_budget(url)
            paused = self.budget.paused_for(host)
            if paused > self.limits.max_retry_after:
                # Another crawl or the checker was told to wait: a worker never sleeps it out.
                self.retry_after = paused
                raise CrawlStop(
                    CrawlResult.PARTIAL.value,
                    f"deferred: {host} asked everyone to wait {paused:.0f} s (Retry-After)",
                    retry_after=paused,
                )
            try:
                response, body = self._send(url, headers, limit, onion_only)
            except BlockedDestination as exc:
                raise CrawlStop(CrawlResult.ERROR.value, f"blocked destination: {exc}") from None
            except httpx.TooManyRedirects:
                raise CrawlStop(
                    CrawlResult.ERROR.value, f"redirect loop (too many redirects) at {url}"
                ) from None
            except PayloadTooLarge:
                raise CrawlStop(
                    CrawlResult.ERROR.value, f"response larger than {limit} bytes at {url}"
                ) from None
            except httpx.TimeoutException:
                raise CrawlStop(CrawlResult.ERROR.value, f"timed out fetching {url}") from None
            except httpx.HTTPError as exc:
                raise CrawlStop(
                    CrawlResult.ERROR.value, f"{type(exc).__name__} fetching {url}: {exc}"
                ) from None
            if response.status_code == 429:
                wait = _retry_after(response.headers.get("retry-after"))
                self.retry_after = wait
                if wait is not None:
                    self.budget.pause(host, wait)
                if (
                    wait is None
                    or wait > self.limits.max_retry_after
                    or attempts_429 >= self.limits.retries_429
                ):
                    said = f"Retry-After {wait:g} s" if wait is not None else "no Retry-After"
                    raise CrawlStop(
                        CrawlResult.ERROR.value,
                        f"rate limited: {host} answered 429 ({said}); crawl ends, resumes later",
                        status=429,
                        retry_after=wait,
                    )
                attempts_429 += 1
                continue
            return Fetched(str(response.url), response.status_code, response.headers, body)

    def _send(
        self, url: str, headers: Mapping[str, str] | None, limit: int, onion_only: bool
    ) -> tuple[httpx.Response, bytes]:
        """Send, following redirects by hand: every hop takes its host's slot from the budget
        and holds the host until its answer is read (a redirect followed inside the
        client would reach the host again at once, outside the budget; a slow answer
        would overlap the next thread's request), and on ``.onion`` every hop must stay
        on ``.onion``, or it would leave Tor."""
        max_hops = MAX_ONION_REDIRECTS if onion_only else MAX_REDIRECTS
        for hop in range(max_hops + 1):
            if hop:
                self._check_budget(url)
            self.requests += 1
            with self.budget.slot(httpx.URL(url).host.lower()):
                response, body = _send_one(self.client, url, headers, limit, False)
            if not response.is_redirect or "location" not in response.headers:
                return response, body
            nxt = response.url.join(response.headers["location"])
            if onion_only and not is_onion(nxt.host.lower()):
                raise CrawlStop(
                    CrawlResult.ERROR.value,
                    f"{url}: redirected off .onion to {nxt.host}; not followed (Tor only)",
                )
            url = str(nxt)
        raise httpx.TooManyRedirects("too many redirects", request=response.request)


MAX_REDIRECTS = 10
MAX_ONION_REDIRECTS = 5


def _send_one(
    client: httpx.Client, url: str, headers: Mapping[str, str] | None, limit: int, follow: bool
) -> tuple[httpx.Response, bytes]:
    request = client.build_request("GET", url, headers=dict(headers or {}))
    response = client.send(request, stream=True, follow_redirects=follow)
    try:
        body = read_limited_sync(response, limit)
    finally:
        response.close()
    return response, body


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import datetime as dt
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
