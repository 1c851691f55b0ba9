"""Re-uploads for ``bench/resurgence.py``: the adversary's re-posted media, matched for real.

Monitoring hashes every media file it sees and matches it against the banks,
the removed-content bank included (``monitoring.record`` ->
``matching.service.match_item_media``); verification feeds the media of a
confirmed removal into that bank (``evidence.feed_removed_media`` ->
``matching.service.add_removed_media``). This module does the same with the
same code on a throw-away SQLite database:

* the media the removed accounts and channels had posted before their removal
  (for each sampled re-post, its removed predecessor, that one's removed
  predecessors, and every other removal that had posted the same original: the
  bank holds every removal) are rendered as the testbed
  serves them (``sim.pages._media_bytes``: JPEG posters, H.264 videos) and
  added to the removed-content bank with ``matching.service.add_media`` (what
  ``add_removed_media`` calls; the source names the removed testbed item);
* each re-posted variant (a successor's post: re-encode, resize, crop, pad,
  mirror, logo bar, rotation, overlaid text) is hashed by
  ``matching.service.hash_media`` and matched by ``match_hashes`` with the
  banks' default thresholds.

A variant is *found* when a hit is a signal enrolled from media of the same
original (same seed and kind: the testbed's pool lets two accounts post one
original, which is then the same content). A hit on a signal enrolled only
from other originals is a *false match*; so is any hit of the *unrelated*
queries (originals and variants of seeds nothing removed had posted).

Rendering and hashing cost ~0.1-1.5 s a file on a loaded machine, so the bench
matches a deterministic sample of the re-posts (``--media-sample``, 0 = all)
against a bank holding every removed predecessor's media of that sample plus
``--bank-extra`` media of other removals (distractors). Identical files
(same seed, kind, variant) are rendered and hashed once.
"""

from __future__ import annotations

import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from takedown.accounts import service as accounts
from takedown.accounts.service import SYSTEM
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.matching.base import HashResult
from takedown.matching.engine import MatchingEngine
from takedown.matching.service import add_media, hash_media, match_hashes, removed_content_bank
from takedown.migrate import upgrade
from takedown.sim.pages import _media_bytes
from takedown.sim.world import World

TARGET_FOUND = 0.98
MediaKey = tuple[str, int, str | None]  # kind, seed, variant: one rendered file


@dataclass
class Repost:
    media: str
    key: MediaKey
    successor: str
    predecessor: str


@dataclass
class Reuploads:
    reposts_total: int = 0
    bank_media: int = 0
    bank_signals: int = 0
    rows: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"n": 0, "found": 0, "false": 0})
    )
    unrelated: int = 0
    unrelated_false: int = 0
    misses: list[dict[str, Any]] = field(default_factory=list)

    @property
    def found_ratio(self) -> float | None:
        r = self.rows.get("all")
        return r["found"] / r["n"] if r and r["n"] else None

    @property
    def false_matches(self) -> int:
        return self.rows["all"]["false"] + self.unrelated_false if "all" in self.rows else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "reposts_total": self.reposts_total,
            "sampled": self.rows["all"]["n"] if "all" in self.rows else 0,
            "found": self.found_ratio,
            "found_by": {g: r["found"] / r["n"] for g, r in self.rows.items() if r["n"]},
            "false_matches": self.false_matches,
            "unrelated_queries": self.unrelated,
            "bank_media": self.bank_media,
            "bank_signals": self.bank_signals,
        }


def _key(world: World, mid: str) -> MediaKey:
    m = world.media[mid]
    return (m.kind, m.seed, m.variant)


def reposts(world: World, end: int) -> list[Repost]:
    """Every media variant a successor re-posted by ``end`` (the adversary's re-uploads)."""
    out: list[Repost] = []
    for it in world.items.values():
        if it.successor_of is None or it.appeared_at > end:
            continue
        for cid in it.children:
            ch = world.items[cid]
            if ch.appeared_at > end:
                continue
            for mid in ch.media:
                m = world.media[mid]
                if m.variant and m.kind in ("image", "video"):
                    out.append(Repost(mid, _key(world, mid), it.id, it.successor_of))
    return out


def _posted_before_removal(world: World, owner_id: str) -> list[MediaKey]:
    it = world.items[owner_id]
    until = it.removed_at if it.removed_at is not None else 2**62
    keys: list[MediaKey] = []
    for cid in it.children:
        ch = world.items[cid]
        if ch.appeared_at <= until:
            keys.extend(
                _key(world, mid) for mid in ch.media if world.media[mid].kind in ("image", "video")
            )
    return keys


class _Hasher:
    def __init__(self) -> None:
        self.query: dict[MediaKey, list[HashResult]] = {}

    def data(self, key: MediaKey) -> bytes:
        kind, seed, variant = key
        return _media_bytes(kind, seed, variant, False)

    def hashes(self, key: MediaKey) -> list[HashResult]:
        if key not in self.query:
            self.query[key] = hash_media(self.data(key), key[0])[1]
        return self.query[key]


def measure(
    world: World,
    removed: set[str],
    end: int,
    *,
    sample: int,
    bank_extra: int,
    unrelated: int,
    rng: random.Random,
) -> Reuploads:
    res = Reuploads()
    allr = reposts(world, end)
    res.reposts_total = len(allr)
    rng.shuffle(allr)
    chosen = allr if sample <= 0 else allr[:sample]
    # The bank: the removed lineage of each sampled re-post (its predecessor, the
    # predecessor's predecessor... as the removed-content bank holds every removal: a
    # second-generation re-post is a variant of the original, not of the first
    # successor's variant), then other removals as distractors.
    lineage: set[str] = set()
    for r in chosen:
        k: str | None = r.predecessor
        while k is not None and k not in lineage:
            lineage.add(k)
            k = world.items[k].successor_of
    # ... and every other removal that had posted the same original (the testbed's media
    # pool is shared; a complete removed-content bank holds their copies too).
    wanted = {(r.key[0], r.key[1]) for r in chosen}
    for o in removed - lineage:
        if any((k[0], k[1]) in wanted for k in _posted_before_removal(world, o)):
            lineage.add(o)
    owners = sorted(lineage & removed)
    others = sorted(removed - set(owners))
    rng.shuffle(others)
    enrol: dict[MediaKey, set[str]] = defaultdict(set)
    for o in owners:
        for k in _posted_before_removal(world, o):
            enrol[k].add(o)
    extra = 0
    for o in others:
        if extra >= bank_extra:
            break
        for k in _posted_before_removal(world, o):
            if k not in enrol:
                extra += 1
            enrol[k].add(o)
    hasher = _Hasher()
    engine = MatchingEngine(None, sync_interval=3600)
    with tempfile.TemporaryDirectory() as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'reuploads.db'}")
        upgrade(db)
        factory = make_sessionmaker(db)
        with session_scope(factory) as s:
            accounts.create_agency(s, SYSTEM, name="Bench IRU", country="NL", kind="national_iru")
            bank = removed_content_bank(s)
            content_of: dict[int, set[tuple[str, int]]] = defaultdict(set)
            for k, who in sorted(enrol.items(), key=lambda kv: repr(kv[0])):
                sigs = add_media(
                    s,
                    None,
                    bank.id,
                    hasher.data(k),
                    source="item:" + ",".join(sorted(who)),
                    engine=engine,
                )
                for sig in sigs:
                    content_of[sig.id].add((k[0], k[1]))
            res.bank_media = len(enrol)
            res.bank_signals = len(content_of)
            engine.sync(s, force=True)
            for r in chosen:
                hits, _, _ = match_hashes(s, hasher.hashes(r.key), agency_id=None, engine=engine)
                want = (r.key[0], r.key[1])
                ok = any(want in content_of.get(h.signal_id, ()) for h in hits)
                wrong = any(want not in content_of.get(h.signal_id, ()) for h in hits)
                for g in ("all", f"variant:{r.key[2]}", f"kind:{r.key[0]}"):
                    res.rows[g]["n"] += 1
                    res.rows[g]["found"] += int(ok)
                    res.rows[g]["false"] += int(wrong)
                if not ok and len(res.misses) < 20:
                    res.misses.append(
                        {"key": list(r.key), "hits": [(h.signal_id, h.distance) for h in hits]}
                    )
            # Unrelated media: seeds nothing in the bank came from, as originals and variants.
            enrolled_seeds = {(k[0], k[1]) for k in enrol}
            variants = sorted({r.key[2] for r in allr if r.key[2]})
            n = 0
            seed = 0
            while n < unrelated and variants:
                seed += 1
                kind = "video" if n % 8 == 7 else "image"
                s_ = 1_000_000_007 + seed * 7919
                if (kind, s_) in enrolled_seeds:
                    continue
                key: MediaKey = (kind, s_, None if n % 2 == 0 else rng.choice(variants))
                hits, _, _ = match_hashes(s, hasher.hashes(key), agency_id=None, engine=engine)
                res.unrelated += 1
                res.unrelated_false += int(bool(hits))
                n += 1
        db.dispose()
    return res
