"""Addresses, their sightings, watch lists, service labels, alerts, traces, listing classes.

Every row but the shared label list belongs to one agency: an address seen by two
agencies is two rows, so neither learns from the other where (or that) it was seen.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from takedown.db import Base
from takedown.kit.clock import utcnow

Satoshis = BigInteger().with_variant(Integer, "sqlite")


class SightingSource(StrEnum):
    ITEM = "item"  # an item's title, URL or reporting note (intake, API, monitoring)
    EVIDENCE = "evidence"  # the text captured with an evidence manifest
    POST = "post"  # a crawled post, thread or listing (monitoring)
    TEXT = "text"  # a text an analyst pasted or a file scanned


class Tlp(StrEnum):
    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


class AlertStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CoinAddress(Base):
    __tablename__ = "coin_addresses"
    __table_args__ = (UniqueConstraint("agency_id", "kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(128), index=True)
    network: Mapped[str] = mapped_column(String(16), default="mainnet")
    script: Mapped[str] = mapped_column(String(24), default="")
    first_seen_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]
    sightings_count: Mapped[int] = mapped_column(default=0)


class CoinSighting(Base):
    """One place an address was seen; the first by ``seen_at`` is where it was first seen."""

    __tablename__ = "coin_sightings"
    __table_args__ = (UniqueConstraint("address_id", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("coin_addresses.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    # What identifies the source, so the same text scanned twice adds no second sighting.
    source_key: Mapped[str] = mapped_column(String(300))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True, default=None)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("evidence_captures.id"), default=None)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    post_url: Mapped[str | None] = mapped_column(Text, default=None)
    # The item's attribution when seen: platform, group, outlet (from its latest assessment).
    attribution: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    form: Mapped[str] = mapped_column(String(16), default="plain")
    asset: Mapped[str | None] = mapped_column(String(16), default=None)
    context: Mapped[str] = mapped_column(Text, default="")
    seen_at: Mapped[dt.datetime]


class WatchList(Base):
    __tablename__ = "coin_watch_lists"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    tlp: Mapped[str] = mapped_column(String(16), default=Tlp.AMBER.value)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WatchEntry(Base):
    """A watched address, with what its last trace found (the cursor for the next one)."""

    __tablename__ = "coin_watch_entries"
    __table_args__ = (UniqueConstraint("watch_list_id", "kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    watch_list_id: Mapped[int] = mapped_column(ForeignKey("coin_watch_lists.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(128), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_traced_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    balance: Mapped[int | None] = mapped_column(Satoshis, default=None)
    received: Mapped[int | None] = mapped_column(Satoshis, default=None)
    tx_count: Mapped[int | None] = mapped_column(Integer, default=None)
    first_activity: Mapped[dt.datetime | None] = mapped_column(default=None)
    last_activity: Mapped[dt.datetime | None] = mapped_column(default=None)
    seen_txids: Mapped[list[str]] = mapped_column(JSON, default=list)


class ServiceLabel(Base):
    """A known service's address (mixer, exchange): the label list the alerts use.

    ``agency_id`` None is the instance's shared list; an agency may keep its own too.
    """

    __tablename__ = "coin_labels"
    __table_args__ = (Index("ix_coin_labels_kind_address", "kind", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), default=None)
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CoinAlert(Base):
    __tablename__ = "coin_alerts"
    __table_args__ = (UniqueConstraint("agency_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("coin_watch_entries.id"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(128))
    rule: Mapped[str] = mapped_column(String(48))
    red_flag: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class TraceRecord(Base):
    """One trace of an address: its summary and its flow graph (nodes, edges) up to N hops."""

    __tablename__ = "coin_traces"
    __table_args__ = (Index("ix_coin_traces_agency_id_address", "agency_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(128))
    hops: Mapped[int] = mapped_column(default=1)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    graph: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    traced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ListingClass(Base):
    """The categories a listing, post or page text was given, with the deciding words."""

    __tablename__ = "coin_listing_classes"
    __table_args__ = (UniqueConstraint("agency_id", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True, default=None)
    source_key: Mapped[str] = mapped_column(String(300))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    highlights: Mapped[list[Any]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    classified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
