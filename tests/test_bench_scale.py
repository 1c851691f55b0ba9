"""``bench/scale.py``: its options parse, and its counting helpers count right (no run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.benchmods import load_bench

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    return load_bench("scale")


def test_help_lists_the_real_and_synthetic_modes() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--help"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    for option in ("--quick", "--synthetic", "--workers", "--rate", "--captures"):
        assert option in out


def test_most_in_a_second_counts_the_busiest_window() -> None:
    bench = _bench()
    assert bench.most_in_a_second([]) == 0
    # 3 requests within 0.9 s, then one 1.5 s later
    assert bench.most_in_a_second([0.0, 0.5, 0.9, 2.4]) == 3
    # a window is one second, half-open: requests one second apart never share one
    assert bench.most_in_a_second([0.0, 1.0, 2.0]) == 1


def test_items_are_spread_round_robin_over_platforms() -> None:
    bench = _bench()
    items = [{"platform": p, "url": f"https://{p}/{i}", "access": "public"}
             for p in ("x", "telegram") for i in range(3)]  # fmt: skip
    assert [i["platform"] for i in bench.spread(items, 4)] == ["telegram", "x"] * 2
    assert len(bench.spread(items, 100)) == 6
    private = [{"platform": "x", "url": "https://x/p", "access": "private"}]
    assert bench.pick_capture(private + items, 3) == [
        "https://telegram/0", "https://x/0", "https://telegram/1"
    ]  # fmt: skip
