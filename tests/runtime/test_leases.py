"""Leases for singleton work: one holder at a time, a dead holder's lease expires, and a
periodic job runs once per period across processes (#18.1)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import make_sessionmaker, session_scope
from takedown.kit.clock import FrozenClock
from takedown.kit.jobs import Ticker, TickerThread
from takedown.runtime import leases
from takedown.runtime import repository as repo

TTL = dt.timedelta(seconds=30)


def test_one_holder_and_a_dead_holders_lease_expires(
    session_factory: sessionmaker[Session],
) -> None:
    clock = FrozenClock(dt.datetime(2026, 5, 1, tzinfo=dt.UTC))

    def take(who: str) -> bool:
        return leases.try_acquire(session_factory, "index.build", holder=who, ttl=TTL, clock=clock)

    assert take("worker-a")
    assert not take("worker-b")
    assert take("worker-a")  # ours already: taken again (a re-entrant start)
    clock.advance(dt.timedelta(seconds=20))
    assert leases.renew(session_factory, "index.build", holder="worker-a", ttl=TTL, clock=clock)
    clock.advance(dt.timedelta(seconds=29))
    assert not take("worker-b")  # renewed: still a's
    clock.advance(dt.timedelta(seconds=2))  # worker-a was SIGKILLed and stopped renewing
    assert take("worker-b")
    # worker-a comes back from a stall: its renewal fails, so it knows to stop
    assert not leases.renew(session_factory, "index.build", holder="worker-a", ttl=TTL, clock=clock)
    leases.release(session_factory, "index.build", holder="worker-a", clock=clock)  # no effect
    assert not take("worker-c")
    leases.release(session_factory, "index.build", holder="worker-b", clock=clock)
    assert take("worker-c")


def test_min_interval_spaces_a_periodic_job_across_processes(
    session_factory: sessionmaker[Session],
) -> None:
    clock = FrozenClock(dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    every = dt.timedelta(seconds=60)

    def run(who: str) -> bool:
        if not leases.try_acquire(
            session_factory, "ticker:x", holder=who, ttl=TTL, min_interval=every, clock=clock
        ):
            return False
        leases.release(session_factory, "ticker:x", holder=who, clock=clock)
        return True

    assert run("a")
    assert not run("b")  # a ran it a moment ago
    clock.advance(dt.timedelta(seconds=59))
    assert not run("a") and not run("b")
    clock.advance(dt.timedelta(seconds=2))
    assert run("b")
    with session_scope(session_factory) as s:
        (lease,) = [x for x in repo.leases(s) if x.name == "ticker:x"]
        assert lease.runs == 2 and lease.holder is None


def test_a_lease_released_after_a_failed_run_does_not_count_as_run(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), leases.singleton(session_factory, "job:y") as held:
        assert held.ok
        raise RuntimeError("the work failed")
    with session_scope(session_factory) as s:
        (lease,) = [x for x in repo.leases(s) if x.name == "job:y"]
        assert lease.holder is None and lease.last_run_at is None


@pytest.mark.postgres
def test_threads_racing_for_a_singleton_never_overlap(pg_engine: Any) -> None:
    factory = make_sessionmaker(pg_engine)
    inside = 0
    most = 0
    runs = 0
    lock = threading.Lock()
    go = threading.Barrier(6)

    def worker(i: int) -> None:
        nonlocal inside, most, runs
        go.wait()
        for _ in range(5):
            with leases.singleton(factory, "race", holder=f"w{i}") as held:
                if not held.ok:
                    continue
                with lock:
                    inside += 1
                    most = max(most, inside)
                    runs += 1
                threading.Event().wait(0.01)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1 and runs >= 1
    with session_scope(factory) as s:
        s.execute(repo.Lease.__table__.delete())


def test_ticker_thread_runs_a_ticker_only_where_the_guard_lets_it() -> None:
    from contextlib import contextmanager

    calls: list[str] = []
    seen = threading.Event()

    @contextmanager
    def guard(t: Ticker):  # type: ignore[no-untyped-def]
        seen.set()
        yield t.name == "mine"

    tickers = [Ticker("mine", 0.01, lambda: calls.append("mine")),
               Ticker("theirs", 0.01, lambda: calls.append("theirs"))]  # fmt: skip
    thread = TickerThread(tickers, resolution=0.01, guard=guard)
    thread.start()
    seen.wait(5)
    thread.stop()
    assert "mine" in calls and "theirs" not in calls


def test_heartbeats_are_seen_and_forgotten_on_a_clean_stop(
    session_factory: sessionmaker[Session],
) -> None:
    hb = leases.Heartbeat(session_factory, "worker", worker_id="host:1:abc")
    hb.beat()
    with session_scope(session_factory) as s:
        assert [w.id for w in repo.workers(s)] == ["host:1:abc"]
    hb.stop()  # never started: stop only forgets it
    with session_scope(session_factory) as s:
        assert repo.workers(s) == []
