"""Scheduling: adaptive intervals, surge during an operation's window, backoff, Retry-After;
and the per-host politeness budget shared by every crawler in the process."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.kit.politeness import HostBudget, shared_budget
from takedown.monitoring import service
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from takedown.monitoring.models import Source
from takedown.monitoring.policy import SchedulePolicy
from tests.factories import make_actor
from tests.monitoring.mockweb import tg_page
from tests.operations.factories import make_operation

P = SchedulePolicy()
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def test_interval_shortens_while_a_source_posts_and_lengthens_while_quiet() -> None:
    base = 1800
    assert P.next_interval(1800, base, new_items=4) == 900
    assert P.next_interval(1800, base, new_items=0) == 2700
    i = base
    for _ in range(20):
        i = P.next_interval(i, base, new_items=3)
    assert i == base // 4  # floor
    for _ in range(40):
        i = P.next_interval(i, base, new_items=0)
    assert i == base * 8  # ceiling


def test_a_quiet_channel_room_or_account_slows_to_one_and_a_half_of_its_base_only() -> None:
    # Successors are announced there: an announcement must be read within ~1 interval.
    for kind in ("telegram", "rocketchat", "account"):
        base = P.base_for(kind)
        i = base
        for _ in range(40):
            i = P.next_interval(i, base, new_items=0, kind=kind)
        assert i == int(base * 1.5), kind
        assert P.next_interval(i, base, new_items=2, kind=kind) == int(base * 0.75)
    site = P.base_for("website")
    i = site
    for _ in range(40):
        i = P.next_interval(i, site, new_items=0, kind="website")
    assert i == site * 8  # a website is read rarely while quiet


def test_surge_failures_and_retry_after() -> None:
    assert P.next_due(NOW, 7200, surge=True) == NOW + dt.timedelta(seconds=P.surge_s)
    assert P.next_due(NOW, 7200, surge=False) == NOW + dt.timedelta(seconds=7200)
    assert P.next_due(NOW, 600, surge=False, failures=3) == NOW + dt.timedelta(seconds=2400)
    assert P.next_due(NOW, 600, surge=True, retry_after=3600) == NOW + dt.timedelta(hours=1)


def test_budget_spaces_requests_per_host_and_shares_pauses() -> None:
    t = [0.0]
    budget = HostBudget(2.0, monotonic=lambda: t[0], sleep=lambda s: None)
    assert [budget.reserve("t.me") for _ in range(3)] == [0.0, 0.5, 1.0]
    assert budget.reserve("x.com") == 0.0  # another host has its own budget
    budget.pause("x.com", 30)
    assert budget.reserve("x.com") == 30.0
    assert budget.granted("t.me") == 3
    assert shared_budget() is shared_budget()


def test_a_source_watched_for_an_open_operation_surges(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    actor = make_actor(db_session, role="supervisor")
    op = make_operation(db_session, actor)
    op.starts_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    op.ends_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    calm, _ = service.add_source(db_session, actor.principal, "https://t.me/synthcalm")
    surge, _ = service.add_source(
        db_session, actor.principal, "https://t.me/synthsurge", operation_id=op.id
    )
    db_session.commit()

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, html=tg_page(req.url.path.rsplit("/", 1)[-1], [1], more=False))

    before = dt.datetime.now(dt.UTC)
    crawl_due(
        session_factory,
        httpx.Client(transport=httpx.MockTransport(handler)),
        source_ids=[calm.id, surge.id],
        config=CrawlConfig(match=False),
        budget=HostBudget(),
    )
    s = session_factory()
    c, g = s.get(Source, calm.id), s.get(Source, surge.id)
    assert c is not None and g is not None
    assert g.next_due_at <= before + dt.timedelta(seconds=P.surge_s + 60)
    assert c.next_due_at >= before + dt.timedelta(seconds=c.base_interval_s // 4)
    assert c.interval_s == g.interval_s == 900  # both posted: the interval halved


def test_only_due_sources_are_taken_and_leased(
    db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    from takedown.monitoring import repository

    actor = make_actor(db_session)
    due, _ = service.add_source(db_session, actor.principal, "https://t.me/synthdue")
    later, _ = service.add_source(db_session, actor.principal, "https://t.me/synthlater")
    later.next_due_at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    db_session.flush()
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    taken = repository.claim_due(db_session, now, 10, now + dt.timedelta(minutes=10))
    ids = {s.id for s in taken}
    assert due.id in ids and later.id not in ids
    again = repository.claim_due(db_session, now, 10, now + dt.timedelta(minutes=10))
    assert not {s.id for s in again} & ids  # leased to the first run
