"""Bench: bulk intake of a synthetic action day, on SQLite and PostgreSQL.

A day of N reported URLs (26,000 by default) across 10 platforms, ~30% of them
reports of an item already in the file written in another URL form
(twitter.com vs x.com, m./www., utm parameters, youtu.be vs watch?v=,
t.me/s/ vs t.me/, mega's old #! links...). The CSV is imported through
``takedown.items.intake.import_stream`` (one transaction, as the CLI does), and
compared with the raw bound: a DBAPI ``executemany`` of the same final rows
(items and sightings) into the same, freshly emptied tables of the same engine.

Each run is a fresh database in a fresh worker process, so the peak RSS is the
import's own; both timed sections (import, bound) start after a ``gc.collect()``.
Figures are medians over ``--runs`` (default 3).

    .venv/bin/python bench/intake.py            # 26k x3 and 1M x1, both engines
    .venv/bin/python bench/intake.py --quick    # 26k only
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get(
    "TAKEDOWN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DUP_SHARE = 0.30
TARGET_26K_SQLITE_S = 5.0
TARGET_1M_S = 120.0
TARGET_RATIO = 3.0
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B64 = _B62 + "-_"


def _code(n: int, width: int, alphabet: str = _B62) -> str:
    out = []
    base = len(alphabet)
    for _ in range(width):
        n, r = divmod(n, base)
        out.append(alphabet[r])
    return "".join(reversed(out))


def render(k: int, form: int) -> str:
    """URL of synthetic item ``k`` written in one of its forms (all fold to one identity)."""
    p, j = k % 10, k // 10
    f = form % 4
    if p == 0:
        h, sid = f"syn_h{j % 5000}", 1_600_000_000_000_000_000 + j
        return (
            f"https://x.com/{h}/status/{sid}",
            f"https://twitter.com/{h}/status/{sid}?s=20",
            f"https://mobile.twitter.com/{h}/status/{sid}",
            f"https://x.com/{h}/status/{sid}?utm_source=tg&utm_medium=share",
        )[f]
    if p == 1:
        v = _code(j * 7919 + 13, 11, _B64)
        return (
            f"https://www.youtube.com/watch?v={v}",
            f"https://youtu.be/{v}?si=SyntheticShare",
            f"https://m.youtube.com/watch?v={v}&feature=share",
            f"https://www.youtube.com/shorts/{v}",
        )[f]
    if p == 2:
        c, n = f"synchan{j % 3000}", j + 1
        return (
            f"https://t.me/{c}/{n}",
            f"https://t.me/s/{c}/{n}",
            f"http://t.me/{c}/{n}?single",
            f"https://t.me/s/{c}/{n}?utm_source=x",
        )[f]
    if p == 3:
        page, pid = f"synpage{j % 2000}", 10**12 + j
        return (
            f"https://www.facebook.com/{page}/posts/{pid}",
            f"https://m.facebook.com/{page}/posts/{pid}",
            f"https://facebook.com/{page}/posts/{pid}?utm_source=tg",
            f"https://www.facebook.com/{page}/posts/{pid}?fbclid=Synth{j}",
        )[f]
    if p == 4:
        code = _code(j * 104729 + 7, 11)
        return (
            f"https://www.instagram.com/p/{code}/",
            f"https://instagram.com/p/{code}?igshid=Synth",
            f"https://www.instagram.com/p/{code}/?utm_source=ig_web_copy_link",
            f"https://instagram.com/p/{code}/",
        )[f]
    if p == 5:
        h, vid = f"synh{j % 4000}", 7_000_000_000_000_000_000 + j
        return (
            f"https://www.tiktok.com/@{h}/video/{vid}",
            f"https://m.tiktok.com/@{h}/video/{vid}?lang=en",
            f"https://tiktok.com/@{h}/video/{vid}",
            f"https://www.tiktok.com/@{h}/video/{vid}?is_from_webapp=1&utm_source=x",
        )[f]
    if p == 6:
        ident = f"synthetic-item-{j}"
        return (
            f"https://archive.org/details/{ident}",
            f"http://www.archive.org/details/{ident}?utm_source=x",
            f"https://archive.org/details/{ident}/",
            f"https://www.archive.org/details/{ident}#reader",
        )[f]
    if p == 7:
        code = _code(j * 15485863 + 1, 8)
        return (
            f"https://pastebin.com/{code}",
            f"https://pastebin.com/raw/{code}",
            f"http://pastebin.com/{code}?utm_source=x",
            f"https://www.pastebin.com/{code}",
        )[f]
    if p == 8:
        fid, key = _code(j * 32452843 + 3, 8), _code(j * 49979687 + 5, 43, _B64)
        return (
            f"https://mega.nz/file/{fid}#{key}",
            f"https://mega.nz/#!{fid}!{key}",
            f"https://mega.nz/file/{fid}#{key}",
            f"https://mega.nz/#!{fid}!{key}",
        )[f]
    site, art = f"synthetic-news-{j % 500}.example", j
    return (
        f"https://{site}/article/{art}",
        f"https://www.{site}/article/{art}?utm_source=tg#top",
        f"http://{site}/article/{art}",
        f"https://{site}/article/{art}?utm_campaign=synthetic",
    )[f]


def generate(path: Path, rows: int, seed: int = 2019) -> int:
    """Write the day's CSV, streaming; returns the number of distinct items."""
    rnd = random.Random(seed)
    start = dt.datetime(2026, 11, 21, 6, 0, tzinfo=dt.UTC)
    items = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["url", "reported_at", "note"])
        for i in range(rows):
            if items and rnd.random() < DUP_SHARE:
                k, form = rnd.randrange(items), rnd.randrange(1, 4)
            else:
                k, form = items, 0
                items += 1
            at = start + dt.timedelta(seconds=i * 6 * 3600 // max(rows, 1))
            w.writerow([render(k, form), at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"row {i}"])
    return items


# --- worker: one run, one fresh database ------------------------------------------------------


def _fresh_db(engine_kind: str, workdir: Path) -> tuple[str, str | None]:
    if engine_kind == "sqlite":
        return f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}", None
    from sqlalchemy import create_engine, text

    name = f"takedown_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, name


def _drop_db(name: str | None) -> None:
    if name is None:
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker(engine_kind: str, csv_path: Path, workdir: Path) -> dict[str, Any]:
    from sqlalchemy import text

    from takedown.accounts.models import Role
    from takedown.accounts.principal import Principal
    from takedown.accounts.service import SYSTEM, create_agency
    from takedown.db import make_engine, make_sessionmaker, session_scope
    from takedown.items.intake import import_stream
    from takedown.migrate import upgrade

    url, dbname = _fresh_db(engine_kind, workdir)
    try:
        engine = make_engine(url)
        upgrade(engine)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as s:
            ag = create_agency(s, SYSTEM, name="Bench IRU", country="EU", kind="coordinator")
            principal = Principal(user_id=0, agency_id=ag.id, role=Role.ANALYST, via="cli")
        rss_before = _rss_mb()
        # Both timed sections start from a collected heap, so neither pays for a full garbage
        # collection the set-up's garbage (migrations, imports) would trigger inside it.
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        with session_scope(factory) as s, csv_path.open("rb") as fh:
            job = import_stream(s, principal, fh, filename=csv_path.name)
            counts = (job.rows_ok, job.rows_bad, job.items_created, job.duplicates_folded)
        t_import, cpu_import = time.perf_counter() - t0, time.process_time() - c0
        rss_import = _rss_mb()

        # The raw bound: the same final rows, DBAPI executemany, into a second fresh database
        # of the same engine (migrated, same indexes; the agency and job rows copied first).
        cols_i = (
            "id, identity, platform, kind, key, canonical_url, fetch_url, parent_identity, "
            "status, title, language, first_seen_at, last_seen_at, created_at, "
            "status_changed_at, first_referred_at"
        )
        cols_s = (
            "id, item_id, agency_id, import_id, reported_url, reported_at, reported_by, "
            "source, line_no, note"
        )
        cols_j = (
            "id, agency_id, user_id, filename, format, encoding, status, rows_total, rows_ok, "
            "rows_bad, items_created, duplicates_folded, errors, warnings, created_at, "
            "finished_at"
        )
        with engine.connect() as conn:
            q_i, q_s = f"SELECT {cols_i} FROM items", f"SELECT {cols_s} FROM sightings"  # noqa: S608
            items = [tuple(r) for r in conn.execute(text(q_i))]
            sightings = [tuple(r) for r in conn.execute(text(q_s))]
            jobs = [tuple(r) for r in conn.execute(text(f"SELECT {cols_j} FROM import_jobs"))]  # noqa: S608
        engine.dispose()
        _drop_db(dbname)
        url, dbname = _fresh_db(engine_kind, workdir)
        engine = make_engine(url)
        upgrade(engine)
        with session_scope(make_sessionmaker(engine)) as s:
            create_agency(s, SYSTEM, name="Bench IRU", country="EU", kind="coordinator")
        mark = "?" if engine_kind == "sqlite" else "%s"
        ins_i = f"INSERT INTO items ({cols_i}) VALUES ({', '.join([mark] * 16)})"  # noqa: S608
        ins_s = f"INSERT INTO sightings ({cols_s}) VALUES ({', '.join([mark] * 10)})"  # noqa: S608
        ins_j = f"INSERT INTO import_jobs ({cols_j}) VALUES ({', '.join([mark] * 16)})"  # noqa: S608
        raw = engine.raw_connection()
        # make_engine puts pysqlite in autocommit mode (SQLAlchemy emits BEGIN itself), so on
        # SQLite the bound opens its one transaction explicitly too: without it every row of
        # the executemany would be its own transaction and the "bound" would be many times
        # slower than the import it bounds.
        begin = "BEGIN" if engine_kind == "sqlite" else None
        try:
            cur = raw.cursor()
            if engine_kind == "postgresql":
                jobs = [(*j[:12], json.dumps(j[12]), json.dumps(j[13]), *j[14:]) for j in jobs]
            if begin:
                cur.execute(begin)
            cur.executemany(ins_j, jobs)
            raw.commit()
            gc.collect()
            t1, c1 = time.perf_counter(), time.process_time()
            if begin:
                cur.execute(begin)
            cur.executemany(ins_i, items)
            cur.executemany(ins_s, sightings)
            raw.commit()
            t_raw, cpu_raw = time.perf_counter() - t1, time.process_time() - c1
        finally:
            raw.close()
        engine.dispose()
        return {
            "engine": engine_kind,
            "rows_ok": counts[0],
            "rows_bad": counts[1],
            "items_created": counts[2],
            "duplicates_folded": counts[3],
            "import_s": t_import,
            "raw_s": t_raw,
            "import_cpu_s": cpu_import,
            "raw_cpu_s": cpu_raw,
            "rss_before_mb": rss_before,
            "rss_import_mb": rss_import,
        }
    finally:
        _drop_db(dbname)


def run_worker(engine_kind: str, csv_path: Path, workdir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", engine_kind, str(csv_path), str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"worker failed ({engine_kind}):\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def pg_available() -> bool:
    try:
        from sqlalchemy import create_engine, text

        eng = create_engine(PG_ADMIN)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="26k rows only (skip the 1M run)")
    ap.add_argument("--rows", type=int, default=26_000)
    ap.add_argument("--big-rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3, help="runs per size and engine (median)")
    ap.add_argument("--big-runs", type=int, default=1, help="runs of the big import")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        kind, path, workdir = args.worker
        print(json.dumps(worker(kind, Path(path), Path(workdir))))
        return

    engines = [e for e in args.engines.split(",") if e]
    if "postgresql" in engines and not pg_available():
        print(f"PostgreSQL not reachable at {PG_ADMIN}; running SQLite only", file=sys.stderr)
        engines.remove("postgresql")
    sizes = [(args.rows, args.runs)] + ([] if args.quick else [(args.big_rows, args.big_runs)])
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="takedown-bench-") as tmp:
        workdir = Path(tmp)
        for rows, runs in sizes:
            csv_path = workdir / f"action-day-{rows}.csv"
            t = time.perf_counter()
            distinct = generate(csv_path, rows)
            size_mb = csv_path.stat().st_size / 1e6
            print(
                f"generated {rows:,} rows ({distinct:,} items, {size_mb:.1f} MB) "
                f"in {time.perf_counter() - t:.1f} s",
                file=sys.stderr,
            )
            for kind in engines:
                runs_out = [run_worker(kind, csv_path, workdir) for _ in range(runs)]
                for r in runs_out:
                    assert r["rows_ok"] == rows and r["items_created"] == distinct, r
                imp = statistics.median(r["import_s"] for r in runs_out)
                raw = statistics.median(r["raw_s"] for r in runs_out)
                results[f"{kind}_{rows}"] = {
                    "engine": kind,
                    "rows": rows,
                    "items": distinct,
                    "runs": runs,
                    "import_s": round(imp, 3),
                    "rows_per_s": round(rows / imp),
                    "raw_insert_s": round(raw, 3),
                    "ratio_to_raw": round(imp / raw, 2),
                    "peak_rss_mb": round(max(r["rss_import_mb"] for r in runs_out), 1),
                    "rss_before_import_mb": round(max(r["rss_before_mb"] for r in runs_out), 1),
                    "all_runs_import_s": [round(r["import_s"], 3) for r in runs_out],
                    "import_cpu_s": round(
                        statistics.median(r["import_cpu_s"] for r in runs_out), 3
                    ),
                    "raw_cpu_s": round(statistics.median(r["raw_cpu_s"] for r in runs_out), 3),
                }
            csv_path.unlink()

    from rich.console import Console
    from rich.table import Table

    table = Table(title="intake: synthetic action day (medians)")
    for col in (
        "engine",
        "rows",
        "items",
        "runs",
        "import s",
        "rows/s",
        "raw insert s",
        "ratio",
        "peak RSS MB",
    ):
        table.add_column(col, justify="right")
    for r in results.values():
        table.add_row(
            r["engine"],
            f"{r['rows']:,}",
            f"{r['items']:,}",
            str(r["runs"]),
            f"{r['import_s']:.2f}",
            f"{r['rows_per_s']:,}",
            f"{r['raw_insert_s']:.2f}",
            f"{r['ratio_to_raw']:.2f}",
            f"{r['peak_rss_mb']:.0f}",
        )
    Console(stderr=True).print(table)

    small = results.get(f"sqlite_{args.rows}")
    targets: dict[str, Any] = {
        "sqlite_26k_import_s_lt": TARGET_26K_SQLITE_S,
        "big_import_s_lt": TARGET_1M_S,
        "ratio_to_raw_le": TARGET_RATIO,
    }
    met = {
        "sqlite_26k": small is not None and small["import_s"] < TARGET_26K_SQLITE_S,
        "big": all(
            r["import_s"] < TARGET_1M_S for r in results.values() if r["rows"] == args.big_rows
        ),
        "ratio": all(r["ratio_to_raw"] <= TARGET_RATIO for r in results.values()),
    }
    print(
        json.dumps(
            {
                "bench": "intake",
                "results": results,
                "targets": targets,
                "met": met,
                "targets_met": all(met.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
