"""Checks of printed documents (reports, Annex I): what a reader of the PDF would see.

``overflowing``: the elements of an HTML document that reach past the printed width when
Chromium lays it out for print (A4 less the margins). Chromium clips such content at the
page's right-hand edge, or shrinks the whole page to fit it. ``pdf_pages_text``: the text
of each page of a PDF (pypdf), for checks of what landed on which page.
"""

from __future__ import annotations

import io
import os
import unicodedata
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
MM = 96 / 25.4  # CSS pixels per millimetre


def need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("chromium is required under CI=true")
        pytest.skip(f"no {CHROMIUM}")


def overflowing(html: str, *, printable_mm: float) -> list[str]:
    """Elements whose right edge passes ``printable_mm`` in print layout (tag, text)."""
    from playwright.sync_api import sync_playwright

    width = int(printable_mm * MM)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.route("**/*", lambda route: route.abort())
            page.emulate_media(media="print")
            page.set_content(html, wait_until="domcontentloaded")
            found: list[str] = page.evaluate(
                """(w) => [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().right > w + 0.5)
                    .map(el => el.tagName + ': ' + (el.textContent || '').trim().slice(0, 60))""",
                width,
            )
        finally:
            browser.close()
    return found


def pdf_pages_text(pdf: bytes) -> list[str]:
    """Each page's text, NFKC-normalised (the fonts' "ﬁ" ligatures read as "fi")."""
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf)).pages
    return [unicodedata.normalize("NFKC", page.extract_text() or "") for page in pages]
