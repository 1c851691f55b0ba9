"""Partners, collections, what was shared with whom, what came in, and deconfliction.

- A *partner* is another organisation's instance (or any TAXII 2.1 server): where to pull
  from, with which sealed token, how far it is trusted and the strictest TLP exchanged.
  It is represented on this instance by an agency (``agency_id``): what it sends is
  credited to that agency, and that agency's users' tokens are how it reaches us.
- A *collection* is a TAXII collection owned by one agency, read and written by the
  agencies granted on it; its ``audience`` decides the strictest TLP it may carry.
- A *share* is "this item, bank or operation goes to that collection at that TLP"; the
  publisher materialises shares into collection objects (``TaxiiObject``), each version
  with the time it was added, which TAXII clients page through.
- The *inbox* keeps every object that came in (pulled or posted), keyed by its source,
  id and version so nothing is imported twice, with what became of it.
- Deconfliction keeps the asker's requests and follow-ups and the answerer's count of
  elements asked (nothing else of a question is ever stored on the answering side).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
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

_BIGID = BigInteger().with_variant(Integer(), "sqlite")


class Trust(StrEnum):
    REVIEW = "review"  # incoming objects wait for an analyst
    AUTO = "auto"  # incoming objects are imported as they arrive


class AuthKind(StrEnum):
    BEARER = "bearer"
    BASIC = "basic"


class InboxStatus(StrEnum):
    PENDING = "pending"  # awaiting review
    IMPORTED = "imported"
    REJECTED = "rejected"  # by an analyst
    FAILED = "failed"  # a bad object: reported with its reason, skipped
    IGNORED = "ignored"  # nothing to import (identities, marking definitions...)


class Partner(Base):
    __tablename__ = "sharing_partners"
    __table_args__ = (UniqueConstraint("owner_agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    api_root: Mapped[str] = mapped_column(String(1000), default="")
    collection: Mapped[str] = mapped_column(String(200), default="")
    auth_kind: Mapped[str] = mapped_column(String(16), default=AuthKind.BEARER.value)
    username: Mapped[str] = mapped_column(String(200), default="")
    #: The token (or password), sealed with a key derived from TAKEDOWN_SECRET_KEY.
    secret_sealed: Mapped[str] = mapped_column(Text, default="")
    deconfliction_url: Mapped[str] = mapped_column(String(1000), default="")
    trust: Mapped[str] = mapped_column(String(16), default=Trust.REVIEW.value)
    tlp_ceiling: Mapped[str] = mapped_column(String(16), default="AMBER")
    contact_point: Mapped[str] = mapped_column(String(320), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pull_every_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    next_pull_at: Mapped[dt.datetime | None] = mapped_column(default=None, index=True)
    #: ``added_after`` of the next pull: the last date_added a completed pull saw.
    checkpoint: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_pull_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_pull_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Collection(Base):
    __tablename__ = "sharing_collections"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(16))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("sharing_partners.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Grant(Base):
    """An agency's right to read and/or write one collection (the owner always has both)."""

    __tablename__ = "sharing_grants"
    __table_args__ = (UniqueConstraint("collection_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("sharing_collections.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    can_read: Mapped[bool] = mapped_column(Boolean, default=True)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Share(Base):
    """What was shared with whom: one subject into one collection, at one TLP."""

    __tablename__ = "sharing_shares"
    __table_args__ = (
        Index("ix_sharing_shares_subject", "collection_id", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("sharing_collections.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(16))  # item | bank | operation
    subject_id: Mapped[int]
    tlp: Mapped[str] = mapped_column(String(16))
    include_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    objects: Mapped[int] = mapped_column(Integer, default=0)
    withheld: Mapped[int] = mapped_column(Integer, default=0)  # kept back by TLP
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class TaxiiObject(Base):
    """One version of one STIX object in one collection, as served."""

    __tablename__ = "sharing_objects"
    __table_args__ = (
        UniqueConstraint("collection_id", "stix_id", "version_key"),
        Index("ix_sharing_objects_collection_added", "collection_id", "date_added", "id"),
        Index("ix_sharing_objects_collection_stix", "collection_id", "stix_id"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("sharing_collections.id"))
    stix_id: Mapped[str] = mapped_column(String(200))
    stix_type: Mapped[str] = mapped_column(String(64))
    #: The object's modified (or created) timestamp as written; date_added for SCOs.
    version: Mapped[str] = mapped_column(String(40))
    #: The same instant as fixed-width UTC text with microseconds: sorts and compares.
    version_key: Mapped[str] = mapped_column(String(32))
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    is_first: Mapped[bool] = mapped_column(Boolean, default=True)
    spec_version: Mapped[str] = mapped_column(String(8), default="2.1")
    date_added: Mapped[dt.datetime]
    tlp: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    share_id: Mapped[int | None] = mapped_column(
        ForeignKey("sharing_shares.id"), default=None, index=True
    )
    #: The agency that posted it (TAXII POST), None for what the publisher wrote.
    posted_by_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), default=None)


class TaxiiStatus(Base):
    __tablename__ = "sharing_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("sharing_collections.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    request_timestamp: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="complete")
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    success_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class InboxObject(Base):
    """One object that came in (pulled from a partner or posted to a collection)."""

    __tablename__ = "sharing_inbox"
    __table_args__ = (
        UniqueConstraint("source_agency_id", "stix_id", "version"),
        Index("ix_sharing_inbox_owner_status", "owner_agency_id", "status"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True, autoincrement=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    source_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("sharing_partners.id"), default=None, index=True
    )
    channel: Mapped[str] = mapped_column(String(16))  # taxii-pull | taxii-post | misp | stix
    stix_id: Mapped[str] = mapped_column(String(200))
    stix_type: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(40))
    tlp: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=InboxStatus.PENDING.value)
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class Investigation(Base):
    """An element of an agency's investigations list: what deconfliction answers from."""

    __tablename__ = "sharing_investigations"
    __table_args__ = (UniqueConstraint("agency_id", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    #: ``url:<identity>`` (an item, an account or a channel) or ``sha256:<hex>``.
    element: Mapped[str] = mapped_column(String(1100))
    label: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class DeconflictionRequest(Base):
    """The asker's side of one question to one partner."""

    __tablename__ = "sharing_deconfliction_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("sharing_partners.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    elements: Mapped[int] = mapped_column(Integer, default=0)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="answered")  # answered | failed
    error: Mapped[str] = mapped_column(Text, default="")
    bytes_sent: Mapped[int] = mapped_column(Integer, default=0)
    bytes_received: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Followup(Base):
    """A hit: the hold placed for the partner and the follow-up due by ``due_at``."""

    __tablename__ = "sharing_followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("sharing_deconfliction_requests.id"), index=True
    )
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("sharing_partners.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None)
    element: Mapped[str] = mapped_column(String(1100))
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"), default=None)
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    note: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)


class DeconflictionAnswer(Base):
    """The answering side: who asked, when, and how many elements. Nothing else."""

    __tablename__ = "sharing_deconfliction_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    asker_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    elements: Mapped[int] = mapped_column(Integer, default=0)
