"""The testbed's .onion market: listings with their truth, addresses the chain funds."""

from __future__ import annotations

import json

from takedown.coins.classify import classify
from takedown.coins.extract import extract_addresses
from takedown.sim.chain import SimChain
from takedown.sim.listings import posted_addresses
from takedown.sim.scenario import load_scenario, resolve_scenario_path
from takedown.sim.world import World


def test_small_scenario_has_market_listings_with_truth() -> None:
    w = World(load_scenario(resolve_scenario_path("market")))
    assert len(w.listings) == 24
    for iid, truth in w.listings.items():
        it = w.items[iid]
        assert it.url.startswith("http://") and ".onion/" in it.url
        got = extract_addresses(it.text)
        assert got == {(a["kind"], a["address"]) for a in truth["addresses"]}
        assert set(classify(it.title + "\n" + it.text).categories) == set(truth["categories"])
    lines = [json.loads(x) for x in w.ground_truth(w.start + 10**9)]
    assert sum(1 for x in lines if x["type"] == "listing") == 24


def test_chain_funds_the_posted_addresses() -> None:
    sc = load_scenario(resolve_scenario_path("market"))
    sc.platforms[-1].content.listings = 80
    w = World(sc)
    posted = posted_addresses(w)
    assert posted
    chain = SimChain(w.seed, w.start, posted, decoys=3)
    for a in posted:
        assert "crowdfunding-small-deposits" in chain.expected[a]
        assert chain.stats(a)["chain_stats"]["funded_txo_sum"] > 0
