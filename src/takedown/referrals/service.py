"""Building, approving and answering referral batches.

The rules of TCO Art. 3 live here: a removal order needs a supervisor who
is not its author; it is due 1 hour after receipt; a platform that never had
an order gets 12 hours' notice unless the order is an emergency. Items under
a deconfliction hold, and items already referred to the same platform by any
agency, stay in the batch as *not sent*, with the reason, so the analyst sees
why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency, User
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.items import service as items_service
from takedown.items.models import Item, ItemStatus
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.referrals import repository
from takedown.referrals.annex import build_annex
from takedown.referrals.models import (
    CannotComplyReason,
    Delivery,
    DeliveryStatus,
    ItemState,
    Notification,
    PlatformNotice,
    Referral,
    ReferralItem,
    ReferralKind,
    ReferralStatus,
    Response,
)
from takedown.referrals.platforms import lookup

DEADLINE = dt.timedelta(hours=1)
PRIOR_NOTICE = dt.timedelta(hours=12)
REFERRABLE = frozenset(
    {ItemStatus.ASSESSED, ItemStatus.STILL_ONLINE, ItemStatus.RESTRICTED, ItemStatus.REAPPEARED}
)
REASONS = ("a", "b", "c", "d", "e")


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def _require_agency_user(principal: Principal) -> None:
    if principal.via == "system" or principal.agency_id <= 0:
        raise InvalidInput("referrals are made by a user of an agency")
    if principal.is_liaison:
        raise Forbidden("platform liaisons cannot make referrals")


@dataclass(slots=True)
class BatchItemView:
    item_id: int
    url: str
    state: str
    detail: str = ""


@dataclass(slots=True)
class BatchResult:
    referral: Referral
    items: list[BatchItemView] = field(default_factory=list)

    @property
    def included(self) -> int:
        return sum(1 for i in self.items if i.state == ItemState.INCLUDED.value)


def _reference(session: Session, agency: Agency, kind: str, now: dt.datetime) -> str:
    tag = "RO" if kind == ReferralKind.REMOVAL_ORDER.value else "REF"
    prefix = f"{agency.country.upper()}-{agency.id}-{tag}-{now:%Y}-"
    return f"{prefix}{repository.next_reference_number(session, prefix):06d}"


def create_batches(
    session: Session,
    principal: Principal,
    *,
    item_ids: Sequence[int],
    kind: ReferralKind | str,
    reasons: Iterable[str] = (),
    justification: str = "",
    emergency: bool = False,
    disclosure_delayed: bool = False,
    disclosure_delay_weeks: int = 0,
    channel: str | None = None,
    locations: dict[int, str] | None = None,
    clock: Clock | None = None,
) -> list[BatchResult]:
    """One draft batch per platform for ``item_ids``; held and duplicate items are marked."""
    _require_agency_user(principal)
    try:
        kind = ReferralKind(kind)
    except ValueError:
        raise InvalidInput(f"{kind!r} is not a referral kind (tos, removal_order)") from None
    letters = sorted({r.strip().lower() for r in reasons if r.strip()})
    bad = [r for r in letters if r not in REASONS]
    if bad:
        raise InvalidInput(f"reasons must be Art. 2(7) letters a-e, not {bad}")
    if kind is ReferralKind.REMOVAL_ORDER:
        if not letters:
            raise InvalidInput("a removal order needs at least one Art. 2(7) reason (a-e)")
        if len(justification.strip()) < 20:
            raise InvalidInput("a removal order needs a justification (at least 20 characters)")
    if disclosure_delayed and not 1 <= disclosure_delay_weeks <= 12:
        raise InvalidInput("a delayed disclosure lasts 1 to 12 weeks (Art. 11)")
    if channel is not None and channel not in ("api", "email", "portal", "export"):
        raise InvalidInput(f"unknown delivery channel {channel!r}")
    ids = list(dict.fromkeys(int(i) for i in item_ids))
    if not ids:
        raise InvalidInput("no items given")
    items = [items_service.get_item(session, principal, i) for i in ids]
    agency = session.get(Agency, principal.agency_id)
    if agency is None:
        raise NotFound("agency not found")
    now = _now(clock)
    by_platform: dict[str, list[Item]] = {}
    for it in items:
        by_platform.setdefault(it.platform, []).append(it)
    results: list[BatchResult] = []
    for platform, its in sorted(by_platform.items()):
        info = lookup(session, platform)
        ref = Referral(
            reference=_reference(session, agency, kind.value, now),
            kind=kind.value,
            status=ReferralStatus.DRAFT.value,
            platform=platform,
            agency_id=agency.id,
            author_id=principal.user_id,
            channel=channel or info.delivery_channel,
            emergency=emergency,
            reasons=letters,
            justification=justification.strip(),
            disclosure_delayed=disclosure_delayed,
            disclosure_delay_weeks=disclosure_delay_weeks if disclosure_delayed else 0,
            created_at=now,
        )
        repository.add(session, ref)
        res = BatchResult(ref)
        earlier = repository.earlier_referrals(session, platform, [i.id for i in its], ref.id)
        for it in its:
            state, detail = ItemState.INCLUDED, ""
            holds = items_service.active_holds(session, it.id)
            prior = earlier.get(it.id, [])
            if holds:
                try:
                    items_service.assert_referrable(session, it)
                except Conflict as exc:
                    state, detail = ItemState.HELD, exc.detail
            elif prior and not (
                kind is ReferralKind.REMOVAL_ORDER
                and all(k == ReferralKind.TOS.value for _, k in prior)
            ):
                # A removal order may follow a ToS referral the platform did not act on.
                state = ItemState.DUPLICATE
                detail = "already referred to this platform in " + ", ".join(r for r, _ in prior)
            elif ItemStatus(it.status) not in REFERRABLE:
                state = ItemState.NOT_READY
                detail = f"item status is {it.status}; only assessed items are referred"
            session.add(
                ReferralItem(
                    referral_id=ref.id,
                    item_id=it.id,
                    url=it.fetch_url or it.canonical_url,
                    location=(locations or {}).get(it.id, ""),
                    state=state.value,
                    skip_detail=detail,
                )
            )
            res.items.append(BatchItemView(it.id, it.canonical_url, state.value, detail))
        session.flush()
        record(
            session,
            principal,
            "referral.create",
            "referral",
            ref.id,
            {
                "reference": ref.reference,
                "kind": ref.kind,
                "platform": platform,
                "included": res.included,
                "held": [i.item_id for i in res.items if i.state == ItemState.HELD.value],
                "duplicate": [i.item_id for i in res.items if i.state == ItemState.DUPLICATE.value],
            },
            clock=clock,
        )
        results.append(res)
    return results


def get_referral(session: Session, principal: Principal, referral_id: int) -> Referral:
    ref = repository.get_visible(session, principal, referral_id)
    if ref is None:
        raise NotFound(f"referral {referral_id} does not exist")
    return ref


def _own(session: Session, principal: Principal, referral_id: int) -> Referral:
    _require_agency_user(principal)
    ref = get_referral(session, principal, referral_id)
    if ref.agency_id != principal.agency_id:
        raise NotFound(f"referral {referral_id} does not exist")
    return ref


def own_referral(session: Session, principal: Principal, referral_id: int) -> Referral:
    """A batch of the principal's own agency (404 for anyone else, liaisons included)."""
    return _own(session, principal, referral_id)


def submit(
    session: Session, principal: Principal, referral_id: int, *, clock: Clock | None = None
) -> Referral:
    """Author's step: a ToS referral is queued for delivery; an order waits for approval."""
    ref = _own(session, principal, referral_id)
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
    ref = _own(session, principal, referral_id)
    if ref.kind != ReferralKind.REMOVAL_ORDER.value:
        raise Conflict("only removal orders need approval")
    if ref.status != ReferralStatus.PENDING_APPROVAL.value:
        raise Conflict(f"referral {ref.reference} is {ref.status}, not pending approval")
    if not principal.is_supervisor:
        raise Forbidden("a removal order is approved by a supervisor")
    if principal.user_id == ref.author_id:
        raise Forbidden("four-eyes rule: the author of an order cannot approve it")
    ref.approver_id = principal.user_id
    ref.approved_at = _now(clock)
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
    ref = _own(session, principal, referral_id)
    if ref.status != ReferralStatus.PENDING_APPROVAL.value:
        raise Conflict(f"referral {ref.reference} is {ref.status}, not pending approval")
    if not principal.is_supervisor or principal.user_id == ref.author_id:
        raise Forbidden("a supervisor other than the author sends an order back")
    ref.status = ReferralStatus.DRAFT.value
    record(
        session, principal, "referral.reject", "referral", ref.id, {"reason": reason}, clock=clock
    )
    return ref


def cancel(
    session: Session, principal: Principal, referral_id: int, *, clock: Clock | None = None
) -> Referral:
    ref = _own(session, principal, referral_id)
    if ref.status not in (
        ReferralStatus.DRAFT.value,
        ReferralStatus.PENDING_APPROVAL.value,
        ReferralStatus.APPROVED.value,
    ):
        raise Conflict(f"referral {ref.reference} was already sent")
    ref.status = ReferralStatus.CANCELLED.value
    delivery = repository.delivery_for(session, ref.id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING.value:
        delivery.status = DeliveryStatus.GAVE_UP.value
        delivery.last_error = "cancelled"
    record(session, principal, "referral.cancel", "referral", ref.id, {}, clock=clock)
    return ref


def _issue(session: Session, principal: Principal, ref: Referral, clock: Clock | None) -> None:
    """Freeze the document, apply the 12-hour notice, and queue the delivery job."""
    now = _now(clock)
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

    now = _now(clock)
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


# --- the platform's answers (Annex II / Annex III) ------------------------------------


def respond(
    session: Session,
    principal: Principal,
    referral_id: int,
    item_id: int,
    *,
    response: Response | str,
    reason: CannotComplyReason | str | None = None,
    text: str = "",
    removed_at: dt.datetime | None = None,
    clock: Clock | None = None,
) -> ReferralItem:
    """A liaison of the addressed platform answers for one item.

    An Annex II answer may state when the item was removed; that time dates the removal
    once verification confirms it (``verification.service.record_platform_removal``).
    """
    if not principal.is_liaison:
        raise Forbidden("only the platform's liaison answers a referral")
    ref = get_referral(session, principal, referral_id)  # 404 for any other platform
    ri = repository.referral_item(session, ref.id, item_id)
    if ri is None or ri.state != ItemState.INCLUDED.value:
        raise NotFound(f"item {item_id} is not part of referral {ref.reference}")
    try:
        resp = Response(response)
    except ValueError:
        raise InvalidInput(
            "response is 'removed' (Annex II) or 'cannot_comply' (Annex III)"
        ) from None
    why: CannotComplyReason | None = None
    if resp is Response.CANNOT_COMPLY:
        try:
            why = CannotComplyReason(reason or "")
        except ValueError:
            raise InvalidInput(
                "Annex III needs a reason: force_majeure, manifest_error or "
                "insufficient_information"
            ) from None
        if why is not CannotComplyReason.FORCE_MAJEURE and not text.strip():
            raise InvalidInput("explain the manifest error or the missing information")
    if ri.response is not None:
        raise Conflict(f"item {item_id} was already answered ({ri.response})")
    now = _now(clock)
    if removed_at is not None:
        if resp is not Response.REMOVED:
            raise InvalidInput("a time of removal belongs to an Annex II (removed) answer")
        if removed_at.tzinfo is None:
            raise InvalidInput("the time of removal needs a time zone (UTC offset)")
        if removed_at > now:
            raise InvalidInput("the time of removal is in the future")
    ri.response = resp.value
    ri.response_reason = why.value if why else None
    ri.response_text = text.strip()[:5000]
    ri.responded_at = now
    ri.responded_by = principal.user_id
    item = session.get(Item, item_id)
    assert item is not None
    target = ItemStatus.REMOVED if resp is Response.REMOVED else ItemStatus.STILL_ONLINE
    if target in items_service.TRANSITIONS[ItemStatus(item.status)]:
        items_service.transition(
            session, principal, item, target,
            reason=f"{'Annex II' if resp is Response.REMOVED else 'Annex III'} on {ref.reference}",
            clock=clock,
        )  # fmt: skip
    stated = None
    if resp is Response.REMOVED:
        # The platform's word is recorded; the published numbers wait for the checks.
        from takedown.verification.service import record_platform_removal, schedule_items

        schedule_items(session, [item_id], clock=clock)
        if removed_at is not None:
            stated = record_platform_removal(
                session, item_id, removed_at, received_at=ref.received_at
            )
    record(
        session,
        principal,
        "referral.annex_ii" if resp is Response.REMOVED else "referral.annex_iii",
        "referral",
        ref.id,
        {
            "item_id": item_id,
            "reason": ri.response_reason,
            "text": ri.response_text,
            "removed_at": removed_at.isoformat() if removed_at else None,
            "removed_at_kept": stated.isoformat() if stated else None,
        },
        clock=clock,
    )
    if not repository.unanswered_included(session, ref.id):
        ref.status = ReferralStatus.CLOSED.value
        ref.closed_at = now
    session.flush()
    return ri


# --- deadlines ------------------------------------------------------------------------


def escalate_overdue(session: Session, *, clock: Clock | None = None) -> list[Referral]:
    """Flag orders past their 1-hour deadline with items not confirmed removed; notify."""
    from takedown.verification.repository import schedules_for

    now = _now(clock)
    flagged = []
    for ref in repository.overdue_orders(session, now):
        pending = [ri for ri in repository.unanswered_included(session, ref.id)]
        scheds = schedules_for(session, [ri.item_id for ri in pending])
        late = [
            ri.item_id
            for ri in pending
            if (s := scheds.get(ri.item_id)) is None
            or s.removed_at is None
            or s.removed_at > (ref.deadline_at or now)
        ]
        if not late:
            continue
        ref.overdue_at = now
        users = {u for u in (ref.author_id, ref.approver_id) if u}
        users.update(repository.supervisors_of(session, ref.agency_id))
        msg = (
            f"Removal order {ref.reference} to {ref.platform} is overdue: {len(late)} item(s) "
            f"not confirmed removed by {ref.deadline_at:%Y-%m-%d %H:%M} UTC."
        )
        for uid in sorted(users):
            if not repository.notification_exists(session, uid, ref.id, "overdue"):
                session.add(
                    Notification(
                        user_id=uid, referral_id=ref.id, kind="overdue", message=msg, created_at=now
                    )
                )
        record(
            session, SYSTEM, "referral.overdue", "referral", ref.id, {"items": late}, clock=clock
        )
        flagged.append(ref)
    session.flush()
    return flagged


def notifications(session: Session, principal: Principal) -> list[Notification]:
    return repository.notifications_for(session, principal.user_id)


def mark_read(
    session: Session, principal: Principal, notification_id: int, *, clock: Clock | None = None
) -> None:
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != principal.user_id:
        raise NotFound("no such notification")
    n.read_at = _now(clock)


def authors(session: Session, ref: Referral) -> dict[int, User]:
    return repository.users_by_id(session, [ref.author_id or 0, ref.approver_id or 0])


def categories_of(session: Session, item_ids: Sequence[int]) -> dict[int, list[str]]:
    """Art. 2(7) letters the agencies' assessments gave each item (for the order's reasons)."""
    out: dict[int, set[str]] = {}
    for item_id, cats in repository.assessment_categories(session, item_ids):
        out.setdefault(item_id, set()).update(cats)
    return {k: sorted(v) for k, v in out.items()}


def referrals_for_item(
    session: Session, principal: Principal, item_id: int
) -> list[tuple[Referral, ReferralItem]]:
    """The principal's batches that include this item (the item page's "Referrals")."""
    return repository.referrals_of_item(session, principal, item_id)
