"""``bench/match.py``'s per-original measurement and ``bench/match_quality.py``'s index switch
(small runs: structure, not timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

from takedown.matching.hashers.windows import layout
from tests.benchmods import load_bench

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    return load_bench("match")


def test_per_original_counts_the_structures_the_engine_builds() -> None:
    bench = _bench()
    r = bench.run_originals(30_000, 1)
    # One exact index of the originals (n codes), one approximate index of the inner codes.
    assert r["kinds"] == {"pdq": "mih", "pdq_inner": "approx"}
    assert r["codes_per_original"] == {"pdq": 1, "pdq_inner": 1}
    assert sum(r["codes_per_original"].values()) == bench.CODES_PER_ORIGINAL == 2
    arrays = r["nbytes_per_signal"]
    # Per original, each index holds one code: 32 B of code + 4 B id + its structures; the
    # approximate one has no positions, the exact one a position per chunk but chunk 0.
    assert 36 < arrays["pdq_inner"] < arrays["pdq"] < 2 * 32 + 4 + 15 * 4 + 16
    assert r["bytes_per_original"] > 0 and r["windows"] == len(layout()) == 1282
    # The approximate base finds a subset of what the exact one finds.
    assert 0 < r["windows_pairs_inner"] <= r["windows_pairs_exact"]


def test_match_quality_has_the_inner_index_switch() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "match_quality.py"), "--help"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert "--inner-index" in out and "both" in out
