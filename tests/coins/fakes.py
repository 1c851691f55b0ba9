"""A chain API answered in-process by the testbed's chain (no HTTP), for the contract suite."""

from __future__ import annotations

from takedown.coins.trace.base import AddressStats, ChainTx
from takedown.coins.trace.esplora import parse_tx
from takedown.kit.errors import InvalidInput
from takedown.sim.chain import SimChain


class InProcessChain:
    name = "in-process"
    kinds = ("btc",)

    def __init__(self, chain: SimChain) -> None:
        self.chain = chain
        self.requests = 0

    def close(self) -> None:
        pass

    def address(self, address: str) -> AddressStats:
        self.requests += 1
        s = self.chain.stats(address)["chain_stats"]
        return AddressStats(
            address,
            s["funded_txo_sum"],
            s["spent_txo_sum"],
            s["funded_txo_count"],
            s["spent_txo_count"],
            s["tx_count"],
        )

    def txs(self, address: str, last_seen: str | None = None) -> list[ChainTx]:
        self.requests += 1
        page = self.chain.page(address, last_seen)
        if page is None:
            raise InvalidInput("unknown last_seen")
        return [parse_tx(t) for t in page]
