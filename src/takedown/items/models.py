"""Items, their sightings, shares, assessments, deconfliction holds and import jobs.

An item is one thing on one platform (an account, a post, a channel, a file...),
keyed by its URL identity (``platform:key``), never by how a reporter wrote the
URL. Every report of it is a *sighting*, owned by the reporting agency: that is
what tenant isolation hangs on (see ``repository.visible_to``). The item's status
is a fact about the world (referred, removed, back online), shared by every
agency that sees the item.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow

#: Longest identity / key we store (the btree limit on PostgreSQL is ~2.7 kB).
MAX_IDENTITY = 1024


class ItemStatus(StrEnum):
    NEW = "new"
    ASSESSED = "assessed"  # judged terrorist content by at least one agency
    DISMISSED = "dismissed"  # judged not terrorist content; can be re-assessed
    REFERRED = "referred"
    REMOVED = "removed"
    STILL_ONLINE = "still_online"
    RESTRICTED = "restricted"  # geo-blocked / access disabled in the EU, not deleted
    REAPPEARED = "reappeared"  # was removed, is back at the same address


class Verdict(StrEnum):
    TERRORIST_CONTENT = "terrorist_content"
    NOT_TERRORIST_CONTENT = "not_terrorist_content"
    NEEDS_REVIEW = "needs_review"


class TcoCategory(StrEnum):
    """TCO Art. 2(7) (a)-(e): the reason boxes of Annex I, Section B."""

    INCITEMENT = "a"
    SOLICITATION_COMMIT = "b"
    SOLICITATION_PARTICIPATE = "c"
    INSTRUCTION = "d"
    THREAT = "e"


class ImportFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    URLS = "urls"


class ImportStatus(StrEnum):
    # The whole import is one transaction, so a job row only ever exists completed:
    # a crash rolls the job back together with its items and sightings.
    COMPLETED = "completed"


class Item(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(MAX_IDENTITY), unique=True)
    platform: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    key: Mapped[str] = mapped_column(String(MAX_IDENTITY))
    canonical_url: Mapped[str] = mapped_column(Text)
    fetch_url: Mapped[str] = mapped_column(Text)
    parent_identity: Mapped[str | None] = mapped_column(
        String(MAX_IDENTITY), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.NEW.value, index=True)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    first_seen_at: Mapped[dt.datetime] = mapped_column(index=True)
    last_seen_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Set on the first move to "referred"; lets platform liaisons see what was sent to them.
    first_referred_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ImportJob(Base):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    encoding: Mapped[str] = mapped_column(String(16), default="utf-8")
    status: Mapped[str] = mapped_column(String(16), default=ImportStatus.COMPLETED.value)
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_ok: Mapped[int] = mapped_column(default=0)
    rows_bad: Mapped[int] = mapped_column(default=0)
    items_created: Mapped[int] = mapped_column(default=0)
    duplicates_folded: Mapped[int] = mapped_column(default=0)
    # Every physical line of the file is accounted for once:
    # lines_total == rows_total + lines_continued + lines_skipped.
    lines_total: Mapped[int] = mapped_column(default=0)
    lines_continued: Mapped[int] = mapped_column(default=0)  # inside a multi-line CSV cell
    lines_skipped: Mapped[int] = mapped_column(default=0)  # header, blank and comment lines
    # [{"line": n, "reason": "..."}], the first ERRORS_KEPT of them; rows_bad has the count.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Sighting(Base):
    """One report of an item by one agency: who, when, from which file line or source."""

    __tablename__ = "sightings"
    __table_args__ = (Index("ix_sightings_agency_id_item_id", "agency_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_jobs.id"), default=None, index=True
    )
    reported_url: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[dt.datetime]
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    source: Mapped[str] = mapped_column(String(255), default="")
    line_no: Mapped[int | None] = mapped_column(Integer, default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class ItemShare(Base):
    """An item explicitly shared by one agency with another (tenant isolation's only door)."""

    __tablename__ = "item_shares"
    __table_args__ = (UniqueConstraint("item_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    shared_by_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    shared_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Assessment(Base):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    analyst_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    verdict: Mapped[str] = mapped_column(String(32))
    # Sorted TCO Art. 2(7) letters, e.g. ["a", "c"].
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    group: Mapped[str | None] = mapped_column(String(200), default=None)
    outlet: Mapped[str | None] = mapped_column(String(200), default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    language_suggested: Mapped[str | None] = mapped_column(String(16), default=None)
    # [[lang, score], ...] top guesses of py3langid, as suggested at assessment time.
    language_scores: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Hold(Base):
    """A deconfliction hold: "part of our investigation, do not refer"."""

    __tablename__ = "holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    contact_point: Mapped[str] = mapped_column(String(320), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class SavedFilter(Base):
    """A user's named queue filter: the query string of ``/queue``, kept per user."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
