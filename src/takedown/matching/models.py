"""Banks of known content, their signals, and match results.

A bank belongs to one agency and carries a TLP 2.0 marking; a signal is one
hash (or a video's frame list) with labels and provenance. Signals are
disabled, never deleted, so an audit can always say what a match was made
against. ``updated_at`` on signals drives the in-memory index's incremental
sync: each process applies what changed since it last looked.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class BankKind(StrEnum):
    KNOWN = "known"
    ALLOW = "allow"


class Tlp(StrEnum):
    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class ReviewStatus(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


#: Signal types the matcher knows, with their default distance thresholds.
DEFAULT_THRESHOLDS: dict[str, int] = {
    "sha256": 0,
    "md5": 0,
    "pdq": 31,
    "video_pdq": 31,
    "text_simhash": 10,
}
SIGNAL_TYPES = tuple(DEFAULT_THRESHOLDS)
#: Signals the matcher derives from media it has the pixels of (the PDQ of an image's inner
#: region), linked to their original by ``Signal.parent_id``. They use the threshold of the
#: type in the value, are never imported, exported or shared, and follow their parent's
#: enabled state.
DERIVED_TYPES: dict[str, str] = {"pdq_inner": "pdq", "video_pdq_inner": "video_pdq"}
#: Variant of a derived signal made by an older hasher (migration ``matching_0200``): a
#: ``pdq_inner`` cut 10 % from every side, before the region left logo bars out. Still
#: searched; adding the media again (``takedown bank add``) renews it in place.
STALE_VARIANT = "stale"
LABEL_KEYS = ("group", "outlet", "content_type", "tco_category", "tier")
REMOVED_CONTENT_BANK = "removed-content"


class Bank(Base):
    __tablename__ = "match_banks"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default=BankKind.KNOWN.value)
    thresholds: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    tlp: Mapped[str] = mapped_column(String(16), default=Tlp.AMBER.value)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def threshold(self, signal_type: str) -> int:
        signal_type = DERIVED_TYPES.get(signal_type, signal_type)
        value = (self.thresholds or {}).get(signal_type)
        return int(value) if value is not None else DEFAULT_THRESHOLDS.get(signal_type, 0)


class Signal(Base):
    __tablename__ = "match_signals"
    __table_args__ = (
        UniqueConstraint("bank_id", "signal_type", "digest"),
        Index("ix_match_signals_type_digest", "signal_type", "digest"),
        Index("ix_match_signals_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("match_banks.id"), index=True)
    signal_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    #: The value itself when it is short (hex hashes), else its SHA-256: the dedupe/lookup key.
    digest: Mapped[str] = mapped_column(String(64))
    #: The transform of the media this hash was computed from: "original"; "band" (middle band,
    #: stored before the inner region left logo bars out); "inner" for derived signals, or
    #: ``STALE_VARIANT`` for one an older version derived.
    variant: Mapped[str] = mapped_column(String(32), default="original")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tlp: Mapped[str | None] = mapped_column(String(16), default=None)
    source: Mapped[str] = mapped_column(String(200), default="")
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    #: The item whose media this signal came from (removed-content bank).
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None, index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: For a derived signal (``DERIVED_TYPES``): the signal of the original it was made with.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("match_signals.id"), default=None, index=True
    )


class MatchResult(Base):
    """One match of an item's media against a signal, and the analyst's review of it.

    ``status`` is ``new`` until an analyst confirms or rejects it; a rejected
    match stays (the audit says what was matched) but no longer suggests an
    attribution.
    """

    __tablename__ = "match_results"
    __table_args__ = (Index("ix_match_results_agency_id_status", "agency_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None, index=True)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agencies.id"), default=None, index=True
    )
    signal_id: Mapped[int] = mapped_column(ForeignKey("match_signals.id"), index=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("match_banks.id"))
    signal_type: Mapped[str] = mapped_column(String(32))
    distance: Mapped[int] = mapped_column(Integer, default=0)
    variant: Mapped[str] = mapped_column(String(64), default="original")
    #: SHA-256 of the media (or of the hash) that matched.
    media_sha256: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.NEW.value)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    review_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
