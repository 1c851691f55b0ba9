"""Building referral batches, the platforms' answers, deadlines, and what a batch's page
shows; the one entry point of the capability's logic.

Items under a deconfliction hold, and items already referred to the same platform by
any agency, stay in the batch as *not sent*, with the reason, so the analyst sees why.
Approving and sending (TCO Art. 3: four eyes, the 1-hour deadline, the 12-hour prior
notice) are in ``referrals.issuing``, and who may see a batch in ``referrals.access``;
their public names are importable from here, as before the split.
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
from takedown.kit.clock import Clock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.platforms.identity import no_content_reason
from takedown.referrals import precheck, repository
from takedown.referrals.access import get_referral, now_of, own_referral, require_agency_user
from takedown.referrals.editing import REASONS, edit, escalate_to_emergency, order_fields
from takedown.referrals.issuing import (
    DEADLINE,
    PRIOR_NOTICE,
    approve,
    cancel,
    mark_delivered,
    reject,
    submit,
)
from takedown.referrals.models import (
    CannotComplyReason,
    Delivery,
    DeliveryAttempt,
    ItemState,
    Notification,
    Referral,
    ReferralItem,
    ReferralKind,
    ReferralStatus,
    Response,
)
from takedown.referrals.platforms import lookup

__all__ = [
    "DEADLINE",
    "PRIOR_NOTICE",
    "REASONS",
    "REFERRABLE",
    "BatchItemView",
    "BatchResult",
    "DeliveryRecord",
    "ManyAnswers",
    "approve",
    "authors",
    "cancel",
    "categories_of",
    "create_batches",
    "delivery_record",
    "edit",
    "escalate_overdue",
    "escalate_to_emergency",
    "get_referral",
    "list_referrals",
    "mark_delivered",
    "mark_read",
    "notifications",
    "own_referral",
    "referrals_for_item",
    "reject",
    "respond",
    "respond_many",
    "submit",
]

REFERRABLE = frozenset(
    {ItemStatus.ASSESSED, ItemStatus.STILL_ONLINE, ItemStatus.RESTRICTED, ItemStatus.REAPPEARED}
)


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
    require_agency_user(principal)
    try:
        kind = ReferralKind(kind)
    except ValueError:
        raise InvalidInput(f"{kind!r} is not a referral kind (tos, removal_order)") from None
    letters = order_fields(kind, reasons, justification)
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
    now = now_of(clock)
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
        # The item's state as we know it when it enters the batch (its newest check, or its
        # status); the check just before sending looks again (``precheck``).
        gone_now = precheck.known_gone(session, its)
        for it in its:
            state, detail = ItemState.INCLUDED, ""
            holds = items_service.active_holds(session, it.id)
            prior = earlier.get(it.id, [])
            found = gone_now.get(it.id)
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
            elif found is not None:
                state = ItemState.ALREADY_GONE
            elif ItemStatus(it.status) not in REFERRABLE:
                state = ItemState.NOT_READY
                detail = f"item status is {it.status}; only assessed items are referred"
            elif nothing := no_content_reason(it.canonical_url):  # an item from before 12.4
                state, detail = ItemState.NOT_READY, nothing
            ri = ReferralItem(
                referral_id=ref.id,
                item_id=it.id,
                url=it.fetch_url or it.canonical_url,
                location=(locations or {}).get(it.id, ""),
                state=state.value,
                skip_detail=detail,
            )
            session.add(ri)
            if state is ItemState.ALREADY_GONE and found is not None:
                precheck.exclude(session, ri, it, found, clock=clock)
            res.items.append(BatchItemView(it.id, it.canonical_url, state.value, ri.skip_detail))
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
                "already_gone": [
                    i.item_id for i in res.items if i.state == ItemState.ALREADY_GONE.value
                ],
            },
            clock=clock,
        )
        if all(i.state == ItemState.ALREADY_GONE.value for i in res.items):
            precheck.close_unsent(session, principal, ref, clock=clock)
        results.append(res)
    return results


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
    now = now_of(clock)
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


@dataclass
class ManyAnswers:
    answered: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # item id -> why


def respond_many(
    session: Session,
    principal: Principal,
    referral_id: int,
    item_ids: Sequence[int],
    *,
    removed_at: dt.datetime | None = None,
    clock: Clock | None = None,
) -> ManyAnswers:
    """Annex II for a selection of a batch's items, with one time of removal (the portal's
    "Confirm removal of the selected items"). Each item is answered on its own, exactly as
    ``respond`` does, inside a savepoint: an item that cannot be answered (already answered,
    not in the batch) is reported and leaves nothing behind; the others are recorded."""
    if not principal.is_liaison:
        raise Forbidden("only the platform's liaison answers a referral")
    get_referral(session, principal, referral_id)  # 404 before anything else
    if not item_ids:
        raise InvalidInput("select the items that were removed")
    out = ManyAnswers()
    for item_id in dict.fromkeys(item_ids):
        try:
            with session.begin_nested():
                respond(
                    session, principal, referral_id, item_id,
                    response=Response.REMOVED, removed_at=removed_at, clock=clock,
                )  # fmt: skip
        except (Conflict, NotFound) as exc:
            out.refused[item_id] = exc.detail
        else:
            out.answered.append(item_id)
    return out


# --- deadlines ------------------------------------------------------------------------


def escalate_overdue(session: Session, *, clock: Clock | None = None) -> list[Referral]:
    """Flag orders past their 1-hour deadline with items not confirmed removed; notify."""
    from takedown.verification.repository import schedules_for

    now = now_of(clock)
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
    n.read_at = now_of(clock)


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


# --- what the pages and the API read --------------------------------------------------


def list_referrals(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    platform: str | None = None,
    kind: str | None = None,
    ids: Sequence[int] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Referral], int]:
    """The batches the principal may see (``access``), newest first, with the total."""
    return repository.list_visible(
        session, principal, status=status, platform=platform, kind=kind, ids=ids,
        limit=limit, offset=offset,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    delivery: Delivery
    attempts: list[DeliveryAttempt]


def delivery_record(
    session: Session, principal: Principal, referral_id: int
) -> DeliveryRecord | None:
    """How a batch went out: its delivery job and every attempt, oldest first.

    None before the batch is queued, and for a platform's liaison, who sees the order
    but not the issuing agency's retries. Another agency's batch is a 404.
    """
    ref = get_referral(session, principal, referral_id)
    if principal.is_liaison:
        return None
    delivery = repository.delivery_for(session, ref.id)
    if delivery is None:
        return None
    return DeliveryRecord(delivery, repository.attempts_of(session, delivery.id))
