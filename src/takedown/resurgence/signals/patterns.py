"""Successor patterns the field knows, read in both directions.

``classify`` answers "is ``new`` a known mutation of ``old``?" (a digit bumped,
a suffix such as ``_new``/``_back``/``_official``, two letters swapped, a
look-alike substituted); ``predict`` generates the handles a removed account is
most likely to come back under, for low-rate probing. Both use the same list,
so a predicted handle that turns up classifies as the pattern that made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from takedown.resurgence.signals.normalise import (
    LEET,
    SUCCESSOR_SUFFIXES,
    core,
    plain,
    simple,
    skeleton,
)

#: Look-alikes a successor substitutes (letter -> what it is written as).
HOMOGLYPHS = {"o": "0", "l": "1", "i": "l", "e": "3", "a": "4", "s": "5", "m": "rn", "b": "6"}
#: Suffixes tried first when predicting (what the field sees most).
PREDICT_SUFFIXES = ("_new", "_back", "_official", "_", "2", "_news", "_media", "_archive")
_TRAIL = re.compile(r"^(.*?)(\d*)$")


@dataclass(frozen=True, slots=True)
class Pattern:
    name: str  # same | digit | suffix | swap | homoglyph | truncated
    detail: str


def _swapped(a: str, b: str) -> bool:
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def _digit_bump(a: str, b: str) -> str | None:
    ma, mb = _TRAIL.match(a), _TRAIL.match(b)
    assert ma is not None and mb is not None
    if ma.group(1) != mb.group(1) or not mb.group(2):
        return None
    na = int(ma.group(2)) if ma.group(2) else 0
    nb = int(mb.group(2))
    if 0 < nb - na <= 9:
        return f"{ma.group(2)} -> {mb.group(2)}" if ma.group(2) else f"{mb.group(2)} appended"
    return None


def classify(old: str, new: str, max_len: int | None = None) -> Pattern | None:
    """The successor pattern that turns ``old`` into ``new``, or None."""
    po, pn = plain(old), plain(new)
    if not po or not pn:
        return None
    if simple(old) == simple(new):
        return Pattern("same", f"{old!r} and {new!r} are one handle after case and separators")
    if po == pn:
        return Pattern("homoglyph", f"Unicode look-alikes (TR39 skeleton {po!r})")
    bump = _digit_bump(po, pn)
    if bump:
        return Pattern("digit", f"number bumped: {bump}")
    if _swapped(po, pn):
        return Pattern("swap", f"two letters swapped ({po} -> {pn})")
    so, sn = skeleton(old), skeleton(new)
    if so == sn or po.translate(LEET) == pn.translate(LEET):
        return Pattern(
            "homoglyph", f"look-alike characters ({po} and {pn} share the skeleton {so})"
        )
    if pn.startswith(po) and len(pn) > len(po):
        extra = new.strip().lstrip("@")[len(old.strip().lstrip("@")) :] or pn[len(po) :]
        if extra.strip("_").casefold() in SUCCESSOR_SUFFIXES or len(pn) - len(po) <= 9:
            return Pattern("suffix", f"suffix {extra!r} added")
    if (
        max_len
        and len(pn) == max_len
        and po.startswith(pn[: max_len - 3])
        and len(po) >= max_len - 3
    ):
        return Pattern("truncated", f"cut at the platform's {max_len} characters")
    if core(old) == core(new) and len(core(old)) >= 4:
        return Pattern("core", f"same core {core(old)!r} once digits and suffixes are dropped")
    return None


def similarity(old: str, new: str) -> float:
    """Normalised Levenshtein similarity (0..1) of the two skeletons (rapidfuzz)."""
    return float(Levenshtein.normalized_similarity(skeleton(old), skeleton(new)))


def predict(handle: str, max_len: int = 30, limit: int = 40) -> list[tuple[str, str]]:
    """Likely successor handles of ``handle``, most likely first: (handle, pattern)."""
    h = handle.strip().lstrip("@")
    out: dict[str, str] = {}

    def add(cand: str, pattern: str) -> None:
        cand = cand[:max_len]
        if cand and cand.casefold() != h.casefold() and cand not in out and cand[0].isalpha():
            out[cand] = pattern

    m = _TRAIL.match(h)
    assert m is not None
    stem, num = m.group(1), m.group(2)
    base = int(num) if num else 0
    for k in (1, 2, 3):
        add(f"{stem}{base + k}", "digit")
    for suf in PREDICT_SUFFIXES:
        add(h + suf, "suffix")
    for i in range(1, len(h) - 1):
        if h[i].isalpha() and h[i + 1].isalpha() and h[i] != h[i + 1]:
            add(h[:i] + h[i + 1] + h[i] + h[i + 2 :], "swap")
    for i in range(1, len(h)):
        sub = HOMOGLYPHS.get(h[i])
        if sub:
            add(h[:i] + sub + h[i + 1 :], "homoglyph")
    return list(out.items())[:limit]
