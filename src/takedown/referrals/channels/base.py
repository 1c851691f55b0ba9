"""The delivery-channel interface: hand one issued batch to its platform.

A channel makes one attempt and reports what happened; the delivery job
(``referrals.delivery``) owns retries, backoff, giving up and the record of
every attempt. Channels get their HTTP client / SMTP settings injected, so
tests point them at the testbed or at ``httpx.MockTransport``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from takedown.referrals.platforms import PlatformInfo


@dataclass(frozen=True, slots=True)
class Envelope:
    referral_id: int
    reference: str
    kind: str
    platform: PlatformInfo
    agency: str
    agency_contact: str
    urls: list[str]
    document: dict[str, Any]  # the frozen Annex I / referral document
    payload: dict[str, Any]  # the JSON sent to platform APIs
    idempotency_key: str
    attempt: int
    html: Callable[[], str]
    pdf: Callable[[], bytes]
    csv: Callable[[], str]
    # The Art. 4(1) copy of a removal order: the host state's authority's address. The
    # channel sends the same document there instead of to the platform (e-mail only).
    copy_to: str | None = None
    copy_authority: str | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    ok: bool
    retryable: bool = True
    status_code: int | None = None
    ack_reference: str | None = None
    received_at: dt.datetime | None = None  # the platform's authenticated time of receipt
    detail: str = ""
    retry_after: float | None = None


@runtime_checkable
class DeliveryChannel(Protocol):
    name: str

    def deliver(self, envelope: Envelope) -> Attempt: ...
