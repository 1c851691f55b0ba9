"""Match quality on the testbed's media variants: plain PDQ (as HMA does it) vs takedown's pipeline.

Originals are ``takedown.sim.media`` posters (640x480 JPEG). For every
variant type (re-encode, resize, crop, pad, mirror, logo bar, rotate,
overlay text) each original's variant is matched against a bank holding all
originals:

* **plain PDQ**: one pdqhash of the decoded file on each side, distance <= 31
  (python-threatexchange's PdqSignal.hash_from_file and PDQIndex);
* **takedown**: the bank stores what ``add_media`` stores (original + middle
  band); the query is hashed by the full pipeline (one 320x320 resample, 8
  exact dihedral hashes, trimmed borders, middle band); distance <= 31.

* **takedown vs imported**: the same query pipeline against a bank of plain
  full-size hashes, as a hash list imported from HMA/TAT would hold.

A hit on the right original counts towards recall; a hit on any other
original is a false positive. Then >= 10,000 unrelated synthetic posters
(distractors, other seeds) are matched against the same bank: every hit is a
false positive.

    .venv/bin/python bench/match_quality.py [--quick] [--originals 200] [--distractors 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from takedown.matching.hashers.image import bits_to_hex, hash_image
from takedown.matching.index import BinaryIndex
from takedown.matching.service import STORED_PDQ_VARIANTS
from takedown.sim.media import VARIANTS, apply_variant, make_poster

THRESHOLD = 31
TARGETS = ("reencode", "resize", "mirror", "pad", "logo_bar")
DISTRACTOR_BASE = 10_000_000


def jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


def plain_pdq(data: bytes) -> str:
    """What HMA does: decode with Pillow, hash the full-size RGB array once."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    bits, _ = pdqhash.compute(np.asarray(img))
    return bits_to_hex(bits)


def _codes(hexes: list[str]) -> np.ndarray:
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=np.uint8).reshape(
        len(hexes), 32
    )


def original_hashes(seed: int) -> tuple[str, list[str]]:
    data = jpeg(make_poster(seed, (640, 480)))
    stored = [r.value for r in hash_image(data) if r.variant in STORED_PDQ_VARIANTS and r.usable]
    return plain_pdq(data), stored


def query_hashes(seed: int, variant: str | None) -> tuple[str, list[str]]:
    img = make_poster(seed, (640, 480))
    data = jpeg(apply_variant(img, variant, seed) if variant else img)
    return plain_pdq(data), [r.value for r in hash_image(data) if r.usable]


def _orig_job(seed: int) -> tuple[str, list[str]]:
    return original_hashes(seed)


def _query_job(args: tuple[int, str | None]) -> tuple[str, list[str]]:
    return query_hashes(*args)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--originals", type=int, default=0)
    ap.add_argument("--distractors", type=int, default=0)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    n = args.originals or (40 if args.quick else 200)
    nd = args.distractors or (1000 if args.quick else 10_000)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        originals = list(pool.map(_orig_job, range(n), chunksize=8))
        plain_idx = BinaryIndex()
        plain_idx.add(np.arange(n), _codes([p for p, _ in originals]))
        full_idx = BinaryIndex()
        ids = [i for i, (_, s) in enumerate(originals) for _ in s]
        full_idx.add(np.asarray(ids), _codes([h for _, s in originals for h in s]))

        def score(queries: list[tuple[str, list[str]]], truth: list[int | None]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, idx, pick in (
                ("plain", plain_idx, lambda q: [q[0]]),
                ("takedown", full_idx, lambda q: q[1]),
                ("imported", plain_idx, lambda q: q[1]),
            ):
                hits = fps = 0
                for q, want in zip(queries, truth, strict=True):
                    hs = pick(q)
                    if not hs:
                        continue
                    found = {h.id for row in idx.search(_codes(hs), THRESHOLD) for h in row}
                    hits += want in found
                    fps += len(found - {want})
                out[name] = {"hits": hits, "false_positives": fps}
            return out

        rows = []
        for variant in VARIANTS:
            qs = list(pool.map(_query_job, [(s, variant) for s in range(n)], chunksize=8))
            sc = score(qs, list(range(n)))
            rows.append(
                {
                    "variant": variant,
                    "n": n,
                    "plain_recall": sc["plain"]["hits"] / n,
                    "takedown_recall": sc["takedown"]["hits"] / n,
                    "imported_recall": sc["imported"]["hits"] / n,
                    "plain_fp": sc["plain"]["false_positives"],
                    "takedown_fp": sc["takedown"]["false_positives"],
                    "imported_fp": sc["imported"]["false_positives"],
                }
            )
        dq = list(
            pool.map(
                _query_job,
                [(DISTRACTOR_BASE + i, None) for i in range(nd)],
                chunksize=32,
            )
        )
        dsc = score(dq, [None] * nd)
    elapsed = time.perf_counter() - t0
    print(
        f"{'variant':14} {'n':>6} {'plain PDQ (HMA)':>16} {'takedown':>9} {'td vs imported':>15}"
        f" {'FP plain':>9} {'FP td':>6} {'FP imp':>7}"
    )
    for r in rows:
        print(
            f"{r['variant']:14} {r['n']:>6} {r['plain_recall']:>16.1%} {r['takedown_recall']:>9.1%}"
            f" {r['imported_recall']:>15.1%} {r['plain_fp']:>9} {r['takedown_fp']:>6}"
            f" {r['imported_fp']:>7}"
        )
    print(
        f"{'distractors':14} {nd:>6} {'':>16} {'':>9} {'':>15}"
        f" {dsc['plain']['false_positives']:>9} {dsc['takedown']['false_positives']:>6}"
        f" {dsc['imported']['false_positives']:>7}"
    )
    print(f"({elapsed:.0f} s)")
    by = {r["variant"]: r for r in rows}
    targets = {
        **{f"recall_gt_95_{v}": by[v]["takedown_recall"] > 0.95 for v in TARGETS if v in by},
        "zero_fp_distractors": dsc["takedown"]["false_positives"] == 0,
        "distractors_ge_10000": nd >= 10_000,
    }
    print(
        json.dumps(
            {
                "bench": "match_quality",
                "quick": args.quick,
                "originals": n,
                "distractors": nd,
                "rows": rows,
                "distractor_fp": {
                    "plain": dsc["plain"]["false_positives"],
                    "takedown": dsc["takedown"]["false_positives"],
                    "imported": dsc["imported"]["false_positives"],
                },
                "targets": targets,
                "targets_met": all(targets.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
