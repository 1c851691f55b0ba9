"""Checks on demand: what a request marks due, what answers it, who may ask, and that an
on-demand check follows the engine's rules (a timeout is never a removal)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.bootstrap import wire_hooks
from takedown.config import Settings
from takedown.items.models import Item, ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.platforms.detectors.base import Outcome
from takedown.verification import repository, requests
from takedown.verification.engine import CheckResult, EngineConfig
from takedown.verification.requests import progress, request_checks
from takedown.verification.service import record_results, schedule_items, verify_due
from tests.factories import Actor, make_actor, make_agency
from tests.items.factories import make_assessed_item, make_item
from tests.verification.factories import (
    delivered_referral,
    referred_operation,
    scheduled_item,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _scopes(settings: Settings) -> None:
    wire_hooks(settings)  # registers the referral and operation scopes


def _result(
    item_id: int,
    outcome: Outcome,
    at: dt.datetime,
    status: int = 200,
    retry_after: float | None = None,
) -> CheckResult:
    return CheckResult(
        item_id, "https://x.com/a/status/1", outcome, "test", "x", at, status,
        retry_after=retry_after,
    )  # fmt: skip


def _item(session: Session, actor: Actor, clock: FrozenClock) -> int:
    item = make_assessed_item(session, actor)
    schedule_items(session, [item.id], clock=clock)
    return item.id


def test_a_request_makes_the_item_due_now_and_is_answered_by_the_next_check(
    db_session: Session,
) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    item_id = _item(db_session, actor, clock)
    record_results(db_session, [_result(item_id, Outcome.ONLINE, T0)], clock=clock)
    sched = repository.schedules_for(db_session, [item_id])[item_id]
    assert sched.next_check_at == T0 + 15 * MIN
    clock.advance(3 * MIN)
    req = request_checks(db_session, actor.principal, "item", item_id, clock=clock)
    assert (req.scope, req.scope_id, req.items, req.skipped) == ("item", item_id, 1, 0)
    db_session.refresh(sched)
    assert sched.next_check_at == clock.now() and sched.requested_at == clock.now()
    item = db_session.get_one(Item, item_id)
    assert repository.claim_due(db_session, clock.now(), 10, clock.now() + 30 * MIN) == [
        (item_id, item.fetch_url)
    ]
    p = progress(db_session, req, clock=clock)
    assert (p.total, p.checked, p.finished) == (1, 0, False)
    event = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "verification.request")
    ).one()
    assert event.subject_id == str(req.id) and json.loads(event.details)["scope"] == "item"
    clock.advance(MIN)
    record_results(db_session, [_result(item_id, Outcome.REMOVED, clock.now())], clock=clock)
    p = progress(db_session, req, clock=clock)
    assert (p.checked, p.finished, p.outcomes) == (1, True, {"removed": 1})
    db_session.refresh(sched)
    assert sched.requested_at is None
    # one "removed" check proves nothing: the engine's rule holds for checks on demand
    assert item.status != ItemStatus.REMOVED.value
    assert sched.removed_confirmed_at is None


def test_a_check_already_running_does_not_answer_the_request(db_session: Session) -> None:
    """A check that started before the request and is recorded after it leaves the item
    due: the page waits for a check of the state after the click."""
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    item_id = _item(db_session, actor, clock)
    started = clock.now()
    clock.advance(MIN)
    req = request_checks(db_session, actor.principal, "item", item_id, clock=clock)
    clock.advance(MIN)
    record_results(db_session, [_result(item_id, Outcome.ONLINE, started)], clock=clock)
    sched = repository.schedules_for(db_session, [item_id])[item_id]
    assert sched.requested_at == req.requested_at
    assert sched.next_check_at == req.requested_at  # still due
    assert progress(db_session, req, clock=clock).checked == 0


def test_a_request_never_overrides_the_hosts_retry_after(db_session: Session) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    item_id = _item(db_session, actor, clock)
    record_results(
        db_session,
        [_result(item_id, Outcome.UNREACHABLE, T0, status=429, retry_after=600.0)],
        clock=clock,
    )
    sched = repository.schedules_for(db_session, [item_id])[item_id]
    assert sched.not_before == T0 + 10 * MIN
    clock.advance(2 * MIN)
    req = request_checks(db_session, actor.principal, "item", item_id, clock=clock)
    db_session.refresh(sched)
    assert sched.next_check_at == T0 + 10 * MIN  # not now: the platform asked us to wait
    assert repository.claim_due(db_session, clock.now(), 10, clock.now() + 30 * MIN) == []
    p = progress(db_session, req, clock=clock)
    assert (p.held, p.held_until, p.finished) == (1, T0 + 10 * MIN, False)
    clock.advance(8 * MIN)
    assert len(repository.claim_due(db_session, clock.now(), 10, clock.now() + MIN)) == 1


def test_scopes_count_what_is_under_verification(db_session: Session) -> None:
    actor = make_actor(db_session)
    referral_id = delivered_referral(db_session, actor)
    req = request_checks(db_session, actor.principal, "referral", referral_id)
    assert req.items == 1 and req.label.startswith("referral ")
    op_id = referred_operation(db_session, actor)
    from takedown.operations import service as ops

    unreferred = make_item(db_session, actor)
    ops.add_items(db_session, actor.principal, op_id, [unreferred.id])
    req = request_checks(db_session, actor.principal, "operation", op_id)
    assert (req.items, req.skipped) == (1, 0)  # only the referred item is in the scope
    lone = make_item(db_session, actor)
    with pytest.raises(Conflict, match="none of the 1 item"):
        request_checks(db_session, actor.principal, "item", lone.id)
    with pytest.raises(InvalidInput, match="unknown scope"):
        request_checks(db_session, actor.principal, "bank", 1)


def test_asking_again_while_unfinished_answers_the_same_request(db_session: Session) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    item_id = _item(db_session, actor, clock)
    first = request_checks(db_session, actor.principal, "item", item_id, clock=clock)
    clock.advance(MIN)
    assert request_checks(db_session, actor.principal, "item", item_id, clock=clock) is first
    record_results(db_session, [_result(item_id, Outcome.ONLINE, clock.now())], clock=clock)
    clock.advance(MIN)
    again = request_checks(db_session, actor.principal, "item", item_id, clock=clock)
    assert again.id != first.id


def test_agency_b_cannot_ask_for_checks_of_agency_as_objects(db_session: Session) -> None:
    owner = make_actor(db_session)
    intruder = make_actor(db_session, make_agency(db_session))
    item_id = scheduled_item(db_session, owner)
    referral_id = delivered_referral(db_session, owner)
    op_id = referred_operation(db_session, owner)
    for scope, scope_id in (("item", item_id), ("referral", referral_id), ("operation", op_id)):
        with pytest.raises(NotFound):
            request_checks(db_session, intruder.principal, scope, scope_id)
    req = request_checks(db_session, owner.principal, "item", item_id)
    with pytest.raises(NotFound):
        requests.get_request(db_session, intruder.principal, req.id)
    assert requests.get_request(db_session, owner.principal, req.id) is req
    # nothing of A's was touched by B's attempts: one request, A's
    assert repository.latest_request(db_session, intruder.agency.id, "item", item_id) is None
    liaison_agency = make_agency(db_session, kind="platform", platform_slug="x")
    liaison = make_actor(db_session, liaison_agency, role="liaison")
    with pytest.raises(Forbidden):
        request_checks(db_session, liaison.principal, "item", item_id)


def test_claim_with_a_request_takes_only_its_items(db_session: Session) -> None:
    clock = FrozenClock(T0)
    actor = make_actor(db_session)
    mine, other = _item(db_session, actor, clock), _item(db_session, actor, clock)
    req = request_checks(db_session, actor.principal, "item", mine, clock=clock)
    claimed = repository.claim_due(
        db_session, clock.now(), 10, clock.now() + MIN, request_id=req.id
    )
    assert [i for i, _ in claimed] == [mine]
    assert [i for i, _ in repository.claim_due(db_session, clock.now(), 10, clock.now() + MIN)] == [
        other
    ]


def test_a_timed_out_check_on_demand_leaves_the_item_not_removed(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    """The platform never answers: the check on demand is recorded as unreachable, the
    request is answered (1 of 1), and the item is not removed."""
    session, factory = committing_db
    actor = make_actor(session)
    item_id = scheduled_item(session, actor)
    session.commit()
    req = request_checks(session, actor.principal, "item", item_id)
    session.commit()

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("the platform never answered", request=request)

    rep = verify_due(
        factory,
        lambda: httpx.AsyncClient(transport=httpx.MockTransport(timeout)),
        engine_config=EngineConfig(retries=1, backoff_base=0.0, jitter=0.0),
        request_id=req.id,
    )
    assert rep.checked == 1 and rep.outcomes == {"unreachable": 1}
    session.commit()  # a new snapshot: the job wrote through its own connection
    p = progress(session, req)
    assert (p.checked, p.total, p.outcomes) == (1, 1, {"unreachable": 1})
    sched = repository.schedules_for(session, [item_id])[item_id]
    assert sched.removed_since is None and sched.removed_confirmed_at is None
    assert session.get_one(Item, item_id).status == ItemStatus.REFERRED.value
