"""API shapes of platform records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from takedown.platforms.models import DeliveryChannel, PlatformKind

Host = Annotated[str, Field(min_length=1, max_length=253)]


class PlatformOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    kind: str
    country: str | None
    domains: list[str]
    legal_representative: str | None
    tco_contact_point: str | None
    delivery_channel: str
    api_endpoint: str | None
    notes: str
    created_at: dt.datetime
    updated_at: dt.datetime


class PlatformPatch(BaseModel):
    """Only the fields sent are changed; send null to clear an optional field."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    kind: PlatformKind | None = None
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    domains: Annotated[list[Host], Field(max_length=200)] | None = None
    legal_representative: Annotated[str, Field(max_length=500)] | None = None
    tco_contact_point: Annotated[str, Field(max_length=500)] | None = None
    delivery_channel: DeliveryChannel | None = None
    api_endpoint: Annotated[str, Field(max_length=500)] | None = None
    notes: Annotated[str, Field(max_length=10_000)] | None = None


class PlatformCreate(BaseModel):
    """A new platform: slug, name and kind; everything else may follow later (PATCH)."""

    model_config = ConfigDict(extra="forbid")

    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: PlatformKind
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    domains: Annotated[list[Host], Field(max_length=200)] = []
    legal_representative: Annotated[str, Field(max_length=500)] | None = None
    tco_contact_point: Annotated[str, Field(max_length=500)] | None = None
    delivery_channel: DeliveryChannel = DeliveryChannel.EXPORT
    api_endpoint: Annotated[str, Field(max_length=500)] | None = None
    notes: Annotated[str, Field(max_length=10_000)] = ""


class TcoAuthorityOut(BaseModel):
    """A Member State's authority competent for Art. 4 scrutiny (Annex I, Section D)."""

    model_config = ConfigDict(from_attributes=True)

    country: str
    name: str | None
    contact_point: str | None = Field(description="None: to be confirmed by the admin.")
    confirmed: bool
    notes: str
    updated_at: dt.datetime


class TcoAuthorityPut(BaseModel):
    """The fields to set; those left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=300)
    contact_point: str | None = Field(default=None, max_length=500)
    confirmed: bool | None = None
    notes: str | None = Field(default=None, max_length=10_000)
