"""Pydantic models of the items API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from takedown.items.models import Verdict
from takedown.kit.types import IdField


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    identity: str
    platform: str
    kind: str
    key: str
    canonical_url: str
    parent_identity: str | None
    status: str
    title: str | None
    language: str | None
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    created_at: dt.datetime
    status_changed_at: dt.datetime
    first_referred_at: dt.datetime | None


class SightingOut(BaseModel):
    """Other agencies' sightings carry only the agency and the time."""

    agency_id: int
    agency_name: str
    reported_at: dt.datetime
    own: bool
    id: int | None = None
    reported_url: str | None = None
    source: str | None = None
    line_no: int | None = None
    note: str | None = None
    import_id: int | None = None


class HoldOut(BaseModel):
    """Other agencies' holds show whom to contact, never the reason."""

    id: int
    agency_id: int
    agency_name: str
    contact_point: str
    created_at: dt.datetime
    own: bool
    reason: str | None = None


class ItemDetailOut(ItemOut):
    fetch_url: str | None = Field(
        default=None, description="The URL to fetch (may carry a key); not for liaisons."
    )
    sightings: list[SightingOut]
    holds: list[HoldOut]


class ItemReportIn(BaseModel):
    url: str = Field(min_length=1, max_length=8192)
    note: str = Field(default="", max_length=4000)
    title: str | None = Field(default=None, max_length=2000)
    reported_at: dt.datetime | None = None


class ItemReportOut(BaseModel):
    item: ItemOut
    created: bool


class AssessmentIn(BaseModel):
    verdict: Verdict
    categories: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="TCO Art. 2(7) letters a-e, or incitement, solicitation_commit, "
        "solicitation_participate, instruction, threat",
    )
    group: str | None = Field(default=None, max_length=200)
    outlet: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16)
    notes: str = Field(default="", max_length=20_000)


class AssessmentOut(BaseModel):
    """Other agencies' assessments come without notes and analyst."""

    id: int
    item_id: int
    agency_id: int
    agency_name: str
    own: bool
    verdict: str
    categories: list[str]
    group: str | None
    outlet: str | None
    language: str | None
    language_suggested: str | None
    language_scores: list[Any]
    notes: str | None
    analyst_id: int | None
    created_at: dt.datetime


class HoldIn(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)
    contact_point: str | None = Field(default=None, max_length=320)


class ShareIn(BaseModel):
    agency_id: IdField


class ShareOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    item_id: int
    agency_id: int
    shared_by_agency_id: int
    created_at: dt.datetime


class ImportErrorOut(BaseModel):
    line: int
    reason: str


class ImportJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agency_id: int
    user_id: int | None
    filename: str
    format: str
    encoding: str
    status: str
    rows_total: int
    rows_ok: int
    rows_bad: int
    items_created: int
    duplicates_folded: int
    errors: list[ImportErrorOut] = Field(description="The first 1,000 bad rows; see rows_bad.")
    warnings: list[str]
    created_at: dt.datetime
    finished_at: dt.datetime | None
