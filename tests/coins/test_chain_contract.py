"""Contract suite: every chain API implementation answers alike on the testbed's chain.

The built-in Esplora client runs over HTTP against the testbed's Esplora-compatible
server; the in-process double shows the suite is about the interface, not one client.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from takedown.coins.trace.base import ChainApi, ChainConfig
from takedown.coins.trace.registry import CHAINS, chain_api
from takedown.coins.trace.tracer import all_txs, trace
from takedown.kit.errors import InvalidInput
from takedown.kit.http import make_sync_client
from takedown.sim.chain import serve_chain
from takedown.sim.wallets import make_address
from tests.coins.chainhelp import chain, labels
from tests.coins.fakes import InProcessChain


@pytest.fixture(params=["esplora", "in-process"])
def api(request: pytest.FixtureRequest) -> Iterator[ChainApi]:
    c = chain()
    if request.param == "in-process":
        yield InProcessChain(c)
        return
    with (
        serve_chain(c) as srv,
        make_sync_client(ssrf_allow=["127.0.0.1/32"], http2=False) as client,
    ):
        yield chain_api("esplora", ChainConfig(srv.base_url, client, rate=500.0))


def test_registry_lists_the_builtin() -> None:
    assert "esplora" in CHAINS.names()


def test_is_a_chain_api(api: ChainApi) -> None:
    assert isinstance(api, ChainApi)
    assert "btc" in api.kinds


def test_totals_match_the_ground_truth(api: ChainApi) -> None:
    c = chain()
    for a in c.campaign_addresses:
        s = api.address(a)
        truth = c.stats(a)["chain_stats"]
        assert s.funded_sum == truth["funded_txo_sum"] > 0
        assert s.tx_count == truth["tx_count"] > 10
        assert s.balance == truth["funded_txo_sum"] - truth["spent_txo_sum"]


def test_pages_cover_every_transaction_once_newest_first(api: ChainApi) -> None:
    c = chain()
    a = max(c.campaign_addresses, key=lambda x: len(c.by_address[x]))
    assert len(c.by_address[a]) > 25  # more than one page
    txs, truncated = all_txs(api, a, 1000)
    assert not truncated
    assert sorted(t.txid for t in txs) == sorted(c.by_address[a])
    times = [t.time for t in txs]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    assert all(t.received_by(a) or t.spent_by(a) for t in txs)


def test_unknown_address_is_empty(api: ChainApi) -> None:
    nobody = make_address("btc", "p2tr", "never-used")
    assert api.address(nobody).tx_count == 0
    assert api.txs(nobody) == []


def test_unknown_last_seen_is_refused(api: ChainApi) -> None:
    with pytest.raises(InvalidInput):
        api.txs(chain().campaign_addresses[0], "00" * 32)


def test_trace_two_hops_reaches_donors_and_the_mixer_or_exchange(api: ChainApi) -> None:
    c = chain()
    a = c.campaign_addresses[0]
    lab = labels(c)
    res = trace(api, a, hops=2, labels=lambda addrs: {x: lab[x] for x in addrs if x in lab})
    summary = res.summary()
    assert summary["received"] > 0 and summary["first_activity"] < summary["last_activity"]
    labelled = {n["label"] for n in res.nodes.values() if "label" in n}
    assert labelled & {"mixer", "exchange"}
    assert max(n["hop"] for n in res.nodes.values()) == 2
    assert any(e["target"] == a for e in res.edges) and any(e["source"] == a for e in res.edges)
