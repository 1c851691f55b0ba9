"""Platform API delivery: a signed JSON POST to the platform's referral intake.

Signed with HMAC-SHA256 (``referrals.signing``), carrying an
``Idempotency-Key`` that stays the same across retries of one delivery, so
a platform that got the first attempt but whose answer was lost recognises
the retry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import httpx

from takedown.kit.clock import Clock, SystemClock
from takedown.referrals.channels.base import Attempt, Envelope
from takedown.referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


def parse_time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class ApiChannel:
    name = "api"

    def __init__(
        self,
        client: httpx.Client,
        key_for: Callable[[str], bytes],
        *,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.key_for = key_for
        self.clock = clock or SystemClock()

    def deliver(self, envelope: Envelope) -> Attempt:
        endpoint = envelope.platform.api_endpoint
        if not endpoint:
            return Attempt(False, retryable=False, detail="the platform has no API endpoint")
        body = json.dumps(envelope.payload, sort_keys=True, separators=(",", ":")).encode()
        ts = int(self.clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.key_for(envelope.platform.slug), body, ts),
            IDEMPOTENCY_HEADER: envelope.idempotency_key,
        }
        try:
            resp = self.client.post(endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Attempt(False, detail=f"{type(exc).__name__}: {exc}")
        retry_after = resp.headers.get("retry-after")
        if resp.status_code in (200, 201, 202):
            try:
                data = resp.json()
            except ValueError:
                data = {}
            ack = (
                data.get("acknowledgement_id") or data.get("id") if isinstance(data, dict) else None
            )
            received = parse_time(data.get("received_at")) if isinstance(data, dict) else None
            return Attempt(
                True,
                status_code=resp.status_code,
                ack_reference=str(ack) if ack else None,
                received_at=received,
                detail="accepted",
            )
        return Attempt(
            False,
            retryable=resp.status_code in RETRYABLE,
            status_code=resp.status_code,
            detail=resp.text[:300],
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
