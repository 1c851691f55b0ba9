"""One politeness budget per host, shared by every process that fetches from it.

Each process's HTTP client already bounds how many requests it has open to a host
(``kit.http``'s per-host semaphore). That bound is per process, so N workers together
send N times as much. A ``HostBudget`` is the one place that hands out request slots
for a host across all processes: ``reserve(host)`` books the next free slot (one every
``1 / rate`` seconds) and returns how long to wait for it; the HTTP transport sleeps
that long before it sends. Slots are booked atomically where every process sees them:
Redis (a Lua script, timed by Redis's own clock) or PostgreSQL (one upsert, timed by
the database's clock, ``runtime.host_budget``), so machines' clock skew does not matter.
``LocalHostBudget`` does the same inside one process (embedded mode, tests).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class HostBudget(Protocol):
    rate: float

    def reserve(self, host: str) -> float:
        """Book the next request slot for ``host``; returns the seconds to wait for it."""
        ...


class LocalHostBudget:
    """The budget inside one process."""

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("a host budget needs a positive rate (requests per second)")
        self.rate = rate
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, host: str) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + 1.0 / self.rate
            return slot - now


# KEYS[1]: the host's key. ARGV[1]: seconds between slots. Redis's clock, not the caller's.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt < now then nxt = now end
local after = nxt + interval
local ttl = math.ceil((after - now) * 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.6f', after), 'PX', ttl)
return string.format('%.6f', nxt - now)
"""


class RedisHostBudget:
    """The budget in Redis: one key per host, booked by a Lua script (atomic)."""

    def __init__(self, url: str, rate: float, *, prefix: str = "takedown:host-budget:") -> None:
        if rate <= 0:
            raise ValueError("a host budget needs a positive rate (requests per second)")
        import redis

        self.rate = rate
        self._prefix = prefix
        self._client: Any = redis.Redis.from_url(url)
        self._script: Any = self._client.register_script(_RESERVE)

    def reserve(self, host: str) -> float:
        wait = self._script(keys=[self._prefix + host.lower()], args=[1.0 / self.rate])
        return max(0.0, float(wait))

    def close(self) -> None:
        self._client.close()


_cache: dict[tuple[str, str, float], HostBudget] = {}
_cache_lock = threading.Lock()


def shared(kind: str, url: str, rate: float, make: Any) -> HostBudget:
    """One budget object per (kind, url, rate) in a process: every client built from the
    same settings shares it (and its connection pool)."""
    key = (kind, url, rate)
    with _cache_lock:
        budget = _cache.get(key)
        if budget is None:
            budget = _cache[key] = make()
        return budget


#: A request that wakes more than half a slot interval after its slot books a new one (at
#: most this many times, then it is sent): a late request sent next to an on-time one
#: would put two slots' requests into one interval. So every request leaves within half
#: an interval of its slot, and any one second holds at most ``rate + 1.5`` of them.
MAX_REBOOKS = 5


def _late(woke: float, booked: float, wait: float, rate: float) -> bool:
    # ``booked`` is taken before the booking was sent: the slot is no earlier than
    # ``booked + wait``, so this over-estimates the lateness (never sends a late one).
    return woke - (booked + wait) > 0.5 / rate


def take_slot(
    budget: HostBudget,
    host: str,
    *,
    now: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Book ``host``'s next slot and sleep until it (booking again if woken late);
    returns how many times it booked again."""
    rebooks = 0
    while True:
        booked = now()
        wait = budget.reserve(host)
        if wait > 0:
            sleep(wait)
        if rebooks >= MAX_REBOOKS or not _late(now(), booked, wait, budget.rate):
            return rebooks
        rebooks += 1


async def take_slot_async(
    budget: HostBudget,
    host: str,
    *,
    now: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """``take_slot`` for an event loop: the booking runs in a thread (Redis, PostgreSQL)."""
    clock = now or asyncio.get_running_loop().time
    rebooks = 0
    while True:
        booked = clock()
        wait = await asyncio.to_thread(budget.reserve, host)
        if wait > 0:
            await sleep(wait)
        if rebooks >= MAX_REBOOKS or not _late(clock(), booked, wait, budget.rate):
            return rebooks
        rebooks += 1
