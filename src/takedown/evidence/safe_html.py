"""Captured HTML rewritten so that looking at it cannot reach the page's owner.

Why: a sandbox and a strict CSP stop requests, but not every connection. Chromium
opened a TCP connection to the host of an ``<iframe src>`` in a capture even
though the sandboxed frame's CSP refused the request (DNS lookup included): a
propagandist's server would see the unit's network on every view. So the page
an analyst sees holds no live reference at all, and the CSP stays as a second
wall.

How: an allow-list sanitiser, not a block-list. nh3 (Ammonia: the HTML5
parsing algorithm of html5ever, then a serialiser whose output re-parses the
same way) keeps only the tags and attributes listed here. Every attribute that
can carry a URL goes through :func:`render_safe`'s filter, which points it at
our own evidence store when we hold that file (the caller's ``resolve``),
replaces an image we do not hold with a placeholder drawn here (a ``data:``
SVG), and drops everything else: frames, objects, embeds, links, ``<meta>``
(refresh, CSP, Link), ``<base>``, forms, SVG and MathML, scripts, event
handlers, ``ping``. CSS in ``style`` attributes and ``<style>`` elements goes
through :mod:`takedown.evidence.safe_css`. Links keep their text but lose their
target (a fragment link within the page stays).

The original capture is never touched: this is a view, computed on each request
from the WARC's bytes.
"""

from __future__ import annotations

import base64
import codecs
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import nh3

from takedown.evidence.safe_css import clean_declarations, clean_stylesheet

#: ``resolve(absolute_url, kind)`` -> a URL of ours serving that captured file, or None.
#: ``kind`` is ``"image"`` (img, srcset, poster) or ``"video"`` (video, audio, source).
MediaResolver = Callable[[str, str], str | None]

#: The only URLs the output may contain besides fragments and inline raster images.
OUR_PREFIX = "/evidence-view/"

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="90" viewBox="0 0 160 90">'
    '<rect width="160" height="90" fill="#e4e4e7" stroke="#71717a" stroke-dasharray="4 3"/>'
    '<text x="80" y="42" font-family="sans-serif" font-size="11" text-anchor="middle" '
    'fill="#3f3f46">media not captured</text>'
    '<text x="80" y="58" font-family="sans-serif" font-size="9" text-anchor="middle" '
    'fill="#52525b">(not in the evidence store)</text></svg>'
)
#: What an image we do not hold is replaced with: drawn here, never fetched.
PLACEHOLDER = "data:image/svg+xml;base64," + base64.b64encode(_SVG.encode()).decode("ascii")
#: Inline images a page may keep: raster ``data:`` URIs fetch nothing (SVG could).
INLINE_RASTER = (
    "data:image/png;",
    "data:image/jpeg;",
    "data:image/gif;",
    "data:image/webp;",
)

_BLOCK = {"align"}
_CELL = {"colspan", "rowspan", "headers", "align", "valign", "width", "height", "bgcolor"}
TAGS = frozenset(
    {
        "a", "abbr", "address", "article", "aside", "audio", "b", "bdi", "bdo", "big",
        "blockquote", "br", "button", "caption", "center", "cite", "code", "col", "colgroup",
        "data", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "fieldset",
        "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hgroup", "hr", "i", "img", "input", "ins", "kbd", "label", "legend", "li",
        "main", "mark", "meter", "nav", "ol", "optgroup", "option", "p", "picture", "pre",
        "progress", "q", "rp", "rt", "ruby", "s", "samp", "section", "select", "small",
        "source", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td",
        "textarea", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "video",
        "wbr",
    }
)  # fmt: skip
#: Removed with everything inside them (the rest of a removed tag's content stays).
DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "title", "iframe", "frameset", "noframes", "noembed",
        "noscript", "svg", "math", "head", "canvas", "portal", "applet",
    }
)  # fmt: skip
#: Attributes that hold a URL somewhere in HTML; anything not handled above is dropped.
URL_ATTRIBUTES = frozenset(
    {
        "action", "archive", "background", "cite", "classid", "codebase", "data", "dynsrc",
        "formaction", "href", "icon", "itemtype", "longdesc", "lowsrc", "manifest", "ping",
        "poster", "profile", "src", "srcdoc", "srcset", "usemap", "xlink:href", "xmlns",
    }
)  # fmt: skip
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir", "class", "id", "style", "hidden", "role"},
    "a": {"href", "name"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height"},
    "source": {"src", "srcset", "sizes", "media", "type", "width", "height"},
    "video": {"src", "poster", "width", "height", "controls", "loop", "muted", "playsinline"},
    "audio": {"src", "controls", "loop", "muted"},
    "table": {"border", "cellpadding", "cellspacing", "width", "align", "bgcolor", "summary"},
    "tr": {"align", "valign", "bgcolor"},
    "td": _CELL | {"nowrap"},
    "th": _CELL | {"nowrap", "scope", "abbr"},
    "col": {"span", "width"},
    "colgroup": {"span", "width"},
    "ol": {"start", "type", "reversed"},
    "ul": {"type"},
    "li": {"value", "type"},
    "font": {"color", "face", "size"},
    "time": {"datetime"},
    "data": {"value"},
    "del": {"datetime"},
    "ins": {"datetime"},
    "p": _BLOCK,
    "div": _BLOCK,
    **{f"h{n}": _BLOCK for n in range(1, 7)},
    "hr": {"align", "size", "width", "noshade"},
    "details": {"open"},
    "input": {"type", "value", "name", "placeholder", "checked", "disabled", "readonly", "size"},
    "button": {"type", "name", "value", "disabled"},
    "select": {"name", "multiple", "disabled", "size"},
    "option": {"value", "selected", "disabled", "label"},
    "optgroup": {"label", "disabled"},
    "textarea": {"name", "rows", "cols", "placeholder", "disabled", "readonly"},
    "label": {"for"},
    "meter": {"value", "min", "max", "low", "high", "optimum"},
    "progress": {"value", "max"},
}


@dataclass
class SafePage:
    """The rewritten document, and what was done to get it (shown to tests and the audit)."""

    html: str
    to_vault: int = 0  # references now pointing at our evidence store
    placeholders: int = 0  # images we do not hold, drawn as a placeholder
    removed: int = 0  # URL-bearing attributes dropped (links, frames, sources...)
    style_sheets: int = 0  # <style> elements kept, cleaned


class _Prescan(HTMLParser):
    """The document's base URL, its ``<style>`` texts and its declared charset.

    Only gathers inputs: what it finds is resolved against our store or cleaned
    by tinycss2, so a parser disagreement with the browser can cost fidelity,
    never safety.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.styles: list[str] = []
        self.charset: str | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and self.base is None and a.get("href", "").strip():
            self.base = a["href"].strip()
        elif tag == "style":
            self._in_style = True
            self.styles.append("")
        elif tag == "meta" and self.charset is None:
            if a.get("charset"):
                self.charset = a["charset"].strip()
            elif a.get("http-equiv", "").lower() == "content-type":
                for part in a.get("content", "").split(";")[1:]:
                    k, _, v = part.strip().partition("=")
                    if k.lower() == "charset" and v:
                        self.charset = v.strip("\"' ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style and self.styles:
            self.styles[-1] += data


def _prescan(html: str) -> _Prescan:
    scan = _Prescan()
    try:
        scan.feed(html)
        scan.close()
    except Exception:  # noqa: S110 - a parser hiccup keeps what was read so far
        pass
    return scan


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def decode_page(body: bytes, content_type: str) -> str:
    """The page's text: BOM, then the Content-Type charset, then ``<meta charset>``, then UTF-8.

    The view is always served as UTF-8 whatever the page declared, so a hostile
    charset cannot change how the browser reads the rewritten markup.
    """
    from takedown.evidence.capture.sniff import charset

    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace")
    declared = charset(content_type) if "charset=" in content_type.lower() else None
    codec = _known_codec(declared) or _known_codec(_prescan(body[:4096].decode("latin-1")).charset)
    return body.decode(codec or "utf-8", errors="replace")


def _srcset_candidates(value: str) -> list[tuple[str, str]]:
    """``(url, descriptor)`` pairs of a srcset, split as the HTML standard does."""
    out: list[tuple[str, str]] = []
    s, i, n = value, 0, len(value)
    while i < n:
        while i < n and (s[i].isspace() or s[i] == ","):
            i += 1
        start = i
        while i < n and not s[i].isspace():
            i += 1
        url = s[start:i]
        if not url:
            break
        if url.endswith(","):
            out.append((url.rstrip(","), ""))
            continue
        depth, dstart = 0, i
        while i < n and not (s[i] == "," and depth == 0):
            depth += {"(": 1, ")": -1}.get(s[i], 0)
            i += 1
        out.append((url, " ".join(s[dstart:i].split())))
    return out


class _Rewriter:
    def __init__(self, page_url: str, base: str | None, resolve: MediaResolver) -> None:
        self.base = page_url
        if base:
            try:
                self.base = urljoin(page_url, base)
            except ValueError:
                self.base = page_url
        self.resolve = resolve
        self.page = SafePage(html="")

    def _absolute(self, raw: str) -> str | None:
        try:
            url = urljoin(self.base, raw.strip())
        except ValueError:
            return None
        return url if urlsplit(url).scheme in ("http", "https") else None

    def _ours(self, raw: str, kind: str) -> str | None:
        url = self._absolute(raw)
        ours = self.resolve(url, kind) if url else None
        if ours is not None and ours.startswith(OUR_PREFIX):
            self.page.to_vault += 1
            return ours
        return None

    def _image(self, raw: str) -> str:
        if raw.strip().lower().startswith(INLINE_RASTER):
            return raw.strip()
        ours = self._ours(raw, "image")
        if ours is None:
            self.page.placeholders += 1
            return PLACEHOLDER
        return ours

    def _srcset(self, raw: str) -> str | None:
        kept = []
        for url, descriptor in _srcset_candidates(raw):
            ours = self._ours(url, "image")
            if ours is not None:
                kept.append(f"{ours} {descriptor}".strip())
            else:
                self.page.removed += 1
        return ", ".join(kept) or None

    def _drop(self) -> None:
        self.page.removed += 1

    def attribute(self, tag: str, attr: str, value: str) -> str | None:
        """nh3's callback for every attribute of every element (kept tags or not)."""
        try:
            return self._attribute(tag, attr, value)
        except Exception:  # never let a hostile value raise inside the sanitiser
            self._drop()
            return None

    def _attribute(self, tag: str, attr: str, value: str) -> str | None:
        if tag not in TAGS:
            return None  # the element goes anyway; nothing of it may leak through
        if attr == "style":
            return clean_declarations(value)
        if attr == "href":
            if tag == "a" and value.strip().startswith("#"):
                return value.strip()
            self._drop()
            return None
        if attr == "src":
            if tag == "img":
                return self._image(value)
            ours = self._ours(value, "video") if tag in ("video", "audio", "source") else None
            if ours is None:
                self._drop()
            return ours
        if attr == "poster":
            return self._image(value)
        if attr == "srcset":
            return self._srcset(value)
        if attr in URL_ATTRIBUTES:  # allowed by mistake one day: still never passed through
            self._drop()
            return None
        return value


def _relative_ok(url: str) -> str | None:
    """Ammonia's own check on href/src after our filter: only fragments and our store."""
    return url if url.startswith(("#", OUR_PREFIX)) else None


def render_safe(html: str, page_url: str, resolve: MediaResolver) -> SafePage:
    """The captured page as a document that references nothing outside our evidence store."""
    scan = _prescan(html)
    rw = _Rewriter(page_url, scan.base, resolve)
    body = nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        attribute_filter=rw.attribute,
        generic_attribute_prefixes={"aria-"},
        strip_comments=True,
        link_rel=None,
        # Ammonia drops absolute URLs of other schemes before our filter sees them; these
        # three reach it, and it returns only data: images or our own relative paths.
        url_schemes={"http", "https", "data"},
        url_relative=_relative_ok,
    )
    sheets = [clean_stylesheet(s) for s in scan.styles if s.strip()]
    sheets = [s for s in sheets if s]
    rw.page.style_sheets = len(sheets)
    style = f"<style>\n{chr(10).join(sheets)}\n</style>\n" if sheets else ""
    rw.page.html = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        '<meta name="referrer" content="no-referrer">\n'
        "<title>Captured page (safe view)</title>\n"
        f"{style}</head>\n<body>\n{body}\n</body></html>\n"
    )
    return rw.page
