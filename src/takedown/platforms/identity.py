"""URL identity: every reported URL becomes (platform, kind, key, parent).

This is the contract intake, verification, evidence and monitoring code
against. ``canonicalize`` is pure and fast (it runs once per imported row) and
raises nothing but :class:`InvalidURL`, whose message says why the text is not
a usable URL; its subclass :class:`NoContentURL` marks a well-formed URL of a known
platform that names no content (a home, login or search page), which no way into the
items accepts. The rules per platform, and the decisions behind them, are in
``docs/platforms.md``.
"""

from __future__ import annotations

from takedown.platforms.canon.dispatch import canonicalize_at
from takedown.platforms.canon.types import InvalidURL, ItemIdentity, ItemKind, NoContentURL

__all__ = [
    "InvalidURL",
    "ItemIdentity",
    "ItemKind",
    "NoContentURL",
    "canonicalize",
    "no_content_reason",
]


def canonicalize(url: str) -> ItemIdentity:
    """Turn a reported URL (or URL-ish text) into the identity of the item it points at."""
    try:
        return canonicalize_at(url, 0)
    except (ValueError, UnicodeError) as exc:  # last line of defence: bad input, never a 500
        raise InvalidURL(f"malformed URL ({exc})") from None


def no_content_reason(url: str) -> str | None:
    """Why ``url`` names no content (a platform's home, login, search... page), else None.

    For rows stored before intake refused such URLs: a referral leaves them out.
    """
    try:
        canonicalize_at(url, 0)
    except NoContentURL as exc:
        return exc.detail
    except (InvalidURL, ValueError, UnicodeError):
        return None
    return None
