"""An account page on a microblog or video platform (x.com/<handle>, youtube.com/@<handle>).

The page lists the account's newest posts. A crawl reads it (conditionally),
keeps the links that canonicalise to a post or video of the same platform,
and hands them all over: the crawler records only those it has not seen. The
cursor is the newest post key, for display; de-duplication is the database's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from takedown.kit.errors import InvalidInput
from takedown.monitoring.base import CrawlStop, Limits, Page, Post, SourceSpec
from takedown.monitoring.connectors.common import (
    conditional_headers,
    parse_time,
    raise_for_status,
)
from takedown.monitoring.fetch import Fetcher
from takedown.monitoring.models import CrawlResult, SourceKind
from takedown.monitoring.parse import absolute, read_html, strip_tags
from takedown.platforms.identity import ItemKind, canonicalize

_NOT_PAGES = frozenset({"telegram", "rocketchat", "whatsapp", "website"})
_POST_KINDS = frozenset({ItemKind.POST, ItemKind.FILE, ItemKind.MESSAGE})
_ARTICLE = re.compile(r"<article\b(.*?)</article>", re.S)
_TWEET_TEXT = re.compile(r'data-testid="tweetText"[^>]*>(.*?)</div>', re.S)
_TIME = re.compile(r'<time[^>]*datetime="([^"]+)"')
_GONE = ("Account suspended", "This account doesn’t exist", "account has been terminated")


def account_identity(url: str) -> tuple[str, str]:
    """(platform, canonical URL) of an account page, or InvalidInput saying why not."""
    try:
        ident = canonicalize(url)
    except InvalidInput as exc:
        raise InvalidInput(f"{url!r} is not an account page: {exc}") from None
    if ident.kind not in (ItemKind.ACCOUNT, ItemKind.CHANNEL) or ident.platform in _NOT_PAGES:
        raise InvalidInput(
            f"{url!r} is not an account page on a microblog or video platform "
            f"(it is a {ident.platform} {ident.kind.value})"
        )
    return ident.platform, ident.canonical_url


class AccountConnector:
    name = "account"
    kind = SourceKind.ACCOUNT.value

    def normalize(self, url: str) -> str:
        return account_identity(url)[1]

    def pages(self, spec: SourceSpec, fetch: Fetcher, limits: Limits) -> Iterator[Page]:
        platform, url = account_identity(spec.url)
        resp = fetch.get(url, headers=conditional_headers(spec))
        if resp.status == 304:
            yield Page(done=True, not_modified=True, cursor=spec.cursor, status=304)
            return
        raise_for_status(resp, url)
        body = resp.text()
        for marker in _GONE:
            if marker in body:
                raise CrawlStop(CrawlResult.GONE.value, f"{url}: {marker.lower()}", status=200)
        doc = read_html(resp.url, body)
        # Text and time per post where the page groups them (X's articles); else link only.
        details: dict[str, tuple[str, str | None]] = {}
        for art in _ARTICLE.findall(body):
            tm = _TWEET_TEXT.search(art)
            wm = _TIME.search(art)
            for href in re.findall(r'href="([^"]+)"', art):
                u = absolute(resp.url, href)
                if u:
                    details.setdefault(
                        u, (strip_tags(tm.group(1)) if tm else "", wm.group(1) if wm else None)
                    )
        posts: list[Post] = []
        seen: set[str] = set()
        for link in doc.links:
            try:
                ident = canonicalize(link)
            except InvalidInput:
                continue
            if ident.platform != platform or ident.kind not in _POST_KINDS:
                continue
            if ident.identity in seen:
                continue
            seen.add(ident.identity)
            text, when = details.get(link, ("", None))
            posts.append(Post(url=link, key=ident.key, text=text, posted_at=parse_time(when)))
        page = Page(
            posts=posts,
            done=True,
            cursor=posts[0].key if posts else spec.cursor,
            etag=resp.headers.get("etag"),
            last_modified=resp.headers.get("last-modified"),
            status=resp.status,
        )
        yield page
