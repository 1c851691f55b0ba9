"""Pydantic models of the verification API."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


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
