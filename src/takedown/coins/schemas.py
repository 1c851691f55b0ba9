"""Pydantic models of the coins API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AddressOut(_Orm):
    id: int
    kind: str
    address: str
    network: str
    script: str
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    sightings_count: int


class SightingOut(_Orm):
    id: int
    source: str
    item_id: int | None
    capture_id: int | None
    manifest_sha256: str | None
    post_url: str | None
    attribution: dict[str, Any]
    form: str
    asset: str | None
    context: str
    seen_at: dt.datetime


class AddressDetail(AddressOut):
    sightings: list[SightingOut] = Field(default_factory=list)
    sightings_total: int = 0


class TextIn(BaseModel):
    text: str = Field(max_length=8 * 1024 * 1024)


class FoundOut(BaseModel):
    kind: str
    address: str
    network: str
    script: str
    start: int
    end: int
    form: str
    asset: str | None


class ClassificationOut(BaseModel):
    categories: list[str]
    scores: dict[str, int]
    language: str | None
    highlights: list[dict[str, Any]]


class WatchListIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    tlp: str = "amber"
    description: str = Field(default="", max_length=5000)


class WatchListOut(_Orm):
    id: int
    name: str
    tlp: str
    description: str
    created_at: dt.datetime


class WatchEntryIn(BaseModel):
    address: str = Field(min_length=1, max_length=300)
    label: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=5000)


class WatchEntryOut(_Orm):
    id: int
    watch_list_id: int
    kind: str
    address: str
    label: str
    note: str
    added_at: dt.datetime
    last_traced_at: dt.datetime | None
    balance: int | None
    received: int | None
    tx_count: int | None
    first_activity: dt.datetime | None
    last_activity: dt.datetime | None


class WatchListDetail(WatchListOut):
    entries: list[WatchEntryOut] = Field(default_factory=list)


class AlertOut(_Orm):
    id: int
    entry_id: int | None
    kind: str
    address: str
    rule: str
    red_flag: str
    detail: dict[str, Any]
    status: str
    created_at: dt.datetime


class TraceIn(BaseModel):
    address: str = Field(min_length=1, max_length=300)
    hops: int = Field(default=1, ge=1, le=4)


class TraceOut(BaseModel):
    address: str
    kind: str
    hops: int
    traced_at: dt.datetime
    summary: dict[str, Any]
    graph: dict[str, Any]
    alerts: list[AlertOut] = Field(default_factory=list)


class LabelIn(BaseModel):
    address: str = Field(min_length=1, max_length=300)
    category: str
    name: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=200)


class LabelOut(_Orm):
    id: int
    kind: str
    address: str
    category: str
    name: str
    source: str
    shared: bool = False
