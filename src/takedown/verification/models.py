"""Checks (every observation, kept) and the per-item check schedule (what is due)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base


class Check(Base):
    """One observation of one item: what the detector said, and why."""

    __tablename__ = "checks"
    __table_args__ = (Index("ix_checks_item_id_checked_at", "item_id", "checked_at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    checked_at: Mapped[dt.datetime] = mapped_column(index=True)
    url: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    detector: Mapped[str] = mapped_column(String(64), default="")
    http_status: Mapped[int | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=1)
    elapsed_ms: Mapped[int] = mapped_column(default=0)
    run_id: Mapped[str | None] = mapped_column(String(32), default=None)


class CheckSchedule(Base):
    """The database's answer to "what is due": one row per item under verification.

    ``anchor_at`` is the first referral time; the re-check rate decays with
    the time since it. ``removed_since`` is the first ``removed`` check of the
    current unbroken run; ``removed_confirmed_at`` is set when a second
    ``removed`` check, at least the confirmation gap later, agrees.
    """

    __tablename__ = "check_schedules"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    anchor_at: Mapped[dt.datetime]
    next_check_at: Mapped[dt.datetime] = mapped_column(index=True)
    active: Mapped[bool] = mapped_column(default=True)
    checks: Mapped[int] = mapped_column(default=0)
    last_checked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    last_online_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    removed_since: Mapped[dt.datetime | None] = mapped_column(default=None)
    removed_confirmed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # When the first confirmed removal happened: the instant every time-to-removal figure
    # uses (``policy.removal_instant``). Kept after a reappearance, so statistics do not move.
    removed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # The first ``removed`` check of that confirmed run: the latest the removal can have been.
    removed_observed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # What the platform stated (Annex II, or its status API), never before the receipt of the
    # referral it answered. A claim alone is no removal: it only dates one verification confirms.
    platform_removed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    online_before_removal_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    reappeared_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Who holds the lease (``kit.leases.owner_id``): renewed while its run works, released
    # at once when a restarted worker finds its holder dead.
    lease_owner: Mapped[str | None] = mapped_column(String(128), default=None)
    # An analyst asked for a check at this time (the newest request). Until a check that
    # started at or after it is recorded, the item stays due: a check already running when
    # the request came does not answer it.
    requested_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # The host asked us (Retry-After) not to come back before this; a request never
    # brings the next check earlier than that.
    not_before: Mapped[dt.datetime | None] = mapped_column(default=None)


class CheckRequest(Base):
    """An analyst's "check these now": one item, a referral's included items, or an
    operation's referred items. Its progress is read from the checks recorded since
    ``requested_at``, so any web process can show it."""

    __tablename__ = "check_requests"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    requested_at: Mapped[dt.datetime]
    scope: Mapped[str] = mapped_column(String(16))  # item | referral | operation
    scope_id: Mapped[int]
    label: Mapped[str] = mapped_column(String(300), default="")
    items: Mapped[int] = mapped_column(default=0)  # under verification, so requested
    skipped: Mapped[int] = mapped_column(default=0)  # in the scope but not under verification


class CheckRequestItem(Base):
    """The items one request asked for (the set its progress counts)."""

    __tablename__ = "check_request_items"

    request_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("check_requests.id"),
        primary_key=True,
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
