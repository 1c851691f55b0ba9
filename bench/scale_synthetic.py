"""The runtime's synthetic scale-out bench: 1, 2 and 4 worker processes on a fetch job.

    .venv/bin/python bench/scale.py --synthetic            # 1,200 fetch jobs over 6 hosts
    .venv/bin/python bench/scale.py --synthetic --quick    # 300

Each job fetches one URL from one of ``--hosts`` slow hosts (a local server answering
after ``--latency`` seconds; hostnames mapped to it, as the testbed does) through the
guarded HTTP client, with the deployment-wide per-host budget (``--rate`` requests per
second per host, kept in Redis), and records its effect key in PostgreSQL. The jobs are
recorded in the outbox in one transaction and relayed to Dramatiq on the bench's own
redis-server; ``takedown worker`` processes (``--threads`` each) run them.

Figures, per worker count: jobs per second, per process, the ratio to the embedded mode
(one process, in-process pool with the same total threads, same outbox) measured in the
same run, the most requests any host saw in any one second (must stay within the rate:
the bound), and what limits the run: waiting on hosts (throughput near hosts x rate, or
near threads / latency) or CPU (worker CPU time near the machine's cores).

The capabilities' real jobs (the 26k verification round, the 2,000-item capture) are
``bench/scale.py`` without ``--synthetic``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _util import cpu_seconds, free_port, most_in_a_second  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from takedown.db import make_engine, make_sessionmaker, session_scope  # noqa: E402
from takedown.migrate import upgrade  # noqa: E402
from takedown.runtime import outbox  # noqa: E402

PG_ADMIN = os.environ.get(
    "TAKEDOWN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# A request sent on its slot may arrive a little late and the next on time: a one-second
# window may hold two slots over the rate (tests/runtime/test_host_budget.py, SLACK).
SLACK = 2


class Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    latency = 0.05
    hits: dict[str, list[float]] = defaultdict(list)
    lock = threading.Lock()

    def do_GET(self) -> None:
        with Slow.lock:
            Slow.hits[self.headers.get("Host", "")].append(time.monotonic())
        time.sleep(Slow.latency)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def fresh_db() -> tuple[str, Any]:
    name = f"distributed_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def run_once(
    mode: str, procs: int, args: argparse.Namespace, env: dict[str, str], tmp: Path
) -> dict[str, Any]:
    url, drop = fresh_db()
    env = {**env, "TAKEDOWN_DATABASE_URL": url}
    Slow.hits = defaultdict(list)
    threads = args.threads
    if mode == "embedded":
        cmd = [
            [
                sys.executable,
                str(ROOT / "bench" / "scale_jobs.py"),
                "embedded",
                str(threads * args.max_workers),
            ]
        ]
    else:
        launch = (
            "import sys; sys.path.insert(0, 'bench'); import scale_jobs; "
            "from takedown.cli import main; "
            f"sys.argv = ['takedown', 'worker', '--threads', '{threads}', '--no-tickers']; main()"
        )
        cmd = [[sys.executable, "-c", launch] for _ in range(procs)]
    logs = [open(tmp / f"{mode}-{procs}-{i}.log", "wb") for i in range(len(cmd))]  # noqa: SIM115
    children = [
        subprocess.Popen(c, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for c, log in zip(cmd, logs, strict=True)
    ]
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until every process is up (its heartbeat)
            with engine.connect() as conn:
                if conn.execute(text("SELECT count(*) FROM runtime_workers")).scalar() == len(
                    children
                ):
                    break
            time.sleep(0.2)
        cpu0 = sum(cpu_seconds(c.pid) for c in children)
        t0 = time.monotonic()
        with session_scope(factory) as s:
            for i in range(args.jobs):
                host = f"h{i % args.hosts}.example"
                outbox.record(s, "bench.fetch", {"url": f"http://{host}/item/{i}"}, key=f"j{i}")
        while True:
            with engine.connect() as conn:
                left = conn.execute(
                    text("SELECT count(*) FROM runtime_outbox WHERE state != 'done'")
                ).scalar()
            if not left:
                break
            if time.monotonic() - t0 > 600:
                raise TimeoutError(f"{mode} x{procs}: {left} jobs not done after 600 s")
            time.sleep(0.1)
        elapsed = time.monotonic() - t0
        cpu = sum(cpu_seconds(c.pid) for c in children) - cpu0
        with engine.connect() as conn:
            effects = conn.execute(text("SELECT count(*) FROM runtime_effects")).scalar()
    finally:
        for c in children:
            c.terminate()
        for c in children:
            try:
                c.wait(timeout=20)
            except subprocess.TimeoutExpired:
                c.kill()
        for log in logs:
            log.close()
        engine.dispose()
        drop()
    assert effects == args.jobs, f"{effects} effects for {args.jobs} jobs"
    peak = max(most_in_a_second(t) for t in Slow.hits.values())
    return {
        "elapsed": elapsed,
        "cpu": cpu,
        "peak_per_host": peak,
        "requests": sum(len(t) for t in Slow.hits.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1200)
    ap.add_argument("--hosts", type=int, default=6)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--rate", type=float, default=20.0, help="requests/s per host, all processes")
    ap.add_argument("--threads", type=int, default=4, help="threads per worker process")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.jobs, args.runs = 300, 1
    counts = [int(x) for x in args.workers.split(",")]
    args.max_workers = max(counts)
    Slow.latency = args.latency

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    rport = free_port()
    redis = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(rport),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            "",
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    tmp = Path(tempfile.mkdtemp(prefix="takedown-scale-"))
    env = {
        **os.environ,
        "TAKEDOWN_BROKER_URL": f"redis://127.0.0.1:{rport}/0",
        "TAKEDOWN_QUEUE_NAME": "distributed_bench",
        "TAKEDOWN_HOST_RATE": str(args.rate),
        "TAKEDOWN_RESOLVE": ",".join(f"h{i}.example=127.0.0.1:{port}" for i in range(args.hosts)),
        "TAKEDOWN_DATA_DIR": str(tmp / "var"),
        "TAKEDOWN_RELAY_INTERVAL_SECONDS": "0.2",
        "TAKEDOWN_INDEX_LOAD_JITTER_SECONDS": "0",
        "PYTHONPATH": str(ROOT / "src"),
    }
    results: dict[str, dict[str, Any]] = {}
    try:
        plan = [("embedded", 1)] + [("workers", n) for n in counts]
        for mode, n in plan:
            runs = [run_once(mode, n, args, env, tmp) for _ in range(args.runs)]
            med = statistics.median(r["elapsed"] for r in runs)
            results[f"{mode}-{n}"] = {
                "procs": n,
                "elapsed_s": round(med, 2),
                "jobs_per_s": round(args.jobs / med, 1),
                "jobs_per_s_per_proc": round(args.jobs / med / n, 1),
                "cpu_util": round(statistics.median(r["cpu"] / r["elapsed"] for r in runs), 2),
                "peak_per_host": max(r["peak_per_host"] for r in runs),
            }
    finally:
        redis.terminate()
        redis.wait()
        server.shutdown()
    base = results["embedded-1"]["jobs_per_s"]
    host_bound = args.hosts * args.rate
    cores = os.cpu_count() or 1
    print(
        f"{args.jobs} jobs, {args.hosts} hosts x {args.rate:g} req/s "
        f"(bound {host_bound:g} jobs/s), latency {args.latency * 1000:.0f} ms, "
        f"{args.threads} threads/process, median of {args.runs}"
    )
    print(
        f"{'mode':<12}{'procs':>6}{'jobs/s':>9}{'per proc':>10}{'vs embedded':>13}{'cpu':>7}"
        f"{'peak/host/s':>13}  limited by"
    )
    for name, r in results.items():
        r["ratio_to_embedded"] = round(r["jobs_per_s"] / base, 2)
        r["bound_held"] = r["peak_per_host"] <= args.rate + SLACK
        if r["jobs_per_s"] >= 0.85 * host_bound:
            r["limit"] = "hosts (per-host budget)"
        elif r["cpu_util"] >= 0.8 * cores:
            r["limit"] = "CPU"
        else:
            r["limit"] = "waiting (latency x threads, relay, database)"
        print(
            f"{name:<12}{r['procs']:>6}{r['jobs_per_s']:>9}{r['jobs_per_s_per_proc']:>10}"
            f"{r['ratio_to_embedded']:>13}{r['cpu_util']:>7}"
            f"{r['peak_per_host']:>9} <= {args.rate + SLACK:g}  {r['limit']}"
        )
    print(
        json.dumps(
            {
                "bench": "scale-synthetic",
                "jobs": args.jobs,
                "hosts": args.hosts,
                "rate": args.rate,
                "host_bound_jobs_per_s": host_bound,
                "cores": cores,
                "results": results,
            }
        )
    )
    if not all(r["bound_held"] for r in results.values()):
        sys.exit("a per-host limit was exceeded")


if __name__ == "__main__":
    main()
