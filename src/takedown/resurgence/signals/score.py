"""Score one (removed, seen) pair: a number in 0..1 and the reasons that make it up.

Why additive weights with a cap rather than a trained model: every reason is
shown to the analyst as evidence, and a weight they can read ("same title:
+0.35") is one they can argue with. The weights are in ``WEIGHTS``;
docs/resurgence.md lists them and the threshold, and ``bench/resurgence.py``
measures what they give against the testbed's ground truth.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from takedown.resurgence.signals.normalise import name_key
from takedown.resurgence.signals.patterns import classify, similarity

#: A seen item scoring at least this is proposed to analysts as "successor of X".
THRESHOLD = 0.6

WEIGHTS: dict[str, float] = {
    "handle_same": 0.5,  # one handle after case, separators and the TR39 skeleton
    "handle_pattern": 0.5,  # a digit bumped, a suffix, swapped letters, a look-alike
    "handle_core": 0.35,  # the same core once digits and successor suffixes are dropped
    "handle_close": 0.25,  # edit similarity of the skeletons >= 0.8 (rapidfuzz)
    "title": 0.35,  # the same display name / title after normalisation
    "title_unique": 0.2,  # ... and no other removed account or channel had that name
    "description": 0.15,  # the same description after normalisation
    "media": 0.45,  # a PDQ / video match with what the removed one posted
    "text": 0.25,  # a near-duplicate text of what the removed one posted
    "announced_old": 0.45,  # new address posted in a channel that had linked the old one
    "announced": 0.2,  # new address posted in another watched channel after the removal
    "created_after": 0.1,  # first seen after the removal
    "created_before": -0.4,  # already there while the removed one was alive
}
#: Pattern name -> the weight it earns.
PATTERN_WEIGHT = {
    "same": "handle_same",
    "homoglyph": "handle_same",
    "digit": "handle_pattern",
    "suffix": "handle_pattern",
    "swap": "handle_pattern",
    "truncated": "handle_pattern",
    "core": "handle_core",
}
CLOSE_SIMILARITY = 0.8
#: A name counts as ``title_unique`` only from this many characters (after ``name_key``):
#: a short one-word name is common among accounts that were never removed.
UNIQUE_NAME_MIN = 8


@dataclass(slots=True)
class Profile:
    """What resurgence knows of one account or channel, whatever produced it."""

    key: str  # stable id: the item identity (service) or the testbed id (bench)
    platform: str
    handle: str
    title: str = ""
    description: str = ""
    url: str = ""
    first_seen_at: dt.datetime | None = None
    removed_at: dt.datetime | None = None
    max_len: int | None = None
    # Keys of removed profiles whose media / texts this one re-posted (from matching).
    media_from: set[str] = field(default_factory=set)
    text_from: set[str] = field(default_factory=set)
    # Announcements of this profile's address: (channel key, posted at, channel linked old keys).
    announced_in: list[tuple[str, dt.datetime | None, frozenset[str]]] = field(default_factory=list)
    # The key of its own proposed or confirmed predecessor (a removed successor keeps its name).
    predecessor: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    signal: str
    weight: float
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "weight": self.weight, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Score:
    removed: str
    seen: str
    score: float
    reasons: tuple[Reason, ...]
    raw: float = 0.0  # the sum before clipping: ranks two candidates that both reach 1.0
    removed_at: dt.datetime | None = None

    @property
    def proposed(self) -> bool:
        return self.score >= THRESHOLD

    @property
    def verdict(self) -> str:
        return "successor" if self.proposed else "below_threshold"

    def reasons_json(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]


def _w(signal: str, detail: str) -> Reason:
    return Reason(signal, WEIGHTS[signal], detail)


def handle_reasons(removed: Profile, seen: Profile) -> list[Reason]:
    pat = classify(removed.handle, seen.handle, seen.max_len)
    if pat is not None:
        return [_w(PATTERN_WEIGHT[pat.name], f"{pat.name}: {pat.detail}")]
    sim = similarity(removed.handle, seen.handle)
    if sim >= CLOSE_SIMILARITY:
        return [_w("handle_close", f"edit similarity {sim:.2f} of the normalised handles")]
    return []


def score_pair(removed: Profile, seen: Profile, *, title_holders: int = 0) -> Score:
    """Every signal that holds for the pair, summed and clipped to 0..1.

    ``title_holders``: how many removed lineages have this name (``RemovedIndex``
    knows; a removed successor and its removed predecessor are one lineage); a
    distinctive name (``UNIQUE_NAME_MIN``) only the removed one's lineage had is
    stronger evidence than a common one.
    """
    reasons = handle_reasons(removed, seen)
    t_old, t_new = name_key(removed.title), name_key(seen.title)
    if len(t_old) >= 3 and t_old == t_new:
        reasons.append(_w("title", f"same name {seen.title!r}"))
        if title_holders == 1 and len(t_old) >= UNIQUE_NAME_MIN:
            reasons.append(_w("title_unique", "no other removed account or channel had that name"))
    d_old, d_new = name_key(removed.description), name_key(seen.description)
    if len(d_old) >= 12 and d_old == d_new:
        reasons.append(_w("description", "same description"))
    if removed.key in seen.media_from:
        reasons.append(_w("media", "re-posts media the removed one posted (PDQ/video match)"))
    if removed.key in seen.text_from:
        reasons.append(_w("text", "re-posts a text the removed one posted (near-duplicate)"))
    linked_old = [a for a in seen.announced_in if removed.key in a[2]]
    if linked_old:
        reasons.append(
            _w("announced_old", f"announced in {linked_old[0][0]}, which had linked the old one")
        )
    elif removed.removed_at is not None and any(
        t is not None and t >= removed.removed_at for _, t, _ in seen.announced_in
    ):
        reasons.append(_w("announced", f"announced in {seen.announced_in[0][0]} after the removal"))
    if removed.removed_at is not None and seen.first_seen_at is not None:
        if seen.first_seen_at >= removed.removed_at:
            reasons.append(_w("created_after", "first seen after the removal"))
        else:
            reasons.append(_w("created_before", "already there while the removed one was online"))
    total = sum(r.weight for r in reasons)
    return Score(
        removed.key,
        seen.key,
        round(max(0.0, min(1.0, total)), 4),
        tuple(reasons),
        raw=round(total, 4),
        removed_at=removed.removed_at,
    )
