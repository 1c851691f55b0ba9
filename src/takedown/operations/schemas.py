"""API shapes of the operations capability."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from takedown.kit.types import IdField


class Targets(BaseModel):
    groups: list[str] = Field(default_factory=list, max_length=100)
    outlets: list[str] = Field(default_factory=list, max_length=100)
    platforms: list[str] = Field(default_factory=list, max_length=100)


class ParticipantIn(BaseModel):
    agency_id: IdField
    role: Literal["participant", "observer"] = "participant"


class OperationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["action_day", "campaign"] = "action_day"
    starts_at: dt.datetime
    ends_at: dt.datetime | None = None
    targets: Targets = Field(default_factory=Targets)
    notes: str = Field(default="", max_length=20_000)
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=200)


class ParticipantOut(BaseModel):
    agency_id: int
    agency: str
    country: str
    role: str
    joined_at: dt.datetime


class OperationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    status: str
    lead_agency_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    targets: dict[str, Any]
    notes: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    closed_at: dt.datetime | None


class OperationDetailOut(OperationOut):
    participants: list[ParticipantOut] = Field(default_factory=list)
    your_role: str | None = None


class StatusIn(BaseModel):
    status: Literal["planned", "running", "closed"]


class ItemQueryIn(BaseModel):
    status: list[str] = Field(default_factory=list, max_length=10)
    platform: str | None = Field(default=None, max_length=64)
    kind: str | None = Field(default=None, max_length=16)
    q: str | None = Field(default=None, max_length=500)
    label: str | None = Field(default=None, max_length=200)


class AddItemsIn(BaseModel):
    """Exactly one of: ``item_ids`` (one by one), ``import_id`` (an import of yours), ``query``."""

    item_ids: list[IdField] | None = Field(default=None, max_length=10_000)
    import_id: IdField | None = None
    query: ItemQueryIn | None = None


class AddItemsOut(BaseModel):
    requested: int
    added: int
    already: int


class OperationItemOut(BaseModel):
    id: int
    platform: str
    kind: str
    canonical_url: str
    status: str
    contributors: int


class HeldItemOut(BaseModel):
    item_id: int
    platform: str
    canonical_url: str
    hold_id: int
    reason: str
    contact_point: str
    held_since: dt.datetime
    requests: int


class LegalEventIn(BaseModel):
    kind: Literal["scrutiny", "exposure", "specific_measures", "review", "penalty"]
    outcome: str = Field(min_length=1, max_length=24)
    occurred_at: dt.datetime
    platform: str | None = Field(default=None, max_length=64)
    referral_id: IdField | None = None
    amount_eur: Decimal | None = Field(default=None, ge=0, lt=Decimal("1e12"), decimal_places=2)
    reference: str = Field(default="", max_length=128)
    notes: str = Field(default="", max_length=20_000)


class LegalEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    outcome: str
    platform: str | None
    referral_id: int | None
    occurred_at: dt.datetime
    amount_eur: Decimal | None
    reference: str
    notes: str
    created_at: dt.datetime
