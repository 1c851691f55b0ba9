"""Referral batches, their items, deliveries (every attempt kept), notices and notifications."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class ReferralKind(StrEnum):
    TOS = "tos"  # a voluntary request under the platform's terms of service
    REMOVAL_ORDER = "removal_order"  # a TCO Art. 3 removal order (Annex I)


class ReferralStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"  # removal orders: waiting for a supervisor
    APPROVED = "approved"  # queued for delivery (maybe behind the 12-hour notice)
    SENT = "sent"  # delivered; waiting for the platform's acknowledgement
    ACKNOWLEDGED = "acknowledged"  # the platform confirmed receipt
    CLOSED = "closed"  # every item answered
    CANCELLED = "cancelled"


class ItemState(StrEnum):
    INCLUDED = "included"
    HELD = "held"  # deconfliction hold: not sent
    DUPLICATE = "duplicate"  # already referred to this platform: not sent twice
    NOT_READY = "not_ready"  # not assessed: not sent
    # Found removed, suspended or withheld before it was sent (``precheck``): not sent,
    # counted under "removed before referral", never as this referral's removal.
    ALREADY_GONE = "already_gone"


class Response(StrEnum):
    REMOVED = "removed"  # Annex II: removed or access disabled
    CANNOT_COMPLY = "cannot_comply"  # Annex III


class CannotComplyReason(StrEnum):
    FORCE_MAJEURE = "force_majeure"
    MANIFEST_ERROR = "manifest_error"
    INSUFFICIENT_INFORMATION = "insufficient_information"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    # Handed over, and the platform sent no acknowledgement (portal, export, an API or
    # mail server that returns no reference): the batch is "sent", not "acknowledged".
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"  # handed over, and the platform acknowledged receipt
    GAVE_UP = "gave_up"
    # Never attempted: every item was already gone just before sending (``precheck``).
    NOT_SENT = "not_sent"


class DeliveryKind(StrEnum):
    ORDER = "order"  # the batch to its platform
    # The copy of a cross-border removal order to the competent authority of the platform's
    # host state (TCO Art. 4(1)), sent once the order is delivered (``referrals.host_copy``).
    HOST_COPY = "host_copy"


#: A delivery that is done: never attempted again.
DELIVERY_DONE = frozenset({DeliveryStatus.DELIVERED.value, DeliveryStatus.ACKNOWLEDGED.value})


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    platform: Mapped[str] = mapped_column(String(64), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    # Whoever last edited a draft or pending order: like the author, they cannot approve it.
    last_edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    channel: Mapped[str] = mapped_column(String(16))
    emergency: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # Art. 2(7) letters
    justification: Mapped[str] = mapped_column(Text, default="")
    disclosure_delayed: Mapped[bool] = mapped_column(default=False)
    disclosure_delay_weeks: Mapped[int] = mapped_column(default=0)
    # Annex I sections A-F as issued (frozen at approval), or the ToS referral's header.
    annex: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    issued_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    not_before: Mapped[dt.datetime | None] = mapped_column(default=None)  # 12-hour notice
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    received_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    deadline_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    ack_reference: Mapped[str | None] = mapped_column(String(128), default=None)
    overdue_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ReferralItem(Base):
    __tablename__ = "referral_items"
    __table_args__ = (
        UniqueConstraint("referral_id", "item_id"),
        Index("ix_referral_items_item_id_state", "item_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    url: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text, default="")  # Annex I B: extra location details
    state: Mapped[str] = mapped_column(String(16))
    # Why it was not sent: the hold's contact point, or the earlier referral's reference.
    skip_detail: Mapped[str] = mapped_column(Text, default="")
    response: Mapped[str | None] = mapped_column(String(16), default=None)
    response_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    response_text: Mapped[str] = mapped_column(Text, default="")
    responded_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    responded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Delivery(Base):
    """A delivery job: retried until acknowledged or given up; idempotent by its key. One
    per batch to its platform (kind ``order``), and for a cross-border removal order one
    more to the host state's authority (kind ``host_copy``)."""

    __tablename__ = "referral_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=8)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    ack_reference: Mapped[str | None] = mapped_column(String(128), default=None)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # The sender holding it (``kit.leases``): claimed before any channel is called, so a
    # second sender (Send now, the ticker, another job thread or worker) sees it taken.
    claimed_by: Mapped[str | None] = mapped_column(String(128), default=None)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(
        String(16), default=DeliveryKind.ORDER.value, server_default=DeliveryKind.ORDER.value
    )
    # Where a host-state copy goes (the authority's contact point); empty for an order.
    recipient: Mapped[str] = mapped_column(String(500), default="", server_default="")


class DeliveryAttempt(Base):
    """One attempt, recorded when it starts (``at``) and completed when the channel
    answers (``finished_at``); one never finished was interrupted (a crash, a kill)."""

    __tablename__ = "referral_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("referral_deliveries.id"), index=True)
    at: Mapped[dt.datetime]
    ok: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None] = mapped_column(default=None)
    detail: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class PlatformNotice(Base):
    """The 12-hour prior notice (TCO Art. 3(2)) given to a platform before its first order."""

    __tablename__ = "referral_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(64), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    given_at: Mapped[dt.datetime]
    effective_at: Mapped[dt.datetime]


class Notification(Base):
    """A message to one user (overdue orders); shown on the dashboard until read."""

    __tablename__ = "referral_notifications"
    __table_args__ = (UniqueConstraint("user_id", "referral_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None] = mapped_column(default=None)
