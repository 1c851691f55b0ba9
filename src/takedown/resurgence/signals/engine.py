"""Find, for each newly seen account or channel, its best removed predecessor.

Why blocking first: an action day removes thousands of accounts and monitoring
sees thousands of new ones; scoring every pair is millions of comparisons. An
index narrows each seen handle to the removed ones that share something with
it (a prefix, a core, a title, an edit-distance neighbour found by rapidfuzz,
a media match, an announcement), and only those are scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from takedown.resurgence.signals.normalise import core, name_key, plain, skeleton
from takedown.resurgence.signals.score import Profile, Score, score_pair

NEIGHBOURS = 8
MIN_SIMILARITY = 0.6


class RemovedIndex:
    """The removed profiles, indexed every way a successor can resemble them."""

    def __init__(self, removed: Iterable[Profile]) -> None:
        self.by_key: dict[str, Profile] = {}
        self.by_plain: dict[str, list[str]] = defaultdict(list)
        self.by_core: dict[str, list[str]] = defaultdict(list)
        self.by_title: dict[str, list[str]] = defaultdict(list)
        self.skeletons: list[str] = []
        self.skeleton_keys: list[str] = []
        for p in removed:
            self.by_key[p.key] = p
            if p.handle:
                self.by_plain[plain(p.handle)].append(p.key)
                self.by_core[core(p.handle)].append(p.key)
                self.skeletons.append(skeleton(p.handle))
                self.skeleton_keys.append(p.key)
            t = name_key(p.title)
            if len(t) >= 3:
                self.by_title[t].append(p.key)

    def root(self, key: str) -> str:
        """The first removed profile of ``key``'s lineage (following ``predecessor``)."""
        seen = {key}
        while (
            (p := self.by_key[key].predecessor) is not None and p in self.by_key and p not in seen
        ):
            key = p
            seen.add(key)
        return key

    def __len__(self) -> int:
        return len(self.by_key)

    def candidates(self, seen: Profile) -> set[str]:
        out: set[str] = set(seen.media_from) | set(seen.text_from)
        for _, _, linked in seen.announced_in:
            out.update(linked)
        if seen.handle:
            pl = plain(seen.handle)
            for k in range(3, len(pl) + 1):  # the removed handle is a prefix (suffix added)
                out.update(self.by_plain.get(pl[:k], ()))
            out.update(self.by_core.get(core(seen.handle), ()))
            if self.skeletons:
                for _, _, idx in process.extract(
                    skeleton(seen.handle),
                    self.skeletons,
                    scorer=Levenshtein.normalized_similarity,
                    score_cutoff=MIN_SIMILARITY,
                    limit=NEIGHBOURS,
                ):
                    out.add(self.skeleton_keys[idx])
        out.update(self.by_title.get(name_key(seen.title), ()))
        out.discard(seen.key)
        return {k for k in out if k in self.by_key}

    def best(self, seen: Profile) -> Score | None:
        """The highest-scoring removed predecessor of ``seen`` (None when nothing shares)."""
        holders = len({self.root(k) for k in self.by_title.get(name_key(seen.title), ())})
        scores = [
            score_pair(self.by_key[k], seen, title_holders=holders)
            for k in sorted(self.candidates(seen))
        ]
        if not scores:
            return None
        # Ties (both at 1.0) go to more evidence, then to the latest removal: a successor
        # re-posts what its predecessor re-posted from the generation before.
        return max(scores, key=_rank)


def _rank(s: Score) -> tuple[float, float, float, str]:
    return (s.score, s.raw, s.removed_at.timestamp() if s.removed_at else 0.0, s.removed)


def link(removed: Sequence[Profile], seen: Sequence[Profile]) -> list[tuple[Profile, Score | None]]:
    """Each seen profile with its best removed predecessor (or None)."""
    index = RemovedIndex(removed)
    return [(s, index.best(s)) for s in seen]
