"""Benchmark monitoring's crawls: politeness against its bound, and memory flat in sources.

    .venv/bin/python bench/monitoring.py            # 8 hosts x 12 sources; 1k vs 100k rows
    .venv/bin/python bench/monitoring.py --quick    # 4 hosts x 6 sources; 1k vs 10k rows

Figures:
- crawl: website sources spread over hosts, each answering after 20 ms, crawled
  with a per-host rate of 10 requests/s from one shared budget. The bound is the
  issue's: requests / (hosts x per-host rate). The ratio elapsed / bound must be
  at most 1.5, with 0 politeness violations: a host seeing two requests at once,
  or two requests closer than half of 1 / rate (counted by the transport, per host);
  the smallest gap seen is printed too. The unpaced run (no budget) shows the
  recording ceiling: how many sources per second the crawler records when the
  network is not what limits it;
- memory: peak traced allocations of one scheduling pass (claim 1,000 due
  sources and release them) with 1k sources in the database and with 100k;
  the schedule lives in the database, so the ratio must stay under 1.25.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import httpx
from sqlalchemy import insert

from takedown.db import session_scope
from takedown.kit.politeness import HostBudget
from takedown.monitoring import repository, service
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from takedown.monitoring.models import Source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import analyst_db

RATE = 2.0  # requests per second per host: a polite crawler's pace
LATENCY = 0.02


class Counting:
    """A transport that answers every site and counts politeness per host."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.starts: dict[str, list[float]] = defaultdict(list)
        self.concurrent_violations = 0

    def __call__(self, req: httpx.Request) -> httpx.Response:
        host = req.url.host
        with self.lock:
            self.in_flight[host] += 1
            if self.in_flight[host] > 1:
                self.concurrent_violations += 1
            self.starts[host].append(time.monotonic())
        time.sleep(LATENCY)
        with self.lock:
            self.in_flight[host] -= 1
        return httpx.Response(200, html=f"<title>{req.url.path}</title><p>synthetic</p>")

    def min_gap(self) -> float:
        gaps = [b - a for ts in self.starts.values() for a, b in itertools.pairwise(sorted(ts))]
        return min(gaps) if gaps else 0.0

    def gap_violations(self) -> int:
        bad = 0
        for ts in self.starts.values():
            ts = sorted(ts)
            bad += sum(1 for a, b in itertools.pairwise(ts) if b - a < 0.5 / RATE)
        return bad


def crawl_bench(tmp: Path, hosts: int, per_host: int, rate: float = RATE) -> dict[str, float]:
    _, factory, principal = analyst_db(tmp / "crawl.sqlite3", "b@example.invalid")
    with session_scope(factory) as s:
        ids = [
            service.add_source(s, principal, f"https://site{h}-bench.example/p{i}")[0].id
            for h in range(hosts)
            for i in range(per_host)
        ]
    counting = Counting()
    client = httpx.Client(transport=httpx.MockTransport(counting))
    budget = HostBudget(rate)
    cfg = CrawlConfig(workers=hosts * 2, match=False)
    t0 = time.perf_counter()
    rep = crawl_due(factory, client, source_ids=ids, config=cfg, budget=budget)
    elapsed = time.perf_counter() - t0
    requests = sum(len(v) for v in counting.starts.values())
    bound = requests / (hosts * rate) if rate > 0 else 0.0
    assert rep.results.get("ok") == len(ids), rep.results
    return {
        "sources": len(ids),
        "hosts": hosts,
        "requests": requests,
        "elapsed_s": elapsed,
        "bound_s": bound,
        "ratio": elapsed / bound if bound else 0.0,
        "min_gap_s": counting.min_gap(),
        "sources_per_s": len(ids) / elapsed,
        "violations": counting.concurrent_violations + counting.gap_violations(),
    }


def memory_at(tmp: Path, total: int) -> int:
    _, factory, principal = analyst_db(tmp / f"mem{total}.sqlite3", "b@example.invalid")
    now = dt.datetime.now(dt.UTC)
    with session_scope(factory) as s:
        rows = [
            {
                "agency_id": principal.agency_id,
                "kind": "telegram",
                "url": f"https://t.me/s/benchsrc{i}",
                "host": "t.me",
                "label": "",
                "status": "active",
                "depth": 0,
                "origin": "bench",
                "base_interval_s": 1800,
                "interval_s": 1800,
                "next_due_at": now - dt.timedelta(seconds=i % 5000),
                "last_reason": "",
                "last_new": 0,
                "crawls": 0,
                "failures": 0,
                "new_total": 0,
                "created_at": now,
            }
            for i in range(total)
        ]
        for i in range(0, total, 5000):
            s.execute(insert(Source), rows[i : i + 5000])
    del rows
    tracemalloc.start()
    with session_scope(factory) as s:
        taken = repository.claim_due(s, now, 1000, now + dt.timedelta(minutes=10))
        assert len(taken) == 1000
        for src in taken:
            src.lease_until = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    hosts, per_host = (4, 6) if args.quick else (8, 12)
    big = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-monitoring-") as d:
        tmp = Path(d)
        runs = []
        for r in range(args.runs):
            run_dir = tmp / f"run{r}"
            run_dir.mkdir()
            runs.append(crawl_bench(run_dir, hosts, per_host))
        crawl = {k: statistics.median(x[k] for x in runs) for k in runs[0]}
        crawl["violations"] = max(x["violations"] for x in runs)
        crawl["min_gap_s"] = min(x["min_gap_s"] for x in runs)
        unpaced_dir = tmp / "unpaced"
        unpaced_dir.mkdir()
        unpaced = crawl_bench(unpaced_dir, hosts, per_host, rate=0.0)
        small_peak = memory_at(tmp, 1000)
        big_peak = memory_at(tmp, big)
    mem_ratio = big_peak / small_peak
    targets = {"crawl_ratio_max": 1.5, "violations": 0, "memory_ratio_max": 1.25}
    met = crawl["ratio"] <= 1.5 and crawl["violations"] == 0 and mem_ratio <= 1.25
    print(f"{'figure':<38}{'value':>12}{'bound':>12}{'ratio':>8}")
    print(
        f"{'crawl elapsed (s), median of ' + str(args.runs):<38}{crawl['elapsed_s']:>12.3f}"
        f"{crawl['bound_s']:>12.3f}{crawl['ratio']:>8.2f}"
    )
    print(
        f"{'sources per second':<38}{crawl['sources_per_s']:>12.1f}"
        f"{crawl['sources'] / crawl['bound_s']:>12.1f}"
    )
    print(f"{'politeness violations':<38}{crawl['violations']:>12.0f}{0:>12}")
    print(f"{'smallest gap per host (s)':<38}{crawl['min_gap_s']:>12.3f}{1 / RATE:>12.3f}")
    print(f"{'unpaced: sources per second (ceiling)':<38}{unpaced['sources_per_s']:>12.1f}")
    print(f"{'peak KiB, claim 1k of 1k sources':<38}{small_peak / 1024:>12.0f}")
    print(
        f"{f'peak KiB, claim 1k of {big:,} sources':<38}{big_peak / 1024:>12.0f}"
        f"{small_peak * 1.25 / 1024:>12.0f}{mem_ratio:>8.2f}"
    )
    print(
        json.dumps(
            {
                "bench": "monitoring",
                **{f"crawl_{k}": v for k, v in crawl.items()},
                "unpaced_sources_per_s": unpaced["sources_per_s"],
                "memory_peak_small_kib": small_peak // 1024,
                "memory_peak_big_kib": big_peak // 1024,
                "memory_ratio": mem_ratio,
                "targets": targets,
                "targets_met": met,
            }
        )
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
