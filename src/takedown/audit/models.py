"""The audit event row."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"
    # The audit viewer and court exports filter by subject.
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    # BigInteger on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[dt.datetime]
    actor_user_id: Mapped[int | None] = mapped_column(default=None, index=True)
    actor_agency_id: Mapped[int | None] = mapped_column(default=None, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str] = mapped_column(String(128))
    # Canonical JSON text (sorted keys), so the hashed bytes are identical on every engine.
    details: Mapped[str] = mapped_column(Text, default="{}")
    # A unique prev_hash makes a fork of the chain impossible: two events cannot share a parent.
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Base):
    """A signed statement "event N of the chain had hash H", made at a time.

    What a truncated or recomputed chain cannot get past (``audit.anchors``): the
    chain alone still links after either. The id is the checkpoint's sequence number.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    event_id: Mapped[int] = mapped_column(BigInteger)
    event_hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 with a key derived from TAKEDOWN_SECRET_KEY (hex), when one is set.
    hmac: Mapped[str | None] = mapped_column(String(64), default=None)
    # Ed25519 signature with TAKEDOWN_AUDIT_SIGNING_KEY (hex), and which key made it.
    ed25519: Mapped[str | None] = mapped_column(String(128), default=None)
    key_id: Mapped[str | None] = mapped_column(String(16), default=None)
