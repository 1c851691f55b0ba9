"""Watched sources, Rocket.Chat server credentials, crawls, what crawls saw, and proposals.

The schedule lives in the database (``next_due_at``, ``lease_until``): a
crawler takes the due sources, leases them, and moves each one on when its
crawl ends, so a crashed worker costs a retry and 100k sources cost no memory.
``cursor`` is the newest thing a finished crawl saw (a message id, a
timestamp); ``checkpoint`` is how far an unfinished crawl got, committed page
by page, so a crash resumes instead of starting over.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow


class SourceKind(StrEnum):
    TELEGRAM = "telegram"  # a public channel, through t.me/s/<channel>
    ROCKETCHAT = "rocketchat"  # a room, through the server's REST API
    ACCOUNT = "account"  # an account page on a microblog or video platform
    WEBSITE = "website"  # a same-site crawl with depth and page limits
    ONION = "onion"  # a .onion site, through the Tor SOCKS proxy only


class SourceStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    REMOVED = "removed"  # no longer watched (kept for its history)


class CrawlResult(StrEnum):
    OK = "ok"  # read to the end (or to the cursor)
    NOT_MODIFIED = "not_modified"  # 304 to a conditional request
    PARTIAL = "partial"  # stopped at a limit; the checkpoint says where
    GONE = "gone"  # the source answers that it no longer exists
    ERROR = "error"  # a failure, with its reason


class ObservationKind(StrEnum):
    POST = "post"
    MESSAGE = "message"
    OUTLINK = "outlink"
    MEDIA = "media"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RocketChatServer(Base):
    """One Rocket.Chat server an agency reads: its base URL and sealed credentials."""

    __tablename__ = "monitoring_servers"
    __table_args__ = (UniqueConstraint("agency_id", "base_url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    base_url: Mapped[str] = mapped_column(String(500))
    # X-User-Id and X-Auth-Token, each Fernet-sealed with a key from TAKEDOWN_SECRET_KEY.
    user_id_sealed: Mapped[str] = mapped_column(Text)
    token_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Source(Base):
    __tablename__ = "monitoring_sources"
    __table_args__ = (
        UniqueConstraint("agency_id", "url"),
        Index("ix_monitoring_sources_status_next_due_at", "status", "next_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    url: Mapped[str] = mapped_column(String(1024))
    host: Mapped[str] = mapped_column(String(255), index=True)
    label: Mapped[str] = mapped_column(String(300), default="")
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None, index=True)
    server_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_servers.id"), default=None)
    operation_id: Mapped[int | None] = mapped_column(
        ForeignKey("operations.id"), default=None, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=SourceStatus.ACTIVE.value)
    # 0 for a source added by hand; a proposal accepted from a source of depth d has d + 1.
    depth: Mapped[int] = mapped_column(default=0)
    origin: Mapped[str] = mapped_column(String(32), default="manual")
    base_interval_s: Mapped[int] = mapped_column(default=3600)
    interval_s: Mapped[int] = mapped_column(default=3600)
    next_due_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    cursor: Mapped[str | None] = mapped_column(String(255), default=None)
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    etag: Mapped[str | None] = mapped_column(String(255), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(64), default=None)
    last_crawl_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_result: Mapped[str | None] = mapped_column(String(16), default=None)
    last_reason: Mapped[str] = mapped_column(Text, default="")
    last_new: Mapped[int] = mapped_column(default=0)
    last_post_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    crawls: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)  # consecutive
    new_total: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    removed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Crawl(Base):
    """One crawl of one source: when, how it ended and why."""

    __tablename__ = "monitoring_crawls"
    __table_args__ = (
        Index("ix_monitoring_crawls_source_id_started_at", "source_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sources.id"))
    started_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    result: Mapped[str] = mapped_column(String(16), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    http_status: Mapped[int | None] = mapped_column(default=None)
    pages: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    new_items: Mapped[int] = mapped_column(default=0)


class Observation(Base):
    """Something a crawl saw for the first time: the feed, and "new items per source".

    One row per (source, item, kind) for posts, messages and outlinks (the crawler
    checks before it adds); media rows hang on their post's item, one per file."""

    __tablename__ = "monitoring_observations"
    __table_args__ = (
        Index("ix_monitoring_observations_source_id_item_id", "source_id", "item_id"),
        Index("ix_monitoring_observations_agency_id_seen_at", "agency_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sources.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    parent_item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None)
    kind: Mapped[str] = mapped_column(String(16))
    url: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    matches: Mapped[int] = mapped_column(default=0)
    posted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    seen_at: Mapped[dt.datetime]


class Proposal(Base):
    """A channel or account of a watched kind that a crawl found a link to: review queue."""

    __tablename__ = "monitoring_proposals"
    __table_args__ = (UniqueConstraint("agency_id", "identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    identity: Mapped[str] = mapped_column(String(1024))
    url: Mapped[str] = mapped_column(String(1024))
    kind: Mapped[str] = mapped_column(String(16))
    found_in_source_id: Mapped[int] = mapped_column(ForeignKey("monitoring_sources.id"))
    depth: Mapped[int] = mapped_column(default=1)
    seen: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(
        String(16), default=ProposalStatus.PENDING.value, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("monitoring_sources.id"), default=None)
