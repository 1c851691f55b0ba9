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
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.config import Settings
from takedown.db import session_scope
from takedown.kit import leases
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict
from takedown.kit.http import make_sync_client
from takedown.referrals import host_copy, render, repository, service
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
    DeliveryKind,
    DeliveryStatus,
    ItemState,
    Notification,
    Referral,
    ReferralStatus,
)
from takedown.referrals.platforms import lookup, signing_key
from takedown.referrals.precheck import NOT_SENT, CheckFn, check_before_sending

log = logging.getLogger("takedown.referrals")

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
    copy = delivery.kind == DeliveryKind.HOST_COPY.value
    authority = None
    if copy:
        country = host_copy.host_state(session, ref)
        authority = host_copy.recipient(session, country).authority if country else None
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
        attempt=delivery.attempts,  # counted when the attempt was claimed
        html=lambda: render.as_html(session, ref),
        pdf=lambda: render.as_pdf(session, ref),
        csv=lambda: render.as_csv(session, ref),
        copy_to=(delivery.recipient or None) if copy else None,
        copy_authority=authority,
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
    # Art. 4(1) copies to host states' authorities (after the round's orders)
    copies_sent: int = 0
    copies_failed: int = 0


#: How long a sender holds a delivery it claimed: well above a channel's timeout (30 s),
#: so a live sender never loses it; a dead one's is released at restart, or expires.
SENDER_LEASE = dt.timedelta(minutes=5)
INTERRUPTED = (
    "interrupted: the sender stopped before the channel answered (a crash or a kill); "
    "the next attempt carries the same idempotency key"
)
TAKEN = "taken: another sender holds this delivery right now"


@dataclass(frozen=True, slots=True)
class Started:
    """A claimed delivery whose attempt row is written (with its own start time)."""

    delivery_id: int
    attempt_id: int
    owner: str
    t0: float


def _start(session: Session, delivery_id: int, owner: str, now: dt.datetime) -> Started:
    """The claim is ours: record the attempt now, before any channel is called."""
    delivery = session.get(Delivery, delivery_id)
    assert delivery is not None
    session.refresh(delivery)  # the claim was an UPDATE beside the ORM
    for stale in repository.unfinished_attempts(session, delivery_id):
        stale.finished_at = now
        stale.detail = INTERRUPTED
    if delivery.status == DeliveryStatus.GAVE_UP.value:  # "Send now" tries it once more
        delivery.status = DeliveryStatus.PENDING.value
        delivery.max_attempts = max(delivery.max_attempts, delivery.attempts + 1)
    delivery.attempts += 1
    row = DeliveryAttempt(delivery_id=delivery_id, at=now, ok=False, detail="sending")
    session.add(row)
    session.flush()
    return Started(delivery_id, row.id, owner, time.perf_counter())


def claim(
    session: Session,
    delivery_id: int,
    *,
    owner: str | None = None,
    clock: Clock | None = None,
    retry_gave_up: bool = False,
) -> Started | None:
    """Claim one delivery (compare-and-set) and record its attempt's start; None if another
    sender holds it or it is done. Commit before calling the channel (``send``)."""
    now = (clock or SystemClock()).now()
    owner = owner or leases.owner_id("send")
    statuses = [DeliveryStatus.PENDING.value]
    if retry_gave_up:
        statuses.append(DeliveryStatus.GAVE_UP.value)
    if not repository.claim_delivery(
        session, delivery_id, owner=owner, now=now, ttl=SENDER_LEASE, statuses=statuses
    ):
        return None
    return _start(session, delivery_id, owner, now)


def claim_next(
    session: Session,
    *,
    owner: str,
    clock: Clock | None = None,
    among: Sequence[int] | None = None,
    kind: str = DeliveryKind.ORDER.value,
) -> Started | None:
    """Claim the next due delivery nobody holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL)."""
    now = (clock or SystemClock()).now()
    did = repository.claim_next_due(
        session, now, owner=owner, ttl=SENDER_LEASE, among=among, kind=kind
    )
    return None if did is None else _start(session, did, owner, now)


def send(session: Session, started: Started, channels: ChannelRegistry) -> Attempt:
    """Call the channel for a claimed delivery. Reads only: no write lock is held while the
    platform's API or mail server answers."""
    delivery = session.get(Delivery, started.delivery_id)
    assert delivery is not None
    ref = repository.get(session, delivery.referral_id)
    assert ref is not None
    try:
        channel = channels.get(delivery.channel)
    except KeyError as exc:
        if delivery.kind == DeliveryKind.HOST_COPY.value:
            return Attempt(
                False, retryable=False,
                detail="no e-mail channel to send the copy by: set TAKEDOWN_SMTP_URL",
            )  # fmt: skip
        return Attempt(False, retryable=False, detail=str(exc))
    if delivery.kind == DeliveryKind.HOST_COPY.value and not delivery.recipient:
        return Attempt(False, retryable=False, detail="no address for the host state's authority")
    try:
        return channel.deliver(envelope(session, ref, delivery))
    except Exception as exc:  # a channel bug is one failed attempt, not a lost job
        return Attempt(False, detail=f"{type(exc).__name__}: {exc}")


def finish(
    session: Session,
    started: Started,
    result: Attempt,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> Delivery:
    """Record the channel's answer on the attempt row, move the delivery on, release it."""
    clock = clock or SystemClock()
    now = clock.now()
    delivery = session.get(Delivery, started.delivery_id)
    row = session.get(DeliveryAttempt, started.attempt_id)
    assert delivery is not None and row is not None
    ref = repository.get(session, delivery.referral_id)
    assert ref is not None
    row.ok = result.ok
    row.status_code = result.status_code
    row.detail = result.detail[:2000]
    row.duration_ms = int((time.perf_counter() - started.t0) * 1000)
    row.finished_at = now
    copy = delivery.kind == DeliveryKind.HOST_COPY.value
    if result.ok and copy:
        # The copy to the host state's authority: the order's state is not touched.
        delivery.status = (
            DeliveryStatus.ACKNOWLEDGED.value
            if result.ack_reference
            else DeliveryStatus.DELIVERED.value
        )
        delivery.acknowledged_at = now
        delivery.ack_reference = result.ack_reference
        delivery.last_error = ""
        record(
            session, SYSTEM, "referral.host_copy_sent", "referral", ref.id,
            {"to": delivery.recipient, "attempt": delivery.attempts,
             "ack": result.ack_reference},
            clock=clock,
        )  # fmt: skip
    elif result.ok:
        # The batch's status follows the same rule (``issuing.mark_delivered``): the platform
        # acknowledged only if it gave a reference; otherwise the batch is merely sent.
        delivery.status = (
            DeliveryStatus.ACKNOWLEDGED.value
            if result.ack_reference
            else DeliveryStatus.DELIVERED.value
        )
        delivery.acknowledged_at = now
        delivery.ack_reference = result.ack_reference
        ref.sent_at = row.at  # when the attempt that got through was made
        mark_delivered(
            session,
            ref,
            received_at=result.received_at or now,
            ack_reference=result.ack_reference,
            clock=clock,
        )
        # Art. 4(1): the copy to the host state's authority goes with the order (a
        # delivery of its own, queued here by the one sender that delivered the order).
        host_copy.queue(session, ref, clock=clock)
    else:
        delivery.last_error = result.detail[:2000]
        if not result.retryable or delivery.attempts >= delivery.max_attempts:
            delivery.status = DeliveryStatus.GAVE_UP.value
            kind = "host_copy_failed" if copy else "delivery_failed"
            what = "The copy to the host state's authority of" if copy else "Delivery of"
            if ref.author_id and not repository.notification_exists(
                session, ref.author_id, ref.id, kind
            ):
                session.add(
                    Notification(
                        user_id=ref.author_id,
                        referral_id=ref.id,
                        kind=kind,
                        message=f"{what} {ref.reference} by {delivery.channel} failed "
                        f"after {delivery.attempts} attempt(s): {result.detail[:200]}",
                        created_at=now,
                    )
                )
            record(
                session, SYSTEM,
                "referral.host_copy_failed" if copy else "referral.delivery_gave_up",
                "referral", ref.id,
                {"attempts": delivery.attempts, "error": result.detail[:300]}, clock=clock,
            )  # fmt: skip
        else:
            wait = backoff(delivery.attempts, rng)
            if result.retry_after is not None:
                wait = max(wait, dt.timedelta(seconds=result.retry_after))
            delivery.next_attempt_at = now + wait
    session.flush()
    repository.release_delivery(session, delivery.id, owner=started.owner)
    session.refresh(delivery)
    return delivery


def deliver_one(
    session: Session,
    delivery: Delivery,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    retry_gave_up: bool = False,
) -> Attempt:
    """One attempt of one delivery, in the caller's transaction (claim, send, record); the
    caller commits. The job and "Send now" use ``claim``/``send``/``finish`` in three short
    transactions instead (``deliver_due``, ``send_now_with_evidence``)."""
    started = claim(session, delivery.id, clock=clock, retry_gave_up=retry_gave_up)
    if started is None:
        return Attempt(False, detail=TAKEN)
    result = send(session, started, channels)
    finish(session, started, result, clock=clock, rng=rng)
    return result


def deliver_claimed(
    factory: sessionmaker[Session],
    started: Started,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> tuple[Attempt, str]:
    """Send a claimed delivery (its claim committed) and record the answer; returns the
    answer and the delivery's status after it."""
    with session_scope(factory) as session:
        result = send(session, started, channels)
    with session_scope(factory) as session:
        status = finish(session, started, result, clock=clock, rng=rng).status
    return result, status


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
        res = deliver_one(session, d, channels, clock=clock, rng=rng)
        if res.detail == TAKEN:
            continue
        report.attempted += 1
        if res.ok:
            report.delivered += 1
            report.acknowledged += bool(res.ack_reference)
        elif d.status == DeliveryStatus.GAVE_UP.value:
            report.gave_up += 1
        else:
            report.failed += 1
    # The copies to host states' authorities, after every order of the round.
    host_copy.requeue_not_sent(session, clock=clock)
    kind = DeliveryKind.HOST_COPY.value
    for d in repository.due_deliveries(session, clock.now(), limit, kind):
        res = deliver_one(session, d, channels, clock=clock, rng=rng)
        if res.detail != TAKEN:
            report.copies_sent += res.ok
            report.copies_failed += not res.ok
    return report


def deliver_copies(
    factory: sessionmaker[Session],
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
    limit: int = 100,
    referral_ids: Sequence[int] | None = None,
    report: DeliveryReport | None = None,
) -> DeliveryReport:
    """Send the due copies to host states' authorities (of ``referral_ids`` only, if
    given): claimed one by one like the orders, each attempt recorded. Never raises: an
    order's sender calls it after the order, which must not fail because of its copy."""
    clock = clock or SystemClock()
    report = report or DeliveryReport()
    owner = leases.owner_id("host-copy")
    kind = DeliveryKind.HOST_COPY.value
    try:
        with session_scope(factory) as session:
            due = [
                d.id
                for d in repository.due_deliveries(session, clock.now(), limit, kind)
                if referral_ids is None or d.referral_id in referral_ids
            ]
        for _ in due:
            with session_scope(factory) as session:
                started = claim_next(session, owner=owner, clock=clock, among=due, kind=kind)
            if started is None:
                break
            res, _ = deliver_claimed(factory, started, channels, clock=clock)
            report.copies_sent += res.ok
            report.copies_failed += not res.ok
    except Exception:
        log.exception("sending the copies to host states' authorities failed")
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
        rows = repository.due_deliveries(session, clock.now(), limit)
        due = [(d.id, d.referral_id) for d in rows]
    referral_ids = [rid for _, rid in due]
    capture_before_sending(factory, settings, referral_ids)
    check_before_sending(factory, settings, referral_ids, check=check, clock=clock)
    report = DeliveryReport()
    owner = leases.owner_id("deliver")
    for _ in due:
        # One claim per transaction: committed before the channel is called, so another
        # sender (Send now, another job thread or worker) sees the delivery taken.
        with session_scope(factory) as session:
            started = claim_next(session, owner=owner, clock=clock, among=[d for d, _ in due])
        if started is None:
            break  # the rest were taken by other senders, or are done
        report.attempted += 1
        res, status = deliver_claimed(factory, started, channels, clock=clock)
        if res.ok:
            report.delivered += 1
            report.acknowledged += bool(res.ack_reference)
        elif status == DeliveryStatus.GAVE_UP.value:
            report.gave_up += 1
        else:
            report.failed += 1
    # Art. 4(1): the copies of the orders just delivered (and retries of earlier ones, and
    # copies whose authority's contact point was recorded since), after every order of the
    # round, so no order waits on a copy.
    try:
        with session_scope(factory) as session:
            host_copy.requeue_not_sent(session, clock=clock)
    except Exception:  # never fails the round: the orders went; the next round tries again
        log.exception("queueing not-sent copies failed")
    return deliver_copies(factory, channels, clock=clock, limit=limit, report=report)


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
        ref, delivery = _waiting(session, principal, referral_id, clock)
        started = claim(session, delivery.id, clock=clock, retry_gave_up=True)
        if started is None:
            raise Conflict(f"{reference} is being sent right now by the delivery job")
        record(
            session, principal, "referral.send_now", "referral", ref.id,
            {"channel": delivery.channel, "attempt": delivery.attempts}, clock=clock,
        )  # fmt: skip
    result = deliver_claimed(factory, started, channels, clock=clock)[0]
    if result.ok:  # the Art. 4(1) copy goes right after the order (never raises)
        deliver_copies(factory, channels, clock=clock, referral_ids=[referral_id])
    return result


def send_copy(
    factory: sessionmaker[Session],
    principal: Principal,
    referral_id: int,
    channels: ChannelRegistry,
    *,
    clock: Clock | None = None,
) -> Attempt:
    """The "Send copy" action: send a delivered order's Art. 4(1) copy that was not sent (no contact
    point then) or gave up, to the contact point the registry has now. Claimed like any
    delivery: two clicks, or a click and the job, send it once."""
    clock = clock or SystemClock()
    now = clock.now()
    with session_scope(factory) as session:
        ref = service.own_referral(session, principal, referral_id)
        st = host_copy.state(session, ref)
        if st.status == "not_applicable":
            raise Conflict(f"{ref.reference}: no copy to send ({st.reason})")
        if st.status == "waiting":
            raise Conflict(f"{ref.reference} is not sent yet: its copy goes with the order")
        if st.status == "sent":
            raise Conflict(f"{ref.reference}: {st.message}")
        country = st.host_state
        assert country is not None
        to = host_copy.recipient(session, country)
        if to.address is None:
            raise Conflict(f"{host_copy.LABEL}: not sent — {to.reason}; {host_copy.WHERE_TO_SET}")
        row = host_copy.queue(session, ref, clock=clock)  # the row (made if none on record)
        assert row is not None
        if not repository.reopen_copy(session, row.id, recipient=to.address, now=now):
            raise Conflict(f"the copy of {ref.reference} is being sent right now")
        started = claim(session, row.id, clock=clock)
        if started is None:
            raise Conflict(f"the copy of {ref.reference} is being sent right now")
        record(
            session, principal, "referral.host_copy_requested", "referral", ref.id,
            {"to": to.address, "attempt": row.attempts}, clock=clock,
        )  # fmt: skip
    return deliver_claimed(factory, started, channels, clock=clock)[0]


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
    record(
        session, principal, "referral.send_now", "referral", ref.id,
        {"channel": delivery.channel, "attempt": delivery.attempts + 1}, clock=clock,
    )  # fmt: skip
    result = deliver_one(session, delivery, channels, clock=clock, retry_gave_up=True)
    if result.detail == TAKEN:
        raise Conflict(f"{ref.reference} is being sent right now by the delivery job")
    return result
