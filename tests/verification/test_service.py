"""Recording checks: schedules advance, statuses move, removals need confirmation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from takedown.items.models import ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.platforms.detectors.base import Outcome
from takedown.verification import repository, service
from takedown.verification.engine import CheckResult
from takedown.verification.service import (
    record_platform_removal,
    record_results,
    removal_times,
    schedule_items,
    summarize,
)
from tests.factories import make_actor
from tests.items.factories import make_assessed_item

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def _check(session: Session, clock: FrozenClock, item_id: int, outcome: Outcome) -> None:
    record_results(
        session,
        [CheckResult(item_id, "https://x.com/a/status/1", outcome, "test", "x", clock.now(), 200)],
        clock=clock,
    )


def test_removed_needs_two_checks_then_reappears(db_session: Session) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    item = make_assessed_item(db_session, actor)
    assert schedule_items(db_session, [item.id], clock=clock) == 1
    assert schedule_items(db_session, [item.id], clock=clock) == 0  # idempotent
    _check(db_session, clock, item.id, Outcome.ONLINE)
    sched = repository.schedules_for(db_session, [item.id])[item.id]
    assert sched.next_check_at == T0 + dt.timedelta(minutes=15)
    clock.advance(dt.timedelta(minutes=15))
    _check(db_session, clock, item.id, Outcome.REMOVED)
    assert item.status == ItemStatus.ASSESSED.value  # one check proves nothing
    assert sched.next_check_at == clock.now() + dt.timedelta(minutes=5)
    clock.advance(dt.timedelta(minutes=2))
    _check(db_session, clock, item.id, Outcome.UNREACHABLE)
    assert item.status == ItemStatus.ASSESSED.value
    clock.advance(dt.timedelta(minutes=3))
    _check(db_session, clock, item.id, Outcome.REMOVED)
    assert item.status == ItemStatus.REMOVED.value
    [t] = removal_times(db_session, [item.id])
    assert t.seconds == 15 * 60 and t.lower_bound_seconds == 0
    stats = summarize([t])
    assert stats.removed == 1 and stats.removed_within_1h == 1 and stats.share_within_1h == 1.0
    clock.advance(dt.timedelta(hours=3))
    _check(db_session, clock, item.id, Outcome.ONLINE)
    assert item.status == ItemStatus.REAPPEARED.value
    assert sched.removed_at == T0 + dt.timedelta(minutes=15)  # the statistic stays


def test_claim_due_leases_and_nothing_is_claimed_twice(db_session: Session) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    items = [make_assessed_item(db_session, actor) for _ in range(3)]
    schedule_items(db_session, [i.id for i in items], clock=clock)
    first = repository.claim_due(db_session, T0, 2, T0 + dt.timedelta(minutes=30))
    second = repository.claim_due(db_session, T0, 10, T0 + dt.timedelta(minutes=30))
    assert len(first) == 2 and len(second) == 1
    assert {i for i, _ in first} | {i for i, _ in second} == {i.id for i in items}
    # an expired lease makes the item due again (a crashed run loses nothing)
    later = T0 + dt.timedelta(minutes=31)
    assert len(repository.claim_due(db_session, later, 10, later + dt.timedelta(minutes=30))) == 3


def test_platform_stated_time_dates_a_removal_in_either_order(db_session: Session) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    first, second, unconfirmed = (make_assessed_item(db_session, actor) for _ in range(3))
    ids = [first.id, second.id, unconfirmed.id]
    schedule_items(db_session, ids, clock=clock)
    receipt = T0 + dt.timedelta(seconds=30)
    # stated before verification confirms; never before the referral's receipt
    assert record_platform_removal(db_session, unconfirmed.id, T0, received_at=receipt) == receipt
    early = T0 - 5 * MIN
    assert record_platform_removal(db_session, first.id, early, received_at=T0 - 9 * MIN) == early
    for i in ids:
        _check(db_session, clock, i, Outcome.ONLINE)
    clock.advance(dt.timedelta(minutes=15))
    for i in ids[:2]:
        _check(db_session, clock, i, Outcome.REMOVED)
    clock.advance(dt.timedelta(minutes=5))
    for i in ids[:2]:
        _check(db_session, clock, i, Outcome.REMOVED)
    # stated after verification confirmed
    record_platform_removal(db_session, second.id, T0 + 4 * MIN, received_at=T0)
    scheds = repository.schedules_for(db_session, ids)
    times = {t.item_id: t for t in removal_times(db_session, ids)}
    # the first was seen online at T0, after its stated removal: contradicted, so the check
    assert scheds[first.id].removed_at == T0 + 15 * MIN and times[first.id].source == "check"
    assert times[second.id].removed_at == T0 + 4 * MIN and times[second.id].source == "platform"
    assert times[second.id].seconds == 4 * 60
    assert scheds[second.id].removed_observed_at == T0 + 15 * MIN
    # a claim with no confirmed removal counts nothing
    assert times[unconfirmed.id].removed_at is None and unconfirmed.status != "removed"
    assert summarize(list(times.values())).removed == 2
    # an earlier statement wins; a later one changes nothing
    record_platform_removal(db_session, second.id, T0 + 10 * MIN, received_at=T0)
    assert scheds[second.id].removed_at == T0 + 4 * MIN


def test_a_removal_the_platform_already_declared_is_still_confirmed_once(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Annex II set the status to "removed" before the checks: the confirmation still
    counts and still reaches the hooks (evidence's removed-content bank), exactly once."""
    confirmed: list[int] = []
    monkeypatch.setattr(service, "on_removal_confirmed", [lambda _s, i: confirmed.append(i)])
    clock = FrozenClock(T0)
    item = make_assessed_item(db_session, make_actor(db_session))
    schedule_items(db_session, [item.id], clock=clock)
    item.status = ItemStatus.REMOVED.value  # the platform's word (Annex II)
    first = record_results(db_session, [_result(item.id, Outcome.REMOVED, clock)], clock=clock)
    assert first.removed == 0 and confirmed == []  # one check proves nothing
    clock.advance(dt.timedelta(minutes=6))
    second = record_results(db_session, [_result(item.id, Outcome.REMOVED, clock)], clock=clock)
    assert second.removed == 1 and confirmed == [item.id]
    assert repository.schedules_for(db_session, [item.id])[item.id].removed_at == T0
    clock.advance(dt.timedelta(minutes=15))
    third = record_results(db_session, [_result(item.id, Outcome.REMOVED, clock)], clock=clock)
    assert third.removed == 0 and confirmed == [item.id]
    assert item.status == ItemStatus.REMOVED.value


def _result(item_id: int, outcome: Outcome, clock: FrozenClock) -> CheckResult:
    return CheckResult(item_id, "https://x.com/a/status/1", outcome, "test", "x", clock.now(), 200)
