"""Scale-out benchmark (#18.5): the capabilities' real jobs on 1, 2 and 4 worker processes.

    .venv/bin/python bench/scale.py              # 26,000-item verification, 2,000-item capture
    .venv/bin/python bench/scale.py --quick      # 2,000 and 200
    .venv/bin/python bench/scale.py --synthetic  # the runtime alone (bench/scale_synthetic.py)

Set-up:
- The testbed's action day (``takedown sim``'s scenario) runs in a child process on
  loopback with a fixed answer latency (``--latency-ms``) and no random faults. Every
  request it answers is counted per host with its arrival time (a wrapper around the
  testbed's request handler), so the bench sees the most requests any host got in any
  one second.
- PostgreSQL: the bench's own database, seeded once with N testbed items (an import
  file through ``items.intake``, every item put under verification) and the platform
  registry; each run starts from a copy of it (``CREATE DATABASE … TEMPLATE``).
- Dramatiq on the bench's own ``redis-server``. The per-host budget is the deployment's
  (``TAKEDOWN_HOST_RATE`` requests per second per host, kept in Redis, shared by every
  process), for the embedded mode too.
- Per mode (embedded, then 1, 2 and 4 ``takedown worker`` processes with ``--threads``
  each; embedded is one process with an in-process pool of as many threads as the most
  workers have together), two phases:
  1. the verification round: the due work recorded as ``verification.verify`` jobs in
     the outbox (``--chunks`` of them, each leasing its share of the due items), relayed
     to the broker; done when every job is done; every item must be checked exactly once;
  2. the evidence capture: ``evidence.capture`` jobs of ``--batch`` items each over
     the capture items (public pages of seven web platforms, round-robin); every item
     must get one complete capture.
- Measured per phase: items per second, per process, the ratio to the embedded mode in
  the same run, the peak requests per host per second against the rate, the bound
  the per-host budget sets (the busiest host's requests / rate: no per-host-polite
  deployment can finish sooner) and the ratio to it, the CPU the processes used per
  second of wall time against the machine's cores, and the time their threads spent
  runnable but waiting for a core (``/proc/PID/task/*/schedstat``) per second: a run is
  host-bound near the bound, CPU-bound near the cores or when its threads waited longer
  for a core than they ran (the machine's other load), else waiting on the hosts.
- The testbed runs at nice -5 when the bench may (root): it stands for platforms far
  away, so its own lag should neither slow the workers nor bunch the arrivals it counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _util import cpu_seconds, free_port, most_in_a_second, round_robin  # noqa: E402

PG_ADMIN = os.environ.get(
    "TAKEDOWN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# A request sent on its slot may arrive a little late and the next on time: a one-second
# window may hold two slots over the rate (tests/runtime/test_host_budget.py, SLACK).
SLACK = 2
CAPTURE_PLATFORMS = ("x", "youtube", "telegram", "dropvault", "sendbox", "textbin", "webhost")


# --- the testbed, in a child process, counting requests per host -------------------------


def _serve(conn: Any, latency_ms: int, owners_share: float) -> None:
    import threading

    from takedown.sim.app import SimApp
    from takedown.sim.harness import running_sim
    from takedown.sim.scenario import Behaviour, Dist, load_scenario, resolve_scenario_path

    hits: dict[str, list[float]] = {}
    lock = threading.Lock()
    handle = SimApp.handle

    def counting(self: SimApp, req: Any) -> Any:
        with lock:
            hits.setdefault(req.host, []).append(time.monotonic())
        return handle(self, req)

    SimApp.handle = counting  # type: ignore[method-assign]
    # The testbed stands for platforms far away, not on our cores: ahead of the workers
    # for a CPU, so its own lag neither slows them nor bunches the arrivals it counts.
    with contextlib.suppress(OSError):
        os.nice(-5)
    sc = load_scenario(resolve_scenario_path("action-day"))
    plats = []
    for p in sc.platforms:
        upd: dict[str, Any] = {
            "behaviour": Behaviour(latency_ms=Dist(median=latency_ms, sigma=0.0)),
            "organic": p.organic.model_copy(update={"rate": 0.0}),
        }
        if owners_share < 1:
            owners = max(2, int(p.content.owners * owners_share))
            upd["content"] = p.content.model_copy(update={"owners": owners})
        plats.append(p.model_copy(update=upd))
    sc = sc.model_copy(update={"platforms": plats})
    with running_sim(sc, inject=True, tls=True) as sim:
        items = [
            {"url": i["url"], "platform": i["platform"], "access": i.get("access")}
            for i in sim.items()
        ]
        conn.send({"info": sim.info(), "items": items})
        while True:
            cmd = conn.recv()
            if cmd == "reset":
                with lock:
                    hits.clear()
                conn.send("ok")
            elif cmd == "hits":
                with lock:
                    snap = {h: list(t) for h, t in hits.items()}
                conn.send({h: (len(t), most_in_a_second(t)) for h, t in snap.items()})
            else:
                return


# --- the database: seeded once, copied per run -------------------------------------------


def _admin() -> Any:
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def _url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop(name: str) -> None:
    from sqlalchemy import text

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(name: str, urls: list[str], capture_urls: list[str]) -> tuple[int, list[int], int]:
    """A database with the platforms, one analyst, the items (imported, under
    verification); returns (the analyst's user id, the capture items' ids, items)."""
    from sqlalchemy import select, text
    from tests.factories import make_actor

    from takedown.db import make_engine, make_sessionmaker, session_scope
    from takedown.items.intake import import_stream
    from takedown.items.models import Item
    from takedown.migrate import upgrade
    from takedown.platforms.identity import canonicalize
    from takedown.platforms.seed import ensure_seeded
    from takedown.verification.service import schedule_items

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = make_engine(_url(name))
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:
        ensure_seeded(s)
        actor = make_actor(s)
        user_id = actor.user.id
        body = ("\n".join(urls) + "\n").encode()
        import_stream(s, actor.principal, io.BytesIO(body), filename="scale.txt", format="urls")
    with session_scope(factory) as s:
        ids = {str(k): int(v) for k, v in s.execute(select(Item.identity, Item.id))}
        schedule_items(s, list(ids.values()))
    capture_ids = [ids[canonicalize(u).identity] for u in capture_urls]
    engine.dispose()
    return user_id, capture_ids, len(ids)


def copy_db(template: str) -> str:
    from sqlalchemy import text

    name = f"scale_run_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return name


# --- processes ---------------------------------------------------------------------------


def spread(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """``n`` items taken round-robin over the platforms (all of them when ``n`` is more)."""
    by: dict[str, list[dict[str, Any]]] = {}
    for it in items:
        by.setdefault(it["platform"], []).append(it)
    return round_robin(by, n)


def runq_seconds(pid: int) -> float:
    """Seconds the process's threads spent runnable but waiting for a CPU (schedstat)."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return 0.0
    return total / 1e9


def pick_capture(items: list[dict[str, Any]], n: int) -> list[str]:
    by: dict[str, list[str]] = {}
    for it in items:
        if it["access"] == "public" and it["platform"] in CAPTURE_PLATFORMS:
            by.setdefault(it["platform"], []).append(it["url"])
    return round_robin(by, n)


class Testbed:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def reset(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    def hits(self) -> dict[str, tuple[int, int]]:
        self.conn.send("hits")
        return dict(self.conn.recv())


def _wait_done(engine: Any, jobs: int, t0: float, what: str, timeout: float) -> None:
    from sqlalchemy import text

    while True:
        with engine.connect() as conn:
            states = dict(
                conn.execute(
                    text("SELECT state, count(*) FROM runtime_outbox GROUP BY state")
                ).all()
            )
            dead = conn.execute(text("SELECT count(*) FROM runtime_dead_jobs")).scalar()
        if states.get("done", 0) >= jobs:
            return
        if dead:
            raise RuntimeError(f"{what}: {dead} job(s) dead-lettered (see the worker logs)")
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{what}: jobs not done after {timeout:.0f} s: {states}")
        time.sleep(0.2)


def run_mode(
    mode: str,
    procs: int,
    args: argparse.Namespace,
    env: dict[str, str],
    tmp: Path,
    template: str,
    seeded: dict[str, Any],
    testbed: Testbed,
) -> dict[str, Any]:
    from sqlalchemy import text

    from takedown.db import make_engine, make_sessionmaker, session_scope
    from takedown.runtime import outbox

    name = copy_db(template)
    url = _url(name)
    env = {
        **env,
        "TAKEDOWN_DATABASE_URL": url,
        "TAKEDOWN_QUEUE_NAME": f"scale_{uuid.uuid4().hex[:8]}",
        "TAKEDOWN_DATA_DIR": str(tmp / f"var-{mode}-{procs}"),
    }
    if mode == "embedded":
        threads = args.threads * args.max_workers
        cmds = [[sys.executable, str(ROOT / "bench" / "scale_embedded.py"), str(threads)]]
    else:
        cmds = [
            [str(ROOT / ".venv" / "bin" / "takedown"), "worker", "--threads", str(args.threads),
             "--no-tickers"]
            for _ in range(procs)
        ]  # fmt: skip
    logs = [open(tmp / f"{mode}-{procs}-{i}.log", "wb") for i in range(len(cmds))]  # noqa: SIM115
    children = [
        subprocess.Popen(c, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for c, log in zip(cmds, logs, strict=True)
    ]
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    out: dict[str, Any] = {}
    try:
        deadline = time.monotonic() + 120
        while True:  # every process is up: its heartbeat row
            with engine.connect() as conn:
                up = conn.execute(text("SELECT count(*) FROM runtime_workers")).scalar()
            if up == len(children):
                break
            if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                raise RuntimeError(f"{mode} x{procs}: {up} of {len(children)} processes up")
            time.sleep(0.2)
        time.sleep(1.0)  # the index loads at start (IndexSync): not part of the round

        jobs = 0
        if "verify" in args.phases:
            # 1. the verification round: the due work as jobs in the outbox
            n_items = seeded["items"]
            per_job = -(-n_items // args.chunks)
            testbed.reset()
            cpu0 = sum(cpu_seconds(c.pid) for c in children)
            rq0 = sum(runq_seconds(c.pid) for c in children)
            t0 = time.monotonic()
            with session_scope(factory) as s:
                for k in range(args.chunks):
                    outbox.record(s, "verification.verify", {"limit": per_job, "per_host": 16},
                                  key=f"scale:verify:{k}")  # fmt: skip
            _wait_done(engine, args.chunks, t0, f"{mode} x{procs} verification", args.timeout)
            elapsed = time.monotonic() - t0
            cpu = sum(cpu_seconds(c.pid) for c in children) - cpu0
            runq = sum(runq_seconds(c.pid) for c in children) - rq0
            hits = testbed.hits()
            with engine.connect() as conn:
                per_item = Counter(
                    dict(
                        conn.execute(
                            text("SELECT item_id, count(*) FROM checks GROUP BY item_id")
                        ).all()
                    )
                )
            out["verify"] = {
                "items": n_items,
                "elapsed": elapsed,
                "cpu": cpu,
                "runq": runq,
                "checked": len(per_item),
                "checked_twice": sum(1 for v in per_item.values() if v > 1),
                "hits": hits,
            }

            jobs = args.chunks

        if "capture" in args.phases:
            # 2. the evidence capture: batches of items as jobs in the outbox
            ids = seeded["capture_ids"]
            batches = [ids[i : i + args.batch] for i in range(0, len(ids), args.batch)]
            testbed.reset()
            cpu0 = sum(cpu_seconds(c.pid) for c in children)
            rq0 = sum(runq_seconds(c.pid) for c in children)
            t0 = time.monotonic()
            with session_scope(factory) as s:
                for k, batch in enumerate(batches):
                    outbox.record(s, "evidence.capture",
                                  {"item_ids": batch, "user_id": seeded["user_id"]},
                                  key=f"scale:capture:{k}")  # fmt: skip
            _wait_done(engine, jobs + len(batches), t0, f"{mode} x{procs} capture", args.timeout)
            elapsed = time.monotonic() - t0
            cpu = sum(cpu_seconds(c.pid) for c in children) - cpu0
            runq = sum(runq_seconds(c.pid) for c in children) - rq0
            hits = testbed.hits()
            with engine.connect() as conn:
                states = dict(
                    conn.execute(
                        text("SELECT status, count(*) FROM evidence_captures GROUP BY status")
                    ).all()
                )
                captured = conn.execute(
                    text("SELECT count(DISTINCT item_id) FROM evidence_captures "
                         "WHERE status = 'complete'")
                ).scalar()  # fmt: skip
            out["capture"] = {
                "items": len(ids),
                "elapsed": elapsed,
                "cpu": cpu,
                "runq": runq,
                "complete": int(captured or 0),
                "states": states,
                "hits": hits,
            }
    finally:
        for c in children:
            c.terminate()
        for c in children:
            try:
                c.wait(timeout=30)
            except subprocess.TimeoutExpired:
                c.kill()
                c.wait()
        for log in logs:
            log.close()
        engine.dispose()
        _drop(name)
    return out


# --- figures -----------------------------------------------------------------------------


def summarise(
    name: str, procs: int, runs: list[dict[str, Any]], rate: float, cores: int
) -> dict[str, Any]:
    med = statistics.median(r["elapsed"] for r in runs)
    items = runs[0]["items"]
    peak = max(max((p for _, p in r["hits"].values()), default=0) for r in runs)
    # The busiest host's requests (median over runs) at the rate: the per-host bound.
    busiest = statistics.median(max((n for n, _ in r["hits"].values()), default=0) for r in runs)
    requests = statistics.median(sum(n for n, _ in r["hits"].values()) for r in runs)
    hosts = max(len(r["hits"]) for r in runs)
    bound_s = busiest / rate if rate > 0 else 0.0
    cpu_util = statistics.median(r["cpu"] / r["elapsed"] for r in runs)
    runq = statistics.median(r["runq"] / r["elapsed"] for r in runs)
    out = {
        "procs": procs,
        "items": items,
        "elapsed_s": round(med, 2),
        "items_per_s": round(items / med, 1),
        "items_per_s_per_proc": round(items / med / procs, 1),
        "requests": int(requests),
        "hosts": hosts,
        "busiest_host_requests": int(busiest),
        "host_bound_s": round(bound_s, 2),
        "ratio_to_host_bound": round(med / bound_s, 2) if bound_s else None,
        "cpu_per_wall_s": round(cpu_util, 2),
        "cpu_wait_per_wall_s": round(runq, 2),
        # What one core does for this phase: the ceiling on an idle machine is cores x it.
        "items_per_cpu_s": round(items / med / cpu_util, 1) if cpu_util else None,
        "peak_per_host_per_s": peak,
        "bound_held": peak <= rate + SLACK,
    }
    if bound_s and med <= 1.25 * bound_s:
        out["limit"] = "hosts (per-host budget)"
    elif cpu_util >= 0.7 * cores:
        out["limit"] = "CPU (the cores)"
    elif runq >= cpu_util:
        # its threads waited longer for a CPU than they ran: the machine's other load
        out["limit"] = "CPU (waiting for a core)"
    else:
        out["limit"] = "waiting (hosts' latency, database)"
    for key in ("checked", "checked_twice", "complete"):
        if key in runs[0]:
            out[key] = (
                min(r[key] for r in runs) if key != "checked_twice" else max(r[key] for r in runs)
            )
    return out


def main() -> None:
    if "--synthetic" in sys.argv:
        sys.argv.remove("--synthetic")
        sys.path.insert(0, str(ROOT / "bench"))
        import scale_synthetic

        scale_synthetic.main()
        return
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--synthetic", action="store_true", help="the runtime's fetch-job bench")
    ap.add_argument("--quick", action="store_true", help="2,000 items, 200 captures")
    ap.add_argument("--items", type=int, default=26_000)
    ap.add_argument("--captures", type=int, default=2_000)
    ap.add_argument("--workers", default="1,2,4", help="worker process counts")
    ap.add_argument("--threads", type=int, default=2, help="threads per worker process")
    ap.add_argument("--rate", type=float, default=25.0, help="requests/s per host, all processes")
    ap.add_argument("--latency-ms", type=int, default=50, help="the testbed's answer latency")
    ap.add_argument("--chunks", type=int, default=32, help="verification jobs per round")
    ap.add_argument("--batch", type=int, default=10, help="items per capture job")
    ap.add_argument("--phases", default="verify,capture", help="verify, capture or both")
    ap.add_argument("--runs", type=int, default=1, help="rounds per mode (median)")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per phase")
    args = ap.parse_args()
    if args.quick:
        args.items, args.captures = 2_000, 200
    args.phases = tuple(p for p in ("verify", "capture") if p in args.phases.split(","))
    counts = [int(x) for x in args.workers.split(",") if x]
    args.max_workers = max(counts)
    cores = os.cpu_count() or 1

    # The testbed: the full action day has ~26k items; a smaller one for fewer.
    parent, child = mp.Pipe()
    share = 1.0 if args.items > 20_000 else max(0.1, min(1.0, args.items / 20_000))
    proc = mp.get_context("fork").Process(
        target=_serve, args=(child, args.latency_ms, share), daemon=True
    )
    t_setup = time.monotonic()
    proc.start()
    data = parent.recv()
    testbed = Testbed(parent)
    info, items = data["info"], data["items"]
    chosen = spread(items, args.items)  # round-robin over the platforms
    urls = [i["url"] for i in chosen]
    capture_urls = pick_capture(chosen, args.captures)

    rport = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--logfile", ""],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="takedown-scale-"))
    template = f"scale_seed_{uuid.uuid4().hex[:8]}"
    results: dict[str, dict[str, Any]] = {}
    try:
        user_id, capture_ids, n_items = seed(template, urls, capture_urls)
        seeded = {"user_id": user_id, "capture_ids": capture_ids, "items": n_items}
        setup_s = time.monotonic() - t_setup
        env = {
            **os.environ,
            "TAKEDOWN_BROKER_URL": f"redis://127.0.0.1:{rport}/0",
            "TAKEDOWN_HOST_RATE": str(args.rate),
            "TAKEDOWN_HOST_BUDGET": "redis",
            "TAKEDOWN_RESOLVE": info["TAKEDOWN_RESOLVE"],
            "TAKEDOWN_TOR_PROXY": info["TAKEDOWN_TOR_PROXY"],
            "TAKEDOWN_CA_BUNDLE": info["ca_path"] or "",
            "TAKEDOWN_RELAY_INTERVAL_SECONDS": "0.2",
            "TAKEDOWN_INDEX_LOAD_JITTER_SECONDS": "0",
            "PYTHONPATH": str(ROOT / "src"),
        }
        plan = [("embedded", 1)] + [("workers", n) for n in counts]
        raw: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.runs):
            for mode, n in plan:
                r = run_mode(mode, n, args, env, tmp, template, seeded, testbed)
                raw.setdefault(f"{mode}-{n}", []).append(r)
                took = ", ".join(f"{p} {r[p]['elapsed']:.1f} s" for p in args.phases)
                print(f"  {mode}-{n}: {took}", file=sys.stderr)
        for key, runs in raw.items():
            procs = int(key.rsplit("-", 1)[1])
            results[key] = {
                phase: summarise(phase, procs, [r[phase] for r in runs], args.rate, cores)
                for phase in args.phases
            }
    finally:
        redis.terminate()
        redis.wait()
        parent.send("stop")
        proc.join(30)
        _drop(template)

    load = os.getloadavg()
    print(
        f"scale-out on the testbed: {n_items} items verified, {len(capture_ids)} captured; "
        f"per-host rate {args.rate:g} req/s (Redis budget, all processes), latency "
        f"{args.latency_ms} ms, {args.threads} threads/worker (embedded: "
        f"{args.threads * args.max_workers}), {cores} cores, load {load[0]:.1f}, "
        f"median of {args.runs}, setup {setup_s:.0f} s"
    )
    head = (
        f"{'phase':<8}{'mode':<12}{'items/s':>9}{'per proc':>9}{'vs emb':>8}"
        f"{'bound s':>9}{'vs bound':>9}{'cpu/s':>7}{'runq/s':>7}"
        f"{'/cpu-s':>9}{'peak/host/s':>13}  limited by"
    )
    print(head)
    for phase in args.phases:
        base = results["embedded-1"][phase]["items_per_s"]
        for key, res in results.items():
            r = res[phase]
            r["ratio_to_embedded"] = round(r["items_per_s"] / base, 2) if base else None
            print(
                f"{phase:<8}{key:<12}{r['items_per_s']:>9}{r['items_per_s_per_proc']:>9}"
                f"{r['ratio_to_embedded']:>8}{r['host_bound_s']:>9}"
                f"{r['ratio_to_host_bound']!s:>9}{r['cpu_per_wall_s']:>7}"
                f"{r['cpu_wait_per_wall_s']:>7}{r['items_per_cpu_s']!s:>9}"
                f"{r['peak_per_host_per_s']:>7} <= {args.rate + SLACK:g}  {r['limit']}"
            )
    print(
        "bound s: the busiest host's requests / the rate (no per-host-polite run is "
        "faster); cpu/s: CPU seconds the processes used per second; runq/s: seconds "
        "their threads waited for a core per second; /cpu-s: items per CPU second."
    )
    for phase in args.phases:
        for key in sorted(k for k in results if k != "embedded-1"):
            r = results[key][phase]
            ceiling = cores * (r["items_per_cpu_s"] or 0)
            host_ceiling = r["items"] / r["host_bound_s"] if r["host_bound_s"] else 0
            print(
                f"{phase} {key}: x{r['ratio_to_embedded']} embedded; per-host bound "
                f"{host_ceiling:.0f} items/s, CPU ceiling {ceiling:.0f} items/s "
                f"({cores} cores x {r['items_per_cpu_s']}/cpu-s) against {r['items_per_s']} "
                f"measured with {r['cpu_per_wall_s']} cores' worth got ({r['limit']})"
            )
    problems = []
    for key, res in results.items():
        v, c = res.get("verify"), res.get("capture")
        if v and (v["checked"] != n_items or v["checked_twice"]):
            problems.append(f"{key}: {v['checked']} of {n_items} checked, "
                            f"{v['checked_twice']} twice")  # fmt: skip
        if c and c["complete"] != len(capture_ids):
            problems.append(f"{key}: {c['complete']} of {len(capture_ids)} captured")
        if not all(r["bound_held"] for r in res.values()):
            problems.append(f"{key}: a per-host limit was exceeded")
    for p in problems:
        print("PROBLEM:", p)
    print(
        json.dumps(
            {
                "bench": "scale",
                "quick": args.quick,
                "items": n_items,
                "captures": len(capture_ids),
                "rate": args.rate,
                "slack": SLACK,
                "latency_ms": args.latency_ms,
                "threads_per_worker": args.threads,
                "cores": cores,
                "loadavg": [round(x, 2) for x in load],
                "runs": args.runs,
                "results": results,
                "problems": problems,
                "bound_held_at_4": all(
                    results[k][p]["bound_held"]
                    for k in results
                    if k.endswith("-4")
                    for p in args.phases
                ),
            }
        )
    )
    if problems:
        sys.exit(f"the workers' logs are in {tmp}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
