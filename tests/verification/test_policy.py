"""The confirmation rule and the schedule, as pure functions."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from takedown.platforms.detectors.base import Outcome
from takedown.verification.policy import (
    SchedulePolicy,
    State,
    Transition,
    apply,
    removal_instant,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
P = SchedulePolicy()
MIN = dt.timedelta(minutes=1)


def run(
    outcomes: list[tuple[int, Outcome]], policy: SchedulePolicy = P
) -> tuple[State, list[Transition]]:
    st_ = State(anchor_at=T0)
    return st_, [apply(st_, o, T0 + m * MIN, policy).transition for m, o in outcomes]


def test_one_removed_check_is_not_a_removal() -> None:
    state, tr = run([(0, Outcome.REMOVED)])
    assert tr == [Transition.NONE] and state.removed_at is None


def test_two_removed_checks_too_close_do_not_confirm() -> None:
    _, tr = run([(0, Outcome.REMOVED), (2, Outcome.REMOVED)])
    assert tr == [Transition.NONE, Transition.NONE]


def test_two_removed_checks_minutes_apart_confirm_at_the_first() -> None:
    state, tr = run([(0, Outcome.ONLINE), (15, Outcome.REMOVED), (20, Outcome.REMOVED)])
    assert tr[-1] is Transition.REMOVED
    assert state.removed_at == T0 + 15 * MIN
    assert state.online_before_removal_at == T0


def test_online_between_removed_checks_resets_the_run() -> None:
    _, tr = run([(0, Outcome.REMOVED), (6, Outcome.ONLINE), (12, Outcome.REMOVED)])
    assert Transition.REMOVED not in tr


def test_unreachable_between_removed_checks_neither_confirms_nor_breaks() -> None:
    _, tr = run([(0, Outcome.REMOVED), (3, Outcome.UNREACHABLE), (6, Outcome.REMOVED)])
    assert tr == [Transition.NONE, Transition.NONE, Transition.REMOVED]


def test_confirmation_gap_is_configurable() -> None:
    slow = SchedulePolicy(confirm_after=dt.timedelta(minutes=30))
    _, tr = run([(0, Outcome.REMOVED), (20, Outcome.REMOVED), (31, Outcome.REMOVED)], slow)
    assert tr == [Transition.NONE, Transition.NONE, Transition.REMOVED]


def test_back_online_after_a_confirmed_removal_is_reappeared() -> None:
    state, tr = run([(0, Outcome.REMOVED), (5, Outcome.REMOVED), (60, Outcome.ONLINE)])
    assert tr[-1] is Transition.REAPPEARED and state.removed_at == T0  # the statistic stays


def test_restricted_after_removal_does_not_undo_it() -> None:
    _, tr = run([(0, Outcome.REMOVED), (5, Outcome.REMOVED), (60, Outcome.RESTRICTED)])
    assert tr[-1] is Transition.NONE


def test_still_online_after_the_grace_period() -> None:
    _, tr = run([(0, Outcome.ONLINE), (61, Outcome.ONLINE)])
    assert tr == [Transition.NONE, Transition.STILL_ONLINE]


def test_schedule_decays() -> None:
    assert P.interval(T0, T0 + dt.timedelta(hours=3)) == dt.timedelta(minutes=15)
    assert P.interval(T0, T0 + dt.timedelta(days=2)) == dt.timedelta(hours=1)
    assert P.interval(T0, T0 + dt.timedelta(days=10)) == dt.timedelta(days=1)


def test_a_first_removed_check_brings_the_confirmation_forward() -> None:
    state = State(anchor_at=T0 - dt.timedelta(days=3))  # hourly phase
    step = apply(state, Outcome.REMOVED, T0, P)
    assert step.next_check_at == T0 + P.confirm_after


def test_retry_after_pushes_the_next_check() -> None:
    step = apply(State(anchor_at=T0), Outcome.UNREACHABLE, T0, P, retry_after=3600)
    assert step.next_check_at == T0 + dt.timedelta(hours=1)


OUT = st.sampled_from(list(Outcome))


@given(st.lists(st.tuples(st.integers(0, 10_000), OUT), max_size=40))
def test_no_removal_without_two_removed_checks_apart(seq: list[tuple[int, Outcome]]) -> None:
    seq = sorted(seq, key=lambda x: x[0])
    state = State(anchor_at=T0)
    removed_times: list[int] = []
    for minute, outcome in seq:
        step = apply(state, outcome, T0 + minute * MIN, P)
        if outcome is Outcome.REMOVED:
            removed_times.append(minute)
        if step.transition is Transition.REMOVED:
            assert outcome is Outcome.REMOVED
            assert len(removed_times) >= 2
            assert removed_times[-1] - min(removed_times) >= 5
        assert step.next_check_at > T0 + minute * MIN


def test_removal_instant_uses_the_platforms_time_only_inside_the_checks_bracket() -> None:
    online, seen = T0, T0 + 15 * MIN
    assert removal_instant(seen, online, None) == seen  # no statement: the first removed check
    assert removal_instant(seen, online, T0 + 7 * MIN) == T0 + 7 * MIN
    assert removal_instant(seen, online, seen) == seen
    assert removal_instant(seen, None, T0 - 60 * MIN) == T0 - 60 * MIN  # never seen online
    # contradicted by our own checks: still online then, or already seen removed before
    assert removal_instant(seen, online, online) == seen
    assert removal_instant(seen, online, T0 - MIN) == seen
    assert removal_instant(seen, online, seen + MIN) == seen


def test_a_stated_time_dates_a_confirmed_removal_but_never_makes_one() -> None:
    state = State(anchor_at=T0, platform_removed_at=T0 + 9 * MIN)
    apply(state, Outcome.ONLINE, T0, P)
    apply(state, Outcome.REMOVED, T0 + 15 * MIN, P)
    assert state.removed_at is None  # the claim plus one check is not a removal
    assert apply(state, Outcome.REMOVED, T0 + 20 * MIN, P).transition is Transition.REMOVED
    assert state.removed_at == T0 + 9 * MIN
    assert state.removed_observed_at == T0 + 15 * MIN
