"""Operation metrics and reports on the full action-day scenario (26,000 items with checks).

    .venv/bin/python bench/report.py [--quick] [--pg-url postgresql+psycopg://...] [--no-pg]

Loads every item of the scenario into one operation of 12 agencies (20 % reported
twice), refers them, draws each platform's removals from the scenario's compliance
model, writes three checks per referred item, then measures:

- the metrics endpoint's work (``operations.metrics.compute``), p50 of 11 runs,
  on SQLite and on PostgreSQL, and its ratio to one plain SQL ``GROUP BY`` over
  the same rows (the bound: nothing can be cheaper than reading them once);
- the final report (build + HTML) and the full PDF (Debian chromium), median of 3.

Targets: metrics p50 < 200 ms on both engines; full PDF < 20 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import Engine, create_engine, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from takedown.accounts.models import Agency, Role  # noqa: E402
from takedown.accounts.principal import Principal  # noqa: E402
from takedown.db import make_engine, make_sessionmaker  # noqa: E402
from takedown.items.models import Item, Sighting  # noqa: E402
from takedown.kit.clock import FrozenClock  # noqa: E402
from takedown.migrate import upgrade  # noqa: E402
from takedown.operations import metrics, report, repository  # noqa: E402
from takedown.operations.models import Operation, OperationItem, OperationParticipant  # noqa: E402
from takedown.platforms.identity import InvalidURL, canonicalize  # noqa: E402
from takedown.sim.scenario import load_scenario, resolve_scenario_path  # noqa: E402
from takedown.sim.world import World, draw  # noqa: E402
from takedown.verification.models import Check, CheckSchedule  # noqa: E402

TARGET_METRICS_MS = 200.0
TARGET_PDF_S = 20.0
CHUNK = 5000
CHROMIUM = "/usr/bin/chromium"


def build_rows(scenario: str, agencies: int) -> tuple[dict[str, list[dict[str, Any]]], dt.datetime]:
    world = World(load_scenario(resolve_scenario_path(scenario)))
    start = dt.datetime.fromtimestamp(world.start, dt.UTC)
    rng = random.Random(2019)
    items, sightings, members, scheds, checks = [], [], [], [], []
    seen: set[str] = set()
    item_id = 0
    for it in world.items.values():
        if it.appeared_at > world.start:
            continue
        try:
            ident = canonicalize(it.url)
            identity, platform, kind = ident.identity, ident.platform, ident.kind.value
        except InvalidURL:  # the testbed's .onion hosts: keep them, keyed by the sim's id
            identity, platform, kind = f"{it.platform}:{it.id}", it.platform, "page"
        if identity in seen:
            continue
        seen.add(identity)
        item_id += 1
        p = world.platforms[it.platform]
        referred = start + dt.timedelta(seconds=rng.randint(0, 6 * 3600))
        removed = None
        comp = p.compliance
        acts = comp.mode in ("comply", "partial") and rng.random() < comp.rate
        if acts and (comp.mode == "comply" or rng.random() < comp.partial_fraction):
            removed = referred + dt.timedelta(seconds=draw(rng, comp.delay_minutes, 60))
        status = (
            "removed" if removed else rng.choice(["still_online", "still_online", "restricted"])
        )
        items.append({
            "id": item_id, "identity": identity, "platform": platform, "kind": kind,
            "key": identity, "canonical_url": it.url, "fetch_url": it.url,
            "parent_identity": None, "status": status, "title": None, "language": None,
            "first_seen_at": start, "last_seen_at": start, "created_at": start,
            "status_changed_at": removed or referred, "first_referred_at": referred,
        })  # fmt: skip
        who = [rng.randint(1, agencies)]
        if rng.random() < 0.2:
            who.append(rng.randint(1, agencies))
        for a in sorted(set(who)):
            sightings.append({"item_id": item_id, "agency_id": a, "reported_url": it.url,
                              "reported_at": start, "source": "bench", "note": ""})  # fmt: skip
            members.append({"operation_id": 1, "item_id": item_id, "agency_id": a,
                            "added_at": start, "via": "import"})  # fmt: skip
        last = removed or referred + dt.timedelta(hours=20)
        outcome = "removed" if removed else "online"
        scheds.append({
            "item_id": item_id, "anchor_at": referred, "next_check_at": last, "active": False,
            "checks": 3, "last_checked_at": last, "last_outcome": outcome,
            "removed_at": removed, "removed_observed_at": removed,
            "removed_confirmed_at": removed, "removed_since": removed,
        })  # fmt: skip
        for t, outcome in ((referred, "online"), (referred + dt.timedelta(minutes=15),
                           "removed" if removed and removed <= referred + dt.timedelta(minutes=15)
                           else "online"), (last, "removed" if removed else "online")):  # fmt: skip
            checks.append({"item_id": item_id, "checked_at": t, "url": it.url,
                           "outcome": outcome, "reason": "", "detector": "bench"})  # fmt: skip
    return {
        "items": items, "sightings": sightings, "members": members, "scheds": scheds,
        "checks": checks,
    }, start  # fmt: skip


def load(engine: Engine, rows: dict[str, list[dict[str, Any]]], start: dt.datetime,
         agencies: int) -> None:  # fmt: skip
    upgrade(engine)
    with Session(engine) as s:
        for a in range(1, agencies + 1):
            s.add(Agency(id=a, name=f"Bench IRU {a}", country="FR", kind="national_iru",
                         contact_point="", created_at=start))  # fmt: skip
        s.flush()
        s.add(Operation(id=1, name="Bench action day", kind="action_day", lead_agency_id=1,
                        status="running", starts_at=start, targets={}, notes="",
                        created_at=start))  # fmt: skip
        s.flush()
        for a in range(1, agencies + 1):
            role = "lead" if a == 1 else "participant"
            s.add(OperationParticipant(operation_id=1, agency_id=a, role=role, joined_at=start))
        s.flush()
        tables = (
            (Item.__table__, "items"),
            (Sighting.__table__, "sightings"),
            (OperationItem.__table__, "members"),
            (CheckSchedule.__table__, "scheds"),
            (Check.__table__, "checks"),
        )
        for table, key in tables:
            data = rows[key]
            for i in range(0, len(data), CHUNK):
                s.execute(insert(table), data[i : i + CHUNK])
        s.commit()
    # What a live database has had time to do after a bulk load: statistics, the visibility
    # map (PostgreSQL's index-only scans), and the WAL folded back into the file (SQLite).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("VACUUM ANALYZE"))
        else:
            c.execute(text("ANALYZE")).close()  # an open cursor would lock the checkpoint out
            c.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).close()


def timed(
    fn: Callable[[], object], n: int, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    out = []
    for _ in range(n):
        t0 = clock()
        fn()
        out.append(clock() - t0)
    return out


def measure(engine: Engine, as_of: dt.datetime, runs: int) -> dict[str, float]:
    factory = make_sessionmaker(engine)
    with factory() as s:
        op = repository.operation_by_id(s, 1)
        assert op is not None
        metrics.compute(s, op, as_of)  # warm-up
        repository.plain_group_by(s, 1)
        m = timed(lambda: metrics.compute(s, op, as_of), runs)
        g = timed(lambda: repository.plain_group_by(s, 1), runs)
        # CPU seconds of this process (all of SQLite's work; PostgreSQL's server CPU is not in
        # it): nearly the same figure whatever else the machine is doing.
        cpu = timed(lambda: metrics.compute(s, op, as_of), runs, time.process_time)
    return {
        "metrics_p50_ms": statistics.median(m) * 1000,
        "group_by_p50_ms": statistics.median(g) * 1000,
        "metrics_cpu_p50_ms": statistics.median(cpu) * 1000,
    }


def reports(engine: Engine, as_of: dt.datetime, runs: int, pdf: bool) -> dict[str, float | None]:
    factory = make_sessionmaker(engine)
    lead = Principal(user_id=0, agency_id=1, role=Role.SUPERVISOR, via="system")
    html_times, pdf_times = [], []
    size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        with factory() as s:
            rep = report.build(s, lead, 1, final=True, clock=FrozenClock(as_of))
        html = report.render_html(rep)
        t1 = time.perf_counter()
        html_times.append(t1 - t0)
        if pdf:
            size = len(report.render_pdf(html, executable=CHROMIUM))
            pdf_times.append(time.perf_counter() - t0)
    return {
        "report_html_s": statistics.median(html_times),
        "pdf_s": statistics.median(pdf_times) if pdf_times else None,
        "pdf_bytes": float(size),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small.yaml, fewer runs")
    ap.add_argument("--scenario", default=None)
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                    help="an admin URL; a temporary database is created and dropped")  # fmt: skip
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-pdf", action="store_true")
    args = ap.parse_args()
    scenario = args.scenario or ("small" if args.quick else "action-day")
    runs = 5 if args.quick else 11
    rep_runs = 1 if args.quick else 3
    agencies = 3 if args.quick else 12

    t0 = time.perf_counter()
    rows, start = build_rows(scenario, agencies)
    gen_s = time.perf_counter() - t0
    as_of = start + dt.timedelta(days=3)
    n_items, n_checks = len(rows["items"]), len(rows["checks"])
    results: dict[str, Any] = {}

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        t0 = time.perf_counter()
        load(engine, rows, start, agencies)
        results["sqlite_load_s"] = time.perf_counter() - t0
        results["sqlite"] = measure(engine, as_of, runs)
        pdf_ok = Path(CHROMIUM).exists() and not args.no_pdf
        results["report"] = reports(engine, as_of, rep_runs, pdf_ok)
        engine.dispose()

    if not args.no_pg:
        name = f"takedown_bench_report_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            print(f"PostgreSQL unavailable ({str(exc).splitlines()[0]}); skipping it")
            admin.dispose()
        else:
            engine = make_engine(args.pg_url.rsplit("/", 1)[0] + "/" + name)
            try:
                t0 = time.perf_counter()
                load(engine, rows, start, agencies)
                results["pg_load_s"] = time.perf_counter() - t0
                results["postgresql"] = measure(engine, as_of, runs)
            finally:
                engine.dispose()
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()

    sq, pg, rp = results["sqlite"], results.get("postgresql"), results["report"]
    print(f"scenario             {scenario}: {n_items:,} items, {len(rows['members']):,} "
          f"contributions, {n_checks:,} checks (generated in {gen_s:.1f} s)")  # fmt: skip
    for label, r in (("SQLite    ", sq), ("PostgreSQL", pg)):
        if r:
            ratio = r["metrics_p50_ms"] / r["group_by_p50_ms"]
            print(f"{label} metrics p50 {r['metrics_p50_ms']:8.1f} ms   plain GROUP BY p50 "
                  f"{r['group_by_p50_ms']:6.1f} ms   ratio {ratio:.1f}x   "
                  f"(client CPU p50 {r['metrics_cpu_p50_ms']:.1f} ms)")  # fmt: skip
    print(f"machine              {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"final report (build + HTML), median of {rep_runs}: {rp['report_html_s']:.2f} s")
    if rp["pdf_s"] is not None:
        print(f"full PDF (build + HTML + chromium), median of {rep_runs}: {rp['pdf_s']:.2f} s "
              f"({rp['pdf_bytes'] / 1024:.0f} KiB)")  # fmt: skip
    targets = {
        "metrics_p50_ms_sqlite": TARGET_METRICS_MS,
        "metrics_p50_ms_postgresql": TARGET_METRICS_MS,
        "pdf_s": TARGET_PDF_S,
    }
    met = sq["metrics_p50_ms"] < TARGET_METRICS_MS
    met = met and (pg is None or pg["metrics_p50_ms"] < TARGET_METRICS_MS)
    met = met and (rp["pdf_s"] is None or rp["pdf_s"] < TARGET_PDF_S)
    if pg is None or rp["pdf_s"] is None:
        met = False  # a target not measured is not met
    out = {
        "bench": "report",
        "scenario": scenario,
        "items": n_items,
        "checks": n_checks,
        "metrics_p50_ms_sqlite": round(sq["metrics_p50_ms"], 1),
        "metrics_cpu_p50_ms_sqlite": round(sq["metrics_cpu_p50_ms"], 1),
        "group_by_p50_ms_sqlite": round(sq["group_by_p50_ms"], 2),
        "ratio_sqlite": round(sq["metrics_p50_ms"] / sq["group_by_p50_ms"], 1),
        "metrics_p50_ms_postgresql": round(pg["metrics_p50_ms"], 1) if pg else None,
        "group_by_p50_ms_postgresql": round(pg["group_by_p50_ms"], 2) if pg else None,
        "ratio_postgresql": round(pg["metrics_p50_ms"] / pg["group_by_p50_ms"], 1) if pg else None,
        "load_average_1m": round(os.getloadavg()[0], 1),
        "cpus": os.cpu_count(),
        "report_html_s": round(rp["report_html_s"], 2),
        "pdf_s": round(rp["pdf_s"], 2) if rp["pdf_s"] is not None else None,
        "targets": targets,
        "targets_met": met,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
