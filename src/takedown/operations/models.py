"""Operations, their participants and item sets, and the legal events of TCO Art. 8.

An item joins an operation once per contributing agency (``OperationItem``),
so a duplicate reported by three agencies is one item with three credited
contributions. Joining an operation shares the item with the operation's
participants (see ``service.operation_visibility``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class OperationStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    CLOSED = "closed"


class OperationKind(StrEnum):
    ACTION_DAY = "action_day"  # a referral action day: a few days, many agencies
    CAMPAIGN = "campaign"  # a standing campaign between action days


class ParticipantRole(StrEnum):
    LEAD = "lead"  # runs the operation: participants, status, referrals for all
    PARTICIPANT = "participant"  # contributes items, sees the shared set
    OBSERVER = "observer"  # sees the shared set and the figures, contributes nothing


class JoinedVia(StrEnum):
    IMPORT = "import"
    QUERY = "query"
    SINGLE = "single"


class LegalEventKind(StrEnum):
    """What TCO Art. 8(1) asks an authority to count, beyond the orders themselves."""

    SCRUTINY = "scrutiny"  # Art. 4(3)/(4): scrutiny of a cross-border removal order
    EXPOSURE = "exposure"  # Art. 5(4): decision that a provider is exposed
    SPECIFIC_MEASURES = "specific_measures"  # Art. 5(6)/(7): decisions on specific measures
    REVIEW = "review"  # Art. 9: administrative or judicial review proceedings
    PENALTY = "penalty"  # Art. 18: penalties imposed


#: Allowed outcomes per kind (the report counts by these).
LEGAL_OUTCOMES: dict[LegalEventKind, frozenset[str]] = {
    LegalEventKind.SCRUTINY: frozenset({"no_infringement", "infringement"}),
    LegalEventKind.EXPOSURE: frozenset({"exposed", "not_exposed"}),
    LegalEventKind.SPECIFIC_MEASURES: frozenset({"sufficient", "insufficient", "imposed"}),
    LegalEventKind.REVIEW: frozenset({"pending", "upheld", "annulled", "amended"}),
    LegalEventKind.PENALTY: frozenset({"imposed", "not_imposed"}),
}


class Operation(Base):
    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=OperationKind.ACTION_DAY.value)
    lead_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=OperationStatus.PLANNED.value)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # {"groups": [...], "outlets": [...], "platforms": [...]}
    targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class OperationParticipant(Base):
    __tablename__ = "operation_participants"
    __table_args__ = (UniqueConstraint("operation_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OperationItem(Base):
    """One agency's contribution of one item to one operation."""

    __tablename__ = "operation_items"
    __table_args__ = (
        UniqueConstraint("operation_id", "item_id", "agency_id"),
        Index("ix_operation_items_item_id", "item_id"),
        Index("ix_operation_items_operation_id_agency_id", "operation_id", "agency_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    via: Mapped[str] = mapped_column(String(8))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_jobs.id"), default=None)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class LegalEvent(Base):
    """A decision or proceeding an authority must count in its Art. 8 report."""

    __tablename__ = "legal_events"
    __table_args__ = (Index("ix_legal_events_agency_id_occurred_at", "agency_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(24))
    platform: Mapped[str | None] = mapped_column(String(64), default=None)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), default=None)
    occurred_at: Mapped[dt.datetime]
    amount_eur: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), default=None)
    reference: Mapped[str] = mapped_column(String(128), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
