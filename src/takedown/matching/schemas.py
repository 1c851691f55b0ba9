"""Pydantic shapes of banks, signals and match reports (API, CLI JSON and service results)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from takedown.matching.models import DERIVED_TYPES, LABEL_KEYS, SIGNAL_TYPES, BankKind, Tlp

TlpName = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]


class Labels(BaseModel):
    """What a signal is: who made it, where it was published, and how bad it is."""

    model_config = ConfigDict(extra="allow")

    group: str | None = None
    outlet: str | None = None
    content_type: str | None = None
    tco_category: Literal["a", "b", "c", "d", "e"] | None = Field(
        default=None, description="TCO Art. 2(7) point (a)-(e)"
    )
    tier: int | None = Field(default=None, ge=1, le=4, description="TCAP tier 1-4")

    @field_validator("tco_category", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        if isinstance(v, str):
            v = v.strip().lower().removeprefix("(").removesuffix(")")
            return v or None
        return v

    @field_validator("tier", mode="before")
    @classmethod
    def _tier(cls, v: object) -> object:
        return None if v == "" else v

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v not in (None, "")}


class BankCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: BankKind = BankKind.KNOWN
    tlp: TlpName = Tlp.AMBER.value
    shared: StrictBool = False  # "yes", 1 or "on" are refused, as the schema says
    description: str = ""
    thresholds: dict[str, int] = Field(default_factory=dict)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, v: dict[str, int]) -> dict[str, int]:
        for key, value in v.items():
            if key == "video_min_percent":
                if not 1 <= value <= 100:
                    raise ValueError("video_min_percent must be 1..100")
                continue
            if key not in SIGNAL_TYPES:
                raise ValueError(f"unknown signal type {key!r}")
            limit = 64 if key != "text_simhash" else 24
            if not 0 <= value <= limit:
                raise ValueError(f"threshold for {key} must be 0..{limit}")
        return v


class BankOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agency_id: int
    name: str
    kind: str
    tlp: str
    shared: bool
    description: str
    thresholds: dict[str, int]
    created_at: dt.datetime
    signal_count: int = 0
    #: Derived signals an older version made (``models.STALE_VARIANT``): adding the bank's
    #: media again renews them.
    stale_signal_count: int = 0


class SignalIn(BaseModel):
    signal_type: str
    value: str = Field(min_length=1, max_length=200_000)
    labels: Labels = Field(default_factory=Labels)
    tlp: TlpName | None = None
    source: str = Field(default="", max_length=200)
    external_id: str | None = Field(default=None, max_length=200)
    enabled: bool = True
    variant: str = Field(default="original", max_length=32)

    @field_validator("signal_type")
    @classmethod
    def _type(cls, v: str) -> str:
        v = v.strip().lower()
        if v in DERIVED_TYPES:
            raise ValueError(
                f"{v} signals are derived by takedown from an image it has the pixels of;"
                " add the image instead"
            )
        if v not in SIGNAL_TYPES:
            raise ValueError(f"signal_type must be one of {', '.join(SIGNAL_TYPES)}")
        return v


class SignalOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    bank_id: int
    signal_type: str
    value: str
    variant: str
    labels: dict[str, Any]
    tlp: str | None
    source: str
    external_id: str | None
    enabled: bool
    item_id: int | None
    created_at: dt.datetime


class SignalPatch(BaseModel):
    enabled: bool


class HashOut(BaseModel):
    signal_type: str
    value: str
    variant: str
    quality: int | None = None
    usable: bool = True
    extra: dict[str, Any] = Field(default_factory=dict)


class MediaAdded(BaseModel):
    """One uploaded file added to a bank: its name and the signals it gave (or why none)."""

    file: str
    signals: list[SignalOut] = Field(default_factory=list)
    error: str | None = None


class MatchHit(BaseModel):
    bank_id: int
    bank_name: str
    bank_kind: str
    signal_id: int
    signal_type: str
    distance: int
    threshold: int
    variant: str
    labels: dict[str, Any]
    tlp: str
    source: str
    external_id: str | None = None
    item_id: int | None = None
    #: Video only: share of the query's sampled frames that matched, and the signal's.
    fraction: float | None = None
    signal_fraction: float | None = None
    ranges: list[tuple[float, float]] | None = None


class MatchReport(BaseModel):
    media_type: str
    sha256: str
    hashes: list[HashOut]
    matches: list[MatchHit]
    #: Known-content matches suppressed because the media is on an allow-list.
    suppressed: list[MatchHit] = Field(default_factory=list)
    allowed_by: list[MatchHit] = Field(default_factory=list)
    no_usable_hash: bool = False

    @property
    def attribution(self) -> dict[str, Any]:
        """The labels of the closest match: what the analyst is offered as attribution."""
        if not self.matches:
            return {}
        best = min(self.matches, key=lambda m: (m.distance, m.signal_id))
        return dict(best.labels)


class HashQuery(BaseModel):
    signal_type: str
    value: str = Field(min_length=1, max_length=200_000)


class ImportReport(BaseModel):
    added: int = 0
    updated: int = 0
    disabled: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list)


class MatchResultOut(BaseModel):
    """One match result as the review queue shows it."""

    id: int
    item_id: int | None
    item_url: str | None
    bank_id: int
    bank_name: str
    signal_id: int
    signal_type: str
    distance: int
    variant: str
    labels: dict[str, Any]
    tlp: str
    status: str
    reviewed_by: int | None = None
    reviewed_at: dt.datetime | None = None
    review_note: str = ""
    created_at: dt.datetime


class ReviewIn(BaseModel):
    decision: Literal["confirmed", "rejected"]
    note: str = Field(default="", max_length=500)


__all__ = ["LABEL_KEYS"]
