"""Pydantic models of the sharing API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from takedown.kit.types import IdField

TlpName = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
AudienceName = Literal["organisation", "clients", "community", "public"]


class PartnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2)
    contact_point: str = Field(min_length=3, max_length=320)
    api_root: str = Field(default="", max_length=1000)
    collection: str = Field(default="", max_length=200)
    token: str = Field(default="", max_length=2000, description="sealed at rest, never shown")
    auth_kind: Literal["bearer", "basic"] = "bearer"
    username: str = Field(default="", max_length=200)
    trust: Literal["review", "auto"] = "review"
    tlp_ceiling: TlpName = "AMBER"
    deconfliction_url: str = Field(default="", max_length=1000)
    pull_every_seconds: int = Field(default=3600, ge=60, le=7 * 86400)
    agency_id: IdField | None = None


class PartnerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    agency_id: int
    api_root: str
    collection: str
    auth_kind: str
    trust: str
    tlp_ceiling: str
    contact_point: str
    deconfliction_url: str
    enabled: bool
    pull_every_seconds: int
    checkpoint: dt.datetime | None
    last_pull_at: dt.datetime | None
    next_pull_at: dt.datetime | None
    last_pull_summary: dict[str, Any]
    last_error: str


class CollectionIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    audience: AudienceName
    description: str = Field(default="", max_length=2000)
    partner_id: IdField | None = None


class CollectionOut(BaseModel):
    id: int
    uuid: str
    title: str
    audience: str
    ceiling: str
    owner_agency_id: int
    can_read: bool
    can_write: bool
    objects: int


class GrantIn(BaseModel):
    agency_id: IdField
    read: bool = True
    write: bool = False


class ShareIn(BaseModel):
    collection_id: IdField
    subject_type: Literal["item", "bank", "operation"]
    subject_id: IdField
    tlp: TlpName | None = None
    include_hold: bool = False


class ShareOut(BaseModel):
    id: int
    collection_id: int
    collection: str
    audience: str
    subject_type: str
    subject_id: int
    tlp: str
    recipients: list[str]
    objects: int
    withheld: int
    created_at: dt.datetime
    published_at: dt.datetime | None
    revoked_at: dt.datetime | None


class InboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    partner_id: int | None
    channel: str
    stix_id: str
    stix_type: str
    version: str
    tlp: str
    status: str
    error: str
    result: dict[str, Any]
    received_at: dt.datetime


class DecideIn(BaseModel):
    ids: list[IdField] = Field(min_length=1, max_length=1000)
    accept: bool


class PsiQuestion(BaseModel):
    request: str = Field(min_length=1, max_length=64 * 1024 * 1024)


class AskIn(BaseModel):
    item_ids: list[IdField] = Field(default_factory=list, max_length=100_000)
    urls: list[str] = Field(default_factory=list, max_length=100_000)
    sha256: list[str] = Field(default_factory=list, max_length=100_000)
    md5: list[str] = Field(default_factory=list, max_length=100_000)


class RequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    partner_id: int
    created_at: dt.datetime
    elements: int
    hits: int
    status: str
    error: str
    bytes_sent: int
    bytes_received: int


class FollowupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    request_id: int
    partner_id: int
    item_id: int | None
    element: str
    hold_id: int | None
    due_at: dt.datetime
    status: str
    note: str


class AskOut(BaseModel):
    request: RequestOut
    followups: list[FollowupOut]


class InvestigationIn(BaseModel):
    url: str | None = Field(default=None, max_length=4000)
    sha256: str | None = Field(default=None, max_length=64)
    md5: str | None = Field(default=None, max_length=32)
    label: str = Field(default="", max_length=300)


class InvestigationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    element: str
    label: str
    created_at: dt.datetime
