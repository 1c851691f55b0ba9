"""URL identity: every reported URL becomes (platform, kind, key, parent).

This is the contract intake, verification, evidence and monitoring code
against. ``canonicalize`` is pure and fast (it runs once per imported row) and
raises nothing but :class:`InvalidURL`, whose message says why the text is not
a usable URL. The rules per platform, and the decisions behind them, are in
``docs/platforms.md``.
"""

from __future__ import annotations

from takedown.platforms.canon.dispatch import canonicalize_at
from takedown.platforms.canon.types import InvalidURL, ItemIdentity, ItemKind

__all__ = ["InvalidURL", "ItemIdentity", "ItemKind", "canonicalize"]


def canonicalize(url: str) -> ItemIdentity:
    """Turn a reported URL (or URL-ish text) into the identity of the item it points at."""
    try:
        return canonicalize_at(url, 0)
    except (ValueError, UnicodeError) as exc:  # last line of defence: bad input, never a 500
        raise InvalidURL(f"malformed URL ({exc})") from None
