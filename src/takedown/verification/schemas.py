"""Pydantic models of the verification API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, model_validator

from takedown.kit.types import IdField


class CheckOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    checked_at: dt.datetime
    url: str
    outcome: str
    reason: str
    detector: str
    http_status: int | None
    attempts: int
    elapsed_ms: int


class ScheduleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    anchor_at: dt.datetime
    next_check_at: dt.datetime
    active: bool
    checks: int
    last_outcome: str | None
    removed_since: dt.datetime | None
    removed_confirmed_at: dt.datetime | None
    removed_at: dt.datetime | None  # the time of removal the statistics use
    removed_observed_at: dt.datetime | None  # the first removed check of the confirmed run
    platform_removed_at: dt.datetime | None  # as the platform stated it
    reappeared_at: dt.datetime | None


class TimelineOut(BaseModel):
    item_id: int
    url: str
    status: str
    schedule: ScheduleOut | None
    time_to_removal_seconds: float | None
    checks: list[CheckOut]


class PlatformStatsOut(BaseModel):
    platform: str
    items: int
    removed: int
    removed_within_1h: int
    share_removed: float
    share_within_1h: float
    median_seconds: float | None


class CheckRequestIn(BaseModel):
    """What to check now: exactly one of an item, a referral (its included items) or an
    operation (its referred items)."""

    model_config = ConfigDict(extra="forbid")

    item_id: IdField | None = None
    referral_id: IdField | None = None
    operation_id: IdField | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CheckRequestIn:
        if len(self.targets()) != 1:
            raise ValueError("give exactly one of item_id, referral_id, operation_id")
        return self

    def targets(self) -> list[tuple[str, int]]:
        pairs = [("item", self.item_id), ("referral", self.referral_id)]
        pairs.append(("operation", self.operation_id))
        return [(scope, i) for scope, i in pairs if i is not None]


class RequestProgressOut(BaseModel):
    total: int  # items asked for (under verification)
    checked: int  # of those, checked since the request
    pending: int
    held: int  # pending because the host asked us to wait (Retry-After)
    held_until: dt.datetime | None
    outcomes: dict[str, int]  # the latest check since the request, per item
    finished: bool


class CheckRequestOut(BaseModel):
    id: int
    scope: str  # item | referral | operation
    scope_id: int
    label: str
    requested_at: dt.datetime
    requested_by: int | None
    items: int
    skipped: int  # in the scope but not under verification (not referred), so not asked for
    progress: RequestProgressOut
