"""The Annex I removal order and the ToS referral as printed (#13.18): the item list
starts on page 1 and flows over pages (it was moved whole to page 2, leaving page 1
two-thirds blank), and nothing in the print layout passes the right-hand edge."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from takedown.referrals import render, service
from tests.pdfcheck import need_chromium, overflowing, pdf_pages_text
from tests.referrals.factories import ensure_platform, make_team, x_item

pytestmark = pytest.mark.browser

PRINTABLE_MM = 210 - 16 - 16  # document.html's @page margins
JUST = "Official propaganda video of a designated group, with a call to attack. " * 3


@pytest.mark.parametrize(("kind", "n"), [("removal_order", 12), ("tos", 40)])
def test_page_one_holds_the_items_and_nothing_is_clipped(
    db_session: Session, kind: str, n: int
) -> None:
    need_chromium()
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    items = [x_item(db_session, team.analyst) for _ in range(n)]
    extra = {"reasons": ["a", "c"], "justification": JUST} if kind == "removal_order" else {}
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[i.id for i in items], kind=kind, **extra
    )
    html = render.as_html(db_session, res.referral)
    assert overflowing(html, printable_mm=PRINTABLE_MM) == []

    pages = pdf_pages_text(render.html_to_pdf(html))
    first = " ".join(pages[0].split())
    heading = "Section B: terrorist content" if kind == "removal_order" else "Items"
    assert heading in first
    assert items[0].canonical_url in first  # the list starts on page 1
    assert len(first.split()) > 120, first  # page 1 is filled
    everything = " ".join(" ".join(pages).split())
    assert all(i.canonical_url in everything for i in items)  # and every item is printed
    if kind == "removal_order":
        assert "Section F: information about redress" in everything
        assert len(pages) <= 2
