"""Rows of the runtime ledger: outbox jobs, done effects, dead letters, leases, workers."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class OutboxState(StrEnum):
    PENDING = "pending"  # committed, not yet handed to the broker
    RELAYED = "relayed"  # handed to the broker; re-relayed if not done in time
    DONE = "done"  # the job ran to the end
    DEAD = "dead"  # attempts used up: in the dead-letter queue


class OutboxJob(Base):
    """One job recorded in the transaction that made it due."""

    __tablename__ = "runtime_outbox"
    __table_args__ = (Index("ix_runtime_outbox_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Recording the same key twice records one job (a request enqueued twice is one job).
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING.value)
    # When the relay should (re)send it: now for a new job, later for a relayed one.
    due_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    relays: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    relayed_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]


class JobEffect(Base):
    """An effect that happened: its key is inserted in the effect's own transaction."""

    __tablename__ = "runtime_effects"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    done_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeadJob(Base):
    """A job whose attempts are used up: kept until someone retries or drops it."""

    __tablename__ = "runtime_dead_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(100))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outbox_id: Mapped[int | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    failed_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    retried_at: Mapped[dt.datetime | None]
    # The outbox job the retry recorded.
    retried_as: Mapped[int | None]


class Lease(Base):
    """Singleton work (a ticker, an index build): one holder at a time, until it expires.

    A holder renews its lease while it works; a dead holder stops renewing, and once
    ``expires_at`` has passed another process may take it. ``last_run_at`` spaces the
    runs of a periodic job across every process (one run per period, not one per worker).
    """

    __tablename__ = "runtime_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))
    acquired_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime]
    last_run_at: Mapped[dt.datetime | None]
    runs: Mapped[int] = mapped_column(Integer, default=0)


class WorkerBeat(Base):
    """A live process of the runtime (a worker or an API process), seen every few seconds."""

    __tablename__ = "runtime_workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # worker | api
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class HostSlot(Base):
    """The next free request slot of a host, in seconds since the epoch (database time)."""

    __tablename__ = "runtime_host_budget"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_slot: Mapped[float] = mapped_column(Float)
