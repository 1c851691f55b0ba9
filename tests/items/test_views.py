"""The items pages: intake, queue (filters, saved filters, bulk), item page (assess, holds).

On both engines (``db_session`` is parametrised); pages are driven with a bearer
token unless a test is about the browser session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.items import intake_runs, intake_views, service
from takedown.items.models import ImportJob, Item, ItemStatus, SavedFilter
from takedown.matching.models import Bank, MatchResult, Signal
from tests.factories import Actor, make_actor, make_agency
from tests.items.factories import make_item, synthetic_url
from tests.web.conftest import BROWSER_HEADERS, browser_login, ensure_web

XSS = '<img src=x onerror="alert(1)"><script>alert(2)</script>'


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    app = ensure_web(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _upload(web: TestClient, actor: Actor, body: bytes, name: str = "urls.txt", **data: str) -> Any:
    return web.post(
        "/intake",
        headers=actor.headers,
        files={"file": (name, body, "text/plain")},
        data=data,
        follow_redirects=False,
    )


# --- intake -----------------------------------------------------------------------------------


def test_intake_shows_errors_with_lines_and_folded_duplicates(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    existing = make_item(db_session, a)
    body = "\n".join(
        [
            synthetic_url(900_001),
            "not a url at all",
            synthetic_url(900_001),  # folded: same identity earlier in the file
            existing.canonical_url,  # folded: the item existed before
            "ftp://example.invalid/file",
        ]
    ).encode()
    r = _upload(web, a, body)
    assert r.status_code == 303, r.text
    assert re.fullmatch(r"/intake/\d+", r.headers["location"])
    page = web.get(r.headers["location"], headers=a.headers)
    assert page.status_code == 200
    job = db_session.get(ImportJob, int(r.headers["location"].rsplit("/", 1)[1]))
    assert job is not None and job.rows_bad == 2 and job.duplicates_folded == 2
    errors = page.text.split('data-testid="import-errors"')[1].split("</table>")[0]
    assert "<td>2</td>" in errors and "<td>5</td>" in errors and "invalid URL" in errors
    folded = page.text.split('data-testid="import-folded"')[1].split("</table>")[0]
    assert "<td>3</td>" in folded and "<td>4</td>" in folded
    assert f'href="/items/{existing.id}"' in folded


def test_intake_pasted_urls_into_an_operation(web: TestClient, db_session: Session) -> None:
    import datetime as dt

    from takedown.operations import service as ops
    from takedown.operations.models import OperationItem

    a = make_actor(db_session, role="supervisor")
    op = ops.create_operation(
        db_session, a.principal, name="Action day", starts_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    url = synthetic_url(900_101)
    r = web.post(
        "/intake",
        headers=a.headers,
        data={"urls": f"{url}\n", "operation": str(op.id)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    item = db_session.query(Item).filter(Item.canonical_url == url).one()
    member = db_session.query(OperationItem).filter(OperationItem.item_id == item.id).one()
    assert member.operation_id == op.id


def test_intake_form_errors_beside_fields(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    r = web.post("/intake", headers=a.headers, data={"urls": "", "operation": "999999"})
    assert r.status_code == 422
    assert 'id="f-file-error"' in r.text and 'id="f-operation-error"' in r.text
    csv_without_url = _upload(web, a, b"name,when\nx,y\n", name="bad.csv", format="csv")
    assert csv_without_url.status_code == 422 and 'id="f-file-error"' in csv_without_url.text


def test_large_upload_runs_in_the_background_with_progress(
    web: TestClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_views, "INLINE_BYTES", 10)
    a = make_actor(db_session)
    body = "\n".join(synthetic_url(900_200 + i) for i in range(20)).encode()
    r = _upload(web, a, body)
    assert r.status_code == 303
    run_url = r.headers["location"]
    assert run_url.startswith("/intake/runs/")
    # TestClient returns once the background task has run; a browser would poll meanwhile.
    token = run_url.rsplit("/", 1)[1]
    run = intake_runs.get_run(a.principal, token)
    assert run.finished and run.error is None and run.job_id is not None
    page = web.get(run_url, headers=a.headers)
    assert page.status_code == 200 and f'href="/intake/{run.job_id}"' in page.text
    frag = web.get(run_url + "/progress", headers=a.headers)
    assert "Finished." in frag.text and "hx-get" not in frag.text
    job = db_session.get(ImportJob, run.job_id)
    assert job is not None and job.items_created == 20
    b = make_actor(db_session)
    assert web.get(run_url, headers=b.headers).status_code == 404


def test_a_running_import_polls(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    run = intake_runs.register(a.principal, "big.csv", 4096)
    run.done = 2048
    frag = web.get(f"/intake/runs/{run.token}/progress", headers=a.headers)
    assert frag.status_code == 200
    assert 'hx-get="/intake/runs/' in frag.text and "50%" in frag.text


# --- queue ------------------------------------------------------------------------------------


def _queue_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-item-id="(\d+)"', html)]


def test_queue_filters_and_isolation(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    plain = make_item(db_session, a)
    assessed = make_item(db_session, a)
    service.assess(
        db_session,
        a.principal,
        assessed.id,
        "terrorist_content",
        ["a"],
        group="Synthetic Front",
        outlet="Outlet Nine",
    )
    tg = make_item(db_session, a, url="https://t.me/s/synthetic_channel_q")
    other = make_item(db_session, b)
    shared = make_item(db_session, b)
    service.share_item(db_session, b.principal, shared.id, a.agency.id)
    ids = _queue_ids(web.get("/queue", headers=a.headers).text)
    assert set(ids) == {plain.id, assessed.id, tg.id, shared.id} and other.id not in ids
    assert _queue_ids(web.get("/queue?status=assessed", headers=a.headers).text) == [assessed.id]
    assert _queue_ids(web.get("/queue?platform=telegram", headers=a.headers).text) == [tg.id]
    assert _queue_ids(web.get("/queue?kind=channel", headers=a.headers).text) == [tg.id]
    assert _queue_ids(web.get("/queue?label=synthetic+front", headers=a.headers).text) == [
        assessed.id
    ]
    assert _queue_ids(web.get("/queue?label=outlet+nine", headers=a.headers).text) == [assessed.id]
    # An operation agency A cannot see filters nothing in: it answers empty, with an error.
    r = web.get("/queue?operation=999999", headers=a.headers)
    assert _queue_ids(r.text) == [] and 'id="f-operation-error"' in r.text


def test_queue_match_filter(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    hit = make_item(db_session, a)
    miss = make_item(db_session, a)
    _match(db_session, a, hit, labels={"group": "Synthetic Front"})
    assert _queue_ids(web.get("/queue?match=yes", headers=a.headers).text) == [hit.id]
    assert _queue_ids(web.get("/queue?match=no", headers=a.headers).text) == [miss.id]


def test_queue_is_paginated(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    for _ in range(27):
        make_item(db_session, a)
    r = web.get("/queue?per_page=25", headers=a.headers)
    assert len(_queue_ids(r.text)) == 25 and "Showing 1–25 of 27" in r.text
    assert len(_queue_ids(web.get("/queue?per_page=25&page=2", headers=a.headers).text)) == 2


def test_saved_filters_are_per_user(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    colleague = make_actor(db_session, a.agency)
    r = web.post(
        "/queue/filters",
        headers=a.headers,
        data={"name": "Telegram new", "query": "status=new&platform=telegram&page=3&evil=1"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/queue?status=new&platform=telegram"
    row = db_session.query(SavedFilter).filter(SavedFilter.user_id == a.user.id).one()
    assert row.query == "status=new&platform=telegram"
    assert (
        'href="/queue?status=new&amp;platform=telegram"'
        in web.get("/queue", headers=a.headers).text
    )
    assert "Telegram new" not in web.get("/queue", headers=colleague.headers).text
    gone = web.post(f"/queue/filters/{row.id}/delete", headers=colleague.headers)
    assert gone.status_code == 404
    ok = web.post(f"/queue/filters/{row.id}/delete", headers=a.headers, follow_redirects=False)
    assert ok.status_code == 303
    assert db_session.query(SavedFilter).filter(SavedFilter.user_id == a.user.id).count() == 0


def test_bulk_assess_and_hold(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    one, two = make_item(db_session, a), make_item(db_session, a)
    r = web.post(
        "/queue/bulk",
        headers=a.headers,
        data={
            "action": "assess",
            "item_ids": [str(one.id), str(two.id)],
            "verdict": "terrorist_content",
            "categories": ["a", "c"],
            "back": "/queue?kind=post",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/queue?kind=post"
    for it in (one, two):
        db_session.refresh(it)
        assert it.status == ItemStatus.ASSESSED.value
    # A verdict without categories fails per item: reported, nothing changed.
    three = make_item(db_session, a)
    r = web.post(
        "/queue/bulk",
        headers=a.headers,
        data={
            "action": "assess",
            "item_ids": [str(three.id)],
            "verdict": "terrorist_content",
            "back": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/queue"
    db_session.refresh(three)
    assert three.status == ItemStatus.NEW.value
    r = web.post(
        "/queue/bulk",
        headers=a.headers,
        data={"action": "hold", "item_ids": [str(one.id)], "reason": "our case"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    # Without a reason, the item is not held and the notice says why (#13.15).
    r = web.post(
        "/queue/bulk",
        headers=a.headers,
        data={"action": "hold", "item_ids": [str(two.id)], "reason": " "},
    )
    assert "needs a reason" in r.text
    assert service.holds_for(db_session, a.principal, two.id) == []
    assert [h.agency_id for h in service.active_holds(db_session, one.id)] == [a.agency.id]


def test_bulk_on_another_agencys_item_is_not_found(web: TestClient, db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    theirs = make_item(db_session, b)
    r = web.post(
        "/queue/bulk",
        headers=a.headers,
        data={"action": "assess", "item_ids": [str(theirs.id)], "verdict": "needs_review"},
    )
    assert r.status_code == 404
    assert service.assessments_for(db_session, b.principal, theirs.id) == []


def test_queue_bulk_refer_form_posts_to_referrals_new(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    it = make_item(db_session, a)
    html = web.get("/queue", headers=a.headers).text
    assert re.search(r'<button type="submit" formaction="/referrals/new"', html)
    form = html.split('id="bulk"')[1].split("</form>")[0]
    assert 'name="kind"' in form and 'value="tos"' in form and 'value="order"' in form
    assert 'name="csrf_token"' in form
    # The row checkboxes belong to that form: their item_ids go with the refer button.
    assert f'name="item_ids" value="{it.id}" form="bulk"' in html
    assert '<script src="/static/js/items.js" defer></script>' in html


# --- the item page ----------------------------------------------------------------------------


def _match(s: Session, a: Actor, item: Item, labels: dict[str, Any]) -> MatchResult:
    bank = Bank(agency_id=a.agency.id, name=f"bank-{item.id}")
    s.add(bank)
    s.flush()
    sig = Signal(
        bank_id=bank.id, signal_type="sha256", value="ab" * 32, digest="ab" * 32, labels=labels
    )
    s.add(sig)
    s.flush()
    res = MatchResult(
        item_id=item.id,
        agency_id=a.agency.id,
        signal_id=sig.id,
        bank_id=bank.id,
        signal_type="sha256",
        details={"labels": labels, "bank": bank.name, "tlp": "AMBER"},
    )
    s.add(res)
    s.flush()
    return res


def test_item_page_shows_identity_sightings_and_suggestions(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    item = make_item(
        db_session,
        a,
        note="our private note",
        title="This is a synthetic announcement written in plain English words",
    )
    service.report_url(db_session, b.principal, item.canonical_url, note="their private note")
    _match(
        db_session,
        a,
        item,
        {
            "group": "Synthetic Front",
            "outlet": "Outlet Nine",
            "tco_category": ["incitement", "(c)", "tier 1"],
        },
    )
    page = web.get(f"/items/{item.id}", headers=a.headers)
    assert page.status_code == 200
    assert item.key in page.text and "our private note" in page.text
    assert "their private note" not in page.text and b.agency.name in page.text
    assert "Synthetic Front" in page.text and "Outlet Nine" in page.text
    assert 'value="Synthetic Front"' in page.text  # prefilled from the match labels
    assert 'name="categories" value="a" checked' in page.text
    assert 'name="categories" value="c" checked' in page.text
    assert 'name="categories" value="b" checked' not in page.text
    assert "<strong>en</strong>" in page.text  # py3langid on the title
    assert web.get(f"/items/{item.id}", headers=make_actor(db_session).headers).status_code == 404


def test_assess_form_validates_beside_the_field(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a)
    r = web.post(
        f"/items/{item.id}/assess",
        headers=a.headers,
        data={"verdict": "terrorist_content", "group": "Keep me"},
    )
    assert r.status_code == 422
    assert 'id="f-categories-error"' in r.text and 'value="Keep me"' in r.text
    r = web.post(
        f"/items/{item.id}/assess",
        headers=a.headers,
        data={"verdict": "terrorist_content", "categories": "a", "language": "not a code"},
    )
    assert r.status_code == 422 and 'id="f-language-error"' in r.text
    r = web.post(f"/items/{item.id}/assess", headers=a.headers, data={})
    assert r.status_code == 422 and 'id="f-verdict-error"' in r.text
    r = web.post(
        f"/items/{item.id}/assess",
        headers=a.headers,
        data={
            "verdict": "terrorist_content",
            "categories": ["a", "d"],
            "language": "ar",
            "group": "Synthetic Front",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    db_session.refresh(item)
    assert item.status == ItemStatus.ASSESSED.value


def test_holds_other_agency_sees_only_existence_and_contact(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    item = make_item(db_session, a)
    service.share_item(db_session, a.principal, item.id, b.agency.id)
    r = web.post(
        f"/items/{item.id}/holds",
        headers=a.headers,
        data={"reason": "secret investigation 42", "contact_point": "desk@a.example"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    own = web.get(f"/items/{item.id}", headers=a.headers).text
    assert "secret investigation 42" in own and "Release" in own
    theirs = web.get(f"/items/{item.id}", headers=b.headers).text
    assert "desk@a.example" in theirs and "secret investigation 42" not in theirs
    assert "/release" not in theirs
    hold = service.active_holds(db_session, item.id)[0]
    assert (
        web.post(f"/items/{item.id}/holds/{hold.id}/release", headers=b.headers).status_code == 404
    )
    r = web.post(
        f"/items/{item.id}/holds/{hold.id}/release", headers=a.headers, follow_redirects=False
    )
    assert r.status_code == 303 and service.active_holds(db_session, item.id) == []


def test_hold_without_contact_point_errors_beside_field(
    web: TestClient, db_session: Session
) -> None:
    agency = make_agency(db_session)
    agency.contact_point = ""
    db_session.flush()
    a = make_actor(db_session, agency)
    item = make_item(db_session, a)
    r = web.post(f"/items/{item.id}/holds", headers=a.headers, data={"reason": "x"})
    assert r.status_code == 422 and 'id="f-contact_point-error"' in r.text


def test_hostile_title_and_url_render_inert(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_item(
        db_session, a, url="https://example.com/<script>alert(3)</script>", title=XSS, note=XSS
    )
    for path in ("/queue", f"/items/{item.id}"):
        html = web.get(path, headers=a.headers).text
        assert "<script>alert" not in html and '<img src=x onerror="alert(1)">' not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_forms_need_the_session_csrf_token(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a)
    db_session.commit()
    token = browser_login(web, a.user.email)
    page = web.get(f"/items/{item.id}")
    assert 'name="csrf_token"' in page.text
    for path in (
        f"/items/{item.id}/assess",
        f"/items/{item.id}/holds",
        "/queue/bulk",
        "/queue/filters",
        "/intake",
    ):
        r = web.post(path, data={"verdict": "needs_review"}, follow_redirects=False)
        assert r.status_code == 403, path
    r = web.post(
        f"/items/{item.id}/assess",
        data={"verdict": "needs_review", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_pages_keep_the_csp_rules_and_every_form_has_csrf(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a, title="A plain synthetic title")
    service.place_hold(db_session, a.principal, item.id, reason="ours")
    job_page = _upload(web, a, synthetic_url(900_300).encode())
    db_session.commit()
    browser_login(web, a.user.email)
    for path in ("/intake", "/queue", f"/items/{item.id}", job_page.headers["location"]):
        r = web.get(path)
        assert r.status_code == 200, path
        for tag in re.findall(r"<script\b[^>]*>", r.text):
            assert "src=" in tag, tag
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|\shx-on", r.text), path
        for form in re.findall(r"<form\b[^>]*>.*?</form>", r.text, flags=re.S):
            if 'method="get"' in form:
                continue
            assert re.search(r'name="csrf_token" value="[^"]+"', form), (path, form[:200])


def test_bulk_add_to_operation(web: TestClient, db_session: Session) -> None:
    import datetime as dt

    from takedown.operations import service as ops

    a = make_actor(db_session, role="supervisor")
    op = ops.create_operation(
        db_session, a.principal, name="Bulk day", starts_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    one, two = make_item(db_session, a), make_item(db_session, a)
    r = web.post(
        "/queue/bulk",
        headers=a.headers,
        data={
            "action": "operation",
            "operation": str(op.id),
            "item_ids": [str(one.id), str(two.id)],
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    ids = _queue_ids(web.get(f"/queue?operation={op.id}", headers=a.headers).text)
    assert sorted(ids) == sorted([one.id, two.id])
