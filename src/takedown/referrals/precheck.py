"""Gone first: an item already removed, suspended or withheld is never sent.

Why: a platform that removed an item by itself before our referral reached it did not
remove it *because of* the referral. Sent anyway, the item counted as our removal with a
time to removal of 0 minutes, and the dashboard's "removed before referral" stayed 0.
So an item's state is known twice before it goes out:

- **when it enters a batch** (``service.create_batches``): its newest check, or its status
  ``removed``, as far as we already know (:func:`known_gone`);
- **just before the first delivery attempt** (:func:`check_before_sending`, called by both
  ways a batch goes out, the delivery job and "Send now", right after the evidence capture):
  a fresh check of every included item through the verification engine and the platforms'
  removal detectors. The check is stored like any other (``checks``, run id
  ``precheck-…``): it is the evidence, beside the capture taken just before.

What counts as gone is ``verification.gone`` (removed, suspended, or withheld: HTTP 451 and
the platform's own "withheld in your country"). Such an item stays in the batch as
*not sent* (``already_gone``) with what showed it; a ``removed`` one moves to status
``removed`` (never referred, so it is counted under "removed before referral", never in a
referral's removal rate or time to removal). A removal order's Annex I is frozen again
without it, so Section B lists exactly what was sent. A batch with nothing left is not sent
at all: closed, its delivery ``not_sent``, audited (``referral.not_sent``).

A check that cannot tell (a timeout, a login wall) never holds a batch back.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.config import Settings
from takedown.db import session_scope
from takedown.items import service as items_service
from takedown.items.models import Item, ItemStatus
from takedown.kit import aio
from takedown.kit.clock import Clock, SystemClock
from takedown.platforms.detectors.registry import DetectorRegistry
from takedown.referrals import repository
from takedown.referrals.annex import build_annex
from takedown.referrals.models import (
    DeliveryStatus,
    ItemState,
    Referral,
    ReferralItem,
    ReferralStatus,
)
from takedown.verification import repository as verification_repository
from takedown.verification.engine import (
    Checker,
    CheckResult,
    CheckTarget,
    EngineConfig,
    PerHostClients,
)
from takedown.verification.gone import Gone, gone
from takedown.verification.models import Check
from takedown.verification.policy import policy_for
from takedown.verification.service import record_results

log = logging.getLogger("takedown.referrals")
T = TypeVar("T")

#: One quick look per item: a retry for a dropped connection, no waiting on Retry-After
#: (an item we cannot see is sent, as without this check).
ENGINE = EngineConfig(retries=1, backoff_base=0.2, backoff_max=1.0, max_retry_after=0.0)
#: ``(targets) -> results``: the engine on the instance's client and detectors by default;
#: the demo and the tests pass the testbed's.
CheckFn = Callable[[list[CheckTarget]], list[CheckResult]]
NOT_SENT = "not sent: every item was already removed or withheld before sending"


@dataclass(frozen=True, slots=True)
class Finding:
    """What showed an item gone: one check, and the capture taken before sending, if any."""

    item_id: int
    gone: Gone
    reason: str
    http_status: int | None
    detector: str
    checked_at: dt.datetime | None
    capture_id: int | None = None

    def detail(self) -> str:
        what = "removed" if self.gone is Gone.REMOVED else "withheld"
        parts = [f"removed before referral ({what}): {self.reason or self.gone.value}"]
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.checked_at is not None:
            by = f" by the {self.detector} detector" if self.detector else ""
            parts.append(f"checked {self.checked_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC{by}")
        if self.capture_id is not None:
            parts.append(f"evidence capture #{self.capture_id}")
        return "; ".join(parts)[:2000]

    def as_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "gone": self.gone.value,
            "reason": self.reason,
            "http_status": self.http_status,
            "detector": self.detector,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
            "capture_id": self.capture_id,
        }


def finding_of(check: Check, capture_id: int | None = None) -> Finding | None:
    how = gone(check.outcome, check.reason, check.http_status)
    if how is None:
        return None
    return Finding(
        check.item_id, how, check.reason, check.http_status, check.detector, check.checked_at,
        capture_id,
    )  # fmt: skip


def known_gone(session: Session, items: Sequence[Item]) -> dict[int, Finding]:
    """When items enter a batch: those we already know are gone (newest check, or status)."""
    latest = verification_repository.latest_checks(session, [it.id for it in items])
    out: dict[int, Finding] = {}
    for it in items:
        check = latest.get(it.id)
        found = finding_of(check) if check is not None else None
        if found is None and it.status == ItemStatus.REMOVED.value:
            found = Finding(it.id, Gone.REMOVED, "item status is removed", None, "", None)
        if found is not None:
            out[it.id] = found
    return out


def exclude(
    session: Session,
    ri: ReferralItem,
    item: Item,
    finding: Finding,
    *,
    clock: Clock | None = None,
) -> None:
    """Keep an item out of what is sent, with what showed it gone; the caller audits."""
    ri.state = ItemState.ALREADY_GONE.value
    ri.skip_detail = finding.detail()
    if finding.gone is Gone.REMOVED:
        current = ItemStatus(item.status)
        if ItemStatus.REMOVED in items_service.TRANSITIONS[current]:
            items_service.transition(
                session, SYSTEM, item, ItemStatus.REMOVED,
                reason=finding.detail()[:300], clock=clock,
            )  # fmt: skip


def close_unsent(
    session: Session, principal: Principal, ref: Referral, *, clock: Clock | None = None
) -> None:
    """A batch with nothing left to send: closed, never sent, its delivery ``not_sent``."""
    now = (clock or SystemClock()).now()
    ref.status = ReferralStatus.CLOSED.value
    ref.closed_at = now
    delivery = repository.delivery_for(session, ref.id)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING.value:
        delivery.status = DeliveryStatus.NOT_SENT.value
        delivery.last_error = NOT_SENT
    record(
        session, principal, "referral.not_sent", "referral", ref.id,
        {"reason": NOT_SENT, "reference": ref.reference}, clock=clock,
    )  # fmt: skip


# --- just before sending ----------------------------------------------------------------


def _run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from sync code (see :func:`takedown.kit.aio.run_sync`)."""
    return aio.run_sync(make, name="referrals-precheck")


def engine_check(
    client_factory: Callable[[], httpx.AsyncClient],
    registry: DetectorRegistry | None,
    *,
    clock: Clock | None = None,
    config: EngineConfig = ENGINE,
) -> CheckFn:
    """The verification engine as a check function (one client per host, its detectors)."""

    def run(targets: list[CheckTarget]) -> list[CheckResult]:
        async def go() -> list[CheckResult]:
            async with PerHostClients(client_factory) as clients:
                checker = Checker(clients, registry=registry, config=config, clock=clock)
                return await checker.run(targets)

        return _run_async(go)

    return run


def settings_check(
    factory: sessionmaker[Session], settings: Settings, *, clock: Clock | None = None
) -> CheckFn:
    """The instance's own: its guarded client (proxies, resolver map) and its detectors."""
    from takedown.kit.http import make_client
    from takedown.verification.detectors import registry_from_db

    with session_scope(factory) as session:
        registry = registry_from_db(session)

    def client() -> httpx.AsyncClient:
        return make_client(**settings.http_client_options(), per_host_limit=8, max_connections=64)

    return engine_check(client, registry, clock=clock)


@dataclass(slots=True)
class PrecheckReport:
    checked: int = 0
    gone: list[Finding] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)  # batches not sent: nothing left


def _plan(session: Session, referral_ids: Sequence[int]) -> dict[int, list[tuple[int, str]]]:
    """The included items of each approved batch whose delivery has not been attempted."""
    out: dict[int, list[tuple[int, str]]] = {}
    for rid in dict.fromkeys(referral_ids):
        if not _unsent(session, rid):
            continue
        out[rid] = [(ri.item_id, ri.url) for ri, _ in repository.items_of(session, rid)
                    if ri.state == ItemState.INCLUDED.value]  # fmt: skip
    return out


def _unsent(session: Session, referral_id: int) -> bool:
    ref = repository.get(session, referral_id)
    delivery = repository.delivery_for(session, referral_id)
    return (
        ref is not None
        and ref.status == ReferralStatus.APPROVED.value
        and delivery is not None
        and delivery.status == DeliveryStatus.PENDING.value
        and delivery.attempts == 0
    )


def check_before_sending(
    factory: sessionmaker[Session],
    settings: Settings,
    referral_ids: Sequence[int],
    *,
    check: CheckFn | None = None,
    clock: Clock | None = None,
    actor: Principal | None = None,
) -> PrecheckReport:
    """Check the included items of these batches (no attempt yet) and keep the gone ones out.

    Opens its own short transactions, the network part between them (as the evidence
    capture does): call it while no transaction of the caller's holds a write lock. A
    failed check run is logged and sends the batches as they are.
    """
    report = PrecheckReport()
    if not settings.check_before_referral or not referral_ids:
        return report
    with session_scope(factory) as session:
        plan = _plan(session, referral_ids)
    targets = list({i: CheckTarget(i, url) for items in plan.values() for i, url in items}.values())
    if not targets:
        return report
    try:
        results = (check or settings_check(factory, settings, clock=clock))(targets)
    except Exception:
        log.exception("the check before sending %s failed; sending as is", sorted(plan))
        return report
    report.checked = len(results)
    run_id = f"precheck-{uuid.uuid4().hex[:20]}"
    with session_scope(factory) as session:
        policy = policy_for(
            settings.verification_confirm_seconds, settings.verification_recheck_seconds
        )
        record_results(session, results, clock=clock, policy=policy, run_id=run_id)
        ids = [int(t.key) for t in targets]
        stored = verification_repository.checks_of_run(session, run_id, ids)
        captures = repository.latest_captures(session, list(stored))
        findings = {
            i: f for i, c in stored.items() if (f := finding_of(c, captures.get(i))) is not None
        }
        for rid in plan:
            apply_findings(session, rid, findings, report, clock=clock, actor=actor)
    return report


def apply_findings(
    session: Session,
    referral_id: int,
    findings: dict[int, Finding],
    report: PrecheckReport,
    *,
    clock: Clock | None = None,
    actor: Principal | None = None,
) -> None:
    """Exclude the gone items of one batch (if it is still unsent), re-freeze its document
    without them, or close it when nothing is left. The caller commits."""
    if not _unsent(session, referral_id):
        return  # sent meanwhile (another sender): the checks stay as evidence, nothing moves
    ref = repository.get(session, referral_id)
    assert ref is not None
    rows = repository.items_of(session, ref.id)
    excluded: list[Finding] = []
    for ri, item in rows:
        found = findings.get(ri.item_id)
        if ri.state != ItemState.INCLUDED.value or found is None:
            continue
        exclude(session, ri, item, found, clock=clock)
        excluded.append(found)
    if not excluded:
        return
    principal = actor or SYSTEM
    report.gone += excluded
    left = sum(1 for ri, _ in rows if ri.state == ItemState.INCLUDED.value)
    record(
        session, principal, "referral.items_gone", "referral", ref.id,
        {"items": [f.as_dict() for f in excluded], "left": left}, clock=clock,
    )  # fmt: skip
    if left == 0:
        close_unsent(session, principal, ref, clock=clock)
        report.closed.append(ref.id)
    elif ref.annex:
        ref.annex = build_annex(session, ref)  # Section B: exactly what is sent
    session.flush()
