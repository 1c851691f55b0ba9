"""API shapes of monitoring. Credentials go in, never out."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class SourceIn(BaseModel):
    url: str = Field(min_length=1, max_length=1024)
    kind: str | None = Field(default=None, max_length=16)
    label: str = Field(default="", max_length=300)
    operation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    interval_s: int | None = Field(default=None, ge=60, le=30 * 86400)


class BulkIn(BaseModel):
    urls: list[str] = Field(max_length=10_000)
    kind: str | None = Field(default=None, max_length=16)
    operation_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class LineError(BaseModel):
    line: int
    url: str
    reason: str


class BulkOut(BaseModel):
    added: list[int]
    existing: list[int]
    errors: list[LineError]


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    url: str
    host: str
    label: str
    status: str
    item_id: int | None
    operation_id: int | None
    depth: int
    origin: str
    interval_s: int
    next_due_at: dt.datetime
    cursor: str | None
    last_crawl_at: dt.datetime | None
    last_result: str | None
    last_reason: str
    last_new: int
    last_post_at: dt.datetime | None
    crawls: int
    failures: int
    new_total: int
    created_at: dt.datetime


class CrawlOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    result: str
    reason: str
    http_status: int | None
    pages: int
    requests: int
    new_items: int


class SourceDetailOut(SourceOut):
    recent_crawls: list[CrawlOut]


class FeedEntryOut(BaseModel):
    id: int
    source_id: int
    source_url: str
    kind: str
    item_id: int
    item_identity: str
    url: str
    text: str
    parent_item_id: int | None
    sha256: str | None
    matches: int
    posted_at: dt.datetime | None
    seen_at: dt.datetime


class ProposalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    identity: str
    url: str
    kind: str
    found_in_source_id: int
    depth: int
    seen: int
    status: str
    created_at: dt.datetime
    source_id: int | None


class ServerIn(BaseModel):
    base_url: str = Field(min_length=1, max_length=500)
    user_id: str = Field(min_length=1, max_length=200)
    token: str = Field(min_length=1, max_length=500)


class ServerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    base_url: str
    created_at: dt.datetime
