"""When to check again, and when a removal counts: pure functions, no I/O.

The rule that protects the published numbers: an item counts as removed
only after two ``removed`` checks at least ``confirm_after`` apart, with no
``online`` or ``restricted`` check between them. ``unreachable`` and
``unknown`` neither confirm nor break the run: they say nothing.

*When* a confirmed removal happened (:func:`removal_instant`): the checks only
bracket it, after the last ``online`` check and no later than the first
``removed`` one. A platform that states its time of removal (Annex II, its
status API) dates it inside that bracket; its statement alone never makes a
removal, and one the checks contradict is not used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from takedown.platforms.detectors.base import Outcome


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    first_day: dt.timedelta = dt.timedelta(days=1)
    first_day_every: dt.timedelta = dt.timedelta(minutes=15)
    hourly_until: dt.timedelta = dt.timedelta(days=7)
    hourly_every: dt.timedelta = dt.timedelta(hours=1)
    daily_every: dt.timedelta = dt.timedelta(days=1)
    confirm_after: dt.timedelta = dt.timedelta(minutes=5)
    stop_after: dt.timedelta = dt.timedelta(days=183)  # TCO Art. 6: six months
    # An item still online this long after its referral is marked "still_online".
    still_online_after: dt.timedelta = dt.timedelta(hours=1)

    def interval(self, anchor: dt.datetime, now: dt.datetime) -> dt.timedelta:
        age = now - anchor
        if age < self.first_day:
            return self.first_day_every
        if age < self.hourly_until:
            return self.hourly_every
        return self.daily_every


def policy_for(
    confirm_seconds: float, recheck_seconds: float, base: SchedulePolicy | None = None
) -> SchedulePolicy:
    """The schedule with the deployment's confirmation gap and first-day recheck interval
    (``Settings.verification_confirm_seconds`` / ``verification_recheck_seconds``)."""
    return replace(
        base or SchedulePolicy(),
        confirm_after=dt.timedelta(seconds=confirm_seconds),
        first_day_every=dt.timedelta(seconds=recheck_seconds),
    )


class Transition(StrEnum):
    NONE = "none"
    REMOVED = "removed"  # confirmed
    REAPPEARED = "reappeared"
    RESTRICTED = "restricted"
    STILL_ONLINE = "still_online"
    ONLINE_AGAIN = "online_again"  # was restricted, now online


@dataclass(slots=True)
class State:
    """The schedule row's fields this module reads and writes."""

    anchor_at: dt.datetime
    last_outcome: str | None = None
    last_online_at: dt.datetime | None = None
    removed_since: dt.datetime | None = None
    removed_confirmed_at: dt.datetime | None = None
    removed_at: dt.datetime | None = None
    removed_observed_at: dt.datetime | None = None
    platform_removed_at: dt.datetime | None = None
    online_before_removal_at: dt.datetime | None = None
    reappeared_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Step:
    transition: Transition
    next_check_at: dt.datetime
    active: bool


def removal_instant(
    observed: dt.datetime, online_before: dt.datetime | None, stated: dt.datetime | None
) -> dt.datetime:
    """The time of a confirmed removal: the platform's statement when the checks agree with
    it (after the last ``online`` check before the removal, no later than its first
    ``removed`` check); otherwise that first ``removed`` check, the latest it can have been."""
    if stated is None or stated > observed:
        return observed
    if online_before is not None and stated <= online_before:
        return observed
    return stated


def apply(
    state: State,
    outcome: Outcome,
    at: dt.datetime,
    policy: SchedulePolicy,
    *,
    retry_after: float | None = None,
) -> Step:
    """Fold one check into ``state`` (mutated) and say what changed and when to look again."""
    transition = Transition.NONE
    confirmed = state.removed_confirmed_at is not None
    if outcome is Outcome.REMOVED:
        if state.removed_since is None:
            state.removed_since = at
            state.online_before_removal_at = state.last_online_at
        elif not confirmed and at - state.removed_since >= policy.confirm_after:
            state.removed_confirmed_at = at
            if state.removed_at is None:
                state.removed_observed_at = state.removed_since
                state.removed_at = removal_instant(
                    state.removed_since, state.online_before_removal_at, state.platform_removed_at
                )
            transition = Transition.REMOVED
    elif outcome is Outcome.RESTRICTED:
        # Access disabled is what an order asks for: it never undoes a confirmed removal,
        # but it does break an unconfirmed run of "removed" checks.
        if not confirmed:
            state.removed_since = None
            transition = Transition.RESTRICTED
    elif outcome is Outcome.ONLINE:
        if confirmed:
            state.reappeared_at = at
            state.removed_confirmed_at = None
            transition = Transition.REAPPEARED
        elif state.last_outcome == Outcome.RESTRICTED.value:
            transition = Transition.ONLINE_AGAIN
        elif at - state.anchor_at >= policy.still_online_after:
            transition = Transition.STILL_ONLINE
        state.removed_since = None
        state.last_online_at = at
    state.last_outcome = outcome.value

    nxt = at + policy.interval(state.anchor_at, at)
    if state.removed_since is not None and state.removed_confirmed_at is None:
        nxt = min(nxt, state.removed_since + policy.confirm_after)
        nxt = max(nxt, at + dt.timedelta(seconds=1))
    if retry_after is not None:
        nxt = max(nxt, at + dt.timedelta(seconds=retry_after))
    active = at - state.anchor_at < policy.stop_after
    return Step(transition, nxt, active)
