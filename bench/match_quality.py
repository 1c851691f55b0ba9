"""Match quality on the testbed's media variants: plain PDQ (as HMA does it) vs takedown's pipeline.

Originals are ``takedown.sim.media`` posters (640x480 JPEG), or with
``--photos DIR`` the photographs in a folder (decoded, reduced to 1024 px on
the long side, near-duplicates dropped; the first half are the originals, the
rest go to the distractors). For every variant type (the testbed's re-encode,
resize, crop, pad, mirror, logo bar, rotate, overlay text, plus
``EXTRA_VARIANTS``: centred crop, rotation cropped to fill, mirror plus
centred crop, mirror plus off-centre crop) each original's variant is matched
against a bank holding all originals:

* **plain PDQ**: one pdqhash of the decoded file on each side, distance <= 31
  (python-threatexchange's PdqSignal.hash_from_file and PDQIndex);
* **takedown**: the bank stores what ``add_media`` stores (original, inner
  region); the query is hashed by the full pipeline (one 320x320
  resample, 8 exact dihedral hashes, trimmed borders, middle band, and the
  windows searched against inner signals only); distance <= 31.

* **takedown vs imported**: the same query pipeline against a bank of plain
  full-size hashes, as a hash list imported from HMA/TAT would hold.

A hit on the right original counts towards recall; a hit on any other
original is a false positive. Then >= 10,000 unrelated images are matched
against the same bank: synthetic posters of other seeds, and with
``--photos`` the photographs kept out of the bank, each also as random
sub-images (40-90 % of a side, some mirrored); every hit is a false positive.

    .venv/bin/python bench/match_quality.py [--quick] [--originals 200] [--distractors 10000]
        [--photos DIR] [--inner-index exact|approx|both] [--misses]

``--misses`` prints, for every original takedown missed, how close its query's PDQ hashes
and its best window came (and which window that was).

Photographs: ``--fetch-photos DIR`` runs ``apt-get download`` of Debian's
``PHOTO_PACKAGES`` and ``dpkg -x`` of each into DIR (keep DIR outside the
repository: photographs are never committed), then uses DIR as ``--photos``.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from takedown.matching.hashers.image import bits_to_hex, hash_image
from takedown.matching.index import BinaryIndex
from takedown.matching.service import STORED_PDQ_VARIANTS
from takedown.sim.media import EXTRA_VARIANTS, VARIANTS, apply_variant, make_poster

THRESHOLD = 31
TARGETS = (
    "crop",
    "mirror_crop_offset",
    "reencode",
    "resize",
    "mirror",
    "pad",
    "logo_bar",
    "rotate",
    "crop_centred",
    "rotate_fill",
    "mirror_crop",
)
ALL_VARIANTS = (*VARIANTS, *EXTRA_VARIANTS)
PHOTO_SIDE = 1024
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
#: Distractor sub-images made from each photograph kept out of the bank.
PHOTO_CROPS = 40
_PHOTOS: list[Image.Image] = []
#: Debian packages whose wallpapers are the photographs (``--fetch-photos``).
PHOTO_PACKAGES = (
    "gnome-backgrounds",
    "plasma-workspace-wallpapers",
    "mate-backgrounds",
    "ukui-wallpapers",
    "lomiri-wallpapers",
    "lomiri-wallpapers-16.04",
    "lomiri-wallpapers-20.04",
)


def fetch_photos(folder: Path) -> Path:
    """Download ``PHOTO_PACKAGES`` with apt and unpack them under ``folder``."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    debs = folder / "debs"
    debs.mkdir(exist_ok=True)
    if not list(debs.glob("*.deb")):
        subprocess.run(["apt-get", "download", *PHOTO_PACKAGES], cwd=debs, check=True)
    out = folder / "x"
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(out)], check=True)
    return out


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


Hashes = tuple[str, list[str], list[str]]  # plain PDQ, takedown pdq, takedown pdq_inner


def _split(results: list[Any]) -> tuple[list[str], list[str]]:
    ok = [r for r in results if r.usable]
    return [r.value for r in ok if r.signal_type == "pdq"], [
        r.value for r in ok if r.signal_type == "pdq_inner"
    ]


def _source(seed: int) -> Image.Image:
    """Original ``seed``: a poster, or with --photos a photograph (negative seeds: sub-images)."""
    if not _PHOTOS:
        return make_poster(seed, (640, 480))
    return _PHOTOS[seed]


def original_hashes(seed: int) -> Hashes:
    data = jpeg(_source(seed))
    res = [
        r
        for r in hash_image(data)
        if (r.signal_type, r.variant) in {("pdq", v) for v in STORED_PDQ_VARIANTS}
        or (r.signal_type, r.variant) == ("pdq_inner", "inner")
    ]
    pdq, inner = _split(res)
    return plain_pdq(data), pdq, inner


def query_hashes(seed: int, variant: str | None) -> Hashes:
    img = _source(seed)
    data = jpeg(apply_variant(img, variant, seed) if variant else img)
    pdq, inner = _split(hash_image(data))
    return plain_pdq(data), pdq, inner


def _bits(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def explain_miss(seed: int, variant: str, original: Hashes) -> str:
    """Why original ``seed``'s ``variant`` was missed: the closest of its query's PDQ hashes
    to the original's stored ones, and the closest window to its inner signal (which one)."""
    img = _source(seed)
    res = [r for r in hash_image(jpeg(apply_variant(img, variant, seed))) if r.usable]
    pdq = [
        (min(_bits(r.value, s) for s in original[1]), r.variant)
        for r in res
        if r.signal_type == "pdq"
    ]
    win = [
        (min(_bits(r.value, s) for s in original[2]), r.variant, r.extra)
        for r in res
        if r.signal_type == "pdq_inner" and original[2]
    ]
    dp = min(pdq, default=(999, "-"))
    dw = min(win, key=lambda t: t[0], default=(999, "-", {}))
    w, h = img.size
    return (
        f"  missed {variant} of #{seed} ({w}x{h}): closest PDQ {dp[0]} bits ({dp[1]});"
        f" closest window {dw[0]} bits ({dw[1]} {dw[2]})"
    )


def distractor_image(k: int) -> Image.Image:
    """Distractor ``k``: a poster of another seed, or a sub-image of a held-out photograph."""
    n_photo = len(_PHOTOS) - _N_ORIG[0]
    if k >= n_photo * (PHOTO_CROPS + 1):
        return make_poster(DISTRACTOR_BASE + k, (640, 480))
    src = _PHOTOS[_N_ORIG[0] + k % n_photo]
    if k < n_photo:
        return src
    rng = random.Random(k)
    w, h = src.size
    f = rng.uniform(0.4, 0.9)
    cw, ch = int(w * f * rng.uniform(0.8, 1.0)), int(h * f * rng.uniform(0.8, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    out = src.crop((x, y, x + cw, y + ch))
    return out.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.3 else out


def distractor_hashes(k: int) -> Hashes:
    data = jpeg(distractor_image(k))
    pdq, inner = _split(hash_image(data))
    return plain_pdq(data), pdq, inner


_N_ORIG = [0]


def _init(photos: list[Image.Image], n_orig: int) -> None:
    _PHOTOS[:] = photos
    _N_ORIG[0] = n_orig


def load_photos(folder: Path) -> list[Image.Image]:
    """Every photograph under ``folder``, reduced, without near-duplicates (the same picture
    at another size or in a dark variant: within 90 bits on the plain or inner hash)."""
    kept: list[Image.Image] = []
    seen: list[np.ndarray] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES):
        try:
            img = Image.open(path)
            img.draft("RGB", (PHOTO_SIDE, PHOTO_SIDE))
            img = img.convert("RGB")
        except (OSError, ValueError):
            continue
        img.thumbnail((PHOTO_SIDE, PHOTO_SIDE), Image.Resampling.LANCZOS)
        res = [r for r in hash_image(jpeg(img)) if r.usable and r.variant in ("original", "inner")]
        if len(res) < 2:
            continue  # no usable hash (a flat gradient): not a test of anything
        codes = _codes([r.value for r in res])
        if any(np.unpackbits(codes[:, None, :] ^ s[None], axis=2).sum(2).min() <= 90 for s in seen):
            continue
        seen.append(codes)
        kept.append(img)
    return kept


def _orig_job(seed: int) -> Hashes:
    return original_hashes(seed)


def _query_job(args: tuple[int, str | None]) -> Hashes:
    return query_hashes(*args)


def _init_photos(folder: str | None, originals: int) -> None:
    if folder:
        photos = load_photos(Path(folder))
        _init(photos, min(originals, len(photos) // 2))


def _dist_job(k: int) -> Hashes:
    return distractor_hashes(k)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--originals", type=int, default=0)
    ap.add_argument("--distractors", type=int, default=0)
    ap.add_argument("--photos", default="", help="a folder of photographs to use as originals")
    ap.add_argument(
        "--fetch-photos", default="", help="apt-get download PHOTO_PACKAGES into this folder"
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument(
        "--inner-index",
        choices=["exact", "approx", "both"],
        default="exact",
        help="approx: the inner signals in the engine's lean approximate base (BinaryIndex"
        " approx=True, built as a base even this small), as production uses at scale; both:"
        " takedown with the exact one, plus a takedown_approx column",
    )
    ap.add_argument(
        "--misses",
        action="store_true",
        help="print, per original takedown missed, its closest PDQ hash and closest window",
    )
    args = ap.parse_args()
    if args.fetch_photos:
        args.photos = str(fetch_photos(Path(args.fetch_photos)))
    n = args.originals or (40 if args.quick else 200)
    nd = args.distractors or (1000 if args.quick else 10_000)
    t0 = time.perf_counter()
    photo_note = ""
    if args.photos:
        _init_photos(args.photos, n)
        if len(_PHOTOS) < 4:
            raise SystemExit(f"{args.photos}: fewer than 4 usable photographs")
        n = _N_ORIG[0]
        held = len(_PHOTOS) - n
        photo_note = (
            f"{len(_PHOTOS)} distinct photographs: {n} originals; {held} held out, each used"
            f" whole and as {PHOTO_CROPS} sub-images ({held * (PHOTO_CROPS + 1)} photo"
            f" distractors), the rest of the {nd} distractors are posters"
        )
    with ProcessPoolExecutor(
        # The workers are forked: they get the decoded photographs as they are, not a reload.
        args.workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init,
        initargs=(list(_PHOTOS), _N_ORIG[0]),
    ) as pool:
        originals = list(pool.map(_orig_job, range(n), chunksize=4))
        plain_idx = BinaryIndex()
        plain_idx.add(np.arange(n), _codes([p for p, _, _ in originals]))
        full_idx = BinaryIndex()
        ids = [i for i, (_, s, _) in enumerate(originals) for _ in s]
        full_idx.add(np.asarray(ids), _codes([h for _, s, _ in originals for h in s]))
        approx = args.inner_index == "approx"
        inner_idx = BinaryIndex(approx=True, mih_min_size=1) if approx else BinaryIndex()
        inner_approx = BinaryIndex(approx=True, mih_min_size=1)
        ids = [i for i, (_, _, s) in enumerate(originals) for _ in s]
        if ids:
            inner_codes = _codes([h for _, _, s in originals for h in s])
            inner_approx.build(np.asarray(ids), inner_codes)
            if approx:
                inner_idx.build(np.asarray(ids), inner_codes)
            else:
                inner_idx.add(np.asarray(ids), inner_codes)
        both = ("takedown_approx",) if args.inner_index == "both" else ()
        per_original = len(ids) + sum(len(s) for _, s, _ in originals)

        def found_in(idx: BinaryIndex, hs: list[str]) -> set[int]:
            if not hs or len(idx) == 0:
                return set()
            return {h.id for row in idx.search(_codes(hs), THRESHOLD) for h in row}

        def score(queries: list[Hashes], truth: list[int | None]) -> dict[str, Any]:
            out: dict[str, Any] = {"missed": []}
            for name in ("plain", "takedown", "imported", "imported_windows", *both):
                hits = fps = 0
                for q, want in zip(queries, truth, strict=True):
                    if name == "plain":
                        found = found_in(plain_idx, [q[0]])
                    elif name == "imported":
                        found = found_in(plain_idx, q[1])
                    elif name == "imported_windows":
                        # The query's crop windows too, against the plain list's hashes.
                        found = found_in(plain_idx, q[1]) | found_in(plain_idx, q[2])
                    elif name == "takedown_approx":
                        found = found_in(full_idx, q[1]) | found_in(inner_approx, q[2])
                    else:
                        found = found_in(full_idx, q[1]) | found_in(inner_idx, q[2])
                    hits += want in found
                    fps += len(found - {want})
                    if name == "takedown" and want is not None and want not in found:
                        out["missed"].append(want)
                out[name] = {"hits": hits, "false_positives": fps}
            return out

        rows = []
        misses: list[str] = []
        for variant in ALL_VARIANTS:
            qs = list(pool.map(_query_job, [(s, variant) for s in range(n)], chunksize=4))
            sc = score(qs, list(range(n)))
            if args.misses:
                misses += [explain_miss(seed, variant, originals[seed]) for seed in sc["missed"]]
            rows.append(
                {
                    "variant": variant,
                    "n": n,
                    "plain_recall": sc["plain"]["hits"] / n,
                    "takedown_recall": sc["takedown"]["hits"] / n,
                    "imported_recall": sc["imported"]["hits"] / n,
                    "imported_windows_recall": sc["imported_windows"]["hits"] / n,
                    "plain_fp": sc["plain"]["false_positives"],
                    "takedown_fp": sc["takedown"]["false_positives"],
                    "imported_fp": sc["imported"]["false_positives"],
                    "imported_windows_fp": sc["imported_windows"]["false_positives"],
                    **{f"{b}_recall": sc[b]["hits"] / n for b in both},
                    **{f"{b}_fp": sc[b]["false_positives"] for b in both},
                }
            )
        dq = list(pool.map(_dist_job, range(nd), chunksize=32))
        dsc = score(dq, [None] * nd)
    elapsed = time.perf_counter() - t0
    print(
        f"{'variant':18} {'n':>6} {'plain PDQ (HMA)':>16} {'takedown':>9} {'td vs imported':>15}"
        f" {'imp+windows':>12} {'FP plain':>9} {'FP td':>6} {'FP imp':>7} {'FP imp+w':>9}"
    )
    for r in rows:
        print(
            f"{r['variant']:18} {r['n']:>6} {r['plain_recall']:>16.1%} {r['takedown_recall']:>9.1%}"
            f" {r['imported_recall']:>15.1%} {r['imported_windows_recall']:>12.1%}"
            f" {r['plain_fp']:>9} {r['takedown_fp']:>6} {r['imported_fp']:>7}"
            f" {r['imported_windows_fp']:>9}"
        )
    print(
        f"{'distractors':18} {nd:>6} {'':>16} {'':>9} {'':>15} {'':>12}"
        f" {dsc['plain']['false_positives']:>9} {dsc['takedown']['false_positives']:>6}"
        f" {dsc['imported']['false_positives']:>7} {dsc['imported_windows']['false_positives']:>9}"
    )
    for b in both:
        print(
            f"{b}: "
            + ", ".join(f"{r['variant']} {r[f'{b}_recall']:.1%} (FP {r[f'{b}_fp']})" for r in rows)
            + f"; distractor FP {dsc[b]['false_positives']}"
        )
    if photo_note:
        print(photo_note)
    if misses:
        print("takedown's misses:", *misses, sep="\n")
    print(f"stored PDQ codes per original: {per_original / max(1, n):.2f} (plain PDQ: 1)")
    print(f"inner index: {args.inner_index} ({inner_idx.kind}); ({elapsed:.0f} s)")
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
                "photos": bool(args.photos),
                "inner_index": args.inner_index,
                "originals": n,
                "codes_per_original": per_original / max(1, n),
                "distractors": nd,
                "rows": rows,
                "distractor_fp": {
                    "plain": dsc["plain"]["false_positives"],
                    "takedown": dsc["takedown"]["false_positives"],
                    "imported": dsc["imported"]["false_positives"],
                    "imported_windows": dsc["imported_windows"]["false_positives"],
                    **{b: dsc[b]["false_positives"] for b in both},
                },
                "targets": targets,
                "targets_met": all(targets.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
