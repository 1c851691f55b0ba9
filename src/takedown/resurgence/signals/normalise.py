"""Handle and name normalisation: what stays of a handle once its disguises are taken off.

Why several keys: a returning network disguises a handle in layers. Case and
separators cost nothing (``Abu_Media`` / ``abumedia``); Unicode look-alikes are
folded to their TR39 skeleton (disarm's ``skeleton_key``, Cyrillic ``а`` is
Latin ``a``); leet and visual ASCII look-alikes (``0``→``o``, ``rn``→``m``) are
folded on top; and a *core* drops trailing digits and the suffixes successors
add (``_new``, ``_back``, ``_official``), so ``abumedia3_back`` and
``abumedia2`` share the core ``abumedia``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from disarm import skeleton_key

#: Digits and symbols written for the letters they look like (leet). Applied after the
#: TR39 skeleton, which already folds non-ASCII look-alikes.
LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "l": "i",  # l, I, 1, | and i are one class (TR39 folds I and l; lowercase i joins)
        "3": "e",
        "4": "a",
        "5": "s",
        "6": "b",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "i",
    }
)
#: Letter pairs that render as one letter in most fonts (TR39 lists ``rn`` for ``m``).
VISUAL_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
#: What successors append, longest first; stripped from the core.
SUCCESSOR_SUFFIXES = (
    "official",
    "archive",
    "backup",
    "media",
    "daily",
    "voice",
    "world",
    "press",
    "back",
    "news",
    "info",
    "post",
    "real",
    "new",
    "tv",
)
_SEP = re.compile(r"[\s_.\-·]+")
_TRAIL_DIGITS = re.compile(r"\d+$")


def _ascii_fold(text: str) -> str:
    """Accents off (NFKD, marks dropped); anything else survives for the skeleton."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def simple(handle: str) -> str:
    """Case folded, ``@`` and separators removed; nothing else."""
    return _SEP.sub("", handle.strip().lstrip("@").casefold())


@lru_cache(maxsize=65536)
def plain(handle: str) -> str:
    """Case folded, ``@`` and separators removed, TR39 skeleton (letters only).

    Digits are kept as digits here: ``abu2`` and ``abu3`` must stay apart so a bumped
    digit is seen as a pattern, not as equality.
    """
    h = handle.strip().lstrip("@")
    h = skeleton_key(h, digit_policy="numeric")
    h = _ascii_fold(h).casefold()
    return _SEP.sub("", h)


@lru_cache(maxsize=65536)
def skeleton(handle: str) -> str:
    """``plain`` plus leet and visual look-alikes folded: ``4bu_rnedia`` → ``abumedia``."""
    h = plain(handle)
    # Digits inside a word are leet; trailing digits are a counter, kept for ``core``.
    m = _TRAIL_DIGITS.search(h)
    head, tail = (h[: m.start()], m.group()) if m else (h, "")
    head = head.translate(LEET)
    for pair, letter in VISUAL_PAIRS:
        head = head.replace(pair, letter)
    return head + tail


@lru_cache(maxsize=65536)
def core(handle: str) -> str:
    """The skeleton without trailing digits and without successor suffixes."""
    h = _SEP.sub("_", handle.strip().lstrip("@"))
    parts = [p for p in h.split("_") if p]
    while (
        len(parts) > 1
        and len("".join(parts[:-1])) >= 4
        and (
            _TRAIL_DIGITS.sub("", parts[-1].casefold()) in SUCCESSOR_SUFFIXES or parts[-1].isdigit()
        )
    ):
        parts.pop()
    s = skeleton("".join(parts))
    s = _TRAIL_DIGITS.sub("", s)
    for suf in SUCCESSOR_SUFFIXES:
        if s.endswith(suf) and len(s) - len(suf) >= 4:
            s = s[: -len(suf)]
            break
    return s or skeleton(handle)


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """A display name, title or description folded the same way, word order kept."""
    t = skeleton_key(text.strip(), digit_policy="numeric")
    t = _ascii_fold(t).casefold()
    t = re.sub(r"[^\w]+", " ", t).replace("_", " ")
    return " ".join(t.split())
