"""JSON routes of verification: checks, an item's timeline, and removal statistics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from takedown.accounts.deps import CurrentPrincipal, DbSession
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.verification import repository, service
from takedown.verification.schemas import CheckOut, PlatformStatsOut, ScheduleOut, TimelineOut

router = APIRouter(prefix="/api/v1", tags=["verification"])


@router.get("/checks", response_model=Page[CheckOut])
def list_checks(
    principal: CurrentPrincipal,
    session: DbSession,
    item_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    outcome: Annotated[str | None, Query(max_length=16)] = None,
    platform: Annotated[str | None, Query(max_length=64)] = None,
    since: dt.datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CheckOut]:
    """Checks of the items you may see, newest first."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    rows, total = service.list_checks(
        session, principal, item_id=item_id, outcome=outcome, platform=platform, since=since,
        limit=limit, offset=offset,
    )  # fmt: skip
    return Page(
        items=[CheckOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/checks/items/{item_id}", response_model=TimelineOut)
def item_timeline(item_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> TimelineOut:
    """Every check of one item, oldest first, with its schedule and time to removal."""
    item, sched, checks = service.item_timeline(session, principal, item_id)
    times = service.removal_times(session, [item.id])
    ttr = times[0].seconds if times else None
    return TimelineOut(
        item_id=item.id,
        url=item.canonical_url,
        status=item.status,
        schedule=ScheduleOut.model_validate(sched) if sched is not None else None,
        time_to_removal_seconds=ttr,
        checks=[CheckOut.model_validate(c) for c in checks],
    )


@router.get("/verification/stats", response_model=list[PlatformStatsOut])
def removal_stats(principal: CurrentPrincipal, session: DbSession) -> list[PlatformStatsOut]:
    """Per platform: items under verification, confirmed removals, share within 1 hour."""
    by_platform: dict[str, list[int]] = {}
    for sched, item in repository.schedule_rows_visible(session, principal):
        by_platform.setdefault(item.platform, []).append(sched.item_id)
    out = []
    for platform, ids in sorted(by_platform.items()):
        s = service.summarize(service.removal_times(session, ids))
        out.append(
            PlatformStatsOut(
                platform=platform,
                items=s.items,
                removed=s.removed,
                removed_within_1h=s.removed_within_1h,
                share_removed=s.share_removed,
                share_within_1h=s.share_within_1h,
                median_seconds=s.median_seconds,
            )
        )
    return out
