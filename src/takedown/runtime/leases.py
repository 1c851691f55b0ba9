"""Leases for singleton work: two processes never both run it, and a dead one's expires.

``singleton(factory, name)`` takes the lease in its own short transaction, renews it
from a thread every third of its ``ttl`` while the work runs, and releases it after.
A process killed while holding it stops renewing: the lease expires ``ttl`` later and
the next process takes it. A holder that could not renew in time (a stalled process)
finds ``lost`` set and should stop; its late writes are the work's own idempotency's to
absorb (every job here is idempotent).

Tickers run through ``ticker_guard``: each ticker is a lease named ``ticker:<name>``
with ``min_interval`` of its period, so a cluster of N workers runs each ticker once
per period, not N times.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.jobs import Ticker
from takedown.runtime import repository as repo

log = logging.getLogger("takedown.runtime.leases")

#: This process, as leases and heartbeats name it.
PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
DEFAULT_TTL = dt.timedelta(seconds=60)


@dataclass
class Held:
    """A lease this process holds (``ok``) or did not get."""

    name: str
    ok: bool
    lost: threading.Event = field(default_factory=threading.Event)


def try_acquire(
    factory: sessionmaker[Session],
    name: str,
    *,
    holder: str = PROCESS_ID,
    ttl: dt.timedelta = DEFAULT_TTL,
    min_interval: dt.timedelta | None = None,
    clock: Clock | None = None,
) -> bool:
    with session_scope(factory) as session:
        return repo.try_lease(
            session, name, holder, now=(clock or SystemClock()).now(), ttl=ttl,
            min_interval=min_interval,
        )  # fmt: skip


def release(
    factory: sessionmaker[Session],
    name: str,
    *,
    holder: str = PROCESS_ID,
    ran: bool = True,
    clock: Clock | None = None,
) -> None:
    with session_scope(factory) as session:
        repo.release_lease(session, name, holder, now=(clock or SystemClock()).now(), ran=ran)


def renew(
    factory: sessionmaker[Session],
    name: str,
    *,
    holder: str = PROCESS_ID,
    ttl: dt.timedelta = DEFAULT_TTL,
    clock: Clock | None = None,
) -> bool:
    with session_scope(factory) as session:
        return repo.renew_lease(session, name, holder, now=(clock or SystemClock()).now(), ttl=ttl)


@contextmanager
def singleton(
    factory: sessionmaker[Session],
    name: str,
    *,
    holder: str = PROCESS_ID,
    ttl: dt.timedelta = DEFAULT_TTL,
    min_interval: dt.timedelta | None = None,
) -> Iterator[Held]:
    """Run the body only if this process gets the lease (``held.ok``)."""
    if not try_acquire(factory, name, holder=holder, ttl=ttl, min_interval=min_interval):
        yield Held(name, False)
        return
    held = Held(name, True)
    done = threading.Event()

    def keep() -> None:
        while not done.wait(ttl.total_seconds() / 3):
            try:
                if not renew(factory, name, holder=holder, ttl=ttl):
                    log.error("lease %s was taken by another process: stop", name)
                    held.lost.set()
                    return
            except Exception:
                log.exception("could not renew lease %s; trying again", name)

    keeper = threading.Thread(target=keep, name=f"lease-{name}", daemon=True)
    keeper.start()
    ran = False
    try:
        yield held
        ran = True
    finally:
        done.set()
        keeper.join(timeout=5)
        if not held.lost.is_set():
            release(factory, name, holder=holder, ran=ran)


def ticker_guard(
    factory: sessionmaker[Session], *, ttl: dt.timedelta = DEFAULT_TTL
) -> Callable[[Ticker], AbstractContextManager[bool]]:
    """For ``TickerThread(guard=...)``: a ticker runs only where its lease is taken."""

    @contextmanager
    def guard(t: Ticker) -> Iterator[bool]:
        # A little under the period: two processes' clocks and loops drift apart.
        spacing = dt.timedelta(seconds=t.period() * 0.9)
        with singleton(factory, f"ticker:{t.name}", ttl=ttl, min_interval=spacing) as held:
            yield held.ok

    return guard


class Heartbeat:
    """Tells the database this process is alive every ``every`` seconds (doctor's
    "workers alive"); forgets it on a clean stop."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        kind: str,
        *,
        every: float = 10.0,
        worker_id: str = PROCESS_ID,
        clock: Clock | None = None,
    ) -> None:
        self._factory = factory
        self._kind = kind
        self._every = every
        self.worker_id = worker_id
        self._clock = clock or SystemClock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="takedown-heartbeat", daemon=True)

    def beat(self) -> None:
        with session_scope(self._factory) as session:
            repo.beat(
                session, self.worker_id, self._kind, socket.gethostname(), os.getpid(),
                self._clock.now(),
            )  # fmt: skip

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        try:
            with session_scope(self._factory) as session:
                repo.forget_worker(session, self.worker_id)
        except Exception:
            log.exception("could not forget this worker's heartbeat")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:
                log.exception("heartbeat failed; trying again")
            self._stop.wait(self._every)
