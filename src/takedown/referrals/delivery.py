"""The delivery job: retried until acknowledged or given up, every attempt recorded;
evidence captured, and the items checked (``precheck``: what is already gone is not sent),
before a batch's first attempt, whether the job or an analyst's "Send now" makes it.

Idempotent: the job row is the state. Running it twice, or on two workers,
cannot send a batch twice after it was acknowledged, because an
acknowledged job is never picked again; a retry after a lost answer carries
the same ``Idempotency-Key``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.config import Settings
from takedown.db import session_scope
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict
from takedown.kit.http import make_sync_client
from takedown.referrals import render, repository, service
from takedown.referrals.channels.api import ApiChannel
from takedown.referrals.channels.base import Attempt, Envelope
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.portal import ExportChannel, PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry, plugin_channels
from takedown.referrals.evidence_first import capture_before_sending
from takedown.referrals.issuing import mark_delivered
from takedown.referrals.models import (
    DELIVERY_DONE,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    ItemState,
    Notification,
    Referral,
    ReferralStatus,
)
from takedown.referrals.platforms import lookup, signing_key
from takedown.referrals.precheck import NOT_SENT, CheckFn, check_before_sending

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)


def default_channels(settings: Settings, *, clock: Clock | None = None) -> ChannelRegistry:
    """The built-in channels wired from settings (the composition root's job, kept here)."""
    reg = ChannelRegistry()
    reg.register(PortalChannel(clock))
    reg.register(ExportChannel(settings.data_dir / "exports", clock))
    client = make_sync_client(**settings.http_client_options(), timeout=30.0)
    secret = settings.secret_key or ""
    reg.register(ApiChannel(client, lambda slug: signing_key(secret, slug), clock=clock))
    if settings.smtp_url:
        reg.register(EmailChannel(settings.smtp_url))
    for extra in plugin_channels():
        reg.register(extra)
    return reg


def envelope(session: Session, ref: Referral, delivery: Delivery) -> Envelope:
    agency = session.get(Agency, ref.agency_id)
    assert agency is not None
    urls = [
        ri.url
        for ri, _ in repository.items_of(session, ref.id)
        if ri.state == ItemState.INCLUDED.value
    ]
    doc = render.document(session, ref)
    payload = {
        "reference": ref.reference,
        "kind": ref.kind,
        "agency": agency.name,
        "urls": urls,
        "document": doc,
    }
    return Envelope(
        referral_id=ref.id,
        reference=ref.reference,
        kind=ref.kind,
        platform=lookup(session, ref.platform),
        agency=agency.name,
        agency_contact=agency.contact_point,
        urls=urls,
        document=doc,
        payload=payload,
        idempotency_key=delivery.idempotency_key,
        attempt=delivery.attempts + 1,
        html=lambda: render.as_html(session, ref),
        pdf=lambda: render.as_pdf(session, ref),
        csv=lambda: render.as_csv(session, ref),
    )


def backoff(attempt: int, rng: random.Random | None = None) -> dt.timedelta:
    base: dt.timedelta = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** (attempt - 1)))
    factor = 0.75 + 0.5 * (rng or random.Random()).random()
    return base * factor


@dataclass(slots=True)
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0  # handed over (acknowledged or not)
    acknowledged: int = 0  # of those, acknowledged by the platform (a reference)
    failed: int = 0
    gave_up: int = 0


def deliver_one(
    session: Session,
    delivery: Delivery,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> Attempt:
    """One attempt of one delivery job, recorded; the caller commits."""
    clock = clock or SystemClock()
    ref = repository.get(session, delivery.referral_id)
    assert ref is not None
    now = clock.now()
    t0 = time.perf_counter()
    try:
        channel = channels.get(delivery.channel)
    except KeyError as exc:
        result = Attempt(False, retryable=False, detail=str(exc))
    else:
        try:
            result = channel.deliver(envelope(session, ref, delivery))
        except Exception as exc:  # a channel bug is one failed attempt, not a lost job
            result = Attempt(False, detail=f"{type(exc).__name__}: {exc}")
    delivery.attempts += 1
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            at=now,
            ok=result.ok,
            status_code=result.status_code,
            detail=result.detail[:2000],
            duration_ms=int((time.perf_counter() - t0) * 1000),
        )
    )
    if result.ok:
        # The batch's status follows the same rule (``issuing.mark_delivered``): the platform
        # acknowledged only if it gave a reference; otherwise the batch is merely sent.
        delivery.status = (
            DeliveryStatus.ACKNOWLEDGED.value
            if result.ack_reference
            else DeliveryStatus.DELIVERED.value
        )
        delivery.acknowledged_at = now
        delivery.ack_reference = result.ack_reference
        ref.sent_at = now
        mark_delivered(
            session,
            ref,
            received_at=result.received_at or now,
            ack_reference=result.ack_reference,
            clock=clock,
        )
    else:
        delivery.last_error = result.detail[:2000]
        if not result.retryable or delivery.attempts >= delivery.max_attempts:
            delivery.status = DeliveryStatus.GAVE_UP.value
            if ref.author_id:
                session.add(
                    Notification(
                        user_id=ref.author_id,
                        referral_id=ref.id,
                        kind="delivery_failed",
                        message=f"Delivery of {ref.reference} by {delivery.channel} failed "
                        f"after {delivery.attempts} attempt(s): {result.detail[:200]}",
                        created_at=now,
                    )
                )
            record(
                session, SYSTEM, "referral.delivery_gave_up", "referral", ref.id,
                {"attempts": delivery.attempts, "error": result.detail[:300]}, clock=clock,
            )  # fmt: skip
        else:
            wait = backoff(delivery.attempts, rng)
            if result.retry_after is not None:
                wait = max(wait, dt.timedelta(seconds=result.retry_after))
            delivery.next_attempt_at = now + wait
    session.flush()
    return result


def run_due(
    session: Session,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    limit: int = 100,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Attempt every delivery that is due (in one session; see ``tasks`` for per-job commits)."""
    clock = clock or SystemClock()
    report = DeliveryReport()
    for d in repository.due_deliveries(session, clock.now(), limit):
        report.attempted += 1
        res = deliver_one(session, d, channels, clock=clock, rng=rng)
        if res.ok:
            report.delivered += 1
            report.acknowledged += bool(res.ack_reference)
        elif d.status == DeliveryStatus.GAVE_UP.value:
            report.gave_up += 1
        else:
            report.failed += 1
    return report


def deliver_due(
    factory: sessionmaker[Session],
    settings: Settings,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    limit: int = 100,
    check: CheckFn | None = None,
) -> DeliveryReport:
    """The delivery job (``referrals.deliver``, ``takedown refer deliver``): evidence first
    for the batches about to get their first attempt, then a fresh look at their items
    (``precheck``: what is already gone is not sent), then one attempt for each due one.

    The capture and the check run in their own short transactions, before the delivery's.
    """
    clock = clock or SystemClock()
    with session_scope(factory) as session:
        due = [d.referral_id for d in repository.due_deliveries(session, clock.now(), limit)]
    capture_before_sending(factory, settings, due)
    check_before_sending(factory, settings, due, check=check, clock=clock)
    with session_scope(factory) as session:
        return run_due(session, channels, clock=clock, limit=limit)


def _waiting(
    session: Session, principal: Principal, referral_id: int, clock: Clock
) -> tuple[Referral, Delivery]:
    """The principal's approved batch and its delivery, if it may be sent now; else why not."""
    ref = service.own_referral(session, principal, referral_id)
    if ref.status != ReferralStatus.APPROVED.value:
        raise Conflict(f"referral {ref.reference} is {ref.status.replace('_', ' ')}, not approved")
    delivery = repository.delivery_for(session, ref.id)
    if delivery is None or delivery.status in DELIVERY_DONE:
        raise Conflict(f"referral {ref.reference} has no delivery waiting")
    if ref.not_before is not None and ref.not_before > clock.now():
        raise Conflict(
            f"the 12-hour prior notice to {ref.platform} runs until "
            f"{ref.not_before:%Y-%m-%d %H:%M} UTC; the order is sent then"
        )
    return ref, delivery


def send_now_with_evidence(
    factory: sessionmaker[Session],
    settings: Settings,
    principal: Principal,
    referral_id: int,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    check: CheckFn | None = None,
) -> Attempt:
    """The batch page's "Send now": the checks, evidence first (as the delivery job does),
    a fresh look at the items (``precheck``), then ``send_now``. Each step in its own
    transaction, as in ``deliver_due``; call it with no transaction of yours holding a
    write lock (a page's request session only reads before this).
    """
    clock = clock or SystemClock()
    with session_scope(factory) as session:
        ref, _ = _waiting(session, principal, referral_id, clock)  # nothing captured if refused
        reference = ref.reference
    capture_before_sending(factory, settings, [referral_id], actor=principal)
    gone = check_before_sending(
        factory, settings, [referral_id], check=check, clock=clock, actor=principal
    )
    if referral_id in gone.closed:
        raise Conflict(f"{reference} was {NOT_SENT} (see its items)")
    with session_scope(factory) as session:
        return send_now(session, principal, referral_id, channels, clock=clock)


def send_now(
    session: Session,
    principal: Principal,
    referral_id: int,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
) -> Attempt:
    """An analyst's "send now" on an approved batch: one delivery attempt, recorded as any other.

    The 12-hour prior notice still holds (the batch goes when it ends), and an
    acknowledged batch is never sent twice. A delivery that gave up may be
    tried again this way. No evidence capture here: ``send_now_with_evidence`` is the
    page's entry point.
    """
    clock = clock or SystemClock()
    ref, delivery = _waiting(session, principal, referral_id, clock)
    if delivery.status == DeliveryStatus.GAVE_UP.value:
        delivery.status = DeliveryStatus.PENDING.value
        delivery.max_attempts = max(delivery.max_attempts, delivery.attempts + 1)
    record(
        session, principal, "referral.send_now", "referral", ref.id,
        {"channel": delivery.channel, "attempt": delivery.attempts + 1}, clock=clock,
    )  # fmt: skip
    return deliver_one(session, delivery, channels, clock=clock)
