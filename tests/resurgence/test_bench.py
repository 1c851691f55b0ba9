"""bench/resurgence.py's figures, recomputed from the testbed's ground truth (JSON lines)."""

from __future__ import annotations

import importlib
import json
import random
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from takedown.sim.scenario import load_scenario, resolve_scenario_path
from takedown.sim.world import World

BENCH = Path(__file__).resolve().parents[2] / "bench"
DAYS = 3


def _bench(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _world() -> World:
    sc = load_scenario(resolve_scenario_path("small"))
    adv = sc.adversary.model_copy(
        update={"silent_rate": 0.3, "unrelated_rate": 0.3, "cross_platform_rate": 1.0}
    )
    return World(sc.model_copy(update={"adversary": adv}))


def test_recall_and_precision_recomputed_from_the_ground_truth() -> None:
    bench = _bench("resurgence")
    world = _world()
    run = bench.play(world, DAYS, 60, random.Random("bench:test"))
    end = world.start + DAYS * 86400
    res = bench.score(run, end)
    truth = [json.loads(line) for line in world.ground_truth(end)]
    items = {t["id"]: t for t in truth if "id" in t and t.get("type") != "media"}
    announced = {t["announces"] for t in items.values() if t.get("announces")}
    n: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for sid, t in items.items():
        if not t["successor_of"] or sid not in run.seen:
            continue
        old = items[t["successor_of"]]
        groups = [
            "all",
            f"mutation:{t['mutation']}",
            "announced" if sid in announced else "silent",
            "cross-platform" if old["platform"] != t["platform"] else "same-platform",
        ]
        hit = sid in run.proposals and run.proposals[sid].removed == t["successor_of"]
        for g in groups:
            n[g] += 1
            found[g] += int(hit)
    assert n["cross-platform"] > 0 and n["silent"] > 0 and n["mutation:unrelated"] > 0
    recall = res["recall"]
    assert {g: (r["n"], r["found"]) for g, r in recall.items()} == {g: (n[g], found[g]) for g in n}
    proposed = Counter()
    correct = Counter()
    for sid, s in run.proposals.items():
        t = items[sid]
        ok = t["successor_of"] == s.removed
        g = f"mutation:{t['mutation']}" if t["successor_of"] else "pre-existing (negative)"
        for k in ("all", g):
            proposed[k] += 1
            correct[k] += int(ok)
    for g, r in res["precision"].items():
        if g != "cross-platform":
            assert (r["proposed"], r["correct"]) == (proposed[g], correct[g])
    # A cross-platform successor is scored against every removal, not its platform's only.
    cross = [sid for sid, t in items.items() if t["successor_of"] and t["platform"] == "rocket"]
    assert any(run.proposals.get(sid) for sid in cross)


@pytest.mark.slow
def test_reuploads_are_matched_by_the_real_matcher() -> None:
    bench = _bench("resurgence")
    media = _bench("resurgence_media")
    world = _world()
    run = bench.play(world, DAYS, 60, random.Random("bench:test"))
    end = world.start + DAYS * 86400
    reposts = media.reposts(world, end)
    assert reposts and all(world.media[r.media].variant for r in reposts)
    res = media.measure(
        world, set(run.removed), end, sample=4, bank_extra=4, unrelated=2, rng=random.Random(1)
    )
    assert res.rows["all"]["n"] == 4 and res.unrelated == 2
    assert res.found_ratio is not None and res.found_ratio >= 0.75
    assert res.false_matches == 0
    assert res.as_dict()["found_by"]["all"] == res.found_ratio
