"""Scenario time: starts at the scenario's start and runs at a chosen speed.

Why: a day of platform reactions (removal delays, the adversary's come-back)
must play out in seconds, and tests must move time explicitly. ``speed`` is
simulated seconds per real second (3600 = one simulated hour per second);
0 freezes the clock so it moves only through ``advance``/``set``.
Satisfies ``takedown.kit.clock.Clock``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time


class SimClock:
    def __init__(self, start: dt.datetime, speed: float = 0.0) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        self._lock = threading.Lock()
        self._base = start.timestamp()
        self._real0 = time.monotonic()
        self._speed = speed

    def timestamp(self) -> float:
        with self._lock:
            return self._base + (time.monotonic() - self._real0) * self._speed

    def ts(self) -> int:
        return int(self.timestamp())

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.timestamp(), dt.UTC)

    @property
    def speed(self) -> float:
        return self._speed

    def _rebase(self) -> None:
        t = time.monotonic()
        self._base += (t - self._real0) * self._speed
        self._real0 = t

    def restart(self) -> None:
        """Count real time from now (after a slow start-up, before serving)."""
        with self._lock:
            self._real0 = time.monotonic()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            self._rebase()
            self._speed = speed

    def advance(self, seconds: float) -> dt.datetime:
        if seconds < 0:
            raise ValueError("the scenario clock does not run backwards")
        with self._lock:
            self._rebase()
            self._base += seconds
        return self.now()

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("need an aware datetime")
        with self._lock:
            if when.timestamp() < self._base + (time.monotonic() - self._real0) * self._speed:
                raise ValueError("the scenario clock does not run backwards")
            self._real0 = time.monotonic()
            self._base = when.timestamp()
