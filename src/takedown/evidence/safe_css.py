"""Captured CSS without a single way to reach the network.

Why a tokenizer and not a pattern: CSS hides URLs behind escapes
(``\\75 rl(...)``), case (``URL(...)``), functions (``image-set("x" 1x)``)
and at-rules (``@import "x"``). tinycss2 tokenizes exactly as the CSS Syntax
spec says, as the browser does, so every URL token and URL-taking function is
seen for what it is. A declaration that holds one is dropped whole (the
capture did not fetch style-sheet resources, so there is nothing of ours to
point it at); ``@import``, ``@font-face`` and every at-rule we do not know are
dropped; the rest is serialised again by tinycss2.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import tinycss2
import tinycss2.ast

#: Functions that take a URL (or an image that may be one), or read one from the page.
URL_FUNCTIONS = frozenset(
    {
        "url", "src", "image", "image-set", "-webkit-image-set", "cross-fade",
        "-webkit-cross-fade", "element", "-moz-element", "attr", "paint",
    }
)  # fmt: skip
#: Grouping at-rules whose contents are rules (sanitised recursively); everything else goes.
RULE_BLOCKS = frozenset({"media", "supports", "layer", "container", "scope", "starting-style"})
KEYFRAMES = frozenset({"keyframes", "-webkit-keyframes"})
#: Sheets beyond this many characters are cut: tinycss2 is pure Python, and a hostile
#: page must not make a view take seconds.
MAX_CSS_CHARS = 512 * 1024
_MAX_DEPTH = 32


def _reaches_out(tokens: Iterable[Any], depth: int = 0) -> bool:
    """True when any token, however deeply nested, is or takes a URL."""
    if depth > _MAX_DEPTH:
        return True
    for tok in tokens:
        kind = getattr(tok, "type", "")
        if kind == "url":
            return True
        if (
            kind == "function"
            and (tok.lower_name in URL_FUNCTIONS or _reaches_out(tok.arguments, depth + 1))
        ) or (
            kind in ("() block", "[] block", "{} block") and _reaches_out(tok.content, depth + 1)
        ):
            return True
    return False


def _declaration(decl: tinycss2.ast.Declaration) -> str | None:
    if _reaches_out(decl.value):
        return None
    value = tinycss2.serialize(decl.value).strip()
    important = " !important" if decl.important else ""
    return f"{tinycss2.serialize_identifier(decl.name)}:{value}{important}"


def _block(content: list[Any] | None, depth: int) -> str:
    """A rule's ``{...}`` contents: declarations, and nested rules (CSS nesting)."""
    if not content or depth > _MAX_DEPTH:
        return ""
    out: list[str] = []
    for node in tinycss2.parse_blocks_contents(content, skip_comments=True, skip_whitespace=True):
        if node.type == "declaration":
            kept = _declaration(node)
            if kept is not None:
                out.append(kept)
        elif node.type in ("qualified-rule", "at-rule"):
            rule = _rule(node, depth + 1)
            if rule:
                out.append(rule)
    return ";".join(out)


def _rules(nodes: Iterable[Any], depth: int) -> str:
    return "\n".join(r for r in (_rule(n, depth) for n in nodes) if r)


def _rule(node: Any, depth: int) -> str:
    if depth > _MAX_DEPTH:
        return ""
    if node.type == "qualified-rule":
        if _reaches_out(node.prelude):
            return ""
        selector = tinycss2.serialize(node.prelude).strip()
        return f"{selector}{{{_block(node.content, depth)}}}" if selector else ""
    if node.type != "at-rule":
        return ""  # parse errors, stray tokens
    name = node.lower_at_keyword
    if _reaches_out(node.prelude):
        return ""
    prelude = tinycss2.serialize(node.prelude).strip()
    if name == "layer" and node.content is None:
        return f"@layer {prelude};"
    if node.content is None:
        return ""
    if name in RULE_BLOCKS:
        inner = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
        return f"@{name} {prelude}{{{_rules(inner, depth + 1)}}}"
    if name in KEYFRAMES:
        frames = tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True)
        body = "".join(
            f"{tinycss2.serialize(f.prelude).strip()}{{{_block(f.content, depth + 1)}}}"
            for f in frames
            if f.type == "qualified-rule" and not _reaches_out(f.prelude)
        )
        return f"@{name} {prelude}{{{body}}}"
    return ""  # @import, @font-face, @namespace, @property, @counter-style, unknown


def _no_markup(css: str) -> str:
    """The sheet goes inside our own ``<style>`` element: no ``<`` may end it early.

    ``\\3c `` is the CSS escape of ``<``: inside a string it still means ``<``;
    anywhere else ``<`` has no use in a sheet without HTML comments.
    """
    return css.replace("<", "\\3c ")


def clean_stylesheet(css: str) -> str:
    """A ``<style>`` element's text, with every rule that could fetch anything removed."""
    nodes = tinycss2.parse_stylesheet(css[:MAX_CSS_CHARS], skip_comments=True, skip_whitespace=True)
    return _no_markup(_rules(nodes, 0))


@functools.lru_cache(maxsize=4096)
def clean_declarations(style: str) -> str | None:
    """A ``style`` attribute's value without URL-bearing declarations (None: nothing left).

    Without ``(`` (no function, no ``url(`` token) and without ``\\`` (no escaped one),
    a declaration list cannot name a URL: such values, most of them, skip the tokenizer.
    """
    if "(" not in style and "\\" not in style:
        return style.strip() or None
    out = []
    for node in tinycss2.parse_blocks_contents(
        style[:MAX_CSS_CHARS], skip_comments=True, skip_whitespace=True
    ):
        if node.type == "declaration":
            kept = _declaration(node)
            if kept is not None:
                out.append(kept)
    return _no_markup(";".join(out)) if out else None
