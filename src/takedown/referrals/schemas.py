"""Pydantic models of the referrals API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from takedown.kit.types import IdField


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_ids: list[IdField] = Field(min_length=1, max_length=50_000)
    kind: Literal["tos", "removal_order"]
    reasons: list[Literal["a", "b", "c", "d", "e"]] = Field(default_factory=list)
    justification: str = Field(default="", max_length=20_000)
    emergency: bool = False
    disclosure_delayed: bool = False
    disclosure_delay_weeks: int = Field(default=0, ge=0, le=12)
    channel: Literal["api", "email", "portal", "export"] | None = None


class BatchItemOut(BaseModel):
    item_id: int
    url: str
    state: str
    detail: str = ""


class BatchOut(BaseModel):
    id: int
    reference: str
    platform: str
    kind: str
    status: str
    included: int
    items: list[BatchItemOut]


class ReferralOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    kind: str
    status: str
    platform: str
    channel: str
    emergency: bool
    created_at: dt.datetime
    issued_at: dt.datetime | None
    not_before: dt.datetime | None
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    deadline_at: dt.datetime | None
    overdue_at: dt.datetime | None
    ack_reference: str | None


class HostCopyOut(BaseModel):
    """Where a removal order's Art. 4(1) copy to the host state's competent authority
    stands: ``not_applicable`` (a ToS referral, a domestic order, cancelled or never sent),
    ``waiting`` (goes with the order), ``pending``, ``sent``, ``failed`` (gave up) or
    ``not_sent`` (no confirmed contact point: ``POST .../host-copy`` once it is set)."""

    status: str
    host_state: str | None
    authority: str | None
    recipient: str | None
    sent_at: dt.datetime | None
    attempts: int
    next_attempt_at: dt.datetime | None
    reason: str
    can_send: bool
    message: str


class ReferralDetail(BaseModel):
    id: int
    reference: str
    kind: str
    status: str
    platform: str
    channel: str
    emergency: bool
    issued_at: dt.datetime | None
    not_before: dt.datetime | None
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    deadline_at: dt.datetime | None
    overdue: bool
    document: dict[str, Any]
    items: list[dict[str, Any]]
    # The Art. 4(1) copy to the host state's authority (null for a platform's liaison)
    host_copy: HostCopyOut | None = None


class ReferralEditIn(BaseModel):
    """What may change in a draft or an order awaiting approval; omitted fields stay."""

    model_config = ConfigDict(extra="forbid")
    reasons: list[Annotated[str, Field(max_length=1)]] | None = Field(default=None, max_length=5)
    justification: str | None = Field(default=None, max_length=10_000)
    emergency: bool | None = None
    remove_items: list[IdField] = Field(default_factory=list, max_length=1000)


class EmergencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=20, max_length=2000)


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=5000)


class ResponseIn(BaseModel):
    """A platform's answer for one item: Annex II (removed) or Annex III (cannot comply)."""

    model_config = ConfigDict(extra="forbid")
    response: Literal["removed", "cannot_comply"]
    reason: Literal["force_majeure", "manifest_error", "insufficient_information"] | None = None
    text: str = Field(default="", max_length=5000)
    # Annex II: the date and time of removal or disabling of access, as the platform states it.
    removed_at: dt.datetime | None = None


class ResponseOut(BaseModel):
    item_id: int
    response: str
    reason: str | None
    responded_at: dt.datetime | None
    item_status: str


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    at: dt.datetime
    ok: bool
    status_code: int | None
    detail: str
    duration_ms: int
    # When the channel answered; null while the attempt runs, or if its sender died
    # before an answer (then ``detail`` says "interrupted").
    finished_at: dt.datetime | None = None


class DeliveryOut(BaseModel):
    channel: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    ack_reference: str | None
    acknowledged_at: dt.datetime | None
    history: list[AttemptOut]


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    referral_id: int
    kind: str
    message: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class RemovalStatsOut(BaseModel):
    items: int
    removed: int
    removed_within_1h: int
    share_removed: float
    share_within_1h: float
    median_seconds: float | None
    per_item: list[dict[str, Any]]
