"""A website or forum, crawled within its own host, and ``.onion`` sites through Tor.

Breadth first from the start page, to ``site_depth`` links deep and at most
``site_pages`` pages per crawl; links to other hosts are outlinks, never
followed. Each fetched page is one ``Page`` whose checkpoint is the frontier
still to visit, so a crash resumes the same crawl. ``.onion`` sources are
fetched with ``onion_only``: the guarded client sends .onion hosts only
through the Tor SOCKS proxy (with the name resolved by the proxy), and the
fetcher refuses any other host for them, redirects included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from takedown.kit.backends import is_onion
from takedown.kit.errors import InvalidInput
from takedown.monitoring.base import CrawlStop, Limits, Page, Post, SourceSpec
from takedown.monitoring.connectors.common import conditional_headers, http_url
from takedown.monitoring.fetch import Fetcher
from takedown.monitoring.models import CrawlResult, SourceKind
from takedown.monitoring.parse import read_html
from takedown.platforms.identity import canonicalize

_HTML = ("text/html", "application/xhtml")
_SKIP_EXT = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".mp4",
    ".webm",
    ".zip",
    ".pdf",
    ".css",
    ".js",
)


def _same_site(a: str, b: str) -> bool:
    return a.removeprefix("www.") == b.removeprefix("www.")


class SiteConnector:
    name = "website"
    kind = SourceKind.WEBSITE.value
    onion = False

    def normalize(self, url: str) -> str:
        full, host = http_url(url, "website")
        if is_onion(host) != self.onion:
            raise InvalidInput(
                f"{url!r}: .onion sites are watched as kind 'onion' (through Tor only)"
                if not self.onion
                else f"{url!r} is not an .onion address"
            )
        try:
            ident = canonicalize(full)
        except InvalidInput as exc:
            raise InvalidInput(f"{url!r} is not a site that can be crawled: {exc}") from None
        if ident.platform != ("onion" if self.onion else "website"):
            raise InvalidInput(
                f"{url!r} is a {ident.platform} {ident.kind.value}, not a website or forum"
            )
        parts = urlsplit(full)
        return f"{parts.scheme}://{parts.netloc.lower()}{parts.path or '/'}" + (
            f"?{parts.query}" if parts.query else ""
        )

    def pages(self, spec: SourceSpec, fetch: Fetcher, limits: Limits) -> Iterator[Page]:
        start = self.normalize(spec.url)
        host = (urlsplit(start).hostname or "").lower()
        cp: dict[str, Any] = dict(spec.checkpoint or {})
        queue: list[list[Any]] = [list(x) for x in cp.get("queue", [[start, 0]])]
        visited: set[str] = set(cp.get("visited", []))
        done_pages = int(cp.get("pages", 0))
        while queue:
            url, depth = str(queue[0][0]), int(queue[0][1])
            queue = queue[1:]
            if url in visited:
                continue
            visited.add(url)
            first = url == start and not cp
            resp = fetch.get(
                url, headers=conditional_headers(spec) if first else {}, onion_only=self.onion
            )
            final_host = (urlsplit(resp.url).hostname or "").lower()
            if self.onion and not is_onion(final_host):
                raise CrawlStop(CrawlResult.ERROR.value, f"{url}: redirected off .onion")
            if first and resp.status == 304:
                yield Page(done=True, not_modified=True, cursor=spec.cursor, status=304)
                return
            if first and resp.status >= 400:
                result = CrawlResult.GONE if resp.status in (404, 410) else CrawlResult.ERROR
                raise CrawlStop(result.value, f"{url}: HTTP {resp.status}", status=resp.status)
            page = Page(status=resp.status)
            if first:
                page.etag = resp.headers.get("etag")
                page.last_modified = resp.headers.get("last-modified")
            ctype = resp.headers.get("content-type", "").lower()
            if resp.status < 400 and (not ctype or ctype.startswith(_HTML)):
                doc = read_html(resp.url, resp.text())
                links: list[str] = []
                for link in doc.links:
                    lhost = (urlsplit(link).hostname or "").lower()
                    if _same_site(lhost, host) or _same_site(lhost, final_host):
                        path = urlsplit(link).path.lower()
                        if (
                            depth < limits.site_depth
                            and link not in visited
                            and not path.endswith(_SKIP_EXT)
                        ):
                            queue.append([link, depth + 1])
                    else:
                        links.append(link)
                page.posts.append(
                    Post(
                        url=resp.url,
                        key=urlsplit(resp.url).path or "/",
                        text=doc.text[:2000],
                        title=doc.title or None,
                        links=links,
                        media=doc.media,
                    )
                )
            done_pages += 1
            end = not queue or done_pages >= limits.site_pages
            if end:
                page.done = True
                page.cursor = spec.cursor
                if queue:
                    page.note = f"page limit reached ({limits.site_pages} pages)"
            else:
                page.checkpoint = {
                    "queue": queue[: limits.site_pages * 20],
                    "visited": sorted(visited),
                    "pages": done_pages,
                }
            yield page
            if end:
                return
        yield Page(done=True, cursor=spec.cursor)


class OnionConnector(SiteConnector):
    name = "onion"
    kind = SourceKind.ONION.value
    onion = True
