"""The transactional outbox, keyed effects and the dead-letter queue (#18.1), both engines."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.db import session_scope
from takedown.kit import jobs
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, NotFound
from takedown.runtime import deadletters, outbox
from takedown.runtime.models import DeadJob, OutboxJob, OutboxState

EFFECTS: list[str] = []


@jobs.job("test.runtime.effect")
def effect_job(key: str) -> None:
    EFFECTS.append(key)


@jobs.job("test.runtime.poison")
def poison_job(n: int) -> None:
    raise ValueError(f"malformed payload {n}")


class Sent:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail = fail

    def __call__(self, name: str, **kwargs: Any) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.calls.append((name, kwargs))


def _row(session_factory: sessionmaker[Session], outbox_id: int) -> OutboxJob:
    with session_scope(session_factory) as s:
        row = s.get(OutboxJob, outbox_id)
        assert row is not None
        return row


def test_a_job_commits_and_rolls_back_with_its_rows(session_factory: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), session_scope(session_factory) as s:
        outbox.record(s, "test.runtime.effect", {"key": "a"}, key="rolled-back")
        raise RuntimeError("the request failed after recording its job")
    send = Sent()
    outbox.relay_once(session_factory, send)
    assert send.calls == []

    with session_scope(session_factory) as s:
        assert outbox.record(s, "test.runtime.effect", {"key": "b"}, key="k1")
        assert not outbox.record(s, "test.runtime.effect", {"key": "b"}, key="k1")
    assert outbox.relay_once(session_factory, send) == 1
    ((name, kwargs),) = send.calls
    assert name == "test.runtime.effect" and kwargs["key"] == "b"
    assert _row(session_factory, kwargs[jobs.OUTBOX_KWARG]).state == OutboxState.RELAYED
    assert outbox.relay_once(session_factory, send) == 0  # not sent twice in a row


def test_a_broker_outage_after_commit_loses_nothing(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as s:
        outbox.record(s, "test.runtime.effect", {"key": "c"}, key="k-outage")
    assert outbox.relay_once(session_factory, Sent(fail=True)) == 0
    send = Sent()
    assert outbox.relay_once(session_factory, send) == 1
    assert [c[1]["key"] for c in send.calls] == ["c"]


def test_a_relayed_job_not_done_is_sent_again_then_not_after_done(
    session_factory: sessionmaker[Session],
) -> None:
    clock = FrozenClock(dt.datetime.now(dt.UTC))
    with session_scope(session_factory) as s:
        outbox.record(s, "test.runtime.effect", {"key": "d"}, key="k-lost", clock=clock)
    send = Sent()
    after = dt.timedelta(minutes=5)
    outbox.relay_once(session_factory, send, redeliver_after=after, clock=clock)
    clock.advance(dt.timedelta(minutes=4))
    assert outbox.relay_once(session_factory, send, redeliver_after=after, clock=clock) == 0
    clock.advance(dt.timedelta(minutes=2))  # the broker lost it: sent again
    assert outbox.relay_once(session_factory, send, redeliver_after=after, clock=clock) == 1
    outbox_id = send.calls[-1][1][jobs.OUTBOX_KWARG]
    jobs.set_ledger(deadletters.DatabaseLedger(session_factory, clock))
    try:
        jobs.run_job("test.runtime.effect", send.calls[-1][1], attempt=1, max_attempts=3)
    finally:
        jobs.set_ledger(None)
    assert _row(session_factory, outbox_id).state == OutboxState.DONE
    clock.advance(dt.timedelta(hours=1))
    assert outbox.relay_once(session_factory, send, redeliver_after=after, clock=clock) == 0


def test_an_effect_key_is_claimed_once(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as s:
        assert outbox.claim_effect(s, "item:1:round:7", "verify")
        assert not outbox.claim_effect(s, "item:1:round:7", "verify")
    with pytest.raises(RuntimeError), session_scope(session_factory) as s:
        assert outbox.claim_effect(s, "item:2:round:7", "verify")
        raise RuntimeError("the effect failed: its key goes with it")
    with session_scope(session_factory) as s:
        assert outbox.claim_effect(s, "item:2:round:7", "verify")


def test_poison_jobs_go_to_the_dead_letter_queue_after_capped_attempts(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as s:
        outbox.record(s, "test.runtime.poison", {"n": 7}, key="k-poison")
    jobs.set_ledger(deadletters.DatabaseLedger(session_factory))
    d = jobs.InProcessDispatcher(max_attempts=3, backoff=0)
    send = Sent()  # sent after the relay's commit: the test's sessions share one connection
    try:
        outbox.relay_once(session_factory, send)
        for name, kwargs in send.calls:
            d.enqueue(name, **kwargs)
        d.drain(timeout=10)
    finally:
        d.close()
        jobs.set_ledger(None)
    with session_scope(session_factory) as s:
        (dead,) = deadletters.failed(s)
        assert dead.job == "test.runtime.poison" and dead.kwargs == {"n": 7}
        assert dead.attempts == 3 and "malformed payload 7" in dead.error
        assert s.get(OutboxJob, dead.outbox_id).state == OutboxState.DEAD  # type: ignore[union-attr]
        new_id = deadletters.retry(s, dead.id)
        with pytest.raises(Conflict, match="already retried"):
            deadletters.retry(s, dead.id)
        with pytest.raises(NotFound):
            deadletters.retry(s, 999_999)
        assert deadletters.failed(s) == []
        assert s.get(OutboxJob, new_id).state == OutboxState.PENDING  # type: ignore[union-attr]


def test_a_job_failing_before_its_last_attempt_is_raised_for_a_retry() -> None:
    with pytest.raises(ValueError):
        jobs.run_job("test.runtime.poison", {"n": 1}, attempt=1, max_attempts=2)


def test_without_a_ledger_the_last_failure_is_raised_for_the_brokers_own_queue() -> None:
    with pytest.raises(ValueError):
        jobs.run_job("test.runtime.poison", {"n": 1}, attempt=2, max_attempts=2)


def test_an_unknown_job_in_the_outbox_is_dead_lettered_not_retried_forever(
    session_factory: sessionmaker[Session],
) -> None:
    with session_scope(session_factory) as s:
        outbox.record(s, "test.runtime.renamed-away", key="k-unknown")
    d = jobs.InProcessDispatcher(max_attempts=1, backoff=0)
    try:
        assert outbox.relay_once(session_factory, d.enqueue) == 0
    finally:
        d.close()
    with session_scope(session_factory) as s:
        rows = s.scalars(select(DeadJob).where(DeadJob.job == "test.runtime.renamed-away")).all()
        assert len(rows) == 1 and "no job named" in rows[0].error


@pytest.mark.postgres
def test_two_relays_never_send_the_same_row_in_one_round(pg_engine: Any) -> None:
    from takedown.db import make_sessionmaker

    factory = make_sessionmaker(pg_engine)
    with session_scope(factory) as s:
        for i in range(40):
            outbox.record(s, "test.runtime.effect", {"key": str(i)}, key=f"k-race-{i}")
    sends = [Sent(), Sent()]
    threads = [
        threading.Thread(target=outbox.relay_once, args=(factory, sends[i]), kwargs={"limit": 25})
        for i in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = [c[1][jobs.OUTBOX_KWARG] for s in sends for c in s.calls]
    assert len(ids) == len(set(ids)) == 40
    with session_scope(factory) as s:
        s.execute(OutboxJob.__table__.delete())
