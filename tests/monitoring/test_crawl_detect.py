"""The bench's time to detect, recomputed by hand from the testbed's ground truth.

``bench/_crawl.py`` crawls the testbed over HTTP after the action (the crawler,
its database schedule and the politeness budget), stepping the testbed's clock;
here its figure is recomputed independently: each successor the ground truth
names, created after the watching began, looked up by its identity among the
items the crawls recorded, and its first observation's time taken.
"""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from takedown.items.models import Item
from takedown.monitoring.models import Observation, Source
from takedown.platforms.identity import canonicalize
from takedown.sim.scenario import load_scenario, resolve_scenario_path
from tests.benchmods import load_bench

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    return load_bench("_crawl")


def _at(v: Any) -> dt.datetime:
    t: dt.datetime = v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(str(v))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


@pytest.mark.slow
def test_time_to_detect_recomputed_from_the_ground_truth(tmp_path: Path) -> None:
    bench = _bench()
    sc = load_scenario(resolve_scenario_path("small"))
    keep: dict[str, Any] = {}
    f = bench.crawl_figures(sc, 1.0, step_s=300, rate=0.0, service_ms=0.0, tmp=tmp_path, keep=keep)
    since: dt.datetime = keep["since"]
    policy = keep["policy"]
    delays: list[float] = []
    intervals: list[float] = []
    successors = 0
    with keep["factory"]() as s:
        for t in keep["truth"]:
            if not t.get("successor_of"):
                continue
            created = _at(str(t["appeared_at"]).replace("Z", "+00:00"))
            if created < since:
                continue
            successors += 1
            ident = canonicalize(t["url"]).identity
            item = s.scalars(select(Item).where(Item.identity == ident)).first()
            if item is None:
                continue  # no crawl saw it (a silent return, or announced where we do not look)
            seen_at, kind = s.execute(
                select(Observation.seen_at, Source.kind)
                .join(Source, Source.id == Observation.source_id)
                .where(Observation.item_id == item.id)
                .order_by(Observation.seen_at)
            ).first()  # type: ignore[misc]
            delay = (_at(seen_at) - created).total_seconds()
            assert 0 <= delay <= policy.base_for(kind) * policy.max_factor + 300
            delays.append(delay)
            intervals.append(delay / policy.base_for(kind))
    d = f["detect"]
    assert d["successors"] == successors and d["seen"] == len(delays) > 0
    assert d["median_s"] == statistics.median(delays)
    assert d["median_intervals"] == statistics.median(intervals)
    rank = sorted(delays)[max(1, -(-len(delays) * 9 // 10)) - 1]
    assert d["p90_s"] == rank
    assert f["violations"] == 0 and f["crawls"] >= f["sources"] > 0
