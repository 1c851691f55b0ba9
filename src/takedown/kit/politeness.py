"""One politeness budget per host, shared by every capability that fetches (monitoring,
verification) in a process.

Why shared: a crawler and the removal checker hitting the same platform each at
their own "polite" rate are together twice as rude, and a 429 one of them got
must pause the other too. So both take their slots from one ``HostBudget``:
requests to a host are spaced ``1 / rate`` seconds apart, and a host that asked
us to wait (``Retry-After``) is paused for everyone until then. Budgets are per
process; the distributed runtime spreads hosts' work over workers, each with
its own budget (see docs/monitoring.md).

Time comes from an injected monotonic clock and sleeps through an injected
sleeper, so tests neither wait nor depend on timings.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(slots=True)
class _Host:
    next_slot: float = 0.0
    paused_until: float = 0.0
    granted: int = 0
    busy: bool = False  # a ``slot`` holder's request is in flight


class HostBudget:
    """Per-host pacing (``rate`` requests per second; 0 = unpaced) and Retry-After pauses."""

    def __init__(
        self,
        rate: float = 0.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rates: dict[str, float] | None = None,
    ) -> None:
        self.rate = rate
        self.rates = dict(rates or {})
        self._monotonic = monotonic
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        self._released = threading.Condition(self._lock)

    def _host(self, host: str) -> _Host:
        h = self._hosts.get(host)
        if h is None:
            h = self._hosts[host] = _Host()
        return h

    def rate_for(self, host: str) -> float:
        return self.rates.get(host.lower(), self.rate)

    def reserve(self, host: str) -> float:
        """Take the host's next slot; return how many seconds to wait before using it."""
        host = host.lower()
        with self._lock:
            h = self._host(host)
            now = self._monotonic()
            start = max(now, h.paused_until)
            rate = self.rate_for(host)
            if rate > 0:
                start = max(start, h.next_slot)
                h.next_slot = start + 1.0 / rate
            h.granted += 1
            return max(0.0, start - now)

    def acquire(self, host: str, *, hold: bool = False) -> None:
        """Block until this thread may send one request to ``host``.

        Slots are granted when they are taken, not when they were reserved: a thread
        that wakes late does not leave the next one free to follow closer than 1/rate.
        A host held by a ``slot`` (its request still in flight) is waited for; ``hold``
        holds it in turn until :meth:`release`.
        """
        host = host.lower()
        while True:
            with self._lock:
                h = self._host(host)
                while h.busy:
                    self._released.wait(1.0)
                now = self._monotonic()
                rate = self.rate_for(host)
                earliest = max(h.paused_until, h.next_slot if rate > 0 else 0.0)
                if now >= earliest:
                    if rate > 0:
                        h.next_slot = now + 1.0 / rate
                    h.granted += 1
                    h.busy = hold
                    return
                wait = earliest - now
            self._sleep(wait)

    def release(self, host: str) -> None:
        """The request of a held slot is answered: the host is free for the next one."""
        with self._lock:
            self._host(host.lower()).busy = False
            self._released.notify_all()

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """One request to ``host``, paced, and alone: the host stays held until it is read.

        Why: spacing request starts by ``1 / rate`` is not enough when a host answers
        slower than that (or the answer is read late): the next thread's request would
        reach it while the first is still in flight. A crawler holds the host for the
        whole exchange, so a host never sees two of our requests at once.
        """
        self.acquire(host, hold=True)
        try:
            yield
        finally:
            self.release(host)

    async def acquire_async(self, host: str) -> None:
        wait = self.reserve(host)
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, host: str, seconds: float) -> None:
        """The host asked everyone to wait ``seconds`` (Retry-After)."""
        with self._lock:
            h = self._host(host.lower())
            h.paused_until = max(h.paused_until, self._monotonic() + max(0.0, seconds))

    def paused_for(self, host: str) -> float:
        with self._lock:
            h = self._hosts.get(host.lower())
            return 0.0 if h is None else max(0.0, h.paused_until - self._monotonic())

    def granted(self, host: str) -> int:
        with self._lock:
            h = self._hosts.get(host.lower())
            return 0 if h is None else h.granted


_shared: HostBudget | None = None
_shared_lock = threading.Lock()


def shared_budget(rate: float | None = None) -> HostBudget:
    """The process's budget (created on first use); ``rate`` updates its default pace."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = HostBudget(rate or 0.0)
        elif rate is not None:
            _shared.rate = rate
        return _shared
