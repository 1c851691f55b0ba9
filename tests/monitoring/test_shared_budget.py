"""One politeness budget per host, shared by monitoring and verification."""

from __future__ import annotations

import asyncio

import httpx

from takedown.kit.politeness import HostBudget
from takedown.verification.engine import Checker, CheckTarget, EngineConfig


def test_a_429_seen_by_verification_pauses_the_host_for_monitoring() -> None:
    budget = HostBudget(0.0)

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "600"})

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            checker = Checker(client, config=EngineConfig(retries=0), budget=budget)
            await checker.check(CheckTarget(1, "https://t.me/synthchecked"))

    asyncio.run(go())
    assert budget.granted("t.me") == 1  # verification took its slot from the shared budget
    assert budget.paused_for("t.me") > 500  # and monitoring's next request to t.me waits
