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
    r = _bench().run_originals(30_000, 1)
    # Original and band in one exact index of 2n codes; the inner codes in the approximate one.
    assert r["kinds"] == {"pdq": "mih", "pdq_inner": "approx"}
    assert r["codes_per_original"] == {"pdq": 2, "pdq_inner": 1}
    arrays = r["nbytes_per_signal"]
    assert arrays["pdq_inner"] < 80 < arrays["pdq"]  # 32 B code + 4 B id + 1 B alive + offsets
    assert r["bytes_per_original"] > 0 and r["windows"] == len(layout()) == 1282
    # The approximate base finds a subset of what the exact one finds.
    assert 0 < r["windows_pairs_inner"] <= r["windows_pairs_exact"]


def test_match_quality_has_the_inner_index_switch() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "match_quality.py"), "--help"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert "--inner-index" in out and "both" in out
