"""Builders shared by the per-family rules."""

from __future__ import annotations

import re

from takedown.platforms.canon import nocontent
from takedown.platforms.canon.parse import Parsed, build_query
from takedown.platforms.canon.types import ItemIdentity, ItemKind

DIGITS_RE = re.compile(r"[0-9]{1,25}")
ID_RE = re.compile(r"[A-Za-z0-9_\-]{1,128}")

NO_DROP: frozenset[str] = frozenset()


class Redirect(str):
    """Returned by a rule when the URL is a wrapper around another URL (link shims)."""

    __slots__ = ()


def make(
    platform: str,
    kind: ItemKind,
    key: str,
    url: str,
    fetch: str | None = None,
    parent_kind: ItemKind | None = None,
    parent_key: str | None = None,
) -> ItemIdentity:
    return ItemIdentity(
        platform, kind, key, url, url if fetch is None else fetch, parent_kind, parent_key
    )


def page(platform: str, u: Parsed, url_host: str, drop: frozenset[str] = NO_DROP) -> ItemIdentity:
    """Fallback for a known platform's URL that names no account, post or file.

    Raises ``NoContentURL`` for its home page and navigation pages (``canon.nocontent``);
    any other path stays a page item.
    """
    rest = u.path + build_query(u.query, drop)
    key_host = url_host[4:] if url_host.startswith("www.") else url_host
    url = f"https://{url_host}{rest}"
    nocontent.check(platform, u, url)
    return ItemIdentity(platform, ItemKind.PAGE, f"page/{key_host}{rest}", url, url)


def number(text: str) -> str | None:
    """A decimal id without leading zeros, or None."""
    if DIGITS_RE.fullmatch(text):
        return str(int(text))
    return None


def drop_user_index(segs: list[str]) -> list[str]:
    """Remove Google's ``/u/<n>/`` account-switch segments."""
    out: list[str] = []
    i = 0
    while i < len(segs):
        if segs[i] == "u" and i + 1 < len(segs) and segs[i + 1].isdigit():
            i += 2
            continue
        out.append(segs[i])
        i += 1
    return out
