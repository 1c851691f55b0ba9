"""Rendering a batch: JSON (the frozen document), HTML (printable), PDF (Chromium).

The PDF is Chromium's own print of the same HTML, through Playwright driving
the system's Debian ``chromium`` (never a downloaded browser). The HTML has
no scripts and no external resources, so printing it needs no network.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from takedown.kit import csvfile
from takedown.kit.errors import Unavailable
from takedown.referrals import repository
from takedown.referrals.annex import REASON_TEXT, build_annex
from takedown.referrals.models import Referral

TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates" / "referrals"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A document may be served on its own; it has an inline stylesheet and nothing else.
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _when(value: str) -> str:
    """ISO timestamps as people read them on paper: 2026-03-02 09:00:00 UTC."""
    try:
        t = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_env.filters["when"] = _when


def document(session: Session, ref: Referral) -> dict[str, Any]:
    """The frozen document once issued; a live preview while a draft."""
    return ref.annex if ref.annex else build_annex(session, ref, preview=True)


def as_json(session: Session, ref: Referral) -> dict[str, Any]:
    rows = repository.items_of(session, ref.id)
    return {
        "id": ref.id,
        "reference": ref.reference,
        "kind": ref.kind,
        "status": ref.status,
        "platform": ref.platform,
        "channel": ref.channel,
        "emergency": ref.emergency,
        "issued_at": ref.issued_at,
        "not_before": ref.not_before,
        "sent_at": ref.sent_at,
        "received_at": ref.received_at,
        "deadline_at": ref.deadline_at,
        "overdue": ref.overdue_at is not None,
        "document": document(session, ref),
        "items": [
            {
                "item_id": ri.item_id,
                "url": ri.url,
                "state": ri.state,
                "detail": ri.skip_detail,
                "response": ri.response,
                "response_reason": ri.response_reason,
                "responded_at": ri.responded_at,
                "item_status": it.status,
            }
            for ri, it in rows
        ],
    }


def as_html(session: Session, ref: Referral) -> str:
    doc = document(session, ref)
    chosen = set(ref.reasons)
    title = "Removal order" if doc.get("type") == "removal_order" else "Referral"
    return _env.get_template("document.html").render(
        doc=doc, title=title, chosen=chosen, reason_texts=sorted(REASON_TEXT.items())
    )


def html_to_pdf(html: str, *, executable: str = CHROMIUM) -> bytes:
    """Print ``html`` with Chromium. Call from a thread without a running event loop."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - playwright is a dependency
        raise Unavailable(f"PDF rendering needs playwright: {exc}") from exc
    if not Path(executable).exists():
        raise Unavailable(f"PDF rendering needs Chromium at {executable}")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(java_script_enabled=False)
                # Nothing may be fetched while printing: the document is self-contained.
                page.route("**/*", lambda route: route.abort())
                page.set_content(html, wait_until="load")
                pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise Unavailable(f"Chromium could not print the document: {exc}") from exc
    return pdf


def as_pdf(session: Session, ref: Referral) -> bytes:
    return html_to_pdf(as_html(session, ref))


def as_csv(session: Session, ref: Referral) -> str:
    """For platforms that only take web forms: one row per item to paste in."""
    buf = io.StringIO()
    w = csvfile.writer(buf, lineterminator="\n")
    w.writerow(["reference", "kind", "platform", "item_id", "url", "location", "reasons"])
    for ri, _ in repository.items_of(session, ref.id):
        if ri.state == "included":
            w.writerow(
                [ref.reference, ref.kind, ref.platform, ri.item_id, ri.url, ri.location,
                 " ".join(ref.reasons)]
            )  # fmt: skip
    return buf.getvalue()
