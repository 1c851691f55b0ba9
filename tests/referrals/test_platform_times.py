"""The platform's stated time of removal: Annex II answers and the status API.

It dates a removal verification confirms; it never makes one, and it is
never earlier than the platform's receipt of the referral.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.items.models import Item
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import InvalidInput
from takedown.platforms.detectors.base import Outcome
from takedown.referrals import delivery, repository, service, status
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import Referral
from takedown.verification import repository as verification_repository
from takedown.verification.engine import CheckResult
from takedown.verification.service import record_results, removal_times
from tests.factories import Actor, make_actor, make_agency
from tests.referrals.factories import ensure_platform, make_team, x_item

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)


def _delivered(session: Session, n: int, clock: FrozenClock) -> tuple[Referral, list[Item]]:
    team = make_team(session)
    items = [x_item(session, team.analyst) for _ in range(n)]
    [res] = service.create_batches(
        session, team.analyst.principal, item_ids=[i.id for i in items], kind="tos", clock=clock
    )
    service.submit(session, team.analyst.principal, res.referral.id, clock=clock)
    delivery.run_due(session, ChannelRegistry([PortalChannel(clock)]), clock=clock)
    session.flush()
    assert res.referral.received_at == T0
    return res.referral, items


def _liaison(session: Session) -> Actor:
    agency = make_agency(session, kind="platform", platform_slug="x", country="IE")
    return make_actor(session, agency, role="liaison")


def _confirm(session: Session, clock: FrozenClock, item_ids: list[int]) -> None:
    """Online at T0, removed at T0+15 min and again 5 minutes later: a confirmed removal."""
    for at, outcome in ((T0, Outcome.ONLINE), (T0 + 15 * MIN, Outcome.REMOVED),
                        (T0 + 20 * MIN, Outcome.REMOVED)):  # fmt: skip
        clock.set(at)
        record_results(
            session,
            [CheckResult(i, "https://x.com/a", outcome, "t", "x", at, 200) for i in item_ids],
            clock=clock,
        )


def test_annex_ii_time_of_removal_dates_the_confirmed_removal(db_session: Session) -> None:
    clock = FrozenClock(T0)
    ensure_platform(db_session, "x")
    ref, items = _delivered(db_session, 3, clock)
    who = _liaison(db_session).principal
    clock.set(T0 + 30 * MIN)
    with pytest.raises(InvalidInput):  # in the future
        service.respond(db_session, who, ref.id, items[0].id, response="removed",
                        removed_at=T0 + 31 * MIN, clock=clock)  # fmt: skip
    with pytest.raises(InvalidInput):  # no time zone
        service.respond(db_session, who, ref.id, items[0].id, response="removed",
                        removed_at=dt.datetime(2026, 3, 2, 9, 5), clock=clock)  # fmt: skip
    with pytest.raises(InvalidInput):  # Annex III has no time of removal
        service.respond(db_session, who, ref.id, items[0].id, response="cannot_comply",
                        reason="force_majeure", removed_at=T0, clock=clock)  # fmt: skip
    service.respond(db_session, who, ref.id, items[0].id, response="removed",
                    removed_at=T0 + 7 * MIN, clock=clock)  # fmt: skip
    # before the platform had the referral: held at the receipt
    service.respond(db_session, who, ref.id, items[1].id, response="removed",
                    removed_at=T0 - 60 * MIN, clock=clock)  # fmt: skip
    service.respond(db_session, who, ref.id, items[2].id, response="removed", clock=clock)
    ids = [i.id for i in items]
    scheds = verification_repository.schedules_for(db_session, ids)
    assert scheds[items[1].id].platform_removed_at == T0
    # the platform's word alone: no removal counted yet
    assert all(t.removed_at is None for t in removal_times(db_session, ids))
    _confirm(db_session, clock, ids)
    times = {t.item_id: t for t in removal_times(db_session, ids)}
    assert (times[items[0].id].seconds, times[items[0].id].source) == (7 * 60, "platform")
    # stated at the receipt, but our check saw it online then: the first removed check
    assert (times[items[1].id].seconds, times[items[1].id].source) == (15 * 60, "check")
    assert (times[items[2].id].seconds, times[items[2].id].source) == (15 * 60, "check")
    ev = db_session.query(AuditEvent).filter_by(action="referral.annex_ii").all()
    assert any(json.loads(e.details).get("removed_at") == (T0 + 7 * MIN).isoformat() for e in ev)


def test_status_api_times_are_kept_once_and_only_for_removed_urls(db_session: Session) -> None:
    clock = FrozenClock(T0)
    ensure_platform(db_session, "x", api_endpoint="https://legal.x.com/api/v1/referrals")
    ref, items = _delivered(db_session, 3, clock)
    ref.ack_reference = "ACK-X-1"
    urls = {item.id: ri.url for ri, item in repository.items_of(db_session, ref.id)}
    asked: list[str] = []
    fail = {"on": False}

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if fail["on"]:
            return httpx.Response(503)
        body = {
            "acknowledgement_id": "ACK-X-1",
            "items": [
                {"url": urls[items[0].id], "status": "removed",
                 "removed_at": (T0 + 3 * MIN).isoformat().replace("+00:00", "Z")},
                {"url": urls[items[1].id], "status": "accepted", "removed_at": None},
                {"url": urls[items[2].id], "status": "removed", "removed_at": "garbage"},
                {"url": "https://x.com/other/status/1", "status": "removed",
                 "removed_at": T0.isoformat()},
            ],
        }  # fmt: skip
        return httpx.Response(200, content=json.dumps(body))

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        clock.set(T0 + 10 * MIN)
        rep = status.poll(db_session, http, clock=clock)
        assert (rep.referrals, rep.failed, rep.stated) == (1, 0, 1)
        assert asked == ["https://legal.x.com/api/v1/referrals/ACK-X-1"]
        fail["on"] = True
        rep = status.poll(db_session, http, clock=clock)
        assert (rep.failed, rep.stated) == (1, 0)
    scheds = verification_repository.schedules_for(db_session, [i.id for i in items])
    assert scheds[items[0].id].platform_removed_at == T0 + 3 * MIN
    assert scheds[items[1].id].platform_removed_at is None
    assert scheds[items[2].id].platform_removed_at is None
    ev = db_session.query(AuditEvent).filter_by(action="referral.platform_removal_time").all()
    assert [json.loads(e.details)["item_id"] for e in ev] == [items[0].id]
    _confirm(db_session, clock, [i.id for i in items])
    times = {t.item_id: t for t in removal_times(db_session, [i.id for i in items])}
    assert times[items[0].id].seconds == 3 * 60 and times[items[0].id].source == "platform"
    assert times[items[1].id].seconds == 15 * 60
