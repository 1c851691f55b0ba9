"""Reading HTML without a browser: links, media, title and text, with the stdlib parser.

Pages are untrusted: the parser keeps only what a crawl needs (absolute http(s)
links, image/video sources, the title, a text excerpt) and caps how much it
keeps, so a page with a million links costs a bounded list.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

MAX_LINKS = 2000
MAX_TEXT = 4000
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")


def absolute(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``, without its fragment; None if not http(s)."""
    href = html.unescape(href.strip())
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "data:", "tg:")):
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def strip_tags(fragment: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


@dataclass
class Document:
    title: str = ""
    text: str = ""
    links: list[str] = field(default_factory=list)
    media: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.doc = Document()
        self._in_title = False
        self._skip = 0
        self._text: list[str] = []
        self._chars = 0
        self._seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style", "noscript"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "a" and a.get("href"):
            self._add(self.doc.links, a["href"])
        elif tag in ("img", "video", "source") and a.get("src"):
            self._add(self.doc.media, a["src"])
        elif tag == "base" and a.get("href"):
            self.base = absolute(self.base, a["href"]) or self.base

    def _add(self, into: list[str], href: str) -> None:
        url = absolute(self.base, href)
        if url and url not in self._seen and len(into) < MAX_LINKS:
            self._seen.add(url)
            into.append(url)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "noscript") and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.doc.title += data
        elif not self._skip and self._chars < MAX_TEXT:
            self._text.append(data)
            self._chars += len(data)

    def result(self) -> Document:
        self.doc.title = _SPACE.sub(" ", self.doc.title).strip()
        self.doc.text = _SPACE.sub(" ", " ".join(self._text)).strip()[:MAX_TEXT]
        return self.doc


def read_html(base: str, body: str) -> Document:
    reader = _Reader(base)
    reader.feed(body)
    reader.close()
    return reader.result()
