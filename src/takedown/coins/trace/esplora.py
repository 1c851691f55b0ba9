"""The built-in chain API: any Esplora-compatible server (Esplora, electrs, mempool.space).

Requests go through the guarded ``kit.http`` client the composition root hands in
(SSRF guard, proxy, Tor for an ``.onion`` instance) and through a token bucket at
the configured rate; a 429 is honoured (``Retry-After``, bounded) and retried.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from takedown.coins.trace.base import AddressStats, ChainConfig, ChainTx
from takedown.coins.trace.ratelimit import RateLimiter
from takedown.kit.errors import InvalidInput, RateLimited, Unavailable

MAX_BODY = 8 * 1024 * 1024


class EsploraApi:
    name = "esplora"
    kinds = ("btc",)

    def __init__(self, config: ChainConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.base = config.base_url.rstrip("/")
        self.client = config.client
        self.limiter = RateLimiter(config.rate, sleep=sleep)
        self.max_retries = config.max_retries
        self._sleep = sleep
        self.requests = 0
        self._count_lock = threading.Lock()

    def _get(self, path: str) -> Any:
        url = self.base + path
        for attempt in range(self.max_retries + 1):
            self.limiter.acquire()
            with self._count_lock:
                self.requests += 1
            try:
                r = self.client.get(url)
            except httpx.HTTPError as exc:
                if attempt == self.max_retries:
                    raise Unavailable(f"chain API {self.base}: {exc.__class__.__name__}") from exc
                self._sleep(min(2.0**attempt, 10.0))
                continue
            if r.status_code == 429 or r.status_code >= 500:
                if attempt == self.max_retries:
                    if r.status_code == 429:
                        raise RateLimited(f"chain API {self.base} keeps answering 429")
                    raise Unavailable(f"chain API {self.base} answered {r.status_code}")
                ra = r.headers.get("retry-after", "1")
                self._sleep(min(float(ra) if ra.isdigit() else 1.0, 30.0))
                continue
            if r.status_code == 400 or r.status_code == 404:
                raise InvalidInput(f"chain API {self.base}: {path} answered {r.status_code}")
            if r.status_code != 200:
                raise Unavailable(f"chain API {self.base} answered {r.status_code}")
            if len(r.content) > MAX_BODY:
                raise Unavailable(f"chain API {self.base}: answer larger than {MAX_BODY} bytes")
            return r.json()
        raise Unavailable(f"chain API {self.base}: no answer")  # pragma: no cover

    def close(self) -> None:
        self.client.close()

    def address(self, address: str) -> AddressStats:
        data = self._get(f"/address/{quote(address, safe='')}")
        chain = data.get("chain_stats") or {}
        pool = data.get("mempool_stats") or {}

        def total(key: str) -> int:
            return int(chain.get(key, 0)) + int(pool.get(key, 0))

        return AddressStats(
            address=address,
            funded_sum=total("funded_txo_sum"),
            spent_sum=total("spent_txo_sum"),
            funded_count=total("funded_txo_count"),
            spent_count=total("spent_txo_count"),
            tx_count=total("tx_count"),
        )

    def txs(self, address: str, last_seen: str | None = None) -> list[ChainTx]:
        a = quote(address, safe="")
        path = f"/address/{a}/txs" if last_seen is None else f"/address/{a}/txs/chain/{last_seen}"
        data = self._get(path)
        out = [parse_tx(t) for t in data if isinstance(t, dict)]
        # /txs puts unconfirmed ones first: the pages that follow hold confirmed ones only
        return [t for t in out if t.time is not None or last_seen is None]


def parse_tx(t: dict[str, Any]) -> ChainTx:
    status = t.get("status") or {}
    when = (
        dt.datetime.fromtimestamp(int(status["block_time"]), dt.UTC)
        if status.get("confirmed") and status.get("block_time")
        else None
    )
    ins = tuple(
        (str(p.get("scriptpubkey_address", "")), int(p.get("value", 0)))
        for v in t.get("vin", [])
        if (p := v.get("prevout")) and p.get("scriptpubkey_address")
    )
    outs = tuple(
        (str(o["scriptpubkey_address"]), int(o.get("value", 0)))
        for o in t.get("vout", [])
        if o.get("scriptpubkey_address")
    )
    return ChainTx(str(t["txid"]), when, ins, outs)


def make_esplora(config: ChainConfig) -> EsploraApi:
    return EsploraApi(config)
