"""From a capture's stored WARC to the page a browser may safely show.

The WARC is only read: the page's body, its Content-Type, and every redirect
the capture followed (so an ``<img>`` whose URL redirected still finds the file
captured at the end of the chain). ``safe_html.render_safe`` does the rewrite;
``mint`` turns a file id into a signed URL of ours.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from urllib.parse import urljoin

import httpx
from warcio.archiveiterator import ArchiveIterator

from takedown.evidence.models import EvidenceFile, FileRole
from takedown.evidence.safe_html import MediaResolver, SafePage, decode_page, render_safe
from takedown.kit.errors import NotFound

#: The capture follows at most 10 redirects; one more hop lands on the file.
MAX_HOPS = 11


def _norm(url: str) -> str:
    """One spelling per URL, as the capture's client wrote it (WARC targets, source URLs)."""
    try:
        return str(httpx.URL(url).copy_with(fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        return url


def page_from_warc(warc: bytes, final_url: str) -> tuple[bytes, str, dict[str, str]]:
    """The final page's decoded body, its Content-Type, and the redirects (``from -> to``)."""
    page: tuple[bytes, str] | None = None
    redirects: dict[str, str] = {}
    for rec in ArchiveIterator(io.BytesIO(warc)):
        if rec.rec_type != "response" or rec.http_headers is None:
            continue
        target = rec.rec_headers.get_header("WARC-Target-URI") or ""
        status = rec.http_headers.get_statuscode() or ""
        location = rec.http_headers.get_header("Location")
        if status.startswith("3") and location:
            with contextlib.suppress(ValueError):
                redirects[_norm(target)] = _norm(urljoin(target, location.strip()))
        if page is None and target == final_url:
            ctype = rec.http_headers.get_header("Content-Type") or "text/html"
            page = (rec.content_stream().read(), ctype)
    if page is None:
        raise NotFound("the captured page is not in the WARC")
    return page[0], page[1], redirects


def media_resolver(
    files: Iterable[EvidenceFile],
    redirects: dict[str, str],
    *,
    showable: Iterable[str],
    mint: Callable[[int], str],
) -> MediaResolver:
    """Map a URL the page names to our view of the file captured from it, if we hold one."""
    types = set(showable)
    held: dict[str, tuple[str, int]] = {}
    for f in files:
        if f.role == FileRole.MEDIA.value and f.source_url and f.media_type in types:
            kind = "video" if f.media_type.startswith("video/") else "image"
            held.setdefault(_norm(f.source_url), (kind, f.id))

    def resolve(url: str, kind: str) -> str | None:
        current: str | None = _norm(url)
        for _hop in range(MAX_HOPS):
            if current is None:
                return None
            hit = held.get(current)
            if hit is not None:
                return mint(hit[1]) if hit[0] == kind else None
            current = redirects.get(current)
        return None

    return resolve


def safe_page(
    warc: bytes,
    final_url: str,
    files: Iterable[EvidenceFile],
    *,
    showable: Iterable[str],
    mint: Callable[[int], str],
) -> SafePage:
    """The capture's page, rewritten so that showing it contacts nobody."""
    body, ctype, redirects = page_from_warc(warc, final_url)
    resolve = media_resolver(files, redirects, showable=showable, mint=mint)
    return render_safe(decode_page(body, ctype), final_url, resolve)
