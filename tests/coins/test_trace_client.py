"""The Esplora client's politeness: its own rate limit, and 429 answered with patience."""

from __future__ import annotations

from takedown.coins.trace.base import ChainConfig
from takedown.coins.trace.esplora import EsploraApi
from takedown.coins.trace.ratelimit import RateLimiter
from takedown.kit.http import make_sync_client
from takedown.sim.chain import serve_chain
from tests.coins.chainhelp import chain


def test_rate_limiter_spaces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    rl = RateLimiter(4.0, burst=1, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        rl.acquire()
    assert now[0] == 1.0  # five requests at 4/s with no burst: 4 waits of 0.25 s
    assert slept == [0.25] * 4


def test_client_survives_the_servers_429() -> None:
    c = chain()
    with (
        serve_chain(c, rate_limit=3) as srv,
        make_sync_client(ssrf_allow=["127.0.0.1/32"], http2=False) as client,
    ):
        # the client is told a rate far above the server's: the server refuses, it waits
        api = EsploraApi(ChainConfig(srv.base_url, client, rate=1000.0))
        for a in c.campaign_addresses[:3]:
            assert api.address(a).tx_count == len(c.by_address[a])
            api.txs(a)
        assert srv.refused > 0
