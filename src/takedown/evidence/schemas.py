"""Pydantic models of the evidence API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from takedown.kit.types import IdField


class CaptureIn(BaseModel):
    item_ids: list[IdField] = Field(min_length=1, max_length=100)
    with_screenshot: bool = False


class CaptureSummaryOut(BaseModel):
    item_id: int
    capture_id: int | None
    status: str
    failure_code: str | None = None
    failure_reason: str | None = None
    manifest_sha256: str | None = None


class FileOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    role: str
    name: str
    sha256: str
    size: int
    media_type: str
    source_url: str | None
    derived_from_id: int | None


class CaptureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    agency_id: int
    requested_by: int | None
    status: str
    failure_reason: str | None
    url_reported: str
    url_canonical: str
    final_url: str | None
    http_status: int | None
    content_type: str | None
    title: str | None
    with_screenshot: bool
    manifest_sha256: str | None
    storage_backend: str
    created_at: dt.datetime
    captured_at: dt.datetime | None
    purged_at: dt.datetime | None
    retain_until: dt.datetime | None = None


class CaptureDetailOut(CaptureOut):
    tool: str
    tool_version: str
    access_context: dict[str, Any]
    response_headers: list[list[str]]
    tls_certificate: dict[str, Any] | None
    purge_reason: str | None
    files: list[FileOut] = Field(default_factory=list)


class VerifyIn(BaseModel):
    capture_ids: list[IdField] | None = Field(default=None, max_length=10_000)


class VerifyOut(BaseModel):
    capture_id: int
    ok: bool
    checked: int
    problems: list[str]


class HoldIn(BaseModel):
    item_id: IdField
    kind: str = "investigation"
    reason: str = Field(min_length=1, max_length=2000)
    reference: str = Field(default="", max_length=200)
    until: dt.datetime | None = None


class HoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    agency_id: int
    kind: str
    reason: str
    reference: str
    placed_by: int | None
    placed_at: dt.datetime
    until: dt.datetime | None
    released_at: dt.datetime | None


class ExportIn(BaseModel):
    item_ids: list[IdField] = Field(min_length=1, max_length=1000)
    recipient: str = Field(default="", max_length=300)
