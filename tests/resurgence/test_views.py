"""The resurgence page: candidates with evidence, confirm and refer in one step, reject,
the figures with their charts; the home panel; the final report's Resurgence section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.resurgence import service
from tests.factories import make_actor
from tests.resurgence.factories import T0, removed_account, seen_account
from tests.web.conftest import BROWSER_HEADERS, ensure_web


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    app = ensure_web(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _proposed(db: Session, a: Any) -> int:
    removed_account(db, a, "https://t.me/abumedia", title="Abu Media")
    new = seen_account(db, a, "https://t.me/abumedia_official", title="Abu Media")
    service.scan(db, seen_ids=[new.id])
    db.flush()
    [v], _ = service.list_candidates(db, a.principal)
    return v.candidate.id


def test_the_page_shows_evidence_and_figures(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    cid = _proposed(db_session, a)
    page = web.get("/resurgence", headers=a.headers)
    assert page.status_code == 200, page.text
    row = page.text.split(f'data-testid="candidate-{cid}"', 1)[1].split("</article>", 1)[0]
    assert "https://t.me/abumedia_official" in row and "https://t.me/abumedia" in row
    assert "suffix &#39;_official&#39; added" in row or "suffix '_official' added" in row
    assert "+0.35</span> <strong>title</strong>" in row and "terrorist content (a, c)" in row
    assert f'data-testid="confirm-refer-{cid}"' in row
    assert 'data-testid="resurgence-figures"' in page.text and "<svg" in page.text
    home = web.get("/", headers=a.headers)
    assert 'data-testid="successors-count"' in home.text


def test_confirm_and_refer_leads_to_the_referral(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    cid = _proposed(db_session, a)
    r = web.post(f"/resurgence/candidates/{cid}/confirm", headers=a.headers,
                 data={"refer": "1", "note": "same poster"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith("/referrals/")
    v = service.get_candidate(db_session, a.principal, cid)
    assert v.candidate.status == "confirmed" and v.candidate.referral_id is not None
    again = web.post(f"/resurgence/candidates/{cid}/reject", headers=a.headers,
                     follow_redirects=False)  # fmt: skip
    assert again.status_code == 303 and again.headers["location"] == "/resurgence"


def test_a_bad_status_is_a_clear_error(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    r = web.get("/resurgence?status=maybe", headers=a.headers)
    assert r.status_code == 422 and "maybe" in r.text


def test_final_report_has_a_resurgence_section(db_session: Session, settings: Any) -> None:
    from takedown.bootstrap import wire_hooks
    from takedown.operations import report
    from takedown.operations import service as operations

    wire_hooks(settings)
    a = make_actor(db_session, role="supervisor")
    op = operations.create_operation(db_session, a.principal, name="Synthetic day",
                                     starts_at=T0 - dt.timedelta(days=1))  # fmt: skip
    _proposed(db_session, a)
    from takedown.items.models import Item
    from takedown.operations.models import OperationItem

    for it in db_session.query(Item).all():
        db_session.add(OperationItem(operation_id=op.id, item_id=it.id, agency_id=a.agency.id,
                                     via="test"))  # fmt: skip
    db_session.flush()
    rep = report.build(db_session, a.principal, op.id, final=True)
    t = rep.table("resurgence")
    assert t.title == "Resurgence"
    assert {r["group"]: r["returned"] for r in t.rows} == {"all": 1, "telegram": 1}
    assert any("not back yet" in caption for caption, _ in rep.charts)
    assert "Resurgence" in report.render_html(rep)
    prelim = report.build(db_session, a.principal, op.id, final=False)
    assert all(t.key != "resurgence" for t in prelim.tables)
