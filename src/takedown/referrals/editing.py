"""Changing a batch before it goes out: the author or a supervisor edits a draft or an
order awaiting approval, a supervisor sends an order back to its author with a reason,
and a supervisor escalates an approved order to an emergency (TCO Art. 3(2)) when the
12-hour prior notice would otherwise hold it.

Why a separate module: these are the only changes to a batch after its creation, and
each must keep the four-eyes rule: whoever edited an order cannot approve it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput
from takedown.referrals import repository
from takedown.referrals.access import now_of, own_referral
from takedown.referrals.models import (
    DeliveryStatus,
    ItemState,
    Notification,
    Referral,
    ReferralKind,
    ReferralStatus,
)

REASONS = ("a", "b", "c", "d", "e")
EDITABLE = frozenset({ReferralStatus.DRAFT.value, ReferralStatus.PENDING_APPROVAL.value})
MIN_JUSTIFICATION = 20


def order_fields(kind: ReferralKind, reasons: Iterable[str], justification: str) -> list[str]:
    """The Art. 2(7) letters, checked; a removal order needs one and a justification."""
    letters = sorted({r.strip().lower() for r in reasons if r.strip()})
    bad = [r for r in letters if r not in REASONS]
    if bad:
        raise InvalidInput(f"reasons must be Art. 2(7) letters a-e, not {bad}")
    if kind is ReferralKind.REMOVAL_ORDER:
        if not letters:
            raise InvalidInput("a removal order needs at least one Art. 2(7) reason (a-e)")
        if len(justification.strip()) < MIN_JUSTIFICATION:
            raise InvalidInput(
                f"a removal order needs a justification (at least {MIN_JUSTIFICATION} characters)"
            )
    return letters


def edit(
    session: Session,
    principal: Principal,
    referral_id: int,
    *,
    reasons: Iterable[str] | None = None,
    justification: str | None = None,
    emergency: bool | None = None,
    remove_items: Sequence[int] = (),
    clock: Clock | None = None,
) -> Referral:
    """Change a draft, or an order awaiting approval, before it is issued.

    The author or a supervisor of the agency may. What changed is audited; whoever
    edits an order becomes one of its authors for the four-eyes rule (``approve``)."""
    ref = own_referral(session, principal, referral_id)
    if ref.status not in EDITABLE:
        raise Conflict(
            f"referral {ref.reference} is {ref.status.replace('_', ' ')}: only a draft or an "
            "order awaiting approval can be edited"
        )
    if principal.user_id != ref.author_id and not principal.is_supervisor:
        raise Forbidden("a batch is edited by its author or a supervisor")
    kind = ReferralKind(ref.kind)
    new_reasons = list(ref.reasons) if reasons is None else list(reasons)
    new_just = ref.justification if justification is None else justification.strip()
    letters = order_fields(kind, new_reasons, new_just)
    changes: dict[str, object] = {}
    if letters != list(ref.reasons):
        changes["reasons"] = letters
        ref.reasons = letters
    if new_just != ref.justification:
        changes["justification"] = new_just
        ref.justification = new_just
    if emergency is not None and kind is ReferralKind.REMOVAL_ORDER and emergency != ref.emergency:
        changes["emergency"] = emergency
        ref.emergency = emergency
    drop = set(remove_items)
    if drop:
        rows = [ri for ri, _ in repository.items_of(session, ref.id)]
        left = [ri for ri in rows if ri.item_id not in drop]
        if not any(ri.state == ItemState.INCLUDED.value for ri in left):
            raise InvalidInput("a batch keeps at least one item to send; cancel it instead")
        gone = [ri for ri in rows if ri.item_id in drop]
        for ri in gone:
            session.delete(ri)
        changes["removed_items"] = sorted(ri.item_id for ri in gone)
    if not changes:
        return ref
    ref.last_edited_by = principal.user_id
    session.flush()
    record(session, principal, "referral.edit", "referral", ref.id, changes, clock=clock)
    return ref


def send_back(
    session: Session,
    principal: Principal,
    referral_id: int,
    *,
    reason: str,
    clock: Clock | None = None,
) -> Referral:
    """A supervisor, not the author, returns an order awaiting approval to its author as a
    draft, with the reason; the author is notified on their home page."""
    ref = own_referral(session, principal, referral_id)
    if ref.status != ReferralStatus.PENDING_APPROVAL.value:
        raise Conflict(f"referral {ref.reference} is {ref.status}, not pending approval")
    if not principal.is_supervisor or principal.user_id == ref.author_id:
        raise Forbidden("a supervisor other than the author sends an order back")
    why = reason.strip()
    if not why:
        raise InvalidInput("say why the order goes back to its author (a reason)")
    ref.status = ReferralStatus.DRAFT.value
    now = now_of(clock)
    if ref.author_id is not None:
        message = f"{ref.reference} was sent back to you: {why[:300]}"
        note = repository.notification(session, ref.author_id, ref.id, "sent_back")
        if note is None:
            repository.add(
                session,
                Notification(
                    user_id=ref.author_id,
                    referral_id=ref.id,
                    kind="sent_back",
                    message=message,
                    created_at=now,
                ),
            )
        else:
            note.message, note.created_at, note.read_at = message, now, None
    record(session, principal, "referral.reject", "referral", ref.id, {"reason": why}, clock=clock)
    return ref


def escalate_to_emergency(
    session: Session,
    principal: Principal,
    referral_id: int,
    *,
    reason: str,
    clock: Clock | None = None,
) -> Referral:
    """An approved order held by the 12-hour prior notice (Art. 3(2)) becomes an emergency
    order and may go at once. A supervisor decides, with the reason, audited."""
    ref = own_referral(session, principal, referral_id)
    if ref.kind != ReferralKind.REMOVAL_ORDER.value:
        raise Conflict("only a removal order can be an emergency order")
    if ref.status != ReferralStatus.APPROVED.value:
        raise Conflict(f"referral {ref.reference} is {ref.status}, not approved and waiting")
    if not principal.is_supervisor:
        raise Forbidden("a supervisor decides that an order is an emergency")
    why = reason.strip()
    if len(why) < MIN_JUSTIFICATION:
        raise InvalidInput(
            f"justify the emergency (at least {MIN_JUSTIFICATION} characters): it is part of "
            "the order's record"
        )
    now = now_of(clock)
    if ref.emergency or ref.not_before is None or ref.not_before <= now:
        raise Conflict(f"{ref.reference} is not held by the prior notice")
    held_until = ref.not_before
    ref.emergency = True
    ref.not_before = None
    delivery = repository.delivery_for(session, ref.id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING.value:
        delivery.next_attempt_at = now
    record(
        session, principal, "referral.emergency", "referral", ref.id,
        {"reason": why, "notice_was_until": held_until.isoformat()}, clock=clock,
    )  # fmt: skip
    return ref
