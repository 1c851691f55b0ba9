"""The JSON routes, the pages, and the same numbers on the page, in JSON and in CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.operations import legal, report
from takedown.referrals.models import Referral, ReferralItem
from tests.factories import make_actor, make_agency
from tests.items.factories import make_item
from tests.operations.factories import raw_item, seed_operation


def test_create_add_and_read(ops_client: TestClient, db_session: Session) -> None:
    lead = make_actor(db_session, make_agency(db_session), role="supervisor")
    b = make_actor(db_session, make_agency(db_session))
    r = ops_client.post(
        "/api/v1/operations",
        headers=lead.headers,
        json={
            "name": "Synthetic action day",
            "starts_at": "2019-11-21T06:00:00Z",
            "targets": {"platforms": ["telegram"]},
            "participants": [{"agency_id": b.agency.id}],
        },
    )
    assert r.status_code == 201, r.text
    op = r.json()
    assert op["your_role"] == "lead" and len(op["participants"]) == 2
    item = make_item(db_session, b)
    db_session.flush()
    r = ops_client.post(
        f"/api/v1/operations/{op['id']}/items", headers=b.headers, json={"item_ids": [item.id]}
    )
    assert r.json() == {"requested": 1, "added": 1, "already": 0}
    r = ops_client.post(
        f"/api/v1/operations/{op['id']}/items",
        headers=b.headers,
        json={"item_ids": [item.id], "import_id": 1},
    )
    assert r.status_code == 422
    page = ops_client.get(f"/api/v1/operations/{op['id']}/items", headers=lead.headers).json()
    assert page["total"] == 1 and page["items"][0]["contributors"] == 1
    m = ops_client.get(f"/api/v1/operations/{op['id']}/metrics", headers=lead.headers).json()
    assert m["figures"]["items"] == 1 and m["by_platform"] == [{"platform": "x", "items": 1}]
    r = ops_client.post(
        f"/api/v1/operations/{op['id']}/status", headers=b.headers, json={"status": "running"}
    )
    assert r.status_code == 403
    naive = ops_client.post(
        "/api/v1/operations",
        headers=lead.headers,
        json={"name": "n", "starts_at": "2019-11-21T06:00:00"},
    )
    assert naive.status_code == 422


def test_report_formats_agree(ops_client: TestClient, db_session: Session) -> None:
    s = seed_operation(db_session, random.Random(3), n=40)
    db_session.flush()
    url = f"/api/v1/operations/{s.op.id}/report"
    j = ops_client.get(url, headers=s.other.headers, params={"final": "true"}).json()
    assert j["report"] == "final"
    html = ops_client.get(url, headers=s.other.headers, params={"format": "html", "final": "true"})
    assert html.headers["content-type"].startswith("text/html")
    n = len(j["participants"])  # the seed has several; the walkthrough (one) shows "1 … agency"
    assert f"{n} participating {'agency' if n == 1 else 'agencies'}" in html.text
    for key, value in j["figures"].items():
        unit = next(f.unit for f in _figs(db_session, s) if f.key == key)
        assert f"<dd>{report.display(value, unit)}</dd>" in html.text, key
    figs = ops_client.get(url, headers=s.other.headers, params={"format": "csv", "final": "true"})
    rows = {r["key"]: r["value"] for r in csv.DictReader(io.StringIO(figs.text))}
    for key, value in j["figures"].items():
        assert rows[key] == ("" if value is None else str(value)), key
    t = ops_client.get(
        url, headers=s.other.headers, params={"format": "csv", "table": "contributions"}
    )
    got = list(csv.DictReader(io.StringIO(t.text)))
    assert [int(r["items"]) for r in got] == [r["items"] for r in j["tables"]["contributions"]]
    bad = ops_client.get(url, headers=s.other.headers, params={"format": "csv", "table": "nope"})
    assert bad.status_code == 404


def _figs(db: Session, s: object) -> list[report.Figure]:
    return report.build(db, s.lead.principal, s.op.id, final=True).figures  # type: ignore[attr-defined]


def test_transparency_report(ops_client: TestClient, db_session: Session) -> None:
    auth = make_actor(
        db_session, make_agency(db_session, kind="competent_authority"), role="supervisor"
    )
    when = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    removed_item = raw_item(
        db_session,
        [auth.agency.id],
        platform="x",
        kind="post",
        status="removed",
        referred=when,
        removed=when + dt.timedelta(minutes=30),
    )
    online = raw_item(
        db_session,
        [auth.agency.id],
        platform="x",
        kind="post",
        status="still_online",
        referred=when,
    )
    refused = raw_item(
        db_session,
        [auth.agency.id],
        platform="textbin",
        kind="post",
        status="still_online",
        referred=when,
    )
    for n, (platform, kind, its) in enumerate(
        [
            ("x", "removal_order", [removed_item]),
            ("x", "removal_order", [removed_item, online]),
            ("textbin", "removal_order", [refused]),
            ("x", "tos", [online]),
            # Approved, then every item found gone just before sending: closed unsent.
            ("x", "removal_order", [removed_item]),
            # Approved, then cancelled before it went out.
            ("x", "removal_order", [online]),
        ]
    ):
        ref = Referral(
            reference=f"SYN-{n}-{auth.agency.id}",
            kind=kind,
            status={4: "closed", 5: "cancelled"}.get(n, "sent"),
            platform=platform,
            agency_id=auth.agency.id,
            channel="api",
            issued_at=when,
            created_at=when,
        )
        db_session.add(ref)
        db_session.flush()
        for it in its:
            db_session.add(
                ReferralItem(
                    referral_id=ref.id,
                    item_id=it.id,
                    url=it.canonical_url,
                    state="already_gone" if n == 4 else "included",
                    response="cannot_comply" if it is refused else None,
                    response_reason="manifest_error" if it is refused else None,
                )
            )
    legal.record_legal_event(
        db_session,
        auth.principal,
        kind="scrutiny",
        outcome="no_infringement",
        occurred_at=when,
        platform="x",
    )
    legal.record_legal_event(
        db_session,
        auth.principal,
        kind="penalty",
        outcome="imposed",
        occurred_at=when,
        platform="x",
        amount_eur=1000,
    )
    legal.record_legal_event(
        db_session,
        auth.principal,
        kind="review",
        outcome="pending",
        occurred_at=when - dt.timedelta(days=365),
    )
    db_session.flush()
    j = ops_client.get("/api/v1/transparency/2026", headers=auth.headers).json()
    f = j["figures"]
    assert f["orders_issued"] == 3
    assert (f["orders_led_to_removal"], f["orders_partly"], f["orders_no_removal"]) == (1, 1, 1)
    assert (f["referrals_issued"], f["referrals_led_to_removal"]) == (1, 0)
    assert (f["scrutiny_decisions"], f["penalties"], f["review_proceedings"]) == (1, 1, 0)
    by_p = {r["platform"]: r for r in j["tables"]["removal_orders_by_platform"]}
    assert by_p["x"]["urls"] == 3 and by_p["x"]["urls_removed"] == 2
    assert by_p["textbin"]["cannot_comply_reasons"] == "manifest_error: 1"
    other = make_actor(db_session, make_agency(db_session))
    db_session.flush()
    j2 = ops_client.get("/api/v1/transparency/2026", headers=other.headers).json()
    assert j2["figures"]["orders_issued"] == 0
    assert ops_client.get("/api/v1/transparency/1999", headers=auth.headers).status_code == 422


def test_pages(ops_client: TestClient, db_session: Session) -> None:
    s = seed_operation(db_session, random.Random(4), n=20)
    db_session.flush()
    from tests.factories import PASSWORD

    r = ops_client.post("/api/v1/session", json={"email": s.lead.user.email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    page = ops_client.get(f"/operations/{s.op.id}")
    assert page.status_code == 200 and 'hx-trigger="every 15s"' in page.text
    assert "<script>" not in page.text and "<svg" in page.text
    live = ops_client.get(f"/operations/{s.op.id}/live", headers={"HX-Request": "true"})
    assert live.status_code == 200 and live.text.lstrip().startswith('<div id="op-live"')
    rep = ops_client.get(f"/operations/{s.op.id}/report", params={"final": "true"})
    assert rep.status_code == 200 and "Appendix" in rep.text
    csv_r = ops_client.get(f"/operations/{s.op.id}/export/contributions.csv")
    assert csv_r.status_code == 200 and csv_r.text.startswith("agency,")
    assert ops_client.get(f"/operations/{s.op.id}/export/nope.csv").status_code == 404
    outsider = make_actor(db_session, make_agency(db_session))
    db_session.flush()
    ops_client.delete("/api/v1/session")
    r = ops_client.post(
        "/api/v1/session", json={"email": outsider.user.email, "password": PASSWORD}
    )
    assert ops_client.get(f"/operations/{s.op.id}").status_code == 404
    listing = ops_client.get("/operations").text
    assert s.op.name not in listing and "takes part in no operation" in listing
    m = ops_client.get(f"/api/v1/operations/{s.op.id}/metrics", headers=outsider.headers)
    assert m.status_code == 404
