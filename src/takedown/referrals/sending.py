"""The batch page's "Send now", in the background.

Sending captures evidence, looks at every item once more and then delivers: seconds, more
on a slow platform. The page no longer waits for it. ``request_send`` checks that the
batch may go now and records ``referral.send_requested``; the web process then runs
``run_send`` after its answer (``delivery.send_now_with_evidence``, unchanged), which
records ``referral.send_finished`` with the outcome whatever happens. ``send_state``
reads those two events: the page polls while a send runs, then shows how it ended.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.audit import repository as audit_repository
from takedown.audit.service import record
from takedown.config import Settings
from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, TakedownError
from takedown.referrals import repository, service
from takedown.referrals.models import DELIVERY_DONE, ReferralStatus

log = logging.getLogger("takedown.referrals")

REQUESTED = "referral.send_requested"
FINISHED = "referral.send_finished"
#: A send requested longer ago than this with no end recorded (a crashed process) is over.
STALE_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class SendState:
    running: bool = False
    requested_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    outcome: str | None = None  # "sent" | "failed" | "refused" | "error"
    detail: str = ""

    @property
    def message(self) -> str:
        """How the last background send ended, in the words the page used to answer with."""
        if self.outcome == "sent":
            return f"Sent and received by the platform{self.detail}."
        if self.outcome == "failed":
            return f"Delivery failed: {self.detail}"
        if self.outcome == "refused":
            return f"Not sent: {self.detail}"
        if self.outcome == "error":
            return f"Sending stopped on an error: {self.detail}"
        return ""


def check_sendable(
    session: Session, principal: Principal, referral_id: int, clock: Clock | None = None
) -> None:
    """Raise ``Conflict`` (with the reason) unless the caller's batch may be sent now."""
    now = (clock or SystemClock()).now()
    ref = service.own_referral(session, principal, referral_id)
    if ref.status != ReferralStatus.APPROVED.value:
        raise Conflict(f"referral {ref.reference} is {ref.status.replace('_', ' ')}, not approved")
    delivery = repository.delivery_for(session, ref.id)
    if delivery is None or delivery.status in DELIVERY_DONE:
        raise Conflict(f"referral {ref.reference} has no delivery waiting")
    if ref.not_before is not None and ref.not_before > now:
        raise Conflict(
            f"the 12-hour prior notice to {ref.platform} runs until "
            f"{ref.not_before:%Y-%m-%d %H:%M} UTC; the order is sent then"
        )
    if send_state(session, ref.id, now=now).running:
        raise Conflict(f"{ref.reference} is being sent already")


def request_send(
    session: Session, principal: Principal, referral_id: int, clock: Clock | None = None
) -> None:
    """Check that the batch may go, and record the request (the caller commits, then runs
    ``run_send``)."""
    check_sendable(session, principal, referral_id, clock)
    record(session, principal, REQUESTED, "referral", referral_id, {}, clock=clock)


def _events(session: Session, action: str, referral_id: int) -> list[Any]:
    rows, _ = audit_repository.list_events(
        session,
        agency_id=None,
        action=action,
        subject_type="referral",
        subject_id=str(referral_id),
        limit=1,
        offset=0,
    )
    return rows


def send_state(session: Session, referral_id: int, *, now: dt.datetime | None = None) -> SendState:
    """Whether a background send of this batch runs, and how the last one ended."""
    now = now or dt.datetime.now(dt.UTC)
    asked = _events(session, REQUESTED, referral_id)
    done = _events(session, FINISHED, referral_id)
    if not asked:
        return SendState()
    req = asked[0]
    fin = done[0] if done and done[0].id > req.id else None
    if fin is None:
        running = now - _aware(req.at) < STALE_AFTER
        return SendState(running=running, requested_at=req.at)
    try:
        details = json.loads(fin.details or "{}")
    except ValueError:
        details = {}
    return SendState(
        requested_at=req.at,
        finished_at=fin.at,
        outcome=str(details.get("outcome") or ""),
        detail=str(details.get("detail") or ""),
    )


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def run_send(
    factory: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    referral_id: int,
    *,
    clock: Clock | None = None,
) -> SendState:
    """Send now (evidence, precheck, one attempt) and record how it ended; never raises."""
    from takedown.referrals import delivery

    outcome, detail = "error", ""
    try:
        channels = delivery.default_channels(settings)
        attempt = delivery.send_now_with_evidence(
            factory, settings, principal, referral_id, channels, clock=clock
        )
        if attempt.ok:
            outcome = "sent"
            detail = f" (acknowledgement {attempt.ack_reference})" if attempt.ack_reference else ""
        else:
            outcome, detail = "failed", attempt.detail[:300]
    except TakedownError as exc:
        outcome, detail = "refused", exc.detail[:300]
    except Exception as exc:
        log.exception("sending referral %d failed", referral_id)
        detail = repr(exc)[:300]
    with session_scope(factory) as session:
        record(
            session, principal, FINISHED, "referral", referral_id,
            {"outcome": outcome, "detail": detail}, clock=clock,
        )  # fmt: skip
    return SendState(outcome=outcome, detail=detail)
