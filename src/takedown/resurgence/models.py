"""Successor candidates, predicted successor handles, and the due-work queue of scans."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class CandidateStatus(StrEnum):
    PROPOSED = "proposed"  # at or above the threshold: shown to analysts as "successor of X"
    BELOW = "below"  # kept with its reasons, not proposed
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class PredictionState(StrEnum):
    PENDING = "pending"
    EXISTS = "exists"
    ABSENT = "absent"
    ERROR = "error"


class Candidate(Base):
    """One (removed predecessor, seen successor) pair with its score and reasons."""

    __tablename__ = "resurgence_candidates"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        Index("ix_resurgence_candidates_status_score", "status", "score"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    # [{"signal": ..., "weight": ..., "detail": ...}] as scored (signals.score.Reason).
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=CandidateStatus.PROPOSED.value)
    # The predecessor's newest terrorist-content assessment, offered to the successor.
    suggestion: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    generation: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), default=None)


class Prediction(Base):
    """A handle a removed account is likely to come back under, and what probing it found."""

    __tablename__ = "resurgence_predictions"
    __table_args__ = (UniqueConstraint("removed_id", "handle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    removed_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    platform: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(200))
    pattern: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    rank: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default=PredictionState.PENDING.value)
    next_probe_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    probed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    probes: Mapped[int] = mapped_column(default=0)
    http_status: Mapped[int | None] = mapped_column(default=None)
    detail: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Due(Base):
    """Resurgence work the database says is due: an item newly seen, or newly removed."""

    __tablename__ = "resurgence_due"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # seen | removed
    due_at: Mapped[dt.datetime] = mapped_column(index=True)
