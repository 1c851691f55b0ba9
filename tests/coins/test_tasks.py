"""The watch-list ticker traces what is due, for every agency, and nothing twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from takedown.coins import tasks, watch
from takedown.config import Settings
from takedown.kit.clock import FrozenClock
from tests.coins.chainhelp import chain
from tests.coins.fakes import InProcessChain
from tests.factories import make_actor

T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_due_entries_are_traced_under_their_own_agency(db_session: Session) -> None:
    c = chain()
    for lab in c.labels:
        watch.add_label(db_session, None, lab["address"], lab["category"], shared=True)
    a = make_actor(db_session)
    b = make_actor(db_session)
    wa = watch.create_list(db_session, a.principal, "A")
    wb = watch.create_list(db_session, b.principal, "B")
    ea = watch.add_entry(db_session, a.principal, wa.id, c.campaign_addresses[3])
    eb = watch.add_entry(db_session, b.principal, wb.id, c.campaign_addresses[4])
    api = InProcessChain(c)
    hour = dt.timedelta(hours=1)
    outs = watch.trace_due(db_session, api, every=hour, clock=FrozenClock(T0))
    assert {o.record.address for o in outs} == {ea.address, eb.address}
    assert {o.record.agency_id for o in outs} == {a.agency.id, b.agency.id}
    assert watch.list_alerts(db_session, a.principal)[1] == len(c.expected[ea.address])
    # half an hour later nothing is due; two hours later both are, and raise nothing new
    assert watch.trace_due(db_session, api, every=hour, clock=FrozenClock(T0 + hour / 2)) == []
    again = watch.trace_due(db_session, api, every=hour, clock=FrozenClock(T0 + 2 * hour))
    assert len(again) == 2 and all(o.alerts == [] for o in again)


def test_ticker_does_nothing_without_a_chain_api(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings(data_dir=tmp_path)
    assert tasks.trace_due_now(None, s) == 0  # type: ignore[arg-type]
