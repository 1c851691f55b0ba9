"""A killed worker (#19.6): its observations are kept (committed in small batches), its
leases are short, renewed while it works and released at once when it is found dead, and
a request's page says what it waits for."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.bootstrap import wire_hooks
from takedown.config import Settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.migrate import upgrade
from takedown.verification import repository
from takedown.verification.engine import EngineConfig
from takedown.verification.models import Check, CheckSchedule
from takedown.verification.requests import progress, request_checks
from takedown.verification.service import verify_due
from takedown.verification.views import _detail
from tests.factories import make_actor
from tests.verification.factories import scheduled_item

FAST = EngineConfig(retries=1, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)


class Killed(BaseException):
    """Stands for SIGKILL inside the run: nothing after it runs in the engine."""


def _gone(request: httpx.Request) -> httpx.Response:
    return httpx.Response(404, text="<html><body>This page doesn't exist</body></html>")


def test_a_killed_run_keeps_what_it_observed(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    session, factory = committing_db
    actor = make_actor(session)
    ids = [scheduled_item(session, actor) for _ in range(30)]
    session.commit()
    seen = 0

    def kill_after_25(_r: object) -> None:
        nonlocal seen
        seen += 1
        if seen == 25:
            raise Killed

    with pytest.raises(Killed):
        verify_due(
            factory,
            lambda: httpx.AsyncClient(transport=httpx.MockTransport(_gone)),
            engine_config=FAST,
            on_result=kill_after_25,
        )
    session.commit()
    kept = session.scalar(select(func.count()).select_from(Check).where(Check.item_id.in_(ids)))
    assert kept is not None and kept >= 20, f"only {kept} of 24 observations survived the kill"
    # A removal is dated by those real observations, not by a check made after a restart.
    first_seen = dict(
        session.execute(
            select(Check.item_id, func.min(Check.checked_at))
            .where(Check.item_id.in_(ids))
            .group_by(Check.item_id)
        ).all()
    )
    scheds = repository.schedules_for(session, list(first_seen))
    assert all(scheds[i].removed_since == t for i, t in first_seen.items())


def test_leases_are_renewed_while_the_run_works(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    session, factory = committing_db
    actor = make_actor(session)
    item_id = scheduled_item(session, actor)
    session.commit()
    lease = dt.timedelta(seconds=1.5)
    observed: list[tuple[dt.datetime, dt.datetime | None]] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        started = dt.datetime.now(dt.UTC)
        await asyncio.sleep(lease.total_seconds() * 2)  # longer than the first lease
        with session_scope(factory) as s:
            observed.append((started, s.get_one(CheckSchedule, item_id).lease_until))
        return _gone(request)

    verify_due(
        factory,
        lambda: httpx.AsyncClient(transport=httpx.MockTransport(slow)),
        engine_config=FAST,
        lease=lease,
    )
    [(started, until)] = observed
    assert until is not None and until > started + lease, "the lease was not renewed"
    session.commit()
    assert session.get_one(CheckSchedule, item_id).lease_until is None  # released when done


CLAIM_AND_DIE = """
import datetime as dt, os, signal, sys
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.kit import leases
from takedown.verification import repository
factory = make_sessionmaker(make_engine(sys.argv[1]))
now = dt.datetime.now(dt.UTC)
with session_scope(factory) as s:
    got = repository.claim_due(s, now, 100, now + dt.timedelta(minutes=2),
                               owner=leases.owner_id("verify"))
print(len(got), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_dead_workers_leases_are_released_on_restart_and_the_page_says_why(
    tmp_path: Path, settings: Settings
) -> None:
    wire_hooks(settings)
    url = f"sqlite:///{tmp_path / 'crash.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:
        actor = make_actor(s)
        ids = [scheduled_item(s, actor) for _ in range(5)]
        req = request_checks(s, actor.principal, "item", ids[0])
    worker = subprocess.run(
        [sys.executable, "-c", CLAIM_AND_DIE, url],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert worker.returncode == -9 and worker.stdout.strip() == "5", worker.stderr[-2000:]
    with session_scope(factory) as s:
        p = progress(s, req)
        assert (p.checked, p.running, p.queued) == (0, 1, 0)
        assert "being checked now" in _detail(req, p, "5 minutes")
        # the restart (``takedown serve`` / ``takedown worker`` start hooks)
        assert repository.release_dead_leases(s) == 5
    with session_scope(factory) as s:
        p = progress(s, req)
        assert (p.checked, p.running, p.queued) == (0, 0, 1)
        assert "waiting for a checker" in _detail(req, p, "5 minutes")
    rep = verify_due(
        factory,
        lambda: httpx.AsyncClient(transport=httpx.MockTransport(_gone)),
        engine_config=FAST,
    )
    assert rep.due == 5  # at once, not when the dead worker's leases would have expired
    with session_scope(factory) as s:
        assert progress(s, req).finished
    engine.dispose()


def test_a_run_that_lost_an_items_lease_records_no_second_check(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    """A stalled run whose lease expired and was taken by another run (#18.4): its late
    result for that item is dropped, so the item is checked once in the round."""
    from sqlalchemy import update

    session, factory = committing_db
    actor = make_actor(session)
    ids = [scheduled_item(session, actor) for _ in range(3)]
    session.commit()
    other = "elsewhere:1:deadbeef:verify"
    taken: list[int] = []

    def taken_meanwhile(_r: object) -> None:
        if not taken:
            with session_scope(factory) as s:
                s.execute(
                    update(CheckSchedule)
                    .where(CheckSchedule.item_id == ids[0])
                    .values(lease_owner=other, lease_until=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
                )
            taken.append(ids[0])

    verify_due(
        factory,
        lambda: httpx.AsyncClient(transport=httpx.MockTransport(_gone)),
        engine_config=FAST,
        on_result=taken_meanwhile,
    )
    session.expire_all()
    checks = dict(
        session.execute(
            select(Check.item_id, func.count())
            .where(Check.item_id.in_(ids))
            .group_by(Check.item_id)
        ).all()
    )
    assert checks == {ids[1]: 1, ids[2]: 1}
    sched = repository.schedules_for(session, [ids[0]])[ids[0]]
    assert sched.lease_owner == other and sched.checks == 0
