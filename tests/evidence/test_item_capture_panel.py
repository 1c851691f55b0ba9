"""The item page shows the latest capture (title, the start of its text, a blurred
thumbnail) and "Capture now"; the queue's search finds words of captured text (#13.5)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.evidence import tasks
from takedown.evidence.capturing import TEXT_EXCERPT_CHARS, text_excerpt
from takedown.evidence.models import EvidenceCapture
from takedown.evidence.retention import run_purge
from takedown.evidence.storage import store_for_settings
from takedown.items import service as items
from takedown.items.repository import ItemFilters
from tests.evidence.conftest import capture_one, make_item
from tests.evidence.hostile import HOST
from tests.factories import make_actor
from tests.web.conftest import BROWSER_HEADERS, ensure_web

HTMX = {"HX-Request": "true"}


@pytest.fixture
def web(app_factory: Any, hostile_port: int) -> Iterator[TestClient]:
    app = ensure_web(app_factory(resolve={HOST: f"127.0.0.1:{hostile_port}"}))
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def test_text_excerpt_folds_blanks_and_is_bounded() -> None:
    assert text_excerpt(None) is None and text_excerpt(" \n\t ") is None
    assert text_excerpt("Synthetic\n\n  statement\t42 ") == "Synthetic statement 42"
    long = "word " * TEXT_EXCERPT_CHARS
    got = text_excerpt(long)
    assert got is not None and len(got) == TEXT_EXCERPT_CHARS


def test_a_capture_keeps_its_text_and_the_item_page_shows_it(
    web: TestClient,
    db_session: Session,
    session_factory: Any,
    ev_settings: Settings,
) -> None:
    a = make_actor(db_session)
    item_id, cap_id = capture_one(db_session, session_factory, ev_settings, a.principal)
    cap = db_session.get(EvidenceCapture, cap_id)
    assert cap is not None and cap.text_excerpt is not None
    assert "Synthetic statement 42 Invented text for tests" in cap.text_excerpt
    assert "SCRIPT-TEXT" not in cap.text_excerpt  # script bodies are never text

    page = web.get(f"/items/{item_id}", headers=a.headers)
    assert page.status_code == 200
    panel = page.text.split('data-testid="latest-capture"', 1)[1].split("</section>", 1)[0]
    assert f'href="/evidence/{cap_id}"' in panel
    assert "Synthetic outlet page" in panel  # the captured title
    assert "Synthetic statement 42" in panel  # the start of the text
    thumb = re.search(
        r'class="ev-thumb"[^>]*><img class="ev-blur" src="(/evidence-view/[^"]+)"', panel
    )
    assert thumb, panel  # the captured image, blurred, through the signed sandboxed path
    assert "data-ev-toggle" in panel and "/static/evidence/evidence.js" in page.text
    assert web.get(thumb.group(1)).headers["content-type"] == "image/png"
    assert 'hx-post="/evidence/items/' in panel and "Capture now" in panel
    assert "hx-trigger" not in panel  # nothing running: no polling


def test_capture_now_runs_in_the_background_and_the_panel_polls_until_it_is_in(
    web: TestClient,
    db_session: Session,
    session_factory: Any,
    ev_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = make_actor(db_session)
    item_id = make_item(db_session, a.principal, f"http://{HOST}/page")
    db_session.commit()
    page = web.get(f"/items/{item_id}", headers=a.headers)
    assert "No capture by your agency yet." in page.text

    r = web.post(f"/evidence/items/{item_id}/capture", headers={**a.headers, **HTMX})
    assert r.status_code == 200, r.text
    assert "<html" not in r.text and "Capturing…" in r.text
    m = re.search(r'hx-get="(/evidence/items/\d+/latest\?after=0&amp;since=\d+)"', r.text)
    assert m, r.text
    assert web.app.state.dispatcher.sent == [  # type: ignore[attr-defined]
        ("evidence.capture", {"item_ids": [item_id], "user_id": a.user.id})
    ]
    requested = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "evidence.capture_requested")
    ).all()
    assert [e.subject_id for e in requested] == [str(item_id)]
    poll = m.group(1).replace("&amp;", "&")
    assert "Capturing…" in web.get(poll, headers={**a.headers, **HTMX}).text  # still waiting

    # the job, as the worker runs it (on the test's database)
    monkeypatch.setattr(tasks, "_factory", lambda: session_factory)
    monkeypatch.setattr(tasks, "get_settings", lambda: ev_settings)
    tasks.capture_job(item_ids=[item_id], user_id=a.user.id)
    db_session.expire_all()

    done = web.get(poll, headers={**a.headers, **HTMX})
    assert done.status_code == 200
    assert "Synthetic statement 42" in done.text and "Capturing…" not in done.text
    assert "hx-trigger" not in done.text  # polling stops


def test_capture_now_without_htmx_redirects_and_refuses_an_invisible_item(
    web: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    other = make_actor(db_session)
    item_id = make_item(db_session, a.principal, f"http://{HOST}/page")
    db_session.commit()
    r = web.post(f"/evidence/items/{item_id}/capture", headers=a.headers, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/items/{item_id}"
    r = web.post(f"/evidence/items/{item_id}/capture", headers=other.headers)
    assert r.status_code == 404
    r = web.post(
        f"/evidence/items/{item_id}/capture", data={"screenshot": "1"}, headers=a.headers,
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    assert web.app.state.dispatcher.sent == [  # type: ignore[attr-defined]
        ("evidence.capture", {"item_ids": [item_id], "user_id": a.user.id}),
        ("evidence.capture",
         {"item_ids": [item_id], "user_id": a.user.id, "with_screenshot": True}),
    ]  # fmt: skip


def test_the_queue_search_finds_words_of_captured_text_of_the_own_agency_only(
    web: TestClient,
    db_session: Session,
    session_factory: Any,
    ev_settings: Settings,
) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    item_id, _ = capture_one(db_session, session_factory, ev_settings, a.principal)
    items.report_url(db_session, b.principal, f"http://{HOST}/page")  # b sees it, captured none
    db_session.commit()

    def found(actor: Any, q: str) -> list[int]:
        rows, _ = items.list_items(db_session, actor.principal, ItemFilters(q=q), 50, 0)
        return [i.id for i in rows]

    assert found(a, "statement") == [item_id]
    assert found(a, "INVENTED   statement 42") == [item_id]  # words, in any order, any case
    assert found(a, "statement nowhere-in-it") == []
    assert found(a, "hostile.test page") == [item_id]  # URL words still match
    assert found(b, "statement") == []  # another agency's capture is not searched
    assert found(b, "hostile.test") == [item_id]
    assert found(a, "100%_") == []  # LIKE wildcards are literal

    page = web.get("/queue?q=invented+statement", headers=a.headers)
    assert page.status_code == 200 and f'href="/items/{item_id}"' in page.text
    page = web.get("/queue?q=invented+statement", headers=b.headers)
    assert f'href="/items/{item_id}"' not in page.text


def test_a_purge_drops_the_text_with_the_files(
    db_session: Session, session_factory: Any, ev_settings: Settings
) -> None:
    from takedown.items.models import Item, ItemStatus

    a = make_actor(db_session)
    item_id, cap_id = capture_one(db_session, session_factory, ev_settings, a.principal)
    item = db_session.get(Item, item_id)
    assert item is not None
    item.status = ItemStatus.REMOVED.value
    item.status_changed_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    db_session.commit()
    run_purge(session_factory, store=store_for_settings(ev_settings))
    db_session.expire_all()
    cap = db_session.get(EvidenceCapture, cap_id)
    assert cap is not None and cap.purged_at is not None and cap.text_excerpt is None
