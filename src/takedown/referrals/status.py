"""Asking a platform what became of a referral, and keeping the removal times it states.

A platform with a status API (its record's ``api_endpoint``; ``GET
{endpoint}/{acknowledgement id}``, whatever channel carried the referral)
answers per URL with a status and, once removed, ``removed_at``. That time is
kept through ``verification.service.record_platform_removal``: it dates a
removal verification confirms (the two-check rule stays) and is never before
the platform's receipt. The answer alone moves no status and counts nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from sqlalchemy.orm import Session

from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.referrals import repository
from takedown.referrals.channels.api import parse_time
from takedown.referrals.models import ItemState, Referral
from takedown.referrals.platforms import lookup
from takedown.verification import repository as verification_repository
from takedown.verification.service import record_platform_removal

#: How long after receipt a referral's status is still asked for (the hourly checks' span).
FOLLOW_FOR = dt.timedelta(days=7)


@dataclass(slots=True)
class PollReport:
    referrals: int = 0
    failed: int = 0
    stated: int = 0  # removal times newly kept


def _pending(session: Session, ref: Referral) -> dict[str, int]:
    """Included URLs of the referral whose item has no stated removal time yet."""
    rows = [
        (ri.url, ri.item_id)
        for ri, _ in repository.items_of(session, ref.id)
        if ri.state == ItemState.INCLUDED.value
    ]
    scheds = verification_repository.schedules_for(session, [i for _, i in rows])
    return {
        url: item_id
        for url, item_id in rows
        if (s := scheds.get(item_id)) is not None and s.platform_removed_at is None
    }


def poll_one(session: Session, client: httpx.Client, ref: Referral, *, clock: Clock) -> int | None:
    """Ask about one referral: the number of removal times kept, or None when the
    platform did not answer usefully. Nothing is asked when nothing is pending."""
    endpoint = lookup(session, ref.platform).api_endpoint
    pending = _pending(session, ref)
    if not endpoint or not pending or not ref.ack_reference:
        return 0
    url = f"{endpoint.rstrip('/')}/{quote(ref.ack_reference, safe='')}"
    try:
        resp = client.get(url, headers={"Accept": "application/json"})
        data = resp.json() if resp.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    kept = 0
    now = clock.now()
    for entry in data["items"]:
        if not isinstance(entry, dict) or entry.get("status") != "removed":
            continue
        item_id = pending.get(str(entry.get("url", "")))
        stated = parse_time(entry.get("removed_at"))
        if item_id is None or stated is None or stated > now:
            continue
        kept_at = record_platform_removal(session, item_id, stated, received_at=ref.received_at)
        if kept_at is None:
            continue
        kept += 1
        record(
            session, SYSTEM, "referral.platform_removal_time", "referral", ref.id,
            {"item_id": item_id, "stated": stated.isoformat(), "kept": kept_at.isoformat(),
             "source": "platform status API"},
            clock=clock,
        )  # fmt: skip
    return kept


def poll(
    session: Session,
    client: httpx.Client,
    *,
    clock: Clock | None = None,
    limit: int = 500,
) -> PollReport:
    """Ask every platform with a status API about its recent referrals (the caller commits)."""
    clock = clock or SystemClock()
    report = PollReport()
    for ref in repository.acknowledged_since(session, clock.now() - FOLLOW_FOR, limit):
        got = poll_one(session, client, ref, clock=clock)
        report.referrals += 1
        if got is None:
            report.failed += 1
        else:
            report.stated += got
    session.flush()
    return report
