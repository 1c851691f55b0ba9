"""Taking a host's slot: a request woken late books again instead of bunching up.

A fake clock and sleeper: the sleeper advances the clock by the wait plus a chosen
lateness (a loaded machine's late wake-up), so nothing here waits or depends on timing.
"""

from __future__ import annotations

import asyncio

import pytest

from takedown.kit.host_budget import MAX_REBOOKS, LocalHostBudget, take_slot, take_slot_async


class Clock:
    def __init__(self, lateness: list[float]) -> None:
        self.t = 100.0
        self.lateness = lateness  # extra seconds each successive sleep oversleeps
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds + (self.lateness.pop(0) if self.lateness else 0.0)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


class Budget:
    """Slots every 1/rate on the fake clock (a LocalHostBudget on the test's time)."""

    def __init__(self, clock: Clock, rate: float) -> None:
        self.rate = rate
        self.clock = clock
        self.next = 0.0
        self.booked = 0

    def reserve(self, host: str) -> float:
        self.booked += 1
        slot = max(self.clock.t, self.next)
        self.next = slot + 1.0 / self.rate
        return slot - self.clock.t


class Busy(Budget):
    def reserve(self, host: str) -> float:
        self.booked += 1
        return 0.1


def test_an_on_time_request_books_one_slot() -> None:
    clock = Clock([0.01])
    budget = Budget(clock, rate=10)
    assert take_slot(budget, "a.example", now=clock.now, sleep=clock.sleep) == 0
    assert take_slot(budget, "a.example", now=clock.now, sleep=clock.sleep) == 0
    # the second waited its 0.1 s and woke 10 ms late: in time (half an interval is 50 ms)
    assert budget.booked == 2


def test_a_request_woken_more_than_half_an_interval_late_books_again() -> None:
    clock = Clock([0.5])
    budget = Budget(clock, rate=10)
    take_slot(budget, "a.example", now=clock.now, sleep=clock.sleep)
    # the second sleeps 0.1 s but wakes 0.5 s late: its slot is gone, it books the next
    assert take_slot(budget, "a.example", now=clock.now, sleep=clock.sleep) == 1
    assert budget.booked == 3


def test_rebooking_stops_after_max_rebooks() -> None:
    clock = Clock([1.0] * (MAX_REBOOKS + 2))
    budget = Busy(clock, rate=10)  # every booking waits, and every wake is late
    assert take_slot(budget, "a.example", now=clock.now, sleep=clock.sleep) == MAX_REBOOKS


def test_the_async_twin_books_again_when_late() -> None:
    clock = Clock([0.5])
    budget = Budget(clock, rate=10)

    async def go() -> list[int]:
        return [
            await take_slot_async(budget, "a.example", now=clock.now, sleep=clock.asleep)
            for _ in range(2)
        ]

    assert asyncio.run(go()) == [0, 1]


def test_a_local_budget_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        LocalHostBudget(0)
