"""The banks and matches pages: listing with TLP, create, upload, enable/disable, review."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy.orm import Session

from takedown.matching import service
from takedown.matching.models import STALE_VARIANT, MatchResult, Signal
from takedown.matching.schemas import SignalIn
from tests.factories import Actor, make_actor
from tests.matching import media
from tests.matching.factories import make_bank, make_match

HTML = {"Accept": "text/html"}
XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(), raise_server_exceptions=False) as c:
        yield c


def _h(actor: Actor) -> dict[str, str]:
    return {**HTML, **actor.headers}


def _rows(html: str, testid: str) -> int:
    return len(re.findall(f'data-testid="{testid}"', html))


def test_banks_list_shows_kind_tlp_and_counts(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    red = make_bank(db_session, sup, name="Red bank", tlp="RED")
    make_bank(db_session, sup, name="Allowed logos", kind="allow", tlp="GREEN")
    service.add_signal(
        db_session, sup.principal, red.id, SignalIn(signal_type="md5", value="a" * 32)
    )
    other = make_actor(db_session, role="supervisor")
    make_bank(db_session, other, name="Someone else's amber", tlp="AMBER")
    db_session.commit()
    page = web.get("/banks", headers=_h(sup))
    assert page.status_code == 200
    assert _rows(page.text, "bank-row") >= 2
    assert "Red bank" in page.text and "Allow-list" in page.text
    assert 'class="tlp tlp-red">TLP:RED' in page.text
    assert "tlp-banner" in page.text  # the page carries the strictest marking shown
    assert "Someone else&#39;s amber" not in page.text and "Someone else's amber" not in page.text
    assert "Create a bank" in page.text


def test_create_bank_errors_beside_fields_then_success(
    web: TestClient, db_session: Session
) -> None:
    sup = make_actor(db_session, role="supervisor")
    analyst = make_actor(db_session, sup.agency)
    db_session.commit()
    r = web.post("/banks", data={"name": "", "tlp": "PURPLE", "pdq_threshold": "99"},
                 headers=_h(sup))  # fmt: skip
    assert r.status_code == 422
    for field in ("name", "tlp", "pdq_threshold"):
        assert f'id="f-{field}-error"' in r.text
    r = web.post("/banks", data={"name": XSS, "tlp": "AMBER", "kind": "known"},
                 headers=_h(sup), follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    page = web.get(r.headers["location"], headers=_h(sup))
    assert str(escape(XSS)) in page.text and XSS not in page.text
    r = web.post("/banks", data={"name": XSS, "tlp": "AMBER", "kind": "known"}, headers=_h(sup))
    assert r.status_code == 422 and 'id="f-name-error"' in r.text
    assert web.post("/banks", data={"name": "x"}, headers=_h(analyst)).status_code == 403
    assert "Create a bank" not in web.get("/banks", headers=_h(analyst)).text


def test_upload_keeps_good_rows_and_reports_bad_ones(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    bank = make_bank(db_session, sup)
    db_session.commit()
    csv = (
        "signal_type,value,group\n"
        f"sha256,{'ab' * 32},Synthetic Front\n"
        "sha256,not-hex,Synthetic Front\n"
        f"md5,{'c' * 32},\n"
    ).encode()
    r = web.post(f"/banks/{bank.id}/import", data={"format": "csv"},
                 files={"file": ("list.csv", csv, "text/csv")}, headers=_h(sup))  # fmt: skip
    assert r.status_code == 200, r.text
    assert "2 added" in r.text and "Row 3:" in r.text
    assert _rows(r.text, "signal-row") == 2
    assert "group: <strong>Synthetic Front</strong>" in r.text
    r = web.post(f"/banks/{bank.id}/import", data={"format": "csv"}, headers=_h(sup))
    assert r.status_code == 422 and 'id="f-file-error"' in r.text
    r = web.post(f"/banks/{bank.id}/import", data={"format": "json"},
                 files={"file": ("x.json", b"{not json", "application/json")},
                 headers=_h(sup))  # fmt: skip
    assert r.status_code == 422 and "not valid JSON" in r.text


def test_media_upload_on_the_bank_page(web: TestClient, db_session: Session) -> None:
    """The bank page hashes uploaded pictures and adds their signals (#13.9): each file's
    result is listed; an analyst of the owning agency may; another agency may not."""
    sup = make_actor(db_session, role="supervisor")
    analyst = make_actor(db_session, sup.agency)
    bank = make_bank(db_session, sup)
    db_session.commit()
    r = web.post(
        f"/banks/{bank.id}/media",
        data={"group": "Synthetic Front"},
        files=[
            ("media", ("one.jpg", media.poster(5), "image/jpeg")),
            ("media", ("two.jpg", media.truncated_jpeg(1), "image/jpeg")),
        ],
        headers=_h(analyst),
    )
    assert r.status_code == 200, r.text
    report = r.text.split('data-testid="media-report"', 1)[1].split("</div>", 1)[0]
    assert "one.jpg:" in report and "signal(s) added (sha256, md5, pdq" in report
    assert "two.jpg: not added:" in report
    assert db_session.query(Signal).filter_by(bank_id=bank.id).count() >= 3
    r = web.post(f"/banks/{bank.id}/media", data={"group": "x"}, headers=_h(analyst))
    assert r.status_code == 422 and 'id="f-media-error"' in r.text
    outsider = make_actor(db_session, role="supervisor")
    db_session.commit()
    r = web.post(
        f"/banks/{bank.id}/media",
        files=[("media", ("one.jpg", media.poster(5), "image/jpeg"))],
        headers=_h(outsider),
    )
    assert r.status_code in (403, 404)


def test_signals_paginate_and_toggle(web: TestClient, db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    bank = make_bank(db_session, sup)
    for n in range(30):
        service.add_signal(
            db_session, sup.principal, bank.id, SignalIn(signal_type="md5", value=f"{n:032x}")
        )
    db_session.commit()
    page = web.get(f"/banks/{bank.id}?per_page=25", headers=_h(sup))
    assert _rows(page.text, "signal-row") == 25 and "Showing 1–25 of 30" in page.text
    page2 = web.get(f"/banks/{bank.id}?per_page=25&page=2", headers=_h(sup))
    assert _rows(page2.text, "signal-row") == 5
    sig = db_session.query(Signal).filter_by(bank_id=bank.id).order_by(Signal.id).first()
    assert sig is not None
    r = web.post(f"/banks/{bank.id}/signals/{sig.id}/enabled", data={"enabled": "0"},
                 headers=_h(sup), follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    db_session.refresh(sig)
    assert sig.enabled is False
    web.post(f"/banks/{bank.id}/signals/{sig.id}/enabled", data={"enabled": "1"}, headers=_h(sup))
    db_session.refresh(sig)
    assert sig.enabled is True
    other_bank = make_bank(db_session, sup)
    db_session.commit()
    r = web.post(f"/banks/{other_bank.id}/signals/{sig.id}/enabled", data={"enabled": "0"},
                 headers=_h(sup))  # fmt: skip
    assert r.status_code == 404


def test_red_signal_in_a_shared_bank_never_shown_to_another_agency(
    web: TestClient, db_session: Session
) -> None:
    sup = make_actor(db_session, role="supervisor")
    bank = make_bank(db_session, sup, tlp="AMBER", shared=True)
    service.add_signal(db_session, sup.principal, bank.id,
                       SignalIn(signal_type="md5", value="e" * 32, tlp="RED"))  # fmt: skip
    service.add_signal(db_session, sup.principal, bank.id,
                       SignalIn(signal_type="md5", value="f" * 32))  # fmt: skip
    other = make_actor(db_session, role="supervisor")
    db_session.commit()
    mine = web.get(f"/banks/{bank.id}", headers=_h(sup))
    assert _rows(mine.text, "signal-row") == 2 and "eeeeeeee" in mine.text
    theirs = web.get(f"/banks/{bank.id}", headers=_h(other))
    assert theirs.status_code == 200
    assert _rows(theirs.text, "signal-row") == 1
    assert "eeeeeeee" not in theirs.text and "ffffffff" in theirs.text
    assert "Upload signals" not in theirs.text and "Disable" not in theirs.text


def test_matches_page_confirm_and_reject(web: TestClient, db_session: Session) -> None:
    analyst = make_actor(db_session)
    m1 = make_match(db_session, analyst, labels={"group": "Synthetic Front"})
    m2 = make_match(db_session, analyst, labels={"outlet": XSS})
    db_session.commit()
    page = web.get("/matches", headers=_h(analyst))
    assert page.status_code == 200 and _rows(page.text, "match-row") == 2
    assert "group: <strong>Synthetic Front</strong>" in page.text and XSS not in page.text
    r = web.post(f"/matches/{m1.id}/review", data={"decision": "confirmed", "note": "same"},
                 headers=_h(analyst), follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    web.post(f"/matches/{m2.id}/review", data={"decision": "rejected"}, headers=_h(analyst))
    assert _rows(web.get("/matches", headers=_h(analyst)).text, "match-row") == 0
    done = web.get("/matches?review=all", headers=_h(analyst)).text
    assert "confirmed" in done and "rejected" in done
    r = web.post(f"/matches/{m1.id}/review", data={"decision": "bogus"},
                 headers=_h(analyst), follow_redirects=False)  # fmt: skip
    assert r.status_code == 303  # back to the queue with an error notice
    db_session.expire_all()
    row = db_session.get(MatchResult, m1.id)
    assert row is not None and row.status == "confirmed"


def test_the_bank_page_and_api_count_stale_inner_signals_until_the_media_is_added_again(
    web: TestClient, db_session: Session
) -> None:
    """A bank enrolled by an older version holds stale inner signals (migration
    ``matching_0200``): its page says how many and what to do; the API gives the count;
    uploading the same picture again on that page renews them."""
    sup = make_actor(db_session, role="supervisor")
    bank = make_bank(db_session, sup)
    signals = service.add_media(db_session, sup.principal, bank.id, media.poster(7))
    inner = next(s for s in signals if s.signal_type == "pdq_inner")
    inner.value = inner.digest = "0f" * 32
    inner.variant = STALE_VARIANT
    db_session.commit()
    page = web.get(f"/banks/{bank.id}", headers=_h(sup))
    assert page.status_code == 200
    assert 'data-testid="stale-count">1 inner-region signal(s)' in page.text
    api = web.get(f"/api/v1/banks/{bank.id}", headers=sup.headers).json()
    assert (api["signal_count"], api["stale_signal_count"]) == (4, 1)
    listed = web.get("/api/v1/banks", headers=sup.headers).json()
    assert [b["stale_signal_count"] for b in listed if b["id"] == bank.id] == [1]
    r = web.post(
        f"/banks/{bank.id}/media",
        files=[("media", ("again.jpg", media.poster(7), "image/jpeg"))],
        headers=_h(sup),
    )
    assert r.status_code == 200, r.text
    assert 'data-testid="stale-count"' not in web.get(f"/banks/{bank.id}", headers=_h(sup)).text
    assert (
        web.get(f"/api/v1/banks/{bank.id}", headers=sup.headers).json()["stale_signal_count"] == 0
    )
