"""Hashing throughput: takedown's full PDQ pipeline vs bare pdqhash on the same decoded images.

Both sides start from the same decoded RGB pixels (testbed posters, JPEG
decoded once up front), so the figure compares hashing work only:

* **bare pdqhash**: ``pdqhash.compute`` on the full-size pixels, once (what
  python-threatexchange's PdqSignal does);
* **takedown**: resize to at most 512 px, ``compute_dihedral`` (8 hashes),
  an exact mirror hash, the border trim check (and trimmed hash when there
  are borders), and the middle-band hash.

It also reports end-to-end images/s from JPEG bytes (decode included), where
takedown decodes JPEGs at reduced scale (``draft``) before resizing.

    .venv/bin/python bench/hash.py [--quick] [--size 1280x960]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time

import numpy as np
import pdqhash
from PIL import Image

from takedown.matching.hashers.image import MAX_SIDE, PdqOptions, hash_image, hash_image_array
from takedown.sim.media import VARIANTS, apply_variant, make_poster

TARGET_RATIO = 1.3


def prepare(n: int, size: tuple[int, int]) -> tuple[list[bytes], list[np.ndarray]]:
    blobs, arrays = [], []
    names = [None, *VARIANTS]
    for i in range(n):
        img = apply_variant(make_poster(i, size), names[i % len(names)], i)
        buf = io.BytesIO()
        img.convert("RGB").save(buf, "JPEG", quality=88)
        blobs.append(buf.getvalue())
        arrays.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
    return blobs, arrays


def ours_from_pixels(arr: np.ndarray, options: PdqOptions = PdqOptions()) -> None:
    img = Image.fromarray(arr)
    if max(img.size) > MAX_SIDE:
        img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BILINEAR)
    hash_image_array(np.ascontiguousarray(np.asarray(img)), options)


def ours_no_exact_mirror(arr: np.ndarray) -> None:
    ours_from_pixels(arr, PdqOptions(exact_mirror=False))


def timed(fn, items) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    for x in items:
        fn(x)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--size", default="1280x960")
    ap.add_argument("--repeats", type=int, default=0)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    n = 40 if args.quick else 200
    repeats = args.repeats or (3 if args.quick else 5)
    blobs, arrays = prepare(n, (w, h))
    bare, ours, lite, bare_e2e, ours_e2e = [], [], [], [], []
    for _ in range(repeats):
        bare.append(timed(lambda a: pdqhash.compute(a), arrays))
        ours.append(timed(ours_from_pixels, arrays))
        lite.append(timed(ours_no_exact_mirror, arrays))
        bare_e2e.append(
            timed(
                lambda b: pdqhash.compute(np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))),
                blobs,
            )
        )
        ours_e2e.append(timed(hash_image, blobs))
    runs = {"bare": bare, "ours": ours, "lite": lite, "bare_e2e": bare_e2e, "ours_e2e": ours_e2e}
    med = {k: statistics.median(v) for k, v in runs.items()}
    ratio = med["ours"] / med["bare"]
    print(f"{n} images {w}x{h}, median of {repeats} runs")
    print(f"{'pipeline':48} {'images/s':>9} {'ms/image':>9}")
    for label, key in (
        ("bare pdqhash (1 hash, full size)", "bare"),
        ("takedown (512 px, 8 dihedral+mirror+trim+band)", "ours"),
        ("takedown without the exact mirror", "lite"),
        ("bare: decode + pdqhash", "bare_e2e"),
        ("takedown: guarded decode + pipeline", "ours_e2e"),
    ):
        print(f"{label:48} {n / med[key]:>9.1f} {1000 * med[key] / n:>9.2f}")
    print(f"ratio takedown / bare pdqhash per image: {ratio:.2f} (target <= {TARGET_RATIO})")
    targets = {"ratio_le_1.3": ratio <= TARGET_RATIO}
    print(
        json.dumps(
            {
                "bench": "hash",
                "quick": args.quick,
                "images": n,
                "size": f"{w}x{h}",
                "bare_images_per_s": n / med["bare"],
                "takedown_images_per_s": n / med["ours"],
                "bare_e2e_images_per_s": n / med["bare_e2e"],
                "takedown_e2e_images_per_s": n / med["ours_e2e"],
                "ratio": ratio,
                "ratio_without_exact_mirror": med["lite"] / med["bare"],
                "targets": targets,
                "targets_met": all(targets.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
