"""The printed report keeps every column on the page (#13.18): nothing in the report's
print layout reaches past A4 less the margins, and the text of the right-hand column (the
last key figure, the right-hand charts, the last table columns) is in the PDF."""

from __future__ import annotations

import random

import pytest
from sqlalchemy.orm import Session

from takedown.operations import report
from tests.operations.factories import seed_operation
from tests.pdfcheck import need_chromium, overflowing, pdf_pages_text

pytestmark = pytest.mark.browser

PRINTABLE_MM = 210 - 12 - 12  # report.render_pdf's margins


def test_the_final_report_fits_the_page_and_its_right_column_is_printed(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_chromium()
    from takedown.resurgence.report import section

    # The sections other capabilities add (the composition root registers them), whether or
    # not an earlier test in this process wired them: Resurgence's 10-column table too.
    monkeypatch.setattr(report, "report_sections", [section])
    seeded = seed_operation(db_session, random.Random(7), n=80)
    rep = report.build(db_session, seeded.lead.principal, seeded.op.id, final=True)
    html = report.render_html(rep)
    # Before: each right-hand chart (width 100 % plus its border) and the 10-column
    # "Time to removal by platform" table (827 px of 703) passed the right-hand edge.
    assert overflowing(html, printable_mm=PRINTABLE_MM) == []

    pages = pdf_pages_text(report.render_pdf(html))
    text = " ".join(" ".join(pages).split())
    right_column = [
        rep.figures[-1].label,  # the last key figure, in the right-hand column
        "Items by kind",  # the right-hand charts
        "Confirmed removals over time (cumulative)",
        "KM median",  # the last columns of the widest table
        "Within 24 h (KM)",
        "Also reported by others",
        "95 % CI high",
    ]
    missing = [t for t in right_column if t not in text]
    assert missing == [], missing
    assert "Key figures" in pages[0] and "Charts" in pages[0]
    assert len(pages[0].split()) > 100  # the first page is filled, not a title alone
