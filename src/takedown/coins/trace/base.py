"""The chain-API interface: two questions, asked the way Esplora answers them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import httpx


@dataclass(frozen=True)
class AddressStats:
    address: str
    funded_sum: int  # total received, in the chain's base unit (satoshis)
    spent_sum: int
    funded_count: int
    spent_count: int
    tx_count: int

    @property
    def balance(self) -> int:
        return self.funded_sum - self.spent_sum


@dataclass(frozen=True)
class ChainTx:
    txid: str
    time: dt.datetime | None  # block time; None while unconfirmed
    inputs: tuple[tuple[str, int], ...]  # (address, value) of each spent output
    outputs: tuple[tuple[str, int], ...]

    def received_by(self, address: str) -> int:
        return sum(v for a, v in self.outputs if a == address)

    def spent_by(self, address: str) -> int:
        return sum(v for a, v in self.inputs if a == address)


@dataclass
class ChainConfig:
    """What a chain-API implementation is built from (the composition root fills it)."""

    base_url: str
    client: httpx.Client
    rate: float = 5.0  # requests per second the API may be sent
    max_retries: int = 4
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class ChainApi(Protocol):
    """One chain's public ledger, as an Esplora-compatible API exposes it."""

    name: str
    kinds: tuple[str, ...]  # the address kinds it can trace
    requests: int  # requests sent so far (the tracer reports it)

    def address(self, address: str) -> AddressStats:
        """Totals: received, spent, transaction count (``/address/:a``)."""
        ...

    def txs(self, address: str, last_seen: str | None = None) -> list[ChainTx]:
        """One page of confirmed transactions, newest first, after ``last_seen``
        (``/address/:a/txs`` then ``/address/:a/txs/chain/:last_seen``); [] when done."""
        ...

    def close(self) -> None:
        """Release connections (the HTTP client)."""
        ...
