"""Hostile sources end their crawl with a recorded reason and never stall the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.kit.http import make_sync_client
from takedown.kit.politeness import HostBudget
from takedown.monitoring import service
from takedown.monitoring.base import Limits
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from takedown.monitoring.models import Crawl, Source
from tests.factories import Actor, make_actor
from tests.monitoring.mockweb import endless_tg, tg_page

Handler = Callable[[httpx.Request], httpx.Response]

CONFIG = CrawlConfig(
    limits=Limits(max_pages=5, first_pages=3, max_bytes=64 * 1024, max_retry_after=30),
    workers=3,
    match=False,
)


@pytest.fixture
def actor(db_session: Session) -> Actor:
    a = make_actor(db_session)
    db_session.commit()
    return a


def _client(handler: Handler) -> httpx.Client:
    return httpx.Client(
        transport=httpx.MockTransport(handler), follow_redirects=True, max_redirects=5
    )


def _good(channel: str) -> httpx.Response:
    return httpx.Response(200, html=tg_page(channel, [1, 2, 3], more=False))


def _rows(session_factory: sessionmaker[Session], *ids: int) -> list[Source]:
    s = session_factory()
    return [s.get(Source, i) for i in ids]  # type: ignore[misc]


def _watch(db: Session, actor: Actor, *urls: str) -> list[Source]:
    out = [service.add_source(db, actor.principal, u)[0] for u in urls]
    db.commit()
    return out


def test_huge_page_redirect_loop_and_429_forever_end_with_reasons(
    db_session: Session, session_factory: sessionmaker[Session], actor: Actor
) -> None:
    huge, loop, limited, good = _watch(
        db_session,
        actor,
        "https://huge-synthetic.example/",
        "https://loop-synthetic.example/",
        "https://t.me/synthlimited",
        "https://t.me/synthgood",
    )
    budget = HostBudget(0.0, sleep=lambda s: None)

    def handler(req: httpx.Request) -> httpx.Response:
        host, path = req.url.host, req.url.path
        if host == "huge-synthetic.example":
            return httpx.Response(200, html="<p>" + "x" * 200_000 + "</p>")
        if host == "loop-synthetic.example":
            nxt = "/b" if path != "/b" else "/a"
            return httpx.Response(302, headers={"Location": nxt})
        if path == "/s/synthlimited":
            return httpx.Response(429, headers={"Retry-After": "3600"})
        return _good("synthgood")

    before = dt.datetime.now(dt.UTC)
    rep = crawl_due(
        session_factory,
        _client(handler),
        source_ids=[huge.id, loop.id, limited.id, good.id],
        config=CONFIG,
        budget=budget,
    )
    assert rep.sources == 4
    h, lp, lim, g = _rows(session_factory, huge.id, loop.id, limited.id, good.id)
    assert h.last_result == "error" and "larger than" in h.last_reason
    assert lp.last_result == "error" and "redirect loop" in lp.last_reason
    assert lim.last_result == "error" and "429" in lim.last_reason
    assert lim.next_due_at >= before + dt.timedelta(seconds=3600)
    assert budget.paused_for("t.me") > 0  # the host's pause is shared with every crawler
    assert g.last_result == "ok" and g.last_new == 3
    for row in (h, lp, lim):
        assert row.lease_until is None and row.failures == 1
    crawls = db_session.scalars(select(Crawl).where(Crawl.source_id == lim.id)).all()
    assert crawls[-1].http_status == 429 and crawls[-1].finished_at is not None


def test_endless_pagination_stops_at_the_page_limit_and_resumes(
    db_session: Session, session_factory: sessionmaker[Session], actor: Actor
) -> None:
    (src,) = _watch(db_session, actor, "https://t.me/synthendless")
    s = session_factory()
    row = s.get(Source, src.id)
    assert row is not None
    row.cursor = "5"  # a known floor far below: the channel claims endless history
    s.commit()
    endless = endless_tg("synthendless")
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(str(req.url))
        before = req.url.params.get("before")
        return httpx.Response(200, html=endless(int(before) if before else None))

    client = _client(handler)
    crawl_due(session_factory, client, source_ids=[src.id], config=CONFIG, budget=HostBudget())
    (row,) = _rows(session_factory, src.id)
    assert row.last_result == "partial" and "page limit" in row.last_reason
    assert row.checkpoint and row.checkpoint["before"] < 1_000_000_000
    assert len(seen) == CONFIG.limits.max_pages
    resume_at = row.checkpoint["before"]
    seen.clear()
    crawl_due(session_factory, client, source_ids=[src.id], config=CONFIG, budget=HostBudget())
    assert seen[0].endswith(f"?before={resume_at}")  # resumed, not restarted


def test_a_crash_mid_crawl_resumes_from_the_committed_checkpoint(
    db_session: Session, session_factory: sessionmaker[Session], actor: Actor
) -> None:
    (src,) = _watch(db_session, actor, "https://t.me/synthcrash")
    s = session_factory()
    row = s.get(Source, src.id)
    assert row is not None
    row.cursor = "100"
    s.commit()
    pages = {
        None: tg_page("synthcrash", list(range(180, 200)), more=True),
        180: tg_page("synthcrash", list(range(160, 180)), more=True),
        160: tg_page("synthcrash", list(range(140, 160)), more=True),
        140: tg_page("synthcrash", list(range(99, 140)), more=True),
    }
    fail_at = {160}

    def handler(req: httpx.Request) -> httpx.Response:
        b = req.url.params.get("before")
        key = int(b) if b else None
        if key in fail_at:
            raise httpx.ConnectError("connection reset (the worker died here)")
        return httpx.Response(200, html=pages[key])

    client = _client(handler)
    crawl_due(session_factory, client, source_ids=[src.id], config=CONFIG, budget=HostBudget())
    (row,) = _rows(session_factory, src.id)
    assert row.last_result == "error" and row.last_new == 40
    assert row.checkpoint == {"before": 160, "top": 199, "floor": 100, "pages": 2}
    assert row.cursor == "100"  # the cursor moves only when the crawl ends
    fail_at.clear()
    crawl_due(session_factory, client, source_ids=[src.id], config=CONFIG, budget=HostBudget())
    (row,) = _rows(session_factory, src.id)
    assert row.last_result == "ok" and row.last_new == 59  # 101..159, none twice
    assert row.cursor == "199" and row.checkpoint is None


def test_private_addresses_are_refused_by_the_guarded_client(
    db_session: Session, session_factory: sessionmaker[Session], actor: Actor
) -> None:
    (src,) = _watch(db_session, actor, "https://intranet-synthetic.example/")
    with make_sync_client(resolve={}) as guarded:
        s = session_factory()
        row = s.get(Source, src.id)
        assert row is not None
        row.url = "http://127.0.0.1:9/"
        s.commit()
        crawl_due(session_factory, guarded, source_ids=[src.id], config=CONFIG, budget=HostBudget())
    (row,) = _rows(session_factory, src.id)
    assert row.last_result == "error" and "blocked" in row.last_reason


def test_a_connector_bug_ends_that_source_only(
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from takedown.monitoring.connectors import telegram

    bad, good = _watch(db_session, actor, "https://t.me/synthbroken", "https://t.me/synthfine")
    real = telegram.parse_preview

    def buggy(channel: str, body: str) -> tuple[list[object], bool]:
        if channel == "synthbroken":
            raise KeyError("a parser bug")
        return real(channel, body)  # type: ignore[return-value]

    monkeypatch.setattr(telegram, "parse_preview", buggy)

    def handler(req: httpx.Request) -> httpx.Response:
        return _good(req.url.path.rsplit("/", 1)[-1])

    crawl_due(
        session_factory,
        _client(handler),
        source_ids=[bad.id, good.id],
        config=CONFIG,
        budget=HostBudget(),
    )
    b, g = _rows(session_factory, bad.id, good.id)
    assert g.last_result == "ok" and g.last_new == 3
    assert b.last_result == "error" and b.last_reason == "internal error: KeyError"
    assert b.lease_until is None
