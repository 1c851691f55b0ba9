"""HTML to text and media links, with the standard library's tolerant parser.

Why not a browser or lxml: captured pages are hostile input. ``html.parser``
never executes anything, never fetches anything, and copes with broken
markup. Script, style and template contents are dropped, never shown as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
BLOCK = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "tr", "table", "section", "article", "header",
        "footer", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "main",
        "aside", "nav", "figure", "figcaption", "dd", "dt", "title",
    }
)  # fmt: skip
MEDIA_EXT = re.compile(r"\.(jpe?g|png|gif|webp|bmp|mp4|webm|mov|m4v|mkv|avi|mp3|ogg|pdf)$", re.I)
VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "source", "area", "base", "wbr"})


@dataclass
class PageFacts:
    title: str = ""
    text: str = ""
    media: list[tuple[str, str]] = field(default_factory=list)  # (absolute url, how found)


class _Parser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base_url
        self.skip_depth = 0
        self.skip_stack: list[str] = []
        self.in_title = False
        self.title: list[str] = []
        self.parts: list[str] = []
        self.media: dict[str, str] = {}

    def _add_media(self, raw: str | None, how: str) -> None:
        if not raw:
            return
        raw = raw.strip()
        if not raw or raw.startswith(("data:", "javascript:", "blob:", "#")):
            return
        url = urljoin(self.base, raw)
        if urlsplit(url).scheme in {"http", "https"} and url not in self.media:
            self.media[url] = how

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"] or "")
        if tag == "title":
            self.in_title = True
        if tag in ("img", "video", "audio", "source", "embed"):
            self._add_media(a.get("src"), tag)
            srcset = a.get("srcset")
            if srcset:
                self._add_media(srcset.split(",")[0].strip().split(" ")[0], f"{tag}[srcset]")
            if tag == "video":
                self._add_media(a.get("poster"), "video[poster]")
        elif tag == "meta":
            prop = (a.get("property") or a.get("name") or "").lower()
            if prop in ("og:image", "og:video", "twitter:image", "og:image:url"):
                self._add_media(a.get("content"), f"meta[{prop}]")
        elif tag == "a":
            href = a.get("href") or ""
            if MEDIA_EXT.search(urlsplit(href).path) or "download" in a:
                self._add_media(href, "a[download]")
        if tag in SKIP and tag not in VOID:
            self.skip_stack.append(tag)
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if self.skip_stack and tag == self.skip_stack[-1]:
            self.skip_stack.pop()
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self.skip_stack:
            return
        self.parts.append(data)


def extract(html: str, base_url: str, *, max_media: int = 50) -> PageFacts:
    parser = _Parser(base_url)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: S110 - a parser hiccup keeps what was read so far
        pass
    raw = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v]+", " ", ln).strip() for ln in raw.split("\n")]
    text = "\n".join(ln for ln in lines if ln)
    title = re.sub(r"\s+", " ", "".join(parser.title)).strip()
    media = list(parser.media.items())[:max_media]
    return PageFacts(title=title, text=text, media=media)
