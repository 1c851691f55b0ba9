"""Resurgence benchmark: are the successors the adversary creates found, and only they?

Plays a scenario on the testbed's world (no HTTP: crawling is monitoring's
bench) for ``--days`` simulated days after the action. At the action every
account and channel is referred and removed with its platform's compliance
rate; organic removals happen as the scenario says. Every ``--step`` minutes
(one crawl interval) each account or channel that appeared since the last
step is *seen* (as monitoring or intake would report it) and scored by
``takedown.resurgence.signals`` against every removal known so far; a seen
item whose best predecessor scores at least the threshold is *proposed*.
Proposed successors are referred and removed like the originals, so
successors of successors (generations) appear. Accounts and channels that
existed before the action and survived are seen too: proposing one of them is
a false positive.

Media and text re-use for the scores: a re-posted media file matches the
removed one's when both are variants of one original; a text matches when it
is the same text after matching's normalisation. Whether the real matcher
finds those re-posts is the *re-uploads* figure (``resurgence_media.py``):
a sample of the adversary's re-posted variants, rendered as the testbed serves
them, matched by ``takedown.matching`` against a removed-content bank holding
what the removed accounts had posted (target: >= 98 % found, 0 false matches).

Scored against the ground truth (``successor_of``): recall and precision at
the proposal threshold, by mutation kind, announced/silent and same-platform /
cross-platform (a Telegram channel back as a Rocket.Chat room); then the
figures (time to return, time to detect, lifetime, generations) per platform.

    .venv/bin/python bench/resurgence.py --scenario scenarios/action-day.yaml --days 14
        [--quick] [--step 60] [--silent-rate 0.3] [--unrelated-rate 0.1]
        [--cross-platform-rate 0.1] [--media-sample 200] [--bank-extra 300] [--unrelated-media 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from resurgence_media import TARGET_FOUND, Reuploads, measure

from takedown.matching.hashers.text import normalise as text_normalise
from takedown.resurgence import figures
from takedown.resurgence.signals.engine import RemovedIndex
from takedown.resurgence.signals.score import THRESHOLD, Profile, Score
from takedown.sim.scenario import load_scenario
from takedown.sim.world import Item, World, draw

OWNER_KINDS = {"account", "channel"}
TARGET_RECALL = 0.95
TARGET_PRECISION = 0.95
RESCORE_HOURS = 48


def utc(t: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t, dt.UTC)


@dataclass
class Run:
    world: World
    removed: dict[str, Profile] = field(default_factory=dict)
    seen: dict[str, Profile] = field(default_factory=dict)
    proposals: dict[str, Score] = field(default_factory=dict)  # seen id -> best score
    detected_at: dict[str, int] = field(default_factory=dict)
    media_owner: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    text_owner: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    linked_by: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    scored: int = 0


def _original(w: World, mid: str) -> str:
    m = w.media[mid]
    return m.original or m.id


def _children(w: World, owner: Item, until: int) -> list[Item]:
    return [w.items[c] for c in owner.children if w.items[c].appeared_at <= until]


def removed_profile(run: Run, it: Item) -> Profile:
    """A removal known to us: its handle, name, and what it posted (for the matcher)."""
    w = run.world
    assert it.removed_at is not None
    for ch in _children(w, it, it.removed_at):
        for mid in ch.media:
            run.media_owner[_original(w, mid)].add(it.id)
        if ch.text:
            run.text_owner[text_normalise(ch.text)].add(it.id)
    return Profile(
        key=it.id,
        platform=it.platform,
        handle=it.handle or it.key,
        title=it.title,
        url=it.url,
        removed_at=utc(it.removed_at),
        predecessor=run.proposals[it.id].removed if it.id in run.proposals else None,
    )


def seen_profile(run: Run, it: Item, now: int) -> Profile:
    w = run.world
    p = Profile(
        key=it.id,
        platform=it.platform,
        handle=it.handle or it.key,
        title=it.title,
        url=it.url,
        first_seen_at=utc(it.appeared_at),
        max_len=15 if w.platforms[it.platform].type == "microblog" else 30,
    )
    for ch in _children(w, it, now):
        for mid in ch.media:
            p.media_from |= run.media_owner.get(_original(w, mid), set())
        if ch.text:
            p.text_from |= run.text_owner.get(text_normalise(ch.text), set())
    return p


def play(world: World, days: float, step_min: int, rng: random.Random) -> Run:
    run = Run(world)
    start = world.start
    owners0 = [it for it in world.items.values() if it.kind in OWNER_KINDS]
    url_owner = {it.url: it.id for it in owners0}
    # The action: every account and channel referred, removed at the compliance rate.
    for it in owners0:
        p = world.platforms[it.platform]
        if not it.alive(start):
            continue
        if p.compliance.mode in ("comply", "partial") and rng.random() < p.compliance.rate:
            world.schedule(
                start + draw(rng, p.compliance.delay_minutes, 60), "remove:referral", it.id
            )
    world.tick(start)
    for it in owners0:
        if it.removed_at is not None and it.removed_at <= start:
            run.removed[it.id] = removed_profile(run, it)
    index_dirty = True
    index = RemovedIndex([])
    end = start + int(days * 86400)
    t = start
    announced_links: dict[str, list[tuple[str, dt.datetime, frozenset[str]]]] = defaultdict(list)
    channel_linked: dict[str, set[str]] = defaultdict(set)
    seen_posts: set[str] = set()
    while t < end:
        prev, t = t, t + step_min * 60
        world.tick(t)
        new_removed = [
            it
            for it in world.items.values()
            if it.kind in OWNER_KINDS
            and it.removed_at is not None
            and prev < it.removed_at <= t
            and it.id not in run.removed
        ]
        for it in new_removed:
            run.removed[it.id] = removed_profile(run, it)
            index_dirty = True
        # Announcements posted in this step, in the channels we watch (all public ones).
        for it in world.items.values():
            if it.parent is None or it.id in seen_posts or it.appeared_at > t:
                continue
            seen_posts.add(it.id)
            if not it.links or world.items[it.parent].kind != "channel":
                continue
            for url in it.links:
                announced_links[url].append(
                    (it.parent, utc(it.appeared_at), frozenset(channel_linked[it.parent]))
                )
            for url in it.links:
                if url in url_owner:
                    channel_linked[it.parent].add(url_owner[url])
        if index_dirty:
            index = RemovedIndex(run.removed.values())
            index_dirty = False
        fresh = [
            it
            for it in world.items.values()
            if it.kind in OWNER_KINDS and prev < it.appeared_at <= t and it.id not in run.seen
        ]
        fresh_ids = {it.id for it in fresh}
        for it in fresh:
            url_owner[it.url] = it.id
            run.seen[it.id] = seen_profile(run, it, t)
        # Score the new ones, and those still unproposed (media, announcements come later).
        for sid, prof in run.seen.items():
            if sid in run.proposals:
                continue
            it = world.items[sid]
            if it.appeared_at <= start:
                continue  # pre-existing ones are scored once at the end
            if t - it.appeared_at > RESCORE_HOURS * 3600:
                continue  # re-scored for two days while its posts and announcements come in
            if sid not in fresh_ids:
                prof = run.seen[sid] = seen_profile(run, it, t)
            prof.announced_in = announced_links.get(it.url, [])
            best = index.best(prof)
            run.scored += 1
            if best is not None and best.proposed:
                run.proposals[sid] = best
                run.detected_at[sid] = t
                p = world.platforms[it.platform]
                if p.compliance.mode in ("comply", "partial") and rng.random() < p.compliance.rate:
                    world.schedule(
                        t + draw(rng, p.compliance.delay_minutes, 60), "remove:referral", it.id
                    )
    # Accounts and channels that were there before the action and survived: negatives.
    index = RemovedIndex(run.removed.values())
    for it in owners0:
        if it.id in run.removed or (it.removed_at is not None and it.removed_at <= end):
            continue
        prof = seen_profile(run, it, end)
        prof.announced_in = announced_links.get(it.url, [])
        run.seen[it.id] = prof
        best = index.best(prof)
        run.scored += 1
        if best is not None and best.proposed:
            run.proposals[it.id] = best
            run.detected_at[it.id] = end
    return run


def score(run: Run, end: int) -> dict[str, object]:
    w = run.world
    truth = {
        it.id: it
        for it in w.items.values()
        if it.successor_of is not None and it.appeared_at <= end and it.id in run.seen
    }
    announced = {it.announces for it in w.items.values() if it.announces and it.appeared_at <= end}
    rows: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "found": 0})
    for sid, it in truth.items():
        groups = ["all", f"mutation:{it.mutation}", "announced" if sid in announced else "silent"]
        cross = w.items[it.successor_of].platform != it.platform
        groups.append("cross-platform" if cross else "same-platform")
        ok = sid in run.proposals and run.proposals[sid].removed == it.successor_of
        for g in groups:
            rows[g]["n"] += 1
            rows[g]["found"] += int(ok)
    prec: dict[str, dict[str, int]] = defaultdict(lambda: {"proposed": 0, "correct": 0})
    for sid, s in run.proposals.items():
        it = w.items[sid]
        ok = it.successor_of == s.removed
        kind = f"mutation:{it.mutation}" if it.successor_of else "pre-existing (negative)"
        groups = ["all", kind]
        if it.successor_of and w.items[it.successor_of].platform != it.platform:
            groups.append("cross-platform")
        for g in groups:
            prec[g]["proposed"] += 1
            prec[g]["correct"] += int(ok)
    return {"recall": dict(rows), "precision": dict(prec), "announced_ids": len(announced)}


def figures_of(run: Run, end: int) -> dict[str, figures.Figures]:
    w = run.world
    first_return: dict[str, int] = {}
    for it in w.items.values():
        if it.successor_of and it.appeared_at <= end:
            cur = first_return.get(it.successor_of)
            if cur is None or it.appeared_at < cur:
                first_return[it.successor_of] = it.appeared_at
    returns = [
        figures.Return(
            w.items[rid].platform,
            utc(p.removed_at.timestamp().__int__()) if p.removed_at else utc(end),
            utc(first_return[rid]) if rid in first_return else None,
        )
        for rid, p in run.removed.items()
    ]
    successors = [
        figures.Successor(
            it.platform,
            utc(it.appeared_at),
            utc(run.detected_at[it.id]) if it.id in run.detected_at else None,
            utc(it.removed_at) if it.removed_at is not None and it.removed_at <= end else None,
            it.generation,
        )
        for it in w.items.values()
        if it.successor_of and it.appeared_at <= end
    ]
    return figures.by_group(returns, successors, utc(end))


def ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def hours(v: float | None) -> str:
    return "-" if v is None else f"{v / 3600:.1f} h"


def print_reuploads(m: Reuploads, seconds: float) -> None:
    print(
        f"\nre-uploads: {m.rows['all']['n'] if 'all' in m.rows else 0} of the adversary's "
        f"{m.reposts_total} re-posted variants matched by takedown.matching against a "
        f"removed-content bank of {m.bank_media} media ({m.bank_signals} signals), "
        f"{m.unrelated} unrelated media queried, {seconds:.0f} s"
    )
    print(f"{'re-uploads':<28}{'n':>6}{'found':>7}{'share':>9}{'false':>7}  ratio to target")
    for g in sorted(m.rows, key=lambda k: (k != "all", not k.startswith("kind"), k)):
        r = m.rows[g]
        fr = ratio(r["found"], r["n"])
        print(
            f"{g:<28}{r['n']:>6}{r['found']:>7}{pct(fr):>9}{r['false']:>7}  "
            f"{'-' if fr is None else f'{fr / TARGET_FOUND:.2f}'}"
        )
    print(f"{'unrelated media':<28}{m.unrelated:>6}{'':>7}{'':>9}{m.unrelated_false:>7}")
    print(f"false matches: {m.false_matches} (target 0)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="scenarios/action-day.yaml")
    ap.add_argument("--days", type=float, default=14.0)
    ap.add_argument("--step", type=int, default=60, help="crawl interval in simulated minutes")
    ap.add_argument("--silent-rate", type=float, default=0.3)
    ap.add_argument("--unrelated-rate", type=float, default=0.1)
    ap.add_argument("--cross-platform-rate", type=float, default=0.1)
    ap.add_argument(
        "--media-sample", type=int, default=200, help="re-posted variants matched (0: all)"
    )
    ap.add_argument("--bank-extra", type=int, default=300, help="distractor media in the bank")
    ap.add_argument("--unrelated-media", type=int, default=100, help="unrelated media queried")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--quick", action="store_true", help="scenarios/small.yaml for 3 days")
    # --- crawl figures (bench/_crawl.py) ---
    ap.add_argument(
        "--crawl",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also crawl the testbed over HTTP (time to detect, politeness, memory)",
    )
    ap.add_argument("--crawl-sample", type=float, default=None)
    ap.add_argument("--crawl-rate", type=float, default=None)
    # --- end crawl figures ---
    args = ap.parse_args(argv)
    path = Path(args.scenario)
    days = args.days
    if args.quick:
        path, days = Path(__file__).resolve().parents[1] / "scenarios" / "small.yaml", 3.0
        args.media_sample, args.bank_extra, args.unrelated_media = 60, 100, 40
    sc = load_scenario(path, seed=args.seed)
    adv = sc.adversary.model_copy(
        update={
            "silent_rate": args.silent_rate,
            "unrelated_rate": args.unrelated_rate,
            "cross_platform_rate": args.cross_platform_rate,
        }
    )
    sc = sc.model_copy(update={"adversary": adv})
    t0 = time.perf_counter()
    world = World(sc)
    run = play(world, days, args.step, random.Random(f"bench:{sc.seed}"))
    elapsed = time.perf_counter() - t0
    end = world.start + int(days * 86400)
    res = score(run, end)
    recall: dict[str, dict[str, int]] = res["recall"]  # type: ignore[assignment]
    precision: dict[str, dict[str, int]] = res["precision"]  # type: ignore[assignment]
    print(f"resurgence on {sc.name} ({path.name}), {days:g} days, step {args.step} min")
    print(
        f"removed {len(run.removed)}, seen {len(run.seen)}, scored {run.scored}, "
        f"proposed {len(run.proposals)}, threshold {THRESHOLD}, {elapsed:.1f} s"
    )
    print(f"\n{'successors':<28}{'n':>6}{'found':>7}{'recall':>9}  ratio to target")
    for g in sorted(recall, key=lambda k: (k != "all", k)):
        r = recall[g]
        rc = ratio(r["found"], r["n"])
        print(
            f"{g:<28}{r['n']:>6}{r['found']:>7}{pct(rc):>9}  "
            f"{'-' if rc is None else f'{rc / TARGET_RECALL:.2f}'}"
        )
    print(f"\n{'proposals':<28}{'n':>6}{'right':>7}{'prec.':>9}  ratio to target")
    for g in sorted(precision, key=lambda k: (k != "all", k)):
        r = precision[g]
        pr = ratio(r["correct"], r["proposed"])
        print(
            f"{g:<28}{r['proposed']:>6}{r['correct']:>7}{pct(pr):>9}  "
            f"{'-' if pr is None else f'{pr / TARGET_PRECISION:.2f}'}"
        )
    t1 = time.perf_counter()
    media = measure(
        world,
        set(run.removed),
        end,
        sample=args.media_sample,
        bank_extra=args.bank_extra,
        unrelated=args.unrelated_media,
        rng=random.Random(f"reuploads:{sc.seed}"),
    )
    print_reuploads(media, time.perf_counter() - t1)
    figs = figures_of(run, end)
    print(
        f"\n{'figures':<12}{'removed':>8}{'back':>6}{'return KM med':>15}{'detect med':>12}"
        f"{'detect p90':>12}{'life KM med':>13}  generations"
    )
    for g, f in figs.items():
        print(
            f"{g:<12}{f.removals:>8}{f.returned:>6}{hours(f.return_km.median):>15}"
            f"{hours(f.detect_median):>12}{hours(f.detect_p90):>12}"
            f"{hours(f.lifetime_km.median):>13}  {dict(sorted(f.generations.items()))}"
        )
    rc_all = ratio(recall.get("all", {}).get("found", 0), recall.get("all", {}).get("n", 0))
    pr_all = ratio(
        precision.get("all", {}).get("correct", 0), precision.get("all", {}).get("proposed", 0)
    )
    step_s = args.step * 60
    f_all = figs["all"]
    targets = {
        "recall>=0.95": rc_all is not None and rc_all >= TARGET_RECALL,
        "precision>=0.95": pr_all is not None and pr_all >= TARGET_PRECISION,
        "detect_median<=1_interval": f_all.detect_median is not None
        and f_all.detect_median <= step_s,
        "detect_p90<=2_intervals": f_all.detect_p90 is not None and f_all.detect_p90 <= 2 * step_s,
        "reuploads_found>=0.98": (media.found_ratio or 0.0) >= TARGET_FOUND,
        "reuploads_false_matches==0": media.false_matches == 0,
    }
    out = {
        "bench": "resurgence",
        "scenario": sc.name,
        "days": days,
        "step_seconds": step_s,
        "threshold": THRESHOLD,
        "recall": rc_all,
        "precision": pr_all,
        "recall_by": {g: ratio(r["found"], r["n"]) for g, r in recall.items()},
        "precision_by": {g: ratio(r["correct"], r["proposed"]) for g, r in precision.items()},
        "figures": {g: f.as_dict() for g, f in figs.items()},
        "reuploads": media.as_dict(),
        "seconds": round(elapsed, 2),
        "targets": targets,
        "targets_met": all(targets.values()),
    }
    # --- crawl figures (bench/_crawl.py) ---
    if args.crawl:
        import _crawl

        crawl = _crawl.run(
            sc, days, quick=args.quick, sample=args.crawl_sample, rate=args.crawl_rate
        )
        out["crawl"] = crawl
        targets.update(crawl["targets"])
        out["targets_met"] = all(out["targets"].values())
    # --- end crawl figures ---
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
