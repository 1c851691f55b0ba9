"""The testbed's blockchain: synthetic Bitcoin transactions behind an Esplora-compatible API.

Why: tracing and its alerts must be measured against a truth. The chain funds the
addresses the adversary posts with donation campaigns (many small deposits from
distinct donors in a short window, then a sweep to a mixer or an exchange), and
adds decoys that look alike but must not raise the same alerts (a few large
payments; small deposits spread over months; funds that reach a mixer only after
two hops). ``truth()`` says which alert each address should raise.

``ChainServer`` serves it on loopback with Esplora's paths (``/api/address/:a``,
``/txs``, ``/txs/chain/:last_seen``, ``/api/tx/:txid``) and a token-bucket rate limit
answering 429 with ``Retry-After``, like a public instance.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from takedown.sim.wallets import make_address

__all__ = ["ChainServer", "SimChain", "serve_chain"]

PAGE = 25  # Esplora's confirmed transactions per page
COIN = 100_000_000
RULE_FUNDED = "watched-address-funded"
RULE_CROWD = "crowdfunding-small-deposits"
RULE_MIXER = "mixer-exposure"
RULE_EXCHANGE = "exchange-exposure"


@dataclass
class SimTx:
    txid: str
    time: int
    height: int
    vin: list[tuple[str, int]]
    vout: list[tuple[str, int]]

    def esplora(self) -> dict[str, Any]:
        return {
            "txid": self.txid,
            "version": 2,
            "locktime": 0,
            "vin": [
                {
                    "txid": hashlib.sha256(f"{self.txid}:{i}".encode()).hexdigest(),
                    "vout": 0,
                    "prevout": {"scriptpubkey_address": a, "value": v},
                    "is_coinbase": False,
                    "sequence": 4294967293,
                }
                for i, (a, v) in enumerate(self.vin)
            ],
            "vout": [{"scriptpubkey_address": a, "value": v} for a, v in self.vout],
            "fee": max(0, sum(v for _, v in self.vin) - sum(v for _, v in self.vout)),
            "status": {
                "confirmed": True,
                "block_height": self.height,
                "block_hash": hashlib.sha256(f"block{self.height}".encode()).hexdigest(),
                "block_time": self.time,
            },
        }


@dataclass
class SimChain:
    """A deterministic chain built from a seed and the addresses the adversary posted."""

    seed: int
    start: int  # unix time of the first block
    campaign_addresses: list[str]
    decoys: int = 10
    txs: dict[str, SimTx] = field(default_factory=dict)
    by_address: dict[str, list[str]] = field(default_factory=dict)  # oldest first
    labels: list[dict[str, str]] = field(default_factory=list)
    expected: dict[str, set[str]] = field(default_factory=dict)  # address -> rules
    roles: dict[str, str] = field(default_factory=dict)  # address -> campaign/decoy-*

    def __post_init__(self) -> None:
        self._rng = random.Random(f"chain:{self.seed}")
        self._n = 0
        self._height = 800_000
        self._addr_n = 0
        self.mixers = [self._fresh("mixer") for _ in range(3)]
        self.exchanges = [self._fresh("exchange") for _ in range(4)]
        for i, a in enumerate(self.mixers):
            self.labels.append({"address": a, "category": "mixer", "name": f"Sim Mixer {i + 1}"})
        for i, a in enumerate(self.exchanges):
            self.labels.append(
                {"address": a, "category": "exchange", "name": f"Sim Exchange {i + 1}"}
            )
        for i, a in enumerate(self.campaign_addresses):
            self._campaign(a, i)
        for i in range(self.decoys):
            self._decoy(i)
        self._order()

    def _order(self) -> None:
        """Blocks in time order, as a real chain has them: heights follow block times."""
        ordered = sorted(self.txs.values(), key=lambda t: (t.time, t.txid))
        for n, tx in enumerate(ordered):
            tx.height = 800_000 + n
        rank = {tx.txid: n for n, tx in enumerate(ordered)}
        for ids in self.by_address.values():
            ids.sort(key=rank.__getitem__)

    # --- building ---------------------------------------------------------------------

    def _fresh(self, role: str) -> str:
        self._addr_n += 1
        script = ("p2wpkh", "p2pkh", "p2tr", "p2sh")[self._addr_n % 4]
        return make_address("btc", script, f"chain:{self.seed}:{role}:{self._addr_n}")

    def _tx(self, t: int, vin: Sequence[tuple[str, int]], vout: Sequence[tuple[str, int]]) -> None:
        self._n += 1
        self._height += 1
        txid = hashlib.sha256(f"{self.seed}:{self._n}".encode()).hexdigest()
        tx = SimTx(txid, t, self._height, list(vin), list(vout))
        self.txs[txid] = tx
        for a in {a for a, _ in (*vin, *vout)}:
            self.by_address.setdefault(a, []).append(txid)

    def _expect(self, address: str, *rules: str) -> None:
        self.expected.setdefault(address, set()).update(rules)

    def _fund(self, donor: str, t: int, amount: int) -> None:
        faucet = self._fresh("faucet")
        self._tx(t - 3600, [(faucet, amount + 5_000)], [(donor, amount)])

    def _campaign(self, target: str, i: int) -> None:
        """Many small deposits from distinct donors within two days, then a sweep."""
        rng = self._rng
        self.roles[target] = "campaign"
        t0 = self.start + i * 86_400 + rng.randint(0, 20_000)
        total = 0
        for _ in range(rng.randint(12, 30)):
            donor = self._fresh("donor")
            amount = rng.randint(20_000, 400_000)  # 0.0002 - 0.004 BTC
            t = t0 + rng.randint(0, 40 * 3600)
            self._fund(donor, t, amount + 2_000)
            self._tx(t, [(donor, amount + 2_000)], [(target, amount)])
            total += amount
        sweep_to = rng.choice(self.mixers) if i % 2 == 0 else rng.choice(self.exchanges)
        self._tx(t0 + 48 * 3600, [(target, total)], [(sweep_to, total - 3_000)])
        rule = RULE_MIXER if i % 2 == 0 else RULE_EXCHANGE
        self._expect(target, RULE_FUNDED, RULE_CROWD, rule)

    def _decoy(self, i: int) -> None:
        rng = self._rng
        a = self._fresh("decoy")
        t0 = self.start + i * 43_200
        style = i % 3
        if style == 0:  # a few large payments, spent to an unlabelled address
            self.roles[a] = "decoy-large"
            for k in range(3):
                payer = self._fresh("payer")
                amt = rng.randint(COIN // 2, 3 * COIN)
                self._fund(payer, t0 + k * 7_200, amt + 5_000)
                self._tx(t0 + k * 7_200, [(payer, amt + 5_000)], [(a, amt)])
        elif style == 1:  # small deposits, but one a week for months
            self.roles[a] = "decoy-slow"
            for k in range(14):
                payer = self._fresh("payer")
                amt = rng.randint(20_000, 300_000)
                t = t0 + k * 7 * 86_400
                self._fund(payer, t, amt + 2_000)
                self._tx(t, [(payer, amt + 2_000)], [(a, amt)])
        else:  # reaches a mixer only through an intermediate address (two hops)
            self.roles[a] = "decoy-two-hops"
            payer = self._fresh("payer")
            mid = self._fresh("intermediate")
            amt = rng.randint(COIN // 10, COIN)
            self._fund(payer, t0, amt + 5_000)
            self._tx(t0, [(payer, amt + 5_000)], [(a, amt)])
            self._tx(t0 + 3_600, [(a, amt)], [(mid, amt - 2_000)])
            self._tx(t0 + 7_200, [(mid, amt - 2_000)], [(rng.choice(self.mixers), amt - 4_000)])
        self._expect(a, RULE_FUNDED)

    # --- the truth ---------------------------------------------------------------------

    @property
    def decoy_addresses(self) -> list[str]:
        return [a for a, r in self.roles.items() if r.startswith("decoy")]

    def truth(self) -> dict[str, Any]:
        return {
            "type": "chain",
            "seed": self.seed,
            "labels": self.labels,
            "addresses": [
                {"address": a, "role": self.roles[a], "alerts": sorted(self.expected.get(a, ()))}
                for a in self.roles
            ],
        }

    # --- Esplora's answers -------------------------------------------------------------

    def stats(self, address: str) -> dict[str, Any]:
        funded = spent = funded_n = spent_n = 0
        for txid in self.by_address.get(address, []):
            tx = self.txs[txid]
            for a, v in tx.vout:
                if a == address:
                    funded += v
                    funded_n += 1
            for a, v in tx.vin:
                if a == address:
                    spent += v
                    spent_n += 1
        zero = {
            "funded_txo_count": 0,
            "funded_txo_sum": 0,
            "spent_txo_count": 0,
            "spent_txo_sum": 0,
            "tx_count": 0,
        }
        return {
            "address": address,
            "chain_stats": {
                "funded_txo_count": funded_n,
                "funded_txo_sum": funded,
                "spent_txo_count": spent_n,
                "spent_txo_sum": spent,
                "tx_count": len(self.by_address.get(address, [])),
            },
            "mempool_stats": zero,
        }

    def page(self, address: str, last_seen: str | None) -> list[dict[str, Any]] | None:
        """Confirmed transactions, newest first, 25 after ``last_seen`` (None: unknown txid)."""
        ids = list(reversed(self.by_address.get(address, [])))
        start = 0
        if last_seen:
            if last_seen not in ids:
                return None
            start = ids.index(last_seen) + 1
        return [self.txs[t].esplora() for t in ids[start : start + PAGE]]

    def answer(self, path: str) -> tuple[int, Any]:
        parts = [p for p in path.split("?")[0].split("/") if p]
        if not parts or parts[0] != "api":
            return 404, "not found"
        parts = parts[1:]
        if len(parts) == 2 and parts[0] == "tx" and parts[1] in self.txs:
            return 200, self.txs[parts[1]].esplora()
        if len(parts) >= 2 and parts[0] == "address":
            a = parts[1]
            if len(parts) == 2:
                return 200, self.stats(a)
            if parts[2:] == ["txs"] or parts[2:] == ["txs", "chain"]:
                return 200, self.page(a, None)
            if len(parts) == 5 and parts[2:4] == ["txs", "chain"]:
                res = self.page(a, parts[4])
                return (200, res) if res is not None else (400, "unknown last_seen_txid")
        return 404, "not found"


class _Bucket:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = max(1.0, rate)
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        with self.lock:
            now = time.monotonic()
            self.tokens = min(max(1.0, self.rate), self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


class ChainServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, chain: SimChain, rate_limit: float) -> None:
        self.chain = chain
        self.bucket = _Bucket(rate_limit)
        self.requests = 0
        self.refused = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api"


class _Handler(BaseHTTPRequestHandler):
    server: ChainServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        srv = self.server
        srv.requests += 1
        if not srv.bucket.take():
            srv.refused += 1
            self._send(429, "rate limited", [("Retry-After", "1")])
            return
        status, body = srv.chain.answer(self.path)
        self._send(status, body)

    def _send(self, status: int, body: Any, headers: Sequence[tuple[str, str]] = ()) -> None:
        if isinstance(body, str):
            data, ctype = body.encode(), "text/plain"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


@contextmanager
def serve_chain(chain: SimChain, *, rate_limit: float = 0.0) -> Iterator[ChainServer]:
    """Serve ``chain`` on a loopback port for the duration of the block."""
    srv = ChainServer(chain, rate_limit)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
