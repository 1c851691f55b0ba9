"""The crawling figures of ``bench/resurgence.py``: a real crawl of the testbed after the action.

Why a module of its own: ``bench/resurgence.py`` scores successors on the world
alone; these figures need the monitoring capability's crawler (connectors,
database schedule, per-host politeness budget) talking HTTP to the testbed's
platforms on loopback. ``resurgence.py --crawl`` calls :func:`crawl_figures`
and appends its rows and keys.

How it plays:

- the testbed is started on the scenario (``inject`` off, so no random errors;
  every answer takes ``service_ms`` so a request has a duration and the testbed
  can count requests to one host that overlap, ``sim.app.HostLoad``);
- the action: every account and channel alive at the start is referred and
  removed at its platform's compliance rate (as ``bench/resurgence.py`` does);
- watched, as ``takedown watch add --operation`` would: every account and
  channel so referred, and every public channel that is not (Telegram channels
  through their preview, Rocket.Chat rooms through the REST API with the
  server's credentials). ``sample`` < 1 watches a deterministic share of them
  (the full run on ``action-day.yaml`` would otherwise crawl ~3,000 sources for
  hours of real time at a polite rate);
- 14 simulated days cannot be crawled in real time, so the testbed's clock is
  advanced in steps of ``step_s`` (3 min) and at each step
  the crawler runs every source the database says is due at that simulated
  time (``Crawler(clock=sim clock)``). Within a step the simulated clock stands
  still and the requests take real time, paced by the shared ``HostBudget``.

Figures:

- **time to detect**: for each successor in the testbed's ground truth that a
  crawl saw (its address recorded as an item: an announcement in a watched
  channel), first seen (``monitoring_observations.seen_at``, simulated time) minus
  created (``appeared_at``), in units of the base crawl interval of the kind of
  the source whose crawl saw it. Targets: median <= 1, p90 <= 2 (nearest rank).
  The step quantises "first seen" up by at most one step. Successors no crawl
  can see (silent returns: no announcement in a watched place) are counted,
  not timed: they are resurgence's probes' to find;
- **crawling**: sources crawled per real second of crawling, against the
  politeness bound. Per step the bound is the busiest host's requests / per-host
  rate (the issue's requests / (hosts x rate) when the hosts are evenly loaded);
  summed over the steps. Target: elapsed / bound <= 1.5, and 0 requests that
  reached a host while another to it was in flight (counted by the testbed);
- memory (claim 1k due of 1k and of 100k rows) is ``bench/monitoring.py``'s
  :func:`memory_at`, reused.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.db import session_scope
from takedown.kit.errors import TakedownError
from takedown.kit.politeness import HostBudget
from takedown.monitoring import service
from takedown.monitoring.base import Limits
from takedown.monitoring.crawl import CrawlConfig, Crawler
from takedown.monitoring.models import Observation, Source
from takedown.monitoring.policy import SchedulePolicy
from takedown.platforms.identity import canonicalize
from takedown.sim.harness import SimHandle, running_sim
from takedown.sim.scenario import Scenario
from takedown.sim.world import World, draw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import analyst_db

SECRET = "bench-crawl-secret"
OWNER_KINDS = {"account", "channel"}
WATCHED_TYPES = {"telegram", "rocketchat", "microblog", "video"}


def _db(path: Path) -> tuple[sessionmaker[Session], Principal]:
    _, factory, principal = analyst_db(path, "crawl@example.invalid")
    return factory, principal


def _action(world: World, rng: random.Random) -> tuple[list[str], list[str]]:
    """Refer every account and channel alive at the start; (referred ids, other channels)."""
    start = world.start
    referred: list[str] = []
    others: list[str] = []
    for it in world.items.values():
        if it.kind not in OWNER_KINDS or not it.alive(start):
            continue
        p = world.platforms[it.platform]
        if p.compliance.mode in ("comply", "partial") and rng.random() < p.compliance.rate:
            world.schedule(
                start + draw(rng, p.compliance.delay_minutes, 60), "remove:referral", it.id
            )
            referred.append(it.id)
        elif it.kind == "channel":
            others.append(it.id)
    world.tick(start)
    return referred, others


@dataclass
class Watch:
    source_ids: list[int] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def _watch(
    sim: SimHandle,
    factory: sessionmaker[Session],
    principal: Principal,
    ids: list[str],
    clock: Any,
) -> Watch:
    w = sim.world

    def rows() -> list[tuple[str, str, str, str]]:
        out = []
        for iid in ids:
            it = w.items[iid]
            out.append((it.url, w.platforms[it.platform].type, it.access, it.kind))
        return out

    auth = sim.call(
        lambda: [
            (p.hosts[0], p.auth.user_id, p.auth.token)
            for p in w.platforms.values()
            if p.type == "rocketchat"
        ]
    )
    watch = Watch()
    with session_scope(factory) as s:
        for host, uid, token in auth:
            service.add_server(
                s, principal, f"https://{host}", user_id=uid, token=token, secret_key=SECRET
            )
        for url, ptype, access, _kind in rows():
            if ptype not in WATCHED_TYPES or access != "public":
                watch.skipped[ptype if ptype not in WATCHED_TYPES else f"{ptype}:{access}"] += 1
                continue
            try:
                with s.begin_nested():
                    src, _ = service.add_source(s, principal, url, origin="operation", clock=clock)
            except TakedownError:
                watch.skipped[f"{ptype}:bad url"] += 1
                continue
            watch.source_ids.append(src.id)
            watch.kinds[src.kind] += 1
    return watch


@dataclass
class StepLoad:
    crawled: int
    seconds: float
    requests: dict[str, int]


def _delta(after: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {
        h: int(v["requests"]) - int(before.get(h, {}).get("requests", 0))
        for h, v in after.items()
        if int(v["requests"]) - int(before.get(h, {}).get("requests", 0)) > 0
    }


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = max(1, -(-len(s) * q // 1))
    return s[int(k) - 1]


def _ts(iso: object) -> dt.datetime:
    return dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))


def detect_times(
    truth: list[dict[str, Any]],
    seen: dict[str, tuple[dt.datetime, str]],
    policy: SchedulePolicy,
    since: dt.datetime,
) -> dict[str, Any]:
    """Time to detect from the ground truth: successor created -> first seen by a crawl.

    ``truth`` are the testbed's ground-truth lines; ``seen`` maps an item identity to
    (first seen, kind of the source whose crawl saw it). Only successors created from
    ``since`` (the watching began) count. Delays are also given in base intervals of
    that kind.
    """
    successors = [
        t
        for t in truth
        if t.get("type") == "item" and t.get("successor_of") and _ts(t["appeared_at"]) >= since
    ]
    announced = {t["announces"] for t in truth if t.get("type") == "item" and t.get("announces")}
    delays: list[float] = []
    intervals: list[float] = []
    by_kind: dict[str, list[float]] = defaultdict(list)
    for t in successors:
        try:
            ident = canonicalize(str(t["url"])).identity
        except TakedownError:
            continue
        hit = seen.get(ident)
        if hit is None:
            continue
        created = _ts(t["appeared_at"])
        delay = max(0.0, (hit[0] - created).total_seconds())
        delays.append(delay)
        intervals.append(delay / policy.base_for(hit[1]))
        by_kind[hit[1]].append(delay)
    return {
        "successors": len(successors),
        "announced": sum(1 for t in successors if t["id"] in announced),
        "seen": len(delays),
        "median_s": statistics.median(delays) if delays else None,
        "p90_s": nearest_rank(delays, 0.9),
        "median_intervals": statistics.median(intervals) if intervals else None,
        "p90_intervals": nearest_rank(intervals, 0.9),
        "by_kind": {
            k: {
                "seen": len(v),
                "median_s": statistics.median(v),
                "p90_s": nearest_rank(v, 0.9),
                "interval_s": policy.base_for(k),
            }
            for k, v in sorted(by_kind.items())
        },
    }


def first_seen(factory: sessionmaker[Session]) -> dict[str, tuple[dt.datetime, str]]:
    """Item identity -> (first observation's time, kind of the source that made it)."""
    from takedown.items.models import Item

    with session_scope(factory) as s:
        q = (
            select(Item.identity, func.min(Observation.seen_at), Source.kind)
            .join(Observation, Observation.item_id == Item.id)
            .join(Source, Source.id == Observation.source_id)
            .where(Item.kind.in_(["account", "channel"]))
            .group_by(Item.identity, Source.kind)
        )
        out: dict[str, tuple[dt.datetime, str]] = {}
        for ident, seen_at, kind in s.execute(q):
            at = seen_at if seen_at.tzinfo else seen_at.replace(tzinfo=dt.UTC)
            if ident not in out or at < out[ident][0]:
                out[ident] = (at, kind)
    return out


def crawl_figures(
    sc: Scenario,
    days: float,
    *,
    step_s: int = 180,
    rate: float = 20.0,
    service_ms: float = 5.0,
    sample: float = 1.0,
    workers: int = 8,
    tmp: Path | None = None,
    seed: str = "crawl",
    keep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Crawl the testbed for ``days`` simulated days after the action; the figures.

    ``keep`` (for tests) receives the ground truth, the start and the session factory
    (give ``tmp`` too, or the database is gone with the temporary directory)."""
    policy = SchedulePolicy()
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as d:
        factory, principal = _db(Path(tmp or d) / "crawl.sqlite3")
        with running_sim(sc, inject=False, speed=0.0) as sim:
            clock = sim.sim.clock
            sim.call(lambda: setattr(sim.sim.app.state, "service_s", service_ms / 1000))
            rng = random.Random(f"{seed}:{sc.seed}")
            referred, others = sim.call(lambda: _action(sim.world, rng))
            ids = referred + others
            if sample < 1.0:
                pick = random.Random(f"{seed}:sample:{sc.seed}")
                ids = [i for i in ids if pick.random() < sample]
            watch = _watch(sim, factory, principal, ids, clock)
            budget = HostBudget(rate)
            cfg = CrawlConfig(
                limits=Limits(), policy=policy, workers=workers, secret_key=SECRET, match=False
            )
            with sim.sync_client(timeout=30.0) as client:
                crawler = Crawler(factory, client, config=cfg, budget=budget, clock=clock)
                steps: list[StepLoad] = []
                results: Counter[str] = Counter()
                since = sim.now()
                end = since + dt.timedelta(days=days)
                t_wall = time.perf_counter()
                load = sim.host_load()
                while True:
                    t0 = time.perf_counter()
                    rep = crawler.run(limit=100_000)
                    elapsed = time.perf_counter() - t0
                    if rep.sources:
                        after = sim.host_load()
                        steps.append(StepLoad(rep.sources, elapsed, _delta(after, load)))
                        load = after
                        results.update(rep.results)
                    if sim.now() >= end:
                        break
                    sim.advance(step_s)
                wall = time.perf_counter() - t_wall
            hosts = sim.host_load()
            truth = [t for t in sim.ground_truth() if t.get("type") == "item"]
    if keep is not None:
        keep.update(truth=truth, since=since, factory=factory, policy=policy)
    seen = first_seen(factory)
    detect = detect_times(truth, seen, policy, since)
    crawled = sum(st.crawled for st in steps)
    seconds = sum(st.seconds for st in steps)
    requests = sum(sum(st.requests.values()) for st in steps)
    per_s = rate if rate > 0 else float("inf")  # unpaced: no bound
    bound = sum(max(st.requests.values(), default=0) / per_s for st in steps)
    naive = sum(
        sum(st.requests.values()) / (len(st.requests) * per_s) for st in steps if st.requests
    )
    return {
        "sources": len(watch.source_ids),
        "source_kinds": dict(watch.kinds),
        "skipped": dict(watch.skipped),
        "steps": len(steps),
        "step_s": step_s,
        "rate": rate,
        "crawls": crawled,
        "results": dict(results),
        "requests": requests,
        "hosts": len(hosts),
        "crawl_s": seconds,
        "wall_s": wall,
        "bound_s": bound,
        "naive_bound_s": naive,
        "ratio": seconds / bound if bound else None,
        "sources_per_s": crawled / seconds if seconds else None,
        "bound_sources_per_s": crawled / bound if bound else None,
        "violations": sum(int(v["concurrent"]) for v in hosts.values()),
        "max_in_flight": max((int(v["max_in_flight"]) for v in hosts.values()), default=0),
        "min_gap_s": {h: v["min_gap_s"] for h, v in hosts.items()},
        "detect": detect,
    }


def _memory(quick: bool) -> dict[str, Any]:
    """Peak memory of one scheduling pass at 1k and at 100k sources (``bench/monitoring.py``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_monitoring", Path(__file__).with_name("monitoring.py")
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    big = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-crawl-mem-") as d:
        small_peak = int(mod.memory_at(Path(d), 1000))
        big_peak = int(mod.memory_at(Path(d), big))
    return {"small": 1000, "big": big, "small_kib": small_peak // 1024,
            "big_kib": big_peak // 1024, "ratio": big_peak / small_peak}  # fmt: skip


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def run(
    sc: Scenario,
    days: float,
    *,
    quick: bool = False,
    sample: float | None = None,
    rate: float | None = None,
) -> dict[str, Any]:
    """Crawl, print the rows (figure, value, bound, ratio) and return the JSON keys."""
    # The full run on action-day.yaml watches a tenth of the ~3,000 sources: all of them
    # for 14 simulated days at a polite rate would take hours of real time.
    sample = sample if sample is not None else (1.0 if quick else 0.1)
    rate = rate if rate is not None else 20.0
    t0 = time.perf_counter()
    f = crawl_figures(sc, days, rate=rate, sample=sample)
    mem = _memory(quick)
    d = f["detect"]
    print(
        f"\ncrawl: {f['sources']} sources {f['source_kinds']} over HTTP on the testbed, "
        f"{days:g} simulated days in {f['steps']} steps of {f['step_s'] // 60} min, "
        f"{f['crawls']} crawls {f['results']}, {f['requests']} requests to {f['hosts']} hosts "
        f"at {rate:g}/s per host, {time.perf_counter() - t0:.0f} s"
    )
    print(f"{'crawl figure':<44}{'value':>10}{'bound':>10}{'ratio':>8}  target")
    print(
        f"{'successors seen by a crawl (of all)':<44}{d['seen']:>10}{d['successors']:>10}"
        f"{'':>8}  (announced: {d['announced']})"
    )
    for k, v in d["by_kind"].items():
        print(
            f"{'  time to detect median (min), ' + k:<44}{v['median_s'] / 60:>10.1f}"
            f"{v['interval_s'] / 60:>10.1f}{v['median_s'] / v['interval_s']:>8.2f}"
        )
    print(
        f"{'time to detect median (intervals)':<44}{_fmt(d['median_intervals'], '.2f'):>10}"
        f"{1:>10}{_fmt(d['median_intervals'], '.2f'):>8}  <= 1"
    )
    p90 = d["p90_intervals"]
    print(
        f"{'time to detect p90 (intervals)':<44}{_fmt(p90, '.2f'):>10}{2:>10}"
        f"{_fmt(None if p90 is None else p90 / 2, '.2f'):>8}  <= 1 (2 intervals)"
    )
    print(
        f"{'crawl time (s) vs politeness bound':<44}{f['crawl_s']:>10.1f}{f['bound_s']:>10.1f}"
        f"{_fmt(f['ratio'], '.2f'):>8}  <= 1.5"
    )
    print(
        f"{'sources per second':<44}{_fmt(f['sources_per_s'], '.1f'):>10}"
        f"{_fmt(f['bound_sources_per_s'], '.1f'):>10}"
    )
    print(f"{'politeness violations (testbed)':<44}{f['violations']:>10}{0:>10}{'':>8}  0")
    big = f"peak KiB, claim 1k of {mem['big']:,} sources"
    print(f"{'peak KiB, claim 1k of 1k sources':<44}{mem['small_kib']:>10}")
    print(
        f"{big:<44}{mem['big_kib']:>10}{mem['small_kib'] * 1.25:>10.0f}{mem['ratio']:>8.2f}"
        "  <= 1.25"
    )
    targets = {
        "detect_crawl_median<=1_interval": d["median_intervals"] is not None
        and d["median_intervals"] <= 1,
        "detect_crawl_p90<=2_intervals": p90 is not None and p90 <= 2,
        "crawl_ratio<=1.5": f["ratio"] is not None and f["ratio"] <= 1.5,
        "politeness_violations==0": f["violations"] == 0,
        "memory_ratio<=1.25": mem["ratio"] <= 1.25,
    }
    return {**f, "sample": sample, "memory": mem, "targets": targets}
