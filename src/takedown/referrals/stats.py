"""Time to removal for a referral: per item, from the platform's receipt."""

from __future__ import annotations

from sqlalchemy.orm import Session

from takedown.referrals import repository
from takedown.referrals.models import ItemState, Referral
from takedown.referrals.schemas import RemovalStatsOut
from takedown.verification.service import removal_times, summarize


def referral_stats(session: Session, ref: Referral) -> RemovalStatsOut:
    ids = [
        ri.item_id
        for ri, _ in repository.items_of(session, ref.id)
        if ri.state == ItemState.INCLUDED.value
    ]
    start = ref.received_at or ref.sent_at
    anchors = {i: start for i in ids} if start else None
    times = removal_times(session, ids, anchors)
    known = {t.item_id for t in times}
    s = summarize(times) if times else summarize([])
    n = len(ids)
    return RemovalStatsOut(
        items=n,
        removed=s.removed,
        removed_within_1h=s.removed_within_1h,
        share_removed=s.removed / n if n else 0.0,
        share_within_1h=s.removed_within_1h / n if n else 0.0,
        median_seconds=s.median_seconds,
        per_item=[
            {
                "item_id": t.item_id,
                "removed_at": t.removed_at,
                "seconds": t.seconds,
                "lower_bound_seconds": t.lower_bound_seconds,
                "source": t.source,
            }
            for t in times
        ]
        + [{"item_id": i, "removed_at": None, "seconds": None} for i in ids if i not in known],
    )
