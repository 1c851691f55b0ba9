"""A Telegram public channel through its web preview, ``t.me/s/<channel>``.

The preview shows the newest ~20 messages; ``?before=<id>`` pages back. A crawl
reads the newest page, then pages back until it reaches the cursor (the
newest message id the last finished crawl saw), so it reads only what is new.
The checkpoint after each page is ``{before, top, floor}``: where to go on,
the cursor to set at the end, and where to stop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from takedown.kit.errors import InvalidInput
from takedown.monitoring.base import CrawlStop, Limits, Page, Post, SourceSpec
from takedown.monitoring.connectors.common import (
    conditional_headers,
    http_url,
    parse_time,
    raise_for_status,
)
from takedown.monitoring.fetch import Fetcher
from takedown.monitoring.models import CrawlResult, SourceKind
from takedown.monitoring.parse import absolute, strip_tags

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,31}")
_WRAP = re.compile(r'<div class="tgme_widget_message(?:_wrap)?[ "]')
_POST = re.compile(r'data-post="([^"/]+)/(\d+)"')
_TEXT = re.compile(r'<div class="tgme_widget_message_text[^"]*"[^>]*>(.*?)</div>', re.S)
_HREF = re.compile(r'href="([^"]+)"')
_TIME = re.compile(r'<time[^>]*datetime="([^"]+)"')
_BG = re.compile(r"background-image:url\('([^']+)'\)")
_VIDEO = re.compile(r'<video[^>]*src="([^"]+)"')
_MORE = re.compile(r'class="tme_messages_more"')
_RESERVED = frozenset({"s", "c", "joinchat", "addstickers", "share", "proxy", "iv", "login"})


def channel_of(url: str) -> str:
    full, host = http_url(url, "Telegram channel")
    if host not in ("t.me", "telegram.me", "www.t.me"):
        raise InvalidInput(f"{url!r} is not a Telegram channel (t.me/<channel>)")
    segs = [s for s in full.split("://", 1)[1].split("?", 1)[0].split("/")[1:] if s]
    if segs[:1] == ["s"]:
        segs = segs[1:]
    if len(segs) != 1 or not _NAME.fullmatch(segs[0]) or segs[0].lower() in _RESERVED:
        raise InvalidInput(f"{url!r} is not a Telegram channel (t.me/<channel>)")
    return segs[0].lower()


def parse_preview(channel: str, body: str) -> tuple[list[Post], bool]:
    """The messages of one preview page (oldest first) and whether older ones exist."""
    posts: list[Post] = []
    for chunk in _WRAP.split(body)[1:]:
        m = _POST.search(chunk)
        if m is None:
            continue
        number = m.group(2)
        text_m = _TEXT.search(chunk)
        text_html = text_m.group(1) if text_m else ""
        links = [u for u in (absolute("https://t.me/", h) for h in _HREF.findall(text_html)) if u]
        media = [u for u in (absolute("https://t.me/", h) for h in _BG.findall(chunk)) if u]
        media += [u for u in (absolute("https://t.me/", h) for h in _VIDEO.findall(chunk)) if u]
        t = _TIME.search(chunk)
        posts.append(
            Post(
                url=f"https://t.me/{channel}/{number}",
                key=number,
                text=strip_tags(text_html),
                posted_at=parse_time(t.group(1) if t else None),
                links=list(dict.fromkeys(links)),
                media=list(dict.fromkeys(media)),
            )
        )
    # Several wrappers may repeat one post (wrap + inner div): keep the first of each.
    seen: dict[str, Post] = {}
    for p in posts:
        seen.setdefault(p.key, p)
    return sorted(seen.values(), key=lambda p: int(p.key)), bool(_MORE.search(body))


class TelegramConnector:
    name = "telegram"
    kind = SourceKind.TELEGRAM.value

    def normalize(self, url: str) -> str:
        return f"https://t.me/s/{channel_of(url)}"

    def pages(self, spec: SourceSpec, fetch: Fetcher, limits: Limits) -> Iterator[Page]:
        channel = channel_of(spec.url)
        cp: dict[str, Any] = dict(spec.checkpoint or {})
        floor = int(cp["floor"]) if cp.get("floor") is not None else _int(spec.cursor)
        top: int | None = cp.get("top")
        before: int | None = cp.get("before")
        pages_done = int(cp.get("pages", 0))
        first_crawl = floor is None
        while True:
            url = f"https://t.me/s/{channel}" + (f"?before={before}" if before else "")
            headers = conditional_headers(spec) if before is None else {}
            resp = fetch.get(url, headers=headers)
            if resp.status == 304:
                yield Page(done=True, not_modified=True, cursor=spec.cursor, status=304)
                return
            raise_for_status(resp, f"t.me/s/{channel}")
            body = resp.text()
            if "tgme_channel_history" not in body:
                why = "blocked by Telegram" if "violated" in body else "no public preview"
                raise CrawlStop(
                    CrawlResult.GONE.value, f"t.me/{channel}: {why}", status=resp.status
                )
            posts, more = parse_preview(channel, body)
            numbers = [int(p.key) for p in posts]
            if top is None:
                top = max(numbers) if numbers else (floor or 0)
            new = [p for p in posts if floor is None or int(p.key) > floor]
            pages_done += 1
            lowest = min(numbers) if numbers else None
            reached = floor is not None and lowest is not None and lowest <= floor + 1
            end = (
                not more
                or lowest is None
                or reached
                or (first_crawl and pages_done >= limits.first_pages)
                or (lowest is not None and before is not None and lowest >= before)
            )
            note = ""
            if not end and pages_done >= limits.max_resume_pages:
                end, note = True, f"pagination did not end after {pages_done} pages; older dropped"
            page = Page(posts=new, status=resp.status, note=note)
            if before is None:
                page.etag = resp.headers.get("etag")
                page.last_modified = resp.headers.get("last-modified")
            if end:
                page.done, page.cursor = True, str(top)
            else:
                page.checkpoint = {
                    "before": lowest,
                    "top": top,
                    "floor": floor,
                    "pages": pages_done,
                }
            yield page
            if end:
                return
            before = lowest


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None
