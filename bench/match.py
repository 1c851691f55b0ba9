"""PDQ index benchmark: takedown's BinaryIndex against python-threatexchange's PDQIndex (HMA's).

For each size (1M and 10M; ``--quick``: 100k and 1M) both indexes are built
from the same uniformly random PDQ hashes, each in its own subprocess so
resident memory is measured cleanly (RSS after build minus RSS before). The
10,000 queries are half planted near-duplicates (a stored hash with 0-40
bits flipped) and half random. Recall is measured against exact brute force
(faiss IndexBinaryFlat range search) at distance 31.

Figures: build time, RSS, p50/p99 single-query latency (one thread), batch
queries/s with both cores (takedown: one forked search worker per core
sharing the index pages; HMA: its batch call with 2 OpenMP threads), the
CPU time per query of that batch (summed over the workers or threads: the
figure that load from other processes moves least), recall, and (takedown
only) the time from ``add`` of a new hash to it being returned by a search.
Batch figures are the median of ``--repeats`` runs (default 3); the load
average is printed beside them.

Memory per enrolled original counts every signal an image puts in an index:
takedown stores ``CODES_PER_ORIGINAL`` = 2 PDQ codes per image (the original's
``pdq`` and the inner region's ``pdq_inner``), HMA one. A separate subprocess
builds the indexes the engine keeps for n originals as the engine builds
them, from random codes: ``pdq`` holds the originals (one exact base of n
codes), ``pdq_inner`` the inner codes (the approximate base of n codes); it
measures the RSS each adds: per original = their sum / n. The same subprocess
times a query image's window search (``window_count()`` hashes, half near
stored inner codes) against the approximate inner base and against an exact one.

Then the flat/MIH switch point of ``BinaryIndex``: CPU per query of each
base kind on random data of growing size (``MIH_MIN_SIZE`` comes from it).

    .venv/bin/python bench/match.py [--quick] [--sizes 1000000,10000000] [--skip-hma]
        [--repeats 3] [--no-switch]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

QUERIES = 10_000
THRESHOLD = 31
SINGLE = 1000  # single-query latency samples
#: PDQ codes takedown indexes per enrolled image (``pdq`` original, ``pdq_inner``); HMA: 1.
CODES_PER_ORIGINAL = 2


def window_count() -> int:
    """Window hashes a query image searches against the inner index (hashers/windows.py)."""
    from takedown.matching.hashers.windows import layout

    return len(layout())


def rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def dataset(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    q = rng.integers(0, 256, (QUERIES, 32), dtype=np.uint8)
    planted = QUERIES // 2
    src = rng.choice(n, planted, replace=False)
    bits = np.unpackbits(codes[src], axis=1)
    for i, k in enumerate(rng.integers(0, 41, planted)):
        bits[i, rng.choice(256, int(k), replace=False)] ^= 1
    q[:planted] = np.packbits(bits, axis=1)
    return codes, q


def truth(codes: np.ndarray, q: np.ndarray) -> set[tuple[int, int]]:
    """Exact (query, position) pairs within THRESHOLD, by brute force; cached per dataset."""
    import hashlib
    import tempfile

    import faiss

    digest = hashlib.sha256(codes[:4096].tobytes() + q.tobytes()).hexdigest()[:16]
    cache = os.path.join(tempfile.gettempdir(), f"takedown-bench-truth-{len(codes)}-{digest}.npy")
    if os.path.exists(cache):
        pairs = np.load(cache)
    else:
        faiss.omp_set_num_threads(2)
        idx = faiss.IndexBinaryFlat(256)
        idx.add(codes)
        lims, _, ids = idx.range_search(q, THRESHOLD + 1)
        counts = np.diff(lims).astype(np.int64)
        pairs = np.stack([np.repeat(np.arange(len(q)), counts), ids], axis=1)
        del idx
        gc.collect()
        np.save(cache, pairs)
    return {(int(a), int(b)) for a, b in pairs}


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


def fork_search(idx: Any, q: np.ndarray, workers: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Search ``q`` split over forked workers; returns (query, id, CPU seconds of all workers)."""
    import tempfile

    tmp = tempfile.mkdtemp(prefix="takedown-bench-")
    share = (len(q) + workers - 1) // workers
    pids = []
    for w in range(workers):
        pid = os.fork()
        if pid == 0:  # child
            try:
                part = q[w * share : (w + 1) * share]
                qs, ids = [], []
                c0 = time.process_time()
                for s in range(0, len(part), 64):
                    a, b, _ = idx.search_arrays(part[s : s + 64], THRESHOLD)
                    qs.append(a + s + w * share)
                    ids.append(b)
                np.save(f"{tmp}/{w}-cpu.npy", np.array([time.process_time() - c0]))
                np.save(f"{tmp}/{w}-q.npy", np.concatenate(qs))
                np.save(f"{tmp}/{w}-i.npy", np.concatenate(ids))
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    qs = [np.load(f"{tmp}/{w}-q.npy") for w in range(workers)]
    ids = [np.load(f"{tmp}/{w}-i.npy") for w in range(workers)]
    cpu = sum(float(np.load(f"{tmp}/{w}-cpu.npy")[0]) for w in range(workers))
    for w in range(workers):
        for part in ("q", "i", "cpu"):
            os.unlink(f"{tmp}/{w}-{part}.npy")
    os.rmdir(tmp)
    return np.concatenate(qs), np.concatenate(ids), cpu


def run_ours(n: int, repeats: int) -> dict[str, Any]:
    import faiss

    from takedown.matching.index import BinaryIndex

    codes, q = dataset(n)
    ids = np.arange(n, dtype=np.int64)
    gc.collect()
    base = rss()
    t0 = time.perf_counter()
    idx = BinaryIndex()
    idx.build(ids, codes)
    build = time.perf_counter() - t0
    gc.collect()
    mem = rss() - base
    faiss.omp_set_num_threads(1)
    lat = []
    for i in range(SINGLE):
        t = time.perf_counter()
        idx.search_arrays(q[i : i + 1], THRESHOLD)
        lat.append((time.perf_counter() - t) * 1000)
    # Batch throughput on both cores: one forked worker per core sharing the
    # read-only index pages (numpy's many small gathers hold the GIL too often
    # for threads to scale), each searching its half in small batches.
    qps_runs, cpu_runs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        qi, gids, cpu = fork_search(idx, q, workers=2)
        qps_runs.append(QUERIES / (time.perf_counter() - t0))
        cpu_runs.append(cpu / QUERIES * 1e6)
    got = {(int(a), int(b)) for a, b in zip(qi, gids, strict=True)}
    # Freshness: a brand-new hash, added to the live index, found by the next search.
    rng = np.random.default_rng(99)
    fresh = []
    for k in range(100):
        c = rng.integers(0, 256, (1, 32), dtype=np.uint8)
        t = time.perf_counter()
        idx.add([n + k], c)
        hit = idx.search_arrays(c, 0)[1]
        fresh.append((time.perf_counter() - t) * 1000)
        assert (n + k) in hit.tolist()
    kind = idx.kind
    exact = truth(codes, q)
    recall = len(got & exact) / max(1, len(exact))
    return {
        "index": f"takedown ({kind})",
        "n": n,
        "build_s": build,
        "rss_mb": mem / 1e6,
        "p50_ms": statistics.median(lat),
        "p99_ms": pct(lat, 99),
        "batch_qps": statistics.median(qps_runs),
        "batch_qps_runs": qps_runs,
        "batch_cpu_us_per_query": statistics.median(cpu_runs),
        "load_avg_1m": os.getloadavg()[0],
        "recall": recall,
        "false_hits": len(got - exact),
        "fresh_ms_max": max(fresh),
    }


def run_hma(n: int, repeats: int) -> dict[str, Any]:
    import faiss
    from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    codes, q = dataset(n)
    hexes = [c.tobytes().hex() for c in codes]
    qhex = [c.tobytes().hex() for c in q]
    gc.collect()
    base = rss()
    t0 = time.perf_counter()
    idx = PDQIndex(entries=((h, i) for i, h in enumerate(hexes)))
    build = time.perf_counter() - t0
    gc.collect()
    mem = rss() - base
    del hexes
    faiss.omp_set_num_threads(1)
    lat = []
    for i in range(SINGLE):
        t = time.perf_counter()
        idx.query(qhex[i])
        lat.append((time.perf_counter() - t) * 1000)
    faiss.omp_set_num_threads(2)
    qps_runs, cpu_runs = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = idx.index.search_with_distance_in_result(qhex, THRESHOLD)
        qps_runs.append(QUERIES / (time.perf_counter() - t0))
        cpu_runs.append((time.process_time() - c0) / QUERIES * 1e6)
    got = {(i, int(idx.local_id_to_entry[hit[0]][1])) for i, h in enumerate(qhex) for hit in res[h]}
    exact = truth(codes, q)
    recall = len(got & exact) / max(1, len(exact))
    return {
        "index": "HMA PDQIndex (MultiHash)",
        "n": n,
        "build_s": build,
        "rss_mb": mem / 1e6,
        "p50_ms": statistics.median(lat),
        "p99_ms": pct(lat, 99),
        "batch_qps": statistics.median(qps_runs),
        "batch_qps_runs": qps_runs,
        "batch_cpu_us_per_query": statistics.median(cpu_runs),
        "load_avg_1m": os.getloadavg()[0],
        "recall": recall,
        "false_hits": len(got - exact),
        "fresh_ms_max": None,
    }


def run_originals(n: int, repeats: int) -> dict[str, Any]:
    """RSS of the two indexes the engine keeps for ``n`` enrolled originals (``pdq``: one exact
    base of n codes; ``pdq_inner``: one approximate base of n codes), and the cost of one
    query image's window search against the inner one."""
    import faiss

    from takedown.matching.engine import APPROX_TYPES
    from takedown.matching.index import BinaryIndex, release_free_memory

    ids = np.arange(n, dtype=np.int64)
    signals = [
        # The originals: the engine's exact ``pdq`` index, one code per image.
        ("pdq", dataset(n, seed=7)[0], "pdq"),
        ("pdq_inner", dataset(n, seed=9)[0], "pdq_inner"),
    ]
    inner_codes = signals[1][1]
    rng = np.random.default_rng(10)
    windows = rng.integers(0, 256, (window_count(), 32), dtype=np.uint8)
    near = rng.choice(n, len(windows) // 2, replace=False)
    bits = np.unpackbits(inner_codes[near], axis=1)
    for i, k in enumerate(rng.integers(0, 21, len(near))):
        bits[i, rng.choice(256, int(k), replace=False)] ^= 1
    windows[: len(near)] = np.packbits(bits, axis=1)
    del bits
    # Page in the code a build runs (numpy's and libpython's, about 1.5 MB shared with every
    # process): build one small index of each kind first.
    for approx in (False, True):
        warm = BinaryIndex(approx=approx)
        warm.build(ids[:30_000], signals[0][1][:30_000])
        del warm
    gc.collect()
    # Trim first, so that the trims after the builds cannot hand back (and subtract) heap
    # pages of the data set's own temporaries.
    release_free_memory()
    start = rss()
    per_signal: dict[str, float] = {}
    #: The arrays' own bytes: the RSS split between signals moves with heap reuse.
    nbytes: dict[str, float] = {}
    kinds: dict[str, str] = {}
    built = []
    for name, codes, stype in signals:
        before = rss()
        idx = BinaryIndex(approx=stype in APPROX_TYPES)
        idx.build(ids, codes)
        gc.collect()
        # As the engine's full load does once a build's inputs are gone (here ``ids`` and
        # ``codes`` stay: they are not the index's, and were allocated before ``start``).
        release_free_memory()
        per_signal[name] = (rss() - before) / n
        nbytes[name] = idx.nbytes() / n
        kinds[name] = idx.kind
        built.append(idx)
    total = (rss() - start) / n
    faiss.omp_set_num_threads(1)

    def windows_cpu_ms(idx: Any) -> tuple[float, int]:
        runs, found = [], 0
        for _ in range(repeats):
            c0 = time.process_time()
            qi, got, _ = idx.search_arrays(windows, THRESHOLD)
            runs.append((time.process_time() - c0) * 1000)
            found = len({(int(a), int(b)) for a, b in zip(qi, got, strict=True)})
        return statistics.median(runs), found

    approx_ms, approx_found = windows_cpu_ms(built[1])
    del built
    gc.collect()
    exact = BinaryIndex()
    exact.build(ids, inner_codes)
    exact_ms, exact_found = windows_cpu_ms(exact)
    return {
        "index": "takedown per original",
        "n": n,
        "bytes_per_original": total,
        "bytes_per_signal": per_signal,
        "nbytes_per_signal": nbytes,
        "kinds": kinds,
        "codes_per_original": {"pdq": 1, "pdq_inner": 1},
        "windows": len(windows),
        "windows_cpu_ms_inner": approx_ms,
        "windows_cpu_ms_exact": exact_ms,
        "windows_pairs_inner": approx_found,
        "windows_pairs_exact": exact_found,
        "load_avg_1m": os.getloadavg()[0],
    }


def switch_point(sizes: list[int]) -> list[dict[str, Any]]:
    """CPU per query of a flat and an MIH base at each size (one thread, distance 31)."""
    import faiss

    from takedown.matching.index import _Flat, _Mih

    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(1)
    rows = []
    for n in sizes:
        codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        q = rng.integers(0, 256, (2000, 32), dtype=np.uint8)
        q[:1000] = codes[rng.integers(0, n, 1000)]
        q[:1000, :3] ^= np.uint8(0x0F)  # half planted: 12 bits off a stored hash
        row: dict[str, Any] = {"n": n}
        for name in ("flat", "mih"):
            t = time.process_time()
            base = _Flat(codes, 256) if name == "flat" else _Mih(codes)
            row[f"{name}_build_ms"] = (time.process_time() - t) * 1000
            runs = []
            for _ in range(3):
                t = time.process_time()
                for s in range(0, len(q), 64):
                    base.search(q[s : s + 64], THRESHOLD)
                runs.append((time.process_time() - t) / len(q) * 1e6)
            row[f"{name}_cpu_us"] = statistics.median(runs)
        rows.append(row)
    return rows


def subprocess_run(kind: str, n: int, repeats: int) -> dict[str, Any]:
    r = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--n", str(n), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if r.returncode != 0:
        return {"index": kind, "n": n, "error": r.stderr.strip().splitlines()[-1:]}
    return dict(json.loads(r.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sizes", default="")
    ap.add_argument("--skip-hma", action="store_true")
    ap.add_argument("--worker", choices=["ours", "hma", "originals"])
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-switch", action="store_true")
    args = ap.parse_args()
    if args.worker:
        run = {"ours": run_ours, "hma": run_hma, "originals": run_originals}[args.worker]
        print(json.dumps(run(args.n, args.repeats)))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s] or (
        [100_000, 1_000_000] if args.quick else [1_000_000, 10_000_000]
    )
    rows = []
    for n in sizes:
        rows.append(subprocess_run("ours", n, args.repeats))
        if not args.skip_hma:
            rows.append(subprocess_run("hma", n, args.repeats))
    orig = subprocess_run("originals", max(sizes), args.repeats)
    head = (
        f"{'index':28} {'n':>10} {'build s':>8} {'RSS MB':>8} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'batch q/s':>9} {'CPU us/q':>8} {'load':>5} {'recall':>7} {'fresh ms':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['index']:28} {r['n']:>10} error: {r['error']}")
            continue
        fresh = "" if r["fresh_ms_max"] is None else f"{r['fresh_ms_max']:.2f}"
        print(
            f"{r['index']:28} {r['n']:>10} {r['build_s']:>8.1f} {r['rss_mb']:>8.0f} "
            f"{r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['batch_qps']:>9.0f}"
            f" {r['batch_cpu_us_per_query']:>8.0f} {r['load_avg_1m']:>5.1f} {r['recall']:>7.4f}"
            f" {fresh:>8}"
        )
    switch: list[dict[str, Any]] = []
    if not args.no_switch:
        switch = switch_point(
            [10_000, 25_000, 50_000, 100_000]
            if args.quick
            else [10_000, 25_000, 50_000, 100_000, 200_000, 500_000]
        )
        print(f"\nflat vs MIH base, CPU us per query (1 thread, distance {THRESHOLD}):")
        print(f"{'n':>8} {'flat':>8} {'MIH':>8} {'MIH build ms':>13}")
        for r in switch:
            print(
                f"{r['n']:>8} {r['flat_cpu_us']:>8.1f} {r['mih_cpu_us']:>8.1f}"
                f" {r['mih_build_ms']:>13.0f}"
            )
    big = max(sizes)
    ours = next((r for r in rows if r.get("n") == big and r["index"].startswith("takedown")), {})
    hma = next((r for r in rows if r.get("n") == big and r["index"].startswith("HMA")), {})
    per_original: dict[str, Any] = {}
    if "bytes_per_original" in orig:
        sig = orig["bytes_per_signal"]
        print(
            f"\n{orig['windows']} window hashes (one query image) against {big:,} inner codes,"
            f" CPU ms (1 thread, median of {args.repeats}): approximate inner base"
            f" {orig['windows_cpu_ms_inner']:.1f} ({orig['windows_pairs_inner']} hits), exact"
            f" {orig['windows_cpu_ms_exact']:.1f} ({orig['windows_pairs_exact']} hits);"
            f" load {orig['load_avg_1m']:.1f}"
        )
        per_original = {
            "takedown_bytes_per_original": orig["bytes_per_original"],
            "takedown_bytes_per_signal": sig,
            "takedown_kinds": orig["kinds"],
        }
        line = (
            f"\nmemory per enrolled original at {big:,} originals: takedown"
            f" {orig['bytes_per_original']:.0f} B ("
            + ", ".join(
                f"{k} {v:.0f} B = {orig['codes_per_original'][k]} code ({orig['kinds'][k]},"
                f" arrays {orig['nbytes_per_signal'][k]:.0f} B)"
                for k, v in sig.items()
            )
            + ")"
        )
        if hma and "rss_mb" in hma:
            per_original["hma_bytes_per_original"] = hma["rss_mb"] * 1e6 / big
            ratio = per_original["hma_bytes_per_original"] / orig["bytes_per_original"]
            per_original["hma_over_takedown"] = ratio
            line += f", HMA {per_original['hma_bytes_per_original']:.0f} B (1 code): 1/{ratio:.2f}"
        print(line)
    elif "error" in orig:
        print(f"per-original run: error: {orig['error']}")
    targets = {
        "recall_1.0": all(
            r.get("recall") == 1.0 for r in rows if r["index"].startswith("takedown")
        ),
        "memory_le_fifth_of_hma": bool(ours and hma and ours["rss_mb"] * 5 <= hma["rss_mb"]),
        "memory_per_original_le_fifth_of_hma": bool(per_original.get("hma_over_takedown", 0) >= 5),
        "qps_ge_4000_at_largest": bool(ours and ours["batch_qps"] >= 4000),
        "fresh_within_1s": all(
            (r.get("fresh_ms_max") or 0) < 1000 for r in rows if r["index"].startswith("takedown")
        ),
    }
    print(
        json.dumps(
            {
                "bench": "match",
                "quick": args.quick,
                "load_avg_1m": os.getloadavg()[0],
                "results": rows,
                "switch_point": switch,
                "codes_per_original": CODES_PER_ORIGINAL,
                "memory_per_original": per_original,
                "targets": targets,
                "targets_met": all(targets.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
