"""Rows for the checks-on-demand tests: agency A's objects, each with something under
verification (an item, a delivered referral, an operation with a referred item)."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from tests.factories import Actor

_n = itertools.count(1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def scheduled_item(s: Session, a: Actor) -> int:
    """One of A's items, referred and under verification."""
    from takedown.items import service as items
    from takedown.items.models import ItemStatus
    from takedown.verification.service import schedule_items

    n = next(_n)
    item, _ = items.report_url(s, a.principal, f"https://x.com/checknow{n}/status/{88_000 + n}")
    item.status = ItemStatus.REFERRED.value
    item.first_referred_at = T0
    schedule_items(s, [item.id])
    return item.id


def delivered_referral(s: Session, a: Actor) -> int:
    """A ToS batch of A's, delivered: its included item is under verification."""
    from takedown.items import service as items
    from takedown.referrals import service

    n = next(_n)
    item, _ = items.report_url(s, a.principal, f"https://x.com/checkref{n}/status/{89_000 + n}")
    items.assess(s, a.principal, item.id, "terrorist_content", ["a"])
    [res] = service.create_batches(s, a.principal, item_ids=[item.id], kind="tos", channel="portal")
    service.submit(s, a.principal, res.referral.id)
    service.mark_delivered(s, res.referral, received_at=T0, ack_reference=None)
    return res.referral.id


def referred_operation(s: Session, a: Actor) -> int:
    """An operation A leads, holding one referred item under verification."""
    from takedown.operations import service as ops
    from tests.factories import make_actor

    lead = make_actor(s, a.agency, role="supervisor")
    op = ops.create_operation(s, lead.principal, name="checknow-probe-op", starts_at=T0)
    ops.add_items(s, a.principal, op.id, [scheduled_item(s, a)])
    return op.id
