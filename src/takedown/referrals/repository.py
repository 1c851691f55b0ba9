"""Every query of the referrals capability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from takedown.accounts.models import User
from takedown.accounts.principal import Principal
from takedown.db import serialize
from takedown.items.models import Assessment, Item
from takedown.kit import leases
from takedown.referrals.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    ItemState,
    Notification,
    PlatformNotice,
    Referral,
    ReferralItem,
    ReferralKind,
    ReferralStatus,
)

DELIVERED = (
    ReferralStatus.SENT.value,
    ReferralStatus.ACKNOWLEDGED.value,
    ReferralStatus.CLOSED.value,
)
LIVE = tuple(s.value for s in ReferralStatus if s is not ReferralStatus.CANCELLED)


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()


def visible(principal: Principal) -> ColumnElement[bool]:
    """Agencies see their own batches; a liaison sees what was delivered to their platform."""
    if principal.via == "system":
        return Referral.id.is_not(None)
    if principal.is_liaison:
        if not principal.platform_slug:
            return Referral.id.is_(None)
        return and_(Referral.platform == principal.platform_slug, Referral.status.in_(DELIVERED))
    return Referral.agency_id == principal.agency_id


def get_visible(session: Session, principal: Principal, referral_id: int) -> Referral | None:
    return session.scalars(
        select(Referral).where(Referral.id == referral_id, visible(principal))
    ).first()


def get(session: Session, referral_id: int) -> Referral | None:
    return session.get(Referral, referral_id)


def list_visible(
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
    conds = [visible(principal)]
    if ids:
        conds.append(Referral.id.in_(list(ids)[:200]))
    if status:
        conds.append(Referral.status == status)
    if platform:
        conds.append(Referral.platform == platform)
    if kind:
        conds.append(Referral.kind == kind)
    where = and_(*conds)
    total = session.scalar(select(func.count()).select_from(Referral).where(where)) or 0
    rows = session.scalars(
        select(Referral).where(where).order_by(Referral.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def items_of(session: Session, referral_id: int) -> list[tuple[ReferralItem, Item]]:
    return [
        (ri, it)
        for ri, it in session.execute(
            select(ReferralItem, Item)
            .join(Item, Item.id == ReferralItem.item_id)
            .where(ReferralItem.referral_id == referral_id)
            .order_by(ReferralItem.id)
        ).all()
    ]


def referral_item(session: Session, referral_id: int, item_id: int) -> ReferralItem | None:
    return session.scalars(
        select(ReferralItem).where(
            ReferralItem.referral_id == referral_id, ReferralItem.item_id == item_id
        )
    ).first()


def earlier_referrals(
    session: Session, platform: str, item_ids: Sequence[int], exclude_referral: int | None = None
) -> dict[int, list[tuple[str, str]]]:
    """Item id -> [(reference, kind)] of live batches that include it for ``platform``."""
    out: dict[int, list[tuple[str, str]]] = {}
    ids = list(item_ids)
    for i in range(0, len(ids), 500):
        q = (
            select(ReferralItem.item_id, Referral.reference, Referral.kind)
            .join(Referral, Referral.id == ReferralItem.referral_id)
            .where(
                Referral.platform == platform,
                Referral.status.in_(LIVE),
                ReferralItem.state == ItemState.INCLUDED.value,
                ReferralItem.item_id.in_(ids[i : i + 500]),
            )
        )
        if exclude_referral is not None:
            q = q.where(Referral.id != exclude_referral)
        for item_id, ref, kind in session.execute(q).all():
            out.setdefault(int(item_id), []).append((str(ref), str(kind)))
    return out


def platform_had_order(session: Session, platform: str, exclude: int) -> bool:
    """Has ``platform`` ever been given a removal order, or the 12-hour notice of one?"""
    order = session.scalar(
        select(
            exists().where(
                Referral.platform == platform,
                Referral.kind == ReferralKind.REMOVAL_ORDER.value,
                Referral.status.in_(DELIVERED),
                Referral.id != exclude,
            )
        )
    )
    return bool(order)


def notice_for(session: Session, platform: str) -> PlatformNotice | None:
    return session.scalars(
        select(PlatformNotice)
        .where(PlatformNotice.platform == platform)
        .order_by(PlatformNotice.given_at)
    ).first()


def next_reference_number(session: Session, prefix: str) -> int:
    """The next number under ``prefix``; two batches created at once never get the same."""
    serialize(session, f"referrals.reference:{prefix}")
    count = session.scalar(
        select(func.count()).select_from(Referral).where(Referral.reference.like(f"{prefix}%"))
    )
    return int(count or 0) + 1


# --- deliveries -----------------------------------------------------------------------


def delivery_for(
    session: Session, referral_id: int, kind: str = DeliveryKind.ORDER.value
) -> Delivery | None:
    """The batch's delivery to its platform (``kind``: or its host-state copy)."""
    return session.scalars(
        select(Delivery)
        .where(Delivery.referral_id == referral_id, Delivery.kind == kind)
        .order_by(Delivery.id.desc())
    ).first()


def due_deliveries(
    session: Session, now: dt.datetime, limit: int, kind: str = DeliveryKind.ORDER.value
) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.status == DeliveryStatus.PENDING.value,
                Delivery.next_attempt_at <= now,
                Delivery.kind == kind,
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(limit)
        ).all()
    )


#: A delivery's lease columns (``kit.leases``): who is sending it, until when.
SENDER = leases.Leased(Delivery.id, Delivery.claimed_by, Delivery.claimed_until)


def claim_delivery(
    session: Session,
    delivery_id: int,
    *,
    owner: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    statuses: Sequence[str] = (DeliveryStatus.PENDING.value,),
) -> bool:
    """Compare-and-set: this sender takes the delivery if nobody holds it and its status
    is one of ``statuses``. The caller commits before calling any channel."""
    return leases.claim_one(
        session, SENDER, delivery_id, [Delivery.status.in_(list(statuses))],
        owner=owner, now=now, ttl=ttl,
    )  # fmt: skip


def claim_next_due(
    session: Session,
    now: dt.datetime,
    *,
    owner: str,
    ttl: dt.timedelta,
    among: Sequence[int] | None = None,
    kind: str = DeliveryKind.ORDER.value,
) -> int | None:
    """Take the next due delivery of ``kind`` nobody holds (``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL); with ``among``, only one of those deliveries (the ones just captured and
    checked)."""
    where = [
        Delivery.status == DeliveryStatus.PENDING.value,
        Delivery.next_attempt_at <= now,
        Delivery.kind == kind,
    ]
    if among is not None:
        where.append(Delivery.id.in_(list(among)))
    keys = leases.claim(
        session, SENDER, where, owner=owner, now=now, ttl=ttl, limit=1,
        order_by=[Delivery.next_attempt_at, Delivery.id],
    )  # fmt: skip
    return int(keys[0]) if keys else None


def cancel_delivery(session: Session, delivery_id: int, *, now: dt.datetime, reason: str) -> bool:
    """Compare-and-set: a pending delivery nobody is sending gives up with ``reason``. False
    if a sender holds it (the channel may be answering right now) or it is no longer pending."""
    res = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == DeliveryStatus.PENDING.value,
            SENDER.free(now),
        )
        .values(status=DeliveryStatus.GAVE_UP.value, last_error=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def not_sent_copies(session: Session) -> list[Delivery]:
    """Host-state copies recorded ``not_sent`` (no contact point when their order went)."""
    return list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.kind == DeliveryKind.HOST_COPY.value,
                Delivery.status == DeliveryStatus.NOT_SENT.value,
            )
            .order_by(Delivery.id)
        )
    )


def reopen_copy(session: Session, delivery_id: int, *, recipient: str, now: dt.datetime) -> bool:
    """Compare-and-set for "Send copy": a host-state copy not sent, given up or pending,
    that nobody is sending, becomes pending to ``recipient``. False if a sender holds it or
    it was sent meanwhile."""
    res = session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.kind == DeliveryKind.HOST_COPY.value,
            Delivery.status.in_(
                (
                    DeliveryStatus.PENDING.value,
                    DeliveryStatus.NOT_SENT.value,
                    DeliveryStatus.GAVE_UP.value,
                )
            ),
            SENDER.free(now),
        )
        .values(
            status=DeliveryStatus.PENDING.value,
            recipient=recipient,
            last_error="",
            next_attempt_at=now,
            max_attempts=Delivery.attempts + 8,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def release_delivery(session: Session, delivery_id: int, *, owner: str) -> None:
    leases.release(session, SENDER, [delivery_id], owner=owner)


def release_dead_senders(session: Session) -> int:
    """Deliveries held by a sender that died on this host: free again (a restart's job)."""
    return leases.release_dead(session, SENDER)


def unfinished_attempts(session: Session, delivery_id: int) -> list[DeliveryAttempt]:
    return list(
        session.scalars(
            select(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id == delivery_id, DeliveryAttempt.finished_at.is_(None)
            )
        ).all()
    )


def attempts_of(session: Session, delivery_id: int) -> list[DeliveryAttempt]:
    return list(
        session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        ).all()
    )


# --- deadlines ------------------------------------------------------------------------


def overdue_orders(session: Session, now: dt.datetime) -> list[Referral]:
    return list(
        session.scalars(
            select(Referral)
            .where(
                Referral.kind == ReferralKind.REMOVAL_ORDER.value,
                Referral.status.in_((ReferralStatus.SENT.value, ReferralStatus.ACKNOWLEDGED.value)),
                Referral.deadline_at.is_not(None),
                Referral.deadline_at < now,
                Referral.overdue_at.is_(None),
            )
            .order_by(Referral.id)
        ).all()
    )


def notifications_for(
    session: Session, user_id: int, unread_only: bool = True
) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return list(session.scalars(q.order_by(Notification.id.desc())).all())


def notification_exists(session: Session, user_id: int, referral_id: int, kind: str) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Notification.user_id == user_id,
                    Notification.referral_id == referral_id,
                    Notification.kind == kind,
                )
            )
        )
    )


def notification(
    session: Session, user_id: int, referral_id: int, kind: str
) -> Notification | None:
    return session.scalars(
        select(Notification).where(
            Notification.user_id == user_id,
            Notification.referral_id == referral_id,
            Notification.kind == kind,
        )
    ).first()


def supervisors_of(session: Session, agency_id: int) -> list[int]:
    return [
        int(u)
        for u in session.scalars(
            select(User.id)
            .where(
                User.agency_id == agency_id,
                User.role.in_(("supervisor",)),
                User.is_active.is_(True),
            )
            .order_by(User.id)
        ).all()
    ]


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, User]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids))).all()}


def unanswered_included(session: Session, referral_id: int) -> list[ReferralItem]:
    return list(
        session.scalars(
            select(ReferralItem)
            .where(
                ReferralItem.referral_id == referral_id,
                ReferralItem.state == ItemState.INCLUDED.value,
                or_(ReferralItem.response.is_(None), ReferralItem.response == ""),
            )
            .order_by(ReferralItem.id)
        ).all()
    )


def assessment_categories(session: Session, item_ids: Sequence[int]) -> list[tuple[int, list[str]]]:
    """(item id, Art. 2(7) letters) of every assessment of these items, by any agency."""
    rows = session.execute(
        select(Assessment.item_id, Assessment.categories).where(
            Assessment.item_id.in_(list(item_ids))
        )
    ).all()
    return [(int(item_id), list(cats or [])) for item_id, cats in rows]


def referrals_of_item(
    session: Session, principal: Principal, item_id: int, *, limit: int = 50
) -> list[tuple[Referral, ReferralItem]]:
    """The batches (visible to the principal) that include this item, newest first."""
    rows = session.execute(
        select(Referral, ReferralItem)
        .join(ReferralItem, ReferralItem.referral_id == Referral.id)
        .where(ReferralItem.item_id == item_id, visible(principal))
        .order_by(Referral.id.desc())
        .limit(limit)
    ).all()
    return [(r, ri) for r, ri in rows]


def acknowledged_since(session: Session, since: dt.datetime, limit: int) -> list[Referral]:
    """Delivered referrals the platform acknowledged (an id to ask about) since ``since``."""
    return list(
        session.scalars(
            select(Referral)
            .where(
                Referral.status.in_(DELIVERED),
                Referral.ack_reference.is_not(None),
                Referral.received_at.is_not(None),
                Referral.received_at >= since,
            )
            .order_by(Referral.received_at, Referral.id)
            .limit(limit)
        ).all()
    )


def latest_captures(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """The newest completed evidence capture of each item (item id -> capture id).

    Evidence may be left out of a build, so its model is imported here, when asked; without
    it there is no capture to name.
    """
    try:
        from takedown.evidence.models import CaptureStatus, EvidenceCapture
    except ImportError:  # pragma: no cover - evidence is part of every build we ship
        return {}
    if not item_ids:
        return {}
    rows = session.execute(
        select(EvidenceCapture.item_id, func.max(EvidenceCapture.id))
        .where(
            EvidenceCapture.item_id.in_(list(item_ids)),
            EvidenceCapture.status == CaptureStatus.COMPLETE.value,
        )
        .group_by(EvidenceCapture.item_id)
    ).all()
    return {int(i): int(c) for i, c in rows}
