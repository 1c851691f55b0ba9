"""Follow an address's money: its totals, first and last activity, and counterparties up to
N hops, as a graph of nodes and value-weighted edges.

Bounded: at most ``max_txs`` transactions per address and ``fanout`` counterparties
(the largest by value) expanded per address, so a trace of an exchange's hot
wallet costs a known number of requests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from takedown.coins.trace.base import AddressStats, ChainApi, ChainTx

LabelLookup = Callable[[Sequence[str]], dict[str, tuple[str, str]]]  # address -> (category, name)


@dataclass
class TraceResult:
    address: str
    hops: int
    stats: AddressStats
    txs: list[ChainTx]
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    truncated: bool = False

    @property
    def first_activity(self) -> dt.datetime | None:
        times = [t.time for t in self.txs if t.time is not None]
        return min(times) if times else None

    @property
    def last_activity(self) -> dt.datetime | None:
        times = [t.time for t in self.txs if t.time is not None]
        return max(times) if times else None

    def summary(self) -> dict[str, Any]:
        first, last = self.first_activity, self.last_activity
        return {
            "balance": self.stats.balance,
            "received": self.stats.funded_sum,
            "sent": self.stats.spent_sum,
            "tx_count": self.stats.tx_count,
            "first_activity": first.isoformat() if first else None,
            "last_activity": last.isoformat() if last else None,
            "counterparties": len(self.nodes) - 1,
            "requests": self.requests,
            "truncated": self.truncated,
        }

    def graph(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes.values()), "edges": self.edges}


def annotate(res: TraceResult, labels: LabelLookup) -> None:
    """Name the graph's known services (mixers, exchanges) from the label list."""
    for a, (category, name) in labels(list(res.nodes)).items():
        if a in res.nodes:
            res.nodes[a]["label"] = category
            res.nodes[a]["name"] = name


def all_txs(api: ChainApi, address: str, max_txs: int) -> tuple[list[ChainTx], bool]:
    """Every transaction of ``address`` (newest first), up to ``max_txs``; (txs, truncated)."""
    out: list[ChainTx] = []
    last: str | None = None
    seen: set[str] = set()
    while len(out) < max_txs:
        page = api.txs(address, last)
        fresh = [t for t in page if t.txid not in seen]
        if not fresh:
            return out, False
        for t in fresh:
            seen.add(t.txid)
        out.extend(fresh)
        confirmed = [t for t in fresh if t.time is not None]
        if not confirmed:
            return out, False
        last = confirmed[-1].txid
    return out[:max_txs], True


def counterparties(address: str, txs: Sequence[ChainTx]) -> dict[tuple[str, str], list[Any]]:
    """(source, target) -> [value, tx count, last txid, last time] for each direct flow."""
    flows: dict[tuple[str, str], list[Any]] = {}

    def add(src: str, dst: str, value: int, t: ChainTx) -> None:
        f = flows.setdefault((src, dst), [0, 0, t.txid, t.time])
        f[0] += value
        f[1] += 1

    for t in txs:
        got = t.received_by(address)
        if got:
            senders = sorted({a for a, _ in t.inputs if a != address})
            for s in senders:
                add(s, address, got // max(1, len(senders)), t)
        if t.spent_by(address):
            for b, v in t.outputs:
                if b != address:
                    add(address, b, v, t)
    return flows


def trace(
    api: ChainApi,
    address: str,
    *,
    hops: int = 1,
    max_txs: int = 200,
    fanout: int = 12,
    labels: LabelLookup | None = None,
) -> TraceResult:
    start_requests = api.requests
    stats = api.address(address)
    txs, truncated = all_txs(api, address, max_txs)
    res = TraceResult(address, hops, stats, txs, truncated=truncated)
    res.nodes[address] = {"id": address, "hop": 0, "received": stats.funded_sum}
    frontier = [(address, txs)]
    edges: dict[tuple[str, str], list[Any]] = {}
    for hop in range(1, hops + 1):
        nxt: list[tuple[str, list[ChainTx]]] = []
        for addr, addr_txs in frontier:
            flows = counterparties(addr, addr_txs)
            ranked = sorted(flows.items(), key=lambda kv: -kv[1][0])
            new_here: list[str] = []
            for (src, dst), f in ranked:
                edges.setdefault((src, dst), f)
                other = dst if src == addr else src
                if other not in res.nodes:
                    res.nodes[other] = {"id": other, "hop": hop}
                    new_here.append(other)
            if hop < hops:
                for other in new_here[:fanout]:
                    o_txs, cut = all_txs(api, other, max_txs)
                    res.truncated = res.truncated or cut
                    nxt.append((other, o_txs))
        frontier = nxt
    if labels is not None:
        annotate(res, labels)
    res.edges = [
        {
            "source": s,
            "target": d,
            "value": f[0],
            "txs": f[1],
            "txid": f[2],
            "time": f[3].isoformat() if f[3] else None,
        }
        for (s, d), f in edges.items()
    ]
    res.requests = api.requests - start_requests
    return res


def trace_many(
    api: ChainApi,
    addresses: Sequence[str],
    *,
    workers: int = 4,
    hops: int = 1,
    max_txs: int = 200,
    labels: LabelLookup | None = None,
) -> list[TraceResult | Exception]:
    """Trace several addresses with a few requests in flight: the chain API's rate limit,
    not each request's round trip, then bounds the pace. Results keep the input order; a
    failed trace is its exception, so one bad address never loses the others."""
    from concurrent.futures import ThreadPoolExecutor

    def one(a: str) -> TraceResult | Exception:
        try:
            return trace(api, a, hops=hops, max_txs=max_txs, labels=labels)
        except Exception as exc:  # reported per address by the caller
            return exc

    if workers <= 1 or len(addresses) <= 1:
        return [one(a) for a in addresses]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, addresses))
