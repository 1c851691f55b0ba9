"""The transactional outbox and keyed effects: at-least-once delivery, effects once.

A job is recorded (``record``) in the same transaction as the rows that make it due,
so it commits or rolls back with them. After the commit a relay (``Relay``, a thread in
every worker and API process) hands it to the broker and moves its next relay time on
by ``redeliver_after``; a job whose worker finishes it is marked done. So:

- a crash between the commit and the send costs nothing: the row is still pending and
  the next relay sends it;
- a crash between the send and the relay's own commit sends it twice;
- a message the broker loses (a Redis restart without persistence, a worker killed
  after taking it) is sent again once ``redeliver_after`` has passed.

Every one of those duplicates is harmless because a job's effect is keyed: the job
inserts its effect's key (``claim_effect``) in the effect's own transaction, and a key
already there means the effect already happened.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.jobs import OUTBOX_KWARG
from takedown.runtime import repository as repo
from takedown.runtime.models import OutboxState

log = logging.getLogger("takedown.runtime.outbox")

#: A relayed job not done after this long is sent again (its message may be lost).
REDELIVER_AFTER = dt.timedelta(minutes=15)
#: Done jobs are kept this long (what ``takedown doctor`` and the admin page count).
KEEP_DONE = dt.timedelta(days=7)

Send = Callable[..., None]


def record(
    session: Session,
    job: str,
    kwargs: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    clock: Clock | None = None,
) -> bool:
    """Record ``job(**kwargs)`` in the caller's transaction. With a ``key``, recording
    the same key again records nothing (returns False)."""
    now = (clock or SystemClock()).now()
    return repo.add_outbox(session, job, dict(kwargs or {}), key, now) is not None


def claim_effect(session: Session, key: str, job: str = "", *, clock: Clock | None = None) -> bool:
    """True the first time ``key`` is claimed; call it in the effect's own transaction so
    the key and the effect commit (or roll back) together."""
    return repo.claim_effect(session, key, job, (clock or SystemClock()).now())


def relay_once(
    factory: sessionmaker[Session],
    send: Send,
    *,
    limit: int = 200,
    redeliver_after: dt.timedelta = REDELIVER_AFTER,
    clock: Clock | None = None,
) -> int:
    """Send the due outbox jobs; returns how many were sent.

    A job the broker refuses stays due and is tried on the next round (the error is
    logged once per round, not raised: a broker outage must not stop the relay loop)."""
    clock = clock or SystemClock()
    sent = 0
    with session_scope(factory) as session:
        now = clock.now()
        rows = list(repo.claim_due(session, now, limit))
        # Marked before sending, in the same transaction: a worker that finishes a job
        # before this commits waits for the row, and never sees its DONE overwritten.
        before = {r.id: (r.state, r.due_at) for r in rows}
        for row in rows:
            row.state = OutboxState.RELAYED.value
            row.relays += 1
            row.relayed_at = now
            row.due_at = now + redeliver_after
        session.flush()
        for i, row in enumerate(rows):
            try:
                send(row.job, **{**row.kwargs, OUTBOX_KWARG: row.id})
            except KeyError:
                log.error("outbox job %d names no job %r: dead-lettered", row.id, row.job)
                from takedown.runtime.deadletters import record_dead

                record_dead(
                    session, row.job, row.kwargs, outbox_id=row.id, attempts=0,
                    error=f"no job named {row.job!r}", now=now,
                )  # fmt: skip
                continue
            except Exception as exc:
                log.warning("relay: the broker refused outbox job %d (%s); retried", row.id, exc)
                for unsent in rows[i:]:
                    unsent.state, unsent.due_at = before[unsent.id]
                    unsent.relays -= 1
                break
            sent += 1
    return sent


def finish(factory: sessionmaker[Session], outbox_id: int, *, clock: Clock | None = None) -> None:
    with session_scope(factory) as session:
        repo.mark_finished(session, outbox_id, (clock or SystemClock()).now())


def prune(factory: sessionmaker[Session], *, clock: Clock | None = None) -> int:
    with session_scope(factory) as session:
        return repo.prune_outbox(session, (clock or SystemClock()).now() - KEEP_DONE)


class Relay:
    """A daemon thread that relays the outbox every ``interval`` seconds, or at once
    when ``kick()``-ed (after a commit that recorded a job)."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        send: Send,
        *,
        interval: float = 1.0,
        redeliver_after: dt.timedelta = REDELIVER_AFTER,
    ) -> None:
        self._factory = factory
        self._send = send
        self._interval = interval
        self._redeliver_after = redeliver_after
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="takedown-relay", daemon=True)
        self.rounds = 0

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while (
                    relay_once(self._factory, self._send, redeliver_after=self._redeliver_after)
                    and not self._stop.is_set()
                ):
                    pass
                if self.rounds % 3600 == 0:
                    prune(self._factory)
            except Exception:
                log.exception("outbox relay round failed; trying again")
            self.rounds += 1
            self._wake.wait(self._interval)
            self._wake.clear()
