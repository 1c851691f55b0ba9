"""JSON routes of verification: checks, an item's timeline, removal statistics, and checks
on demand (requests and their progress)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from takedown.accounts.deps import CurrentPrincipal, DbSession, require_role
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Forbidden
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.verification import repository, requests, service
from takedown.verification.models import CheckRequest
from takedown.verification.schemas import (
    CheckOut,
    CheckRequestIn,
    CheckRequestOut,
    PlatformStatsOut,
    RequestProgressOut,
    ScheduleOut,
    TimelineOut,
)
from takedown.verification.tasks import enqueue_check_request, record_check_request

router = APIRouter(prefix="/api/v1", tags=["verification"])


def _requester(
    principal: Principal = Depends(require_role(Role.ANALYST, Role.SUPERVISOR)),
) -> Principal:
    if not principal.has_scope("verification:write"):
        raise Forbidden("this token lacks the scope 'verification:write'")
    return principal


Requester = Annotated[Principal, Depends(_requester)]


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


def request_out(session: Session, row: CheckRequest) -> CheckRequestOut:
    p = requests.progress(session, row)
    return CheckRequestOut(
        id=row.id,
        scope=row.scope,
        scope_id=row.scope_id,
        label=row.label,
        requested_at=row.requested_at,
        requested_by=row.requested_by,
        items=row.items,
        skipped=row.skipped,
        progress=RequestProgressOut(
            total=p.total,
            checked=p.checked,
            pending=p.pending,
            held=p.held,
            held_until=p.held_until,
            outcomes=p.outcomes,
            finished=p.finished,
        ),
    )


@router.post("/verification/requests", response_model=CheckRequestOut, status_code=202)
def create_request(
    body: CheckRequestIn,
    principal: Requester,
    session: DbSession,
    request: Request,
    response: Response,
    background: BackgroundTasks,
) -> CheckRequestOut:
    """Check now: one item, a referral's included items, or an operation's referred items.

    Answers at once (202) with the request and its progress; a job checks the items with
    the scheduler's engine and per-host limits. Items not under verification are counted
    in ``skipped``; none at all is a 409. An unfinished request for the same scope made in
    the last hour is answered again instead of a new one. Poll
    ``GET /api/v1/verification/requests/{id}`` for progress.
    """
    [(scope, scope_id)] = body.targets()
    row = requests.request_checks(session, principal, scope, scope_id)
    # Recorded with the request (the outbox); handed on after the response, so after the
    # commit: the job must find the request.
    record_check_request(session, row.id)
    background.add_task(
        enqueue_check_request,
        getattr(request.app.state, "dispatcher", None),
        row.id,
        getattr(request.app.state, "runtime", None),
    )
    response.headers["Location"] = f"/api/v1/verification/requests/{row.id}"
    return request_out(session, row)


@router.get("/verification/requests/{request_id}", response_model=CheckRequestOut)
def get_request(
    request_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> CheckRequestOut:
    """A request of your agency and its progress, read from the checks recorded since."""
    return request_out(session, requests.get_request(session, principal, request_id))
