"""The checker engine: many URLs, checked fast and politely, never guessed.

Why per-host worker pools instead of one global pool: with one pool, a slow
or rate-limited host would hold every worker and starve the others. Here
each host gets at most ``per_host_limit`` workers pulling from its own queue,
and a global semaphore bounds the total. A host that answers 429 is paused
for its ``Retry-After`` (all its workers wait); a Retry-After longer than
``max_retry_after`` ends the check as ``unreachable`` with the delay
recorded, so the schedule comes back later instead of a worker sleeping.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from takedown.kit.clock import Clock, SystemClock
from takedown.kit.politeness import HostBudget
from takedown.kit.ssrf import BlockedDestination
from takedown.platforms.detectors.base import FetchError, Observation, Outcome, Probe
from takedown.platforms.detectors.registry import DetectorRegistry, default_registry

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class EngineConfig:
    global_limit: int = 256
    per_host_limit: int = 16
    per_host_rate: float = 0.0  # requests per second per host; 0 = no pacing
    retries: int = 3  # extra attempts after the first, for unreachable answers
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.5  # +- this fraction of each backoff
    max_retry_after: float = 60.0
    max_body_bytes: int = 256 * 1024


@dataclass(frozen=True, slots=True)
class CheckTarget:
    key: int | str
    url: str


@dataclass(slots=True)
class CheckResult:
    key: int | str
    url: str
    outcome: Outcome
    reason: str
    detector: str
    checked_at: dt.datetime
    status: int | None = None
    probe_url: str = ""
    final_url: str | None = None
    attempts: int = 1
    elapsed_ms: int = 0
    retry_after: float | None = None  # seconds the host asked us to wait, when it did


@dataclass(slots=True)
class _Host:
    queue: deque[CheckTarget] = field(default_factory=deque)
    paused_until: float = 0.0
    next_slot: float = 0.0


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _error_kind(exc: BaseException) -> FetchError:
    if isinstance(exc, BlockedDestination):
        return FetchError.BLOCKED
    if isinstance(exc, httpx.TimeoutException):
        return FetchError.TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        return FetchError.CONNECT
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return FetchError.DROPPED
    return FetchError.OTHER


def _is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return ct.startswith("text/") or "json" in ct or "xml" in ct or ct == ""


class PerHostClients:
    """One guarded client (so one connection pool) per host, built by an injected factory.

    Why: httpcore's pool re-scans every queued request against every
    connection on each event, which grows with the square of the requests in
    flight; one pool serving 300 concurrent requests to 20 hosts spent most
    of its time there. Pools of ``per_host_limit`` connections each keep that
    scan tiny, and each host's keep-alive connections stay its own.
    """

    def __init__(self, factory: Callable[[], httpx.AsyncClient]) -> None:
        self._factory = factory
        self._clients: dict[str, httpx.AsyncClient] = {}

    def for_host(self, host: str) -> httpx.AsyncClient:
        c = self._clients.get(host)
        if c is None:
            c = self._clients[host] = self._factory()
        return c

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for c in clients:
            await c.aclose()

    async def __aenter__(self) -> PerHostClients:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class Checker:
    """Checks URLs with an injected client; detectors decide what each answer means."""

    def __init__(
        self,
        client: httpx.AsyncClient | PerHostClients,
        *,
        registry: DetectorRegistry | None = None,
        config: EngineConfig | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        budget: HostBudget | None = None,
    ) -> None:
        self.client = client
        # The per-host budget shared with monitoring (kit.politeness): its pauses and pace
        # apply on top of this engine's own per-host pacing.
        self.budget = budget
        self.registry = registry or default_registry()
        self.config = config or EngineConfig()
        self.clock = clock or SystemClock()
        self._sleep = sleep
        self._rng = rng or random.Random()  # jitter only: no security use
        self._global = asyncio.Semaphore(self.config.global_limit)
        self._hosts: dict[str, _Host] = {}

    # --- one exchange ----------------------------------------------------------------

    def _client(self, host: str) -> httpx.AsyncClient:
        if isinstance(self.client, PerHostClients):
            return self.client.for_host(host)
        return self.client

    async def _fetch(self, url: str, probe: Probe, host: str = "") -> Observation:
        client = self._client(host)
        try:
            req = client.build_request(probe.method, probe.url, headers=probe.headers)
            resp = await client.send(req, stream=True)
        except Exception as exc:
            return Observation(
                url, probe.url, error=_error_kind(exc), error_detail=type(exc).__name__
            )
        try:
            buf = bytearray()
            ctype = resp.headers.get("content-type", "")
            if probe.method != "HEAD" and _is_text(ctype):
                async for chunk in resp.aiter_bytes():
                    buf += chunk
                    if len(buf) >= self.config.max_body_bytes:
                        break
        except Exception as exc:
            return Observation(
                url,
                probe.url,
                status=None,
                error=_error_kind(exc),
                error_detail=f"reading body: {type(exc).__name__}",
            )
        finally:
            await resp.aclose()
        body = bytes(buf[: self.config.max_body_bytes]).decode(
            resp.encoding or "utf-8", errors="replace"
        )
        return Observation(
            url,
            probe.url,
            status=resp.status_code,
            final_url=str(resp.url),
            headers={k.lower(): v for k, v in resp.headers.items()},
            body=body,
        )

    def _host(self, name: str) -> _Host:
        h = self._hosts.get(name)
        if h is None:
            h = self._hosts[name] = _Host()
        return h

    async def _polite_wait(self, host: _Host) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            wait = host.paused_until - now
            rate = self.config.per_host_rate
            if wait <= 0 and rate > 0:
                slot = max(now, host.next_slot)
                host.next_slot = slot + 1.0 / rate
                wait = slot - now
                if wait > 0:
                    await self._sleep(wait)
                return
            if wait <= 0:
                return
            await self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        c = self.config
        base = min(c.backoff_max, c.backoff_base * float(2 ** (attempt - 1)))
        return max(0.0, base * (1 + c.jitter * (2 * self._rng.random() - 1)))

    async def check(self, target: CheckTarget) -> CheckResult:
        """Check one URL, with retries; the outcome is the detector's, never a guess."""
        detector = self.registry.for_url(target.url)
        probe = detector.probe(target.url)
        hostname = (urlsplit(probe.url).hostname or "").lower()
        host = self._host(hostname)
        started_at = self.clock.now()
        t0 = time.perf_counter()
        attempts = 0
        retry_after: float | None = None
        while True:
            attempts += 1
            if self.budget is not None:
                await self.budget.acquire_async(hostname)
            await self._polite_wait(host)
            async with self._global:
                obs = await self._fetch(target.url, probe, hostname)
            verdict = detector.classify(obs)
            retry_after = None
            if obs.status == 429 or (obs.status in (503,) and "retry-after" in obs.headers):
                retry_after = parse_retry_after(obs.headers.get("retry-after"), self.clock.now())
                if retry_after is not None and self.budget is not None:
                    self.budget.pause(hostname, retry_after)
            retryable = verdict.outcome is Outcome.UNREACHABLE and (
                obs.error in (FetchError.TIMEOUT, FetchError.CONNECT, FetchError.DROPPED)
                or obs.status in RETRYABLE_STATUS
            )
            if not retryable or attempts > self.config.retries:
                break
            if retry_after is not None:
                if retry_after > self.config.max_retry_after:
                    break  # honour it by not asking again in this run
                loop = asyncio.get_running_loop()
                host.paused_until = max(host.paused_until, loop.time() + retry_after)
                continue
            await self._sleep(self._backoff(attempts))
        return CheckResult(
            key=target.key,
            url=target.url,
            outcome=verdict.outcome,
            reason=verdict.reason,
            detector=detector.name,
            checked_at=started_at,
            status=obs.status,
            probe_url=probe.url,
            final_url=obs.final_url,
            attempts=attempts,
            elapsed_ms=int((time.perf_counter() - t0) * 1000),
            retry_after=retry_after,
        )

    # --- many ------------------------------------------------------------------------

    async def stream(self, targets: Iterable[CheckTarget]) -> AsyncIterator[CheckResult]:
        """Yield results as they finish; per-host queues, bounded workers."""
        by_host: dict[str, _Host] = {}
        total = 0
        for t in targets:
            probe = self.registry.for_url(t.url).probe(t.url)
            name = (urlsplit(probe.url).hostname or "").lower()
            self._host(name).queue.append(t)
            by_host[name] = self._hosts[name]
            total += 1
        if total == 0:
            return
        out: asyncio.Queue[CheckResult | BaseException] = asyncio.Queue(
            maxsize=self.config.global_limit * 2
        )

        async def worker(host: _Host) -> None:
            while host.queue:
                target = host.queue.popleft()
                try:
                    await out.put(await self.check(target))
                except Exception as exc:  # a bug must surface, not lose the check silently
                    await out.put(exc)

        # The busiest host is the critical path: its workers start (and queue for the global
        # semaphore) first, so a crowd of small hosts cannot hold it back.
        tasks = [
            asyncio.create_task(worker(h))
            for h in sorted(by_host.values(), key=lambda h: -len(h.queue))
            for _ in range(min(self.config.per_host_limit, len(h.queue)))
        ]
        try:
            for _ in range(total):
                item = await out.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def run(
        self,
        targets: Iterable[CheckTarget],
        on_result: Callable[[CheckResult], None] | None = None,
    ) -> list[CheckResult]:
        results: list[CheckResult] = []
        async for r in self.stream(targets):
            if on_result is not None:
                on_result(r)
            results.append(r)
        return results
