"""API models of resurgence: candidates with their evidence, decisions, figures, handles."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from takedown.kit.types import IdField


class ItemRef(BaseModel):
    id: int
    platform: str
    kind: str
    canonical_url: str
    title: str | None
    status: str
    first_seen_at: dt.datetime


class ReasonOut(BaseModel):
    signal: str
    weight: float
    detail: str


class CandidateOut(BaseModel):
    id: int
    score: float
    threshold: float
    status: str
    reasons: list[ReasonOut]
    suggestion: dict[str, Any]
    generation: int
    created_at: dt.datetime
    decided_at: dt.datetime | None
    note: str
    referral_id: int | None
    predecessor: ItemRef
    successor: ItemRef


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)
    refer: bool = Field(default=False, description="confirm only: also refer it (one step)")


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)  # true is not an id

    item_ids: list[IdField] = Field(min_length=1, max_length=1000)


class ScanOut(BaseModel):
    seen: int
    removed: int
    proposed: int
    kept_below: int


class FigureOut(BaseModel):
    group: str
    removals: int
    returned: int
    time_to_return_km_median_seconds: float | None
    returned_within_1h: float | None
    returned_within_24h: float | None
    returned_within_7d: float | None
    detected: int
    time_to_detect_median_seconds: float | None
    time_to_detect_p90_seconds: float | None
    lifetime_km_median_seconds: float | None
    successors_removed_again: int
    generations: dict[str, int]


class FiguresOut(BaseModel):
    by: Literal["platform", "operation"]
    groups: list[FigureOut]


class LinkHandlesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1, max_length=64)
    removed: list[str] = Field(min_length=1, max_length=20_000)
    seen: list[str] = Field(min_length=1, max_length=20_000)


class LinkOut(BaseModel):
    seen: str
    predecessor: str | None
    score: float
    verdict: str
    reasons: list[ReasonOut]


class PredictionOut(BaseModel):
    id: int
    removed_id: int
    removed_url: str
    platform: str
    handle: str
    pattern: str
    url: str
    state: str
    probes: int
    probed_at: dt.datetime | None
    next_probe_at: dt.datetime | None
    detail: str
