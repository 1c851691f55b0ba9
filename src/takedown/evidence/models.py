"""Captures, their files, and retention holds.

File bytes never live in the database: a row names an object in the
content-addressed store by its SHA-256, so the same bytes captured twice are
stored once and a purge only deletes an object no surviving capture uses.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class CaptureStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PURGED = "purged"


class FileRole(StrEnum):
    WARC = "warc"
    MEDIA = "media"
    TEXT = "text"
    SCREENSHOT = "screenshot"
    MANIFEST = "manifest"
    WORKING_COPY = "working_copy"


class EvidenceCapture(Base):
    __tablename__ = "evidence_captures"
    # A capture job's key (``evidence.capture`` with ``key``): one capture per item and job,
    # however often the job is delivered. None for captures made outside a keyed job.
    __table_args__ = (
        UniqueConstraint("job_key", "item_id", name="uq_evidence_captures_job_key_item"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    status: Mapped[str] = mapped_column(String(16), default=CaptureStatus.RUNNING.value, index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text, default=None)
    url_reported: Mapped[str] = mapped_column(Text, default="")
    url_canonical: Mapped[str] = mapped_column(Text, default="")
    final_url: Mapped[str | None] = mapped_column(Text, default=None)
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    content_type: Mapped[str | None] = mapped_column(String(200), default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    # The start of the captured text, blanks folded (``capturing.text_excerpt``): what the item
    # page shows and the queue's search reads. ``text.txt`` in the store stays the evidence.
    text_excerpt: Mapped[str | None] = mapped_column(Text, default=None)
    with_screenshot: Mapped[bool] = mapped_column(default=False)
    tool: Mapped[str] = mapped_column(String(64), default="takedown")
    tool_version: Mapped[str] = mapped_column(String(64), default="")
    access_context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    response_headers: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    tls_certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    storage_backend: Mapped[str] = mapped_column(String(32), default="local")
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    captured_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    purged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    purge_reason: Mapped[str | None] = mapped_column(Text, default=None)
    job_key: Mapped[str | None] = mapped_column(String(200), default=None)


class EvidenceFile(Base):
    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_files_sha256", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("evidence_captures.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    # Path inside the capture (and inside an export bundle): "capture.warc.gz", "media/01.jpg"...
    name: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    media_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    source_url: Mapped[str | None] = mapped_column(Text, default=None)
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence_files.id"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # When the media hooks (matching) saw this file; NULL = still due (media only).
    hooks_done_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class EvidenceHold(Base):
    """Keeps an item's evidence past the retention date (investigation, court request)."""

    __tablename__ = "evidence_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="investigation")
    reason: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    placed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    until: Mapped[dt.datetime | None] = mapped_column(default=None)
    released_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
