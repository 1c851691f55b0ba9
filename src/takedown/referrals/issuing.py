"""Approving and sending referral batches: submit, four-eyes approval, sending back,
cancelling, issuing (the frozen document, the 12-hour prior notice, the delivery job),
and what happens once the platform has the batch.

The rules of TCO Art. 3 for this stage live here: a removal order needs a supervisor
who is not its author; it is due 1 hour after receipt; a platform that never had an
order gets 12 hours' notice unless the order is an emergency. Building batches and the
platforms' answers are in ``referrals.service``, which re-exports these names.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.items import service as items_service
from takedown.items.models import Item, ItemStatus
from takedown.kit.clock import Clock
from takedown.kit.errors import Conflict, Forbidden
from takedown.referrals import repository
from takedown.referrals.access import now_of, own_referral
from takedown.referrals.annex import build_annex
from takedown.referrals.models import (
    Delivery,
    DeliveryStatus,
    ItemState,
    PlatformNotice,
    Referral,
    ReferralKind,
    ReferralStatus,
)

DEADLINE = dt.timedelta(hours=1)
PRIOR_NOTICE = dt.timedelta(hours=12)


def submit(
    session: Session, principal: Principal, referral_id: int, *, clock: Clock | None = None
) -> Referral:
    """Author's step: a ToS referral is queued for delivery; an order waits for approval."""
    ref = own_referral(session, principal, referral_id)
    if ref.status != ReferralStatus.DRAFT.value:
        raise Conflict(f"referral {ref.reference} is {ref.status}, not a draft")
    included = [
        ri for ri, _ in repository.items_of(session, ref.id) if ri.state == ItemState.INCLUDED.value
    ]
    if not included:
        raise Conflict(f"referral {ref.reference} has no item to send")
    if ref.kind == ReferralKind.REMOVAL_ORDER.value:
        ref.status = ReferralStatus.PENDING_APPROVAL.value
        record(session, principal, "referral.submit", "referral", ref.id, {}, clock=clock)
        return ref
    _issue(session, principal, ref, clock)
    return ref


def approve(
    session: Session, principal: Principal, referral_id: int, *, clock: Clock | None = None
) -> Referral:
    """Four eyes: a supervisor of the issuing agency, who is not the author, approves an order."""
    ref = own_referral(session, principal, referral_id)
    if ref.kind != ReferralKind.REMOVAL_ORDER.value:
        raise Conflict("only removal orders need approval")
    if ref.status != ReferralStatus.PENDING_APPROVAL.value:
        raise Conflict(f"referral {ref.reference} is {ref.status}, not pending approval")
    if not principal.is_supervisor:
        raise Forbidden("a removal order is approved by a supervisor")
    if principal.user_id == ref.author_id:
        raise Forbidden("four-eyes rule: the author of an order cannot approve it")
    if principal.user_id == ref.last_edited_by:
        raise Forbidden("four-eyes rule: you edited this order; another supervisor approves it")
    ref.approver_id = principal.user_id
    ref.approved_at = now_of(clock)
    _issue(session, principal, ref, clock)
    return ref


def reject(
    session: Session,
    principal: Principal,
    referral_id: int,
    *,
    reason: str,
    clock: Clock | None = None,
) -> Referral:
    """Send an order awaiting approval back to its author (``editing.send_back``)."""
    from takedown.referrals.editing import send_back

    return send_back(session, principal, referral_id, reason=reason, clock=clock)


def cancel(
    session: Session, principal: Principal, referral_id: int, *, clock: Clock | None = None
) -> Referral:
    ref = own_referral(session, principal, referral_id)
    if ref.status not in (
        ReferralStatus.DRAFT.value,
        ReferralStatus.PENDING_APPROVAL.value,
        ReferralStatus.APPROVED.value,
    ):
        raise Conflict(f"referral {ref.reference} was already sent")
    delivery = repository.delivery_for(session, ref.id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING.value:
        # Compare-and-set against the sender's claim: once a sender holds the delivery the
        # channel may be answering, and its success would turn the cancelled order into a
        # sent one. The sender's lease ends with its attempt (or expires if it died).
        if not repository.cancel_delivery(
            session, delivery.id, now=now_of(clock), reason="cancelled"
        ):
            raise Conflict(
                f"referral {ref.reference} is being sent right now; it cannot be cancelled "
                "(try again once the attempt has ended: a failed attempt can still be cancelled)"
            )
        session.refresh(delivery)
    ref.status = ReferralStatus.CANCELLED.value
    record(session, principal, "referral.cancel", "referral", ref.id, {}, clock=clock)
    return ref


def _issue(session: Session, principal: Principal, ref: Referral, clock: Clock | None) -> None:
    """Freeze the document, apply the 12-hour notice, and queue the delivery job."""
    now = now_of(clock)
    # The duplicate rule again, at the moment of issue: another agency may have sent first.
    included = [
        ri for ri, _ in repository.items_of(session, ref.id) if ri.state == ItemState.INCLUDED.value
    ]
    earlier = repository.earlier_referrals(
        session, ref.platform, [ri.item_id for ri in included], ref.id
    )
    for ri in included:
        prior = earlier.get(ri.item_id, [])
        if prior and not (
            ref.kind == ReferralKind.REMOVAL_ORDER.value
            and all(k == ReferralKind.TOS.value for _, k in prior)
        ):
            ri.state = ItemState.DUPLICATE.value
            ri.skip_detail = "already referred to this platform in " + ", ".join(
                r for r, _ in prior
            )
        elif items_service.active_holds(session, ri.item_id):
            ri.state = ItemState.HELD.value
            item = session.get(Item, ri.item_id)
            assert item is not None
            try:
                items_service.assert_referrable(session, item)
            except Conflict as exc:
                ri.skip_detail = exc.detail
    if not any(ri.state == ItemState.INCLUDED.value for ri in included):
        raise Conflict(f"referral {ref.reference} has no item left to send")
    ref.issued_at = now
    ref.status = ReferralStatus.APPROVED.value
    not_before = now
    if ref.kind == ReferralKind.REMOVAL_ORDER.value and not ref.emergency:
        notice = repository.notice_for(session, ref.platform)
        if notice is None and not repository.platform_had_order(session, ref.platform, ref.id):
            notice = PlatformNotice(
                platform=ref.platform,
                referral_id=ref.id,
                given_at=now,
                effective_at=now + PRIOR_NOTICE,
            )
            repository.add(session, notice)
            record(
                session,
                principal,
                "referral.prior_notice",
                "referral",
                ref.id,
                {"platform": ref.platform, "effective_at": notice.effective_at.isoformat()},
                clock=clock,
            )
        if notice is not None and notice.effective_at > now:
            not_before = notice.effective_at
    ref.not_before = not_before if not_before > now else None
    ref.annex = build_annex(session, ref)
    session.add(
        Delivery(
            referral_id=ref.id,
            channel=ref.channel,
            status=DeliveryStatus.PENDING.value,
            idempotency_key=f"{ref.reference}:{ref.channel}",
            next_attempt_at=not_before,
            created_at=now,
        )
    )
    session.flush()
    record(
        session,
        principal,
        "referral.issue" if ref.kind == ReferralKind.REMOVAL_ORDER.value else "referral.submit",
        "referral",
        ref.id,
        {"channel": ref.channel, "not_before": not_before.isoformat(), "emergency": ref.emergency},
        clock=clock,
    )


# --- delivered ------------------------------------------------------------------------


def mark_delivered(
    session: Session,
    ref: Referral,
    *,
    received_at: dt.datetime,
    ack_reference: str | None,
    clock: Clock | None = None,
) -> None:
    """The platform has it: start the 1-hour clock, refer the items, schedule verification."""
    from takedown.verification.service import schedule_items

    now = now_of(clock)
    ref.sent_at = ref.sent_at or now
    ref.received_at = received_at
    ref.ack_reference = ack_reference
    ref.status = ReferralStatus.ACKNOWLEDGED.value if ack_reference else ReferralStatus.SENT.value
    if ref.kind == ReferralKind.REMOVAL_ORDER.value:
        ref.deadline_at = received_at + DEADLINE
    ids = []
    for ri, item in repository.items_of(session, ref.id):
        if ri.state != ItemState.INCLUDED.value:
            continue
        ids.append(item.id)
        current = ItemStatus(item.status)
        if ItemStatus.REFERRED in items_service.TRANSITIONS[current]:
            items_service.transition(
                session, SYSTEM, item, ItemStatus.REFERRED, reason=f"referral {ref.reference}",
                clock=clock,
            )  # fmt: skip
    schedule_items(session, ids, clock=clock)
    record(
        session,
        SYSTEM,
        "referral.delivered",
        "referral",
        ref.id,
        {
            "received_at": received_at.isoformat(),
            "ack": ack_reference,
            "deadline_at": ref.deadline_at.isoformat() if ref.deadline_at else None,
        },
        clock=clock,
    )
