"""The embedded default under load: 8 clients for 2 minutes, jobs alongside (#12.2, #19.2).

    .venv/bin/python bench/load.py              # 8 clients, 120 s
    .venv/bin/python bench/load.py --quick      # 8 clients, 20 s

The app serves over real HTTP (uvicorn in a thread) on a SQLite file; 8 clients report
URLs, assess, create and submit referrals and read lists, while the in-process jobs
deliver (capturing evidence and checking the items first), verify and capture against
the testbed. The same mix then runs with one client, in the same run, for the bound.

Figures and bounds:
- 5xx answers and failed jobs: bound 0 (the embedded mode never fails on its lock);
- throughput with 8 clients / with 1 client: bound >= 1 (SQLite takes one writer at a
  time, so concurrency may not help writes, but it must not make the whole slower);
- p95 latency with 8 clients / (8 x p95 with 1 client): bound <= 1 (waiting for the
  lock costs at most the queue of the other writers, never a time-out).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.loadutil import LoadResult, run_load  # noqa: E402

from takedown.sim.harness import running_sim  # noqa: E402


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18] if len(xs) >= 20 else max(xs or [0.0])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 s instead of 120 s")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    seconds = args.seconds or (20.0 if args.quick else 120.0)
    with running_sim("small") as sim, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        many_dir, one_dir = Path(tmp) / "many", Path(tmp) / "one"
        many_dir.mkdir()
        one_dir.mkdir()
        many: LoadResult = run_load(many_dir, sim, clients=args.clients, seconds=seconds)
        one: LoadResult = run_load(one_dir, sim, clients=1, seconds=max(10.0, seconds / 4))
    fives = len(many.server_errors)
    failed = len(many.jobs_failed)
    tput_ratio = many.per_second / one.per_second if one.per_second else 0.0
    lat_bound = args.clients * p95(one.latencies)
    lat_ratio = p95(many.latencies) / lat_bound if lat_bound else 0.0
    out = {
        "clients": args.clients,
        "seconds": round(many.seconds, 1),
        "requests": many.requests,
        "statuses": {str(k): v for k, v in sorted(many.statuses.items())},
        "server_errors": fives,
        "jobs_done": many.jobs_done,
        "jobs_failed": failed,
        "requests_per_second": round(many.per_second, 1),
        "one_client_requests_per_second": round(one.per_second, 1),
        "throughput_ratio": round(tput_ratio, 2),
        "p95_ms": round(p95(many.latencies) * 1000, 1),
        "p95_bound_ms": round(lat_bound * 1000, 1),
        "p95_ratio": round(lat_ratio, 2),
        "targets": {
            "server_errors": "== 0",
            "jobs_failed": "== 0",
            "throughput_ratio": ">= 1",
            "p95_ratio": "<= 1",
        },
    }
    ok = fives == 0 and failed == 0 and tput_ratio >= 1.0 and lat_ratio <= 1.0
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{args.clients} clients, {out['seconds']} s: {many.requests} requests "
            f"{out['statuses']}, {many.jobs_done} jobs"
        )
        print(f"5xx: {fives} (bound 0); failed jobs: {failed} (bound 0)")
        print(
            f"throughput: {out['requests_per_second']}/s vs one client "
            f"{out['one_client_requests_per_second']}/s: ratio {tput_ratio:.2f} (bound >= 1)"
        )
        print(
            f"p95 latency: {out['p95_ms']} ms vs {args.clients} x one client's p95 "
            f"{out['p95_bound_ms']} ms: ratio {lat_ratio:.2f} (bound <= 1)"
        )
        for line in many.server_errors[:5] + [f"job {n}: {e}" for n, e in many.jobs_failed[:5]]:
            print("  ", line)  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
