"""The testbed chain for coins tests: built once per session (address derivation costs)."""

from __future__ import annotations

import functools

from takedown.sim.chain import SimChain
from takedown.sim.wallets import make_address

START = 1_700_000_000


@functools.cache
def chain(campaigns: int = 6, decoys: int = 6, seed: int = 16) -> SimChain:
    posted = [make_address("btc", "p2wpkh", f"campaign-{seed}-{i}") for i in range(campaigns)]
    return SimChain(seed, START, posted, decoys=decoys)


def labels(c: SimChain) -> dict[str, tuple[str, str]]:
    return {lab["address"]: (lab["category"], lab["name"]) for lab in c.labels}
