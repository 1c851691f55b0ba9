"""The checker engine with a mock transport: limits, Retry-After, retries, SSRF guard."""

from __future__ import annotations

import asyncio
import collections

import httpx

from takedown.kit.http import make_client
from takedown.platforms.detectors.base import Outcome
from takedown.verification.engine import Checker, CheckTarget, EngineConfig, parse_retry_after

FAST = EngineConfig(retries=2, backoff_base=0.0, jitter=0.0)


def run(handler, urls, config=FAST):  # type: ignore[no-untyped-def]
    async def go():  # type: ignore[no-untyped-def]
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await Checker(client, config=config).run(
                [CheckTarget(i, u) for i, u in enumerate(urls)]
            )

    return sorted(asyncio.run(go()), key=lambda r: r.key)


def test_per_host_and_global_limits_are_never_exceeded() -> None:
    active: collections.Counter[str] = collections.Counter()
    peak: collections.Counter[str] = collections.Counter()
    total = {"now": 0, "peak": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        active[host] += 1
        total["now"] += 1
        peak[host] = max(peak[host], active[host])
        total["peak"] = max(total["peak"], total["now"])
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        active[host] -= 1
        total["now"] -= 1
        return httpx.Response(200, text="ok")

    urls = [f"https://h{i % 5}.example/p{i}" for i in range(200)]
    cfg = EngineConfig(global_limit=8, per_host_limit=3)
    results = run(handler, urls, cfg)
    assert len(results) == 200 and {r.outcome for r in results} == {Outcome.ONLINE}
    assert max(peak.values()) <= 3 and total["peak"] <= 8
    assert max(peak.values()) == 3  # the limits are used, not just respected


def test_5xx_is_retried_then_unreachable_never_removed() -> None:
    calls = collections.Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        calls[str(request.url)] += 1
        return httpx.Response(503)

    [r] = run(handler, ["https://a.example/gone"])
    assert r.outcome is Outcome.UNREACHABLE and r.attempts == 3 == calls["https://a.example/gone"]


def test_retry_after_pauses_the_host_and_then_succeeds() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if len(seen) == 1:
            return httpx.Response(429, headers={"Retry-After": "0"})
        return httpx.Response(404)

    [r] = run(handler, ["https://a.example/x"])
    assert r.outcome is Outcome.REMOVED and r.attempts == 2


def test_long_retry_after_ends_the_check_with_the_delay_recorded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "600"})

    [r] = run(handler, ["https://a.example/x"], EngineConfig(max_retry_after=5))
    assert r.outcome is Outcome.UNREACHABLE and r.retry_after == 600 and r.attempts == 1


def test_timeouts_and_resets_are_unreachable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("slow", request=request)
        raise httpx.RemoteProtocolError("reset", request=request)

    results = run(handler, ["https://a.example/slow", "https://a.example/reset"])
    assert [r.outcome for r in results] == [Outcome.UNREACHABLE, Outcome.UNREACHABLE]
    assert "timeout" in results[0].reason and "dropped" in results[1].reason


def test_ssrf_guard_refuses_private_targets_without_calling_them() -> None:
    async def go():  # type: ignore[no-untyped-def]
        async with make_client(resolve={}, ssrf_allow=[]) as client:
            return await Checker(client, config=FAST).check(CheckTarget(1, "http://127.0.0.1:9/x"))

    r = asyncio.run(go())
    assert r.outcome is Outcome.UNKNOWN and "refused" in r.reason


def test_parse_retry_after_accepts_dates() -> None:
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", now) == 60
    assert parse_retry_after("soon", now) is None
