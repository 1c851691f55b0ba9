"""The verification settings are honoured: the confirmation gap, the first-day recheck
interval and the scheduler's period come from ``Settings`` (production defaults unchanged)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from takedown.config import Settings, get_settings
from takedown.items.models import ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.kit.jobs import registered_tickers
from takedown.platforms.detectors.base import Outcome
from takedown.verification import repository
from takedown.verification.engine import CheckResult
from takedown.verification.policy import SchedulePolicy, policy_for
from takedown.verification.service import record_results, schedule_items
from tests.factories import make_actor
from tests.items.factories import make_assessed_item

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SEC = dt.timedelta(seconds=1)


def _check(
    session: Session, clock: FrozenClock, item_id: int, outcome: Outcome, policy: SchedulePolicy
) -> None:
    record_results(
        session,
        [CheckResult(item_id, "https://x.com/a/status/1", outcome, "test", "x", clock.now(), 200)],
        clock=clock,
        policy=policy,
    )


def test_the_production_defaults_are_unchanged() -> None:
    s = Settings()
    assert (s.verification_confirm_seconds, s.verification_recheck_seconds) == (300, 900)
    assert s.verification_tick_seconds == 60
    policy = policy_for(s.verification_confirm_seconds, s.verification_recheck_seconds)
    assert policy == SchedulePolicy()
    assert policy.confirm_after == dt.timedelta(minutes=5)
    assert policy.first_day_every == dt.timedelta(minutes=15)


def test_a_removal_is_confirmed_only_after_the_configured_gap(db_session: Session) -> None:
    s = Settings(verification_confirm_seconds=5, verification_recheck_seconds=7)
    policy = policy_for(s.verification_confirm_seconds, s.verification_recheck_seconds)
    clock = FrozenClock(T0)
    item = make_assessed_item(db_session, make_actor(db_session))
    schedule_items(db_session, [item.id], clock=clock)
    _check(db_session, clock, item.id, Outcome.ONLINE, policy)
    sched = repository.schedules_for(db_session, [item.id])[item.id]
    assert sched.next_check_at == T0 + 7 * SEC  # the first-day recheck interval
    clock.advance(7 * SEC)
    _check(db_session, clock, item.id, Outcome.REMOVED, policy)
    assert sched.next_check_at == clock.now() + 5 * SEC  # the confirming check, on time
    clock.advance(4 * SEC)  # before the gap: one more "removed" proves nothing yet
    _check(db_session, clock, item.id, Outcome.REMOVED, policy)
    assert sched.removed_confirmed_at is None
    assert item.status == ItemStatus.ASSESSED.value
    clock.advance(1 * SEC)  # five seconds after the first "removed" check
    _check(db_session, clock, item.id, Outcome.REMOVED, policy)
    assert sched.removed_confirmed_at == clock.now()
    assert item.status == ItemStatus.REMOVED.value
    assert sched.removed_at == T0 + 7 * SEC


def test_the_default_gap_does_not_confirm_after_a_few_seconds(db_session: Session) -> None:
    """The same checks under the production policy: not a removal (the setting matters)."""
    policy = policy_for(Settings().verification_confirm_seconds, 900)
    clock = FrozenClock(T0)
    item = make_assessed_item(db_session, make_actor(db_session))
    schedule_items(db_session, [item.id], clock=clock)
    _check(db_session, clock, item.id, Outcome.REMOVED, policy)
    clock.advance(5 * SEC)
    _check(db_session, clock, item.id, Outcome.REMOVED, policy)
    assert repository.schedules_for(db_session, [item.id])[item.id].removed_confirmed_at is None
    assert item.status == ItemStatus.ASSESSED.value


@pytest.mark.parametrize(("env", "period"), [(None, 60.0), ("2", 2.0)])
def test_the_scheduler_runs_on_the_configured_period(
    monkeypatch: pytest.MonkeyPatch, env: str | None, period: float
) -> None:
    import takedown.verification.tasks  # noqa: F401  (registers the ticker)

    if env is None:
        monkeypatch.delenv("TAKEDOWN_VERIFICATION_TICK_SECONDS", raising=False)
    else:
        monkeypatch.setenv("TAKEDOWN_VERIFICATION_TICK_SECONDS", env)
    get_settings.cache_clear()
    try:
        [tick] = [t for t in registered_tickers() if t.name == "verification.verify"]
        assert tick.period() == period
    finally:
        get_settings.cache_clear()


def test_the_settings_refuse_a_zero_gap() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(verification_confirm_seconds=0)
