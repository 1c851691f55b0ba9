"""Scheduling checks, recording outcomes, moving item statuses, and time-to-removal.

Services take a session and never commit; ``verify_due`` is the job that
owns its transactions (one per chunk, so a crash loses at most a chunk's
checks, which stay due and are picked up again: no check is lost).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.db import session_scope
from takedown.items import service as items_service
from takedown.items.models import Item, ItemStatus
from takedown.kit import leases
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import NotFound
from takedown.kit.politeness import HostBudget
from takedown.platforms.detectors.base import Outcome
from takedown.platforms.detectors.registry import DetectorRegistry
from takedown.verification import repository
from takedown.verification.engine import (
    Checker,
    CheckResult,
    CheckTarget,
    EngineConfig,
    PerHostClients,
)
from takedown.verification.models import Check, CheckSchedule
from takedown.verification.policy import (
    SchedulePolicy,
    State,
    Transition,
    apply,
    removal_instant,
)

STATUS_FOR: dict[Transition, ItemStatus] = {
    Transition.REMOVED: ItemStatus.REMOVED,
    Transition.REAPPEARED: ItemStatus.REAPPEARED,
    Transition.RESTRICTED: ItemStatus.RESTRICTED,
    Transition.STILL_ONLINE: ItemStatus.STILL_ONLINE,
    Transition.ONLINE_AGAIN: ItemStatus.STILL_ONLINE,
}
# Statuses whose items are under verification (a referral, or an earlier removal).
VERIFIED_FROM = frozenset(
    {
        ItemStatus.REFERRED,
        ItemStatus.STILL_ONLINE,
        ItemStatus.RESTRICTED,
        ItemStatus.REMOVED,
        ItemStatus.REAPPEARED,
    }
)


def schedule_items(session: Session, item_ids: Iterable[int], *, clock: Clock | None = None) -> int:
    """Put items under verification: due now, decaying from now. Idempotent."""
    now = (clock or SystemClock()).now()
    ids = list(dict.fromkeys(item_ids))
    existing = repository.schedules_for(session, ids)
    created = 0
    for item_id in ids:
        row = existing.get(item_id)
        if row is None:
            repository.add_schedule(
                session, CheckSchedule(item_id=item_id, anchor_at=now, next_check_at=now)
            )
            created += 1
        else:
            row.active = True
            row.next_check_at = min(row.next_check_at, now)
    session.flush()
    return created


def _state(row: CheckSchedule) -> State:
    return State(
        anchor_at=row.anchor_at,
        last_outcome=row.last_outcome,
        last_online_at=row.last_online_at,
        removed_since=row.removed_since,
        removed_confirmed_at=row.removed_confirmed_at,
        removed_at=row.removed_at,
        removed_observed_at=row.removed_observed_at,
        platform_removed_at=row.platform_removed_at,
        online_before_removal_at=row.online_before_removal_at,
        reappeared_at=row.reappeared_at,
    )


def _store(row: CheckSchedule, st: State) -> None:
    row.last_outcome = st.last_outcome
    row.last_online_at = st.last_online_at
    row.removed_since = st.removed_since
    row.removed_confirmed_at = st.removed_confirmed_at
    row.removed_at = st.removed_at
    row.removed_observed_at = st.removed_observed_at
    row.online_before_removal_at = st.online_before_removal_at
    row.reappeared_at = st.reappeared_at


def _move(session: Session, item: Item, target: ItemStatus, reason: str, clock: Clock) -> bool:
    current = ItemStatus(item.status)
    if target is current or target not in items_service.TRANSITIONS[current]:
        return False
    items_service.transition(session, SYSTEM, item, target, reason=reason, clock=clock)
    return True


def _answer_request(row: CheckSchedule, checked_at: dt.datetime) -> None:
    """A check that started at or after an analyst's request answers it; one that started
    before (already running when the request came) leaves the item due for the next run,
    never before the host's Retry-After."""
    if row.requested_at is None:
        return
    if checked_at >= row.requested_at:
        row.requested_at = None
        return
    due = row.requested_at if row.not_before is None else max(row.requested_at, row.not_before)
    row.next_check_at = min(row.next_check_at, due)
    row.active = True


@dataclass(slots=True)
class RecordSummary:
    checks: int = 0
    removed: int = 0
    reappeared: int = 0
    restricted: int = 0
    still_online: int = 0
    lost: int = 0  # results dropped: the run no longer held the item's lease


#: Called with (session, item_id) once an item's removal is confirmed, inside the same
#: transaction. The composition root (takedown.bootstrap.wire_hooks) registers evidence's
#: feed into the removed-content bank here, so verification needs no import of evidence.
on_removal_confirmed: list[Callable[[Session, int], None]] = []


def record_results(
    session: Session,
    results: Sequence[CheckResult],
    *,
    clock: Clock | None = None,
    policy: SchedulePolicy | None = None,
    run_id: str | None = None,
    owner: str | None = None,
) -> RecordSummary:
    """Store checks, advance schedules, and move item statuses the checks justify.

    ``owner``: the run's lease owner (``verify_due``). A result for an item whose lease the
    run no longer holds (it expired while the run stalled, and another run took the item)
    is dropped: that run's check counts, so the item is checked once in the round."""
    clock = clock or SystemClock()
    policy = policy or SchedulePolicy()
    summary = RecordSummary()
    removed_ids: list[int] = []
    keyed = [r for r in results if isinstance(r.key, int)]
    schedules = repository.schedules_for(
        session, (int(r.key) for r in keyed), lock=owner is not None
    )
    if owner is not None:
        lost = {i for i, row in schedules.items() if row.lease_owner != owner}
        summary.lost = sum(1 for r in keyed if int(r.key) in lost)
        keyed = [r for r in keyed if int(r.key) not in lost]
    items = repository.items_by_id(session, (int(r.key) for r in keyed))
    rows = []
    for r in sorted(keyed, key=lambda x: x.checked_at):
        item_id = int(r.key)
        rows.append(
            {
                "item_id": item_id,
                "checked_at": r.checked_at,
                "url": r.url,
                "outcome": r.outcome.value,
                "reason": r.reason[:500],
                "detector": r.detector,
                "http_status": r.status,
                "attempts": r.attempts,
                "elapsed_ms": r.elapsed_ms,
                "run_id": run_id,
            }
        )
        row = schedules.get(item_id)
        item = items.get(item_id)
        if row is None or item is None:
            continue  # an ad-hoc check of an unscheduled item: kept, moves nothing
        st = _state(row)
        step = apply(st, r.outcome, r.checked_at, policy, retry_after=r.retry_after)
        _store(row, st)
        row.checks += 1
        row.last_checked_at = r.checked_at
        row.next_check_at = step.next_check_at
        row.active = step.active
        row.lease_until = None
        row.lease_owner = None
        row.not_before = (
            r.checked_at + dt.timedelta(seconds=r.retry_after) if r.retry_after else None
        )
        _answer_request(row, r.checked_at)
        target = STATUS_FOR.get(step.transition)
        moved = target is not None and _move(
            session, item, target, f"verification: {r.outcome.value} ({r.reason})", clock
        )
        if step.transition is Transition.REMOVED:
            # Confirmed by the checks, whether or not the status moves now: the platform's
            # Annex II answer may already have set it to "removed".
            summary.removed += 1
            removed_ids.append(item_id)
        elif moved:
            if target is ItemStatus.REAPPEARED:
                summary.reappeared += 1
            elif target is ItemStatus.RESTRICTED:
                summary.restricted += 1
            elif target is ItemStatus.STILL_ONLINE:
                summary.still_online += 1
    repository.insert_checks(session, rows)
    session.flush()
    summary.checks = len(rows)
    for item_id in removed_ids:
        for hook in on_removal_confirmed:
            hook(session, item_id)
    return summary


def record_platform_removal(
    session: Session, item_id: int, stated_at: dt.datetime, *, received_at: dt.datetime | None
) -> dt.datetime | None:
    """Keep the time a platform says it removed an item; it dates a removal, never makes one.

    Held no earlier than ``received_at`` (the receipt of the referral it answers: nothing
    was removed on our request before the platform had it). The earliest statement wins.
    If verification has already confirmed the removal, its time is re-derived now; if not,
    the confirming check will use it. Returns the statement kept (None: no schedule).
    """
    row = repository.schedules_for(session, [item_id]).get(item_id)
    if row is None:
        return None
    if received_at is not None:
        stated_at = max(stated_at, received_at)
    if row.platform_removed_at is None or stated_at < row.platform_removed_at:
        row.platform_removed_at = stated_at
    if row.removed_observed_at is not None and row.reappeared_at is None:
        row.removed_at = removal_instant(
            row.removed_observed_at, row.online_before_removal_at, row.platform_removed_at
        )
    session.flush()
    return row.platform_removed_at


# --- running --------------------------------------------------------------------------


@dataclass(slots=True)
class VerifyReport:
    run_id: str
    due: int = 0
    checked: int = 0
    outcomes: dict[str, int] | None = None
    removed_confirmed: int = 0
    reappeared: int = 0
    restricted: int = 0
    still_online: int = 0


#: A run's lease on the items it took: short, and renewed every third of it while the run
#: is alive, so a killed worker's items are due again within minutes, not half an hour.
LEASE = dt.timedelta(minutes=2)
#: Results are committed every ``chunk`` results or every this many seconds: a killed
#: worker loses at most a few seconds of observations, never a run's worth.
FLUSH_SECONDS = 1.0


def verify_due(
    factory: sessionmaker[Session],
    client_factory: Callable[[], httpx.AsyncClient],
    *,
    registry: DetectorRegistry | None = None,
    clock: Clock | None = None,
    engine_config: EngineConfig | None = None,
    policy: SchedulePolicy | None = None,
    limit: int = 100_000,
    chunk: int = 10,
    lease: dt.timedelta = LEASE,
    flush_seconds: float = FLUSH_SECONDS,
    on_total: Callable[[int], None] | None = None,
    on_result: Callable[[CheckResult], None] | None = None,
    request_id: int | None = None,
    budget: HostBudget | None = None,
    owner: str | None = None,
) -> VerifyReport:
    """Check every due item once: claim (leased), check, record in small batches, each
    committed; the leases of the items still in progress are renewed while the run lives.

    ``client_factory`` builds a guarded client inside this run's event loop; the
    engine asks for one per host (see ``PerHostClients``). ``request_id`` limits the run
    to the due items of one on-demand request (``verification.requests``).
    """
    clock = clock or SystemClock()
    now = clock.now()
    report = VerifyReport(run_id=uuid.uuid4().hex, outcomes={})
    owner = owner or leases.owner_id(f"verify-{report.run_id[:8]}")
    with session_scope(factory) as session:
        due = repository.claim_due(
            session, now, limit, now + lease, request_id=request_id, owner=owner
        )
    report.due = len(due)
    if on_total is not None:
        on_total(len(due))
    if not due:
        return report
    outstanding = {i for i, _ in due}  # leased to us, not recorded yet
    buffer: list[CheckResult] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        with session_scope(factory) as session:
            s = record_results(
                session, buffer, clock=clock, policy=policy, run_id=report.run_id, owner=owner
            )
        outstanding.difference_update(int(r.key) for r in buffer if isinstance(r.key, int))
        report.removed_confirmed += s.removed
        report.reappeared += s.reappeared
        report.restricted += s.restricted
        report.still_online += s.still_online
        buffer.clear()
        last_flush = time.monotonic()

    def renew() -> None:
        ids = sorted(outstanding)
        if ids:
            with session_scope(factory) as session:
                repository.renew_leases(session, ids, owner=owner, now=clock.now(), ttl=lease)

    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(max(0.05, lease.total_seconds() / 3))
            await asyncio.to_thread(renew)

    async def go() -> None:
        beat = asyncio.create_task(heartbeat())
        try:
            async with PerHostClients(client_factory) as clients:
                checker = Checker(
                    clients, registry=registry, config=engine_config, clock=clock, budget=budget
                )
                async for r in checker.stream(CheckTarget(i, u) for i, u in due):
                    handle(r)
        finally:
            beat.cancel()

    def handle(r: CheckResult) -> None:
        buffer.append(r)
        report.checked += 1
        assert report.outcomes is not None
        report.outcomes[r.outcome.value] = report.outcomes.get(r.outcome.value, 0) + 1
        if on_result is not None:
            on_result(r)
        if len(buffer) >= chunk or time.monotonic() - last_flush >= flush_seconds:
            flush()

    try:
        asyncio.run(go())
        if buffer:
            flush()
    finally:
        if outstanding:  # stopped early (an error): give back what we did not check
            with session_scope(factory) as session:
                repository.release_leases(session, sorted(outstanding), owner=owner)
    return report


async def check_urls(
    client: httpx.AsyncClient,
    urls: Sequence[str],
    *,
    registry: DetectorRegistry | None = None,
    clock: Clock | None = None,
    engine_config: EngineConfig | None = None,
) -> list[CheckResult]:
    """Ad-hoc checks, nothing stored (``takedown verify --url``)."""
    checker = Checker(client, registry=registry, config=engine_config, clock=clock)
    return await checker.run([CheckTarget(i, u) for i, u in enumerate(urls)])


# --- reading ----------------------------------------------------------------------------


def item_timeline(
    session: Session, principal: Principal, item_id: int
) -> tuple[Item, CheckSchedule | None, list[Check]]:
    item = items_service.get_item(session, principal, item_id)
    sched = repository.schedules_for(session, [item.id]).get(item.id)
    return item, sched, repository.timeline(session, item.id)


def list_checks(
    session: Session,
    principal: Principal,
    *,
    item_id: int | None = None,
    outcome: str | None = None,
    platform: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Check], int]:
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise NotFound(f"no outcome {outcome!r}")
    return repository.list_checks(
        session,
        principal,
        item_id=item_id,
        outcome=outcome,
        platform=platform,
        since=since,
        limit=min(max(limit, 1), 500),
        offset=max(offset, 0),
    )


@dataclass(frozen=True, slots=True)
class RemovalTime:
    """Time to removal of one item, with the bracket the checks put around it."""

    item_id: int
    removed_at: dt.datetime | None  # policy.removal_instant: stated by the platform, or checked
    seconds: float | None  # removed_at - anchor
    lower_bound_seconds: float | None  # last online check before removal - anchor
    source: str | None = None  # "platform" (its stated time) or "check" (first removed check)


def removal_source(row: CheckSchedule) -> str | None:
    """Which time ``removed_at`` holds: the platform's statement or the first removed check."""
    if row.removed_at is None:
        return None
    stated = row.platform_removed_at
    return "platform" if stated is not None and row.removed_at == stated else "check"


def removal_times(
    session: Session, item_ids: Iterable[int], anchors: dict[int, dt.datetime] | None = None
) -> list[RemovalTime]:
    """Per item; ``anchors`` overrides the start (a referral's receipt time)."""
    rows = repository.schedules_for(session, item_ids)
    out = []
    for item_id, row in sorted(rows.items()):
        anchor = (anchors or {}).get(item_id, row.anchor_at)
        secs = lower = None
        if row.removed_at is not None:
            secs = max(0.0, (row.removed_at - anchor).total_seconds())
            if row.online_before_removal_at is not None:
                lower = max(0.0, (row.online_before_removal_at - anchor).total_seconds())
            else:
                lower = 0.0
        out.append(RemovalTime(item_id, row.removed_at, secs, lower, removal_source(row)))
    return out


@dataclass(frozen=True, slots=True)
class RemovalStats:
    items: int
    removed: int
    removed_within_1h: int
    share_removed: float
    share_within_1h: float
    median_seconds: float | None


def summarize(times: Sequence[RemovalTime]) -> RemovalStats:
    done = sorted(t.seconds for t in times if t.seconds is not None)
    n = len(times)
    within = sum(1 for s in done if s <= 3600)
    median = None
    if done:
        mid = len(done) // 2
        median = done[mid] if len(done) % 2 else (done[mid - 1] + done[mid]) / 2
    return RemovalStats(
        items=n,
        removed=len(done),
        removed_within_1h=within,
        share_removed=len(done) / n if n else 0.0,
        share_within_1h=within / n if n else 0.0,
        median_seconds=median,
    )
