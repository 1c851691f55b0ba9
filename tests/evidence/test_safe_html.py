"""The safe-view rewriter on hostile HTML: no reference to any outside host survives.

What a reference is, is checked on the OUTPUT with a parser: every attribute
value, every ``<style>`` text (tokenized by tinycss2, as a browser would). Text
content may still mention a host name: words are not requests.
"""

from __future__ import annotations

import html as htmllib
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest
import tinycss2
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.evidence.safe_css import clean_declarations, clean_stylesheet
from takedown.evidence.safe_html import (
    OUR_PREFIX,
    PLACEHOLDER,
    _srcset_candidates,
    decode_page,
    render_safe,
)
from tests.evidence.leaky_html import KINDS, page

ORIGIN = "http://leak.example:8081"
MARK = "leak.example"
PAGE_URL = "http://outlet.example/post/1"
HELD = "http://outlet.example/media/held.png"
OURS = "/evidence-view/7/f3/9999999999/1/1/sig"
FORBIDDEN_TAGS = {
    "iframe", "frame", "frameset", "object", "embed", "param", "link", "base", "form",
    "svg", "math", "script", "noscript", "template", "track", "area", "applet", "portal",
}  # fmt: skip


class _Out(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, k, v or "") for k, v in attrs)
        if tag == "style":
            self._in_style = True
            self.styles.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_style = self._in_style and tag != "style"

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles[-1] += data


def _css_reaches_out(css: str) -> bool:
    def walk(tokens: list[object]) -> bool:
        for t in tokens:
            kind = getattr(t, "type", "")
            if kind == "url" or (kind == "function" and t.lower_name in ("url", "image-set")):  # type: ignore[attr-defined]
                return True
            if kind == "at-keyword" and t.lower_value in ("import", "font-face"):  # type: ignore[attr-defined]
                return True
            inner = getattr(t, "arguments", None) or getattr(t, "content", None)
            if isinstance(inner, list) and walk(inner):
                return True
        return False

    return walk(tinycss2.parse_component_value_list(css))


def assert_no_reference(out: str, mark: str = MARK) -> _Out:
    parsed = _Out()
    parsed.feed(out)
    parsed.close()
    assert not FORBIDDEN_TAGS & set(parsed.tags), parsed.tags
    assert [t for t in parsed.tags if t == "meta"] == ["meta", "meta"]  # ours only
    for tag, attr, value in parsed.attrs:
        low = unquote(htmllib.unescape(value)).lower()
        assert mark not in low, (tag, attr, value)
        assert not attr.startswith("on"), (tag, attr)
        assert attr not in ("ping", "action", "formaction", "background", "cite", "manifest")
        if attr in ("src", "href", "poster", "srcset"):
            assert value.startswith(("#", OUR_PREFIX, "data:image/")), (tag, attr, value)
        if attr == "style":
            assert not _css_reaches_out(value), value
    for css in parsed.styles:
        assert mark not in css.lower() and not _css_reaches_out(css), css
    return parsed


def _resolve(url: str, kind: str) -> str | None:
    return OURS if url == HELD and kind == "image" else None


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_leaves_no_reference(kind: str) -> None:
    safe = render_safe(page(kind, ORIGIN), PAGE_URL, _resolve)
    assert_no_reference(safe.html)
    assert "Synthetic page" in safe.html or kind == "frame"


def test_every_kind_together_and_the_text_stays() -> None:
    body = "".join(page(k, ORIGIN) for k in sorted(KINDS))
    safe = render_safe(body, PAGE_URL, _resolve)
    assert_no_reference(safe.html)
    assert "Invented text for tests" in safe.html and "a link" in safe.html
    assert safe.removed > 0 and safe.placeholders > 0


def test_held_media_points_at_our_store_and_missing_images_get_a_placeholder() -> None:
    src = (
        '<base href="http://outlet.example/media/">'
        '<img src="held.png" srcset="held.png 1x, http://leak.example/2x.png 2x" alt="kept">'
        '<img src="http://leak.example/missing.png">'
        '<video src="held.png" poster="held.png"></video>'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img src="data:image/svg+xml,<svg onload=alert(1)></svg>">'
        '<a href="#section">in-page</a><a href="http://leak.example/">out</a>'
    )
    safe = render_safe(src, PAGE_URL, _resolve)
    parsed = assert_no_reference(safe.html)
    attrs = {(t, a, v) for t, a, v in parsed.attrs}
    assert ("img", "src", OURS) in attrs and ("img", "srcset", f"{OURS} 1x") in attrs
    assert ("img", "src", PLACEHOLDER) in attrs  # the missing one, and the SVG data: URI
    assert ("video", "poster", OURS) in attrs
    assert not any(t == "video" and a == "src" for t, a, _ in attrs)  # held as image, not video
    assert ("img", "src", "data:image/png;base64,iVBORw0KGgo=") in attrs
    assert ("a", "href", "#section") in attrs
    assert safe.to_vault == 3 and safe.placeholders == 2


def test_resolver_answers_outside_our_store_are_not_trusted() -> None:
    safe = render_safe(
        '<img src="http://outlet.example/x.png">', PAGE_URL, lambda u, k: "http://leak.example/x"
    )
    assert_no_reference(safe.html)
    assert PLACEHOLDER in safe.html


def test_style_is_kept_without_anything_that_fetches() -> None:
    css = clean_stylesheet(
        "@charset 'utf-8'; @import 'x.css'; @namespace svg url(http://www.w3.org/2000/svg);"
        "body{color:#333;background:url(a.png) no-repeat} h1{font-size:2em !important}"
        "@media (max-width: 600px){.a{display:none;list-style:url(b.png)}}"
        "@keyframes spin{from{opacity:0}to{opacity:1;background:url(k.png)}}"
        "@font-face{font-family:f;src:url(f.woff)} @layer base; @page{margin:1cm}"
        ".n{& .child{color:blue;cursor:url(c.cur),auto}}"
    )
    assert "url" not in css.lower() and "@import" not in css and "font-face" not in css
    assert "color:#333" in css and "font-size:2em !important" in css
    assert "@media (max-width: 600px){.a{display:none}}" in css
    assert "@keyframes spin{from{opacity:0}to{opacity:1}}" in css
    assert "@layer base;" in css and "color:blue" in css
    assert clean_declarations("color:red; background: \\75 rl(x.png); width: 3px") == (
        "color:red;width:3px"
    )
    assert clean_declarations("background-image:url(x)") is None


def test_a_stylesheet_cannot_close_our_style_element() -> None:
    css = clean_stylesheet('p{content:"</style><img src=x>"} q{color:red}')
    assert "</style" not in css.lower() and "<" not in css and "color:red" in css


def test_srcset_is_split_as_the_standard_says() -> None:
    assert _srcset_candidates(" a.png 1x,b.png  2x , c.png, d.png 100w,e,f.png") == [
        ("a.png", "1x"),
        ("b.png", "2x"),
        ("c.png", ""),
        ("d.png", "100w"),
        ("e,f.png", ""),  # a comma inside a URL belongs to it
    ]
    assert _srcset_candidates("data:image/png;base64,AA== 1x") == [
        ("data:image/png;base64,AA==", "1x")
    ]


def test_page_is_decoded_by_bom_header_meta_then_utf8() -> None:
    text = "Synthétique"
    assert decode_page(text.encode("latin-1"), "text/html; charset=iso-8859-1") == text
    meta = f'<meta charset="windows-1252"><p>{text}</p>'.encode("cp1252")
    assert text in decode_page(meta, "text/html")
    assert decode_page(b"\xef\xbb\xbf" + text.encode(), "text/html; charset=latin-1") == text
    assert decode_page(text.encode(), "text/html; charset=x-no-such-charset") == text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=6), st.text(max_size=40))
def test_any_mix_of_kinds_with_noise_leaves_no_reference(kinds: list[str], noise: str) -> None:
    body = noise.join(page(k, ORIGIN) for k in kinds) + noise
    assert_no_reference(render_safe(body, PAGE_URL, _resolve).html)
