"""Watch lists: per agency, TLP-marked; tracing updates entries and raises alerts once."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from takedown.coins import watch
from takedown.kit.errors import Conflict, InvalidInput, NotFound
from takedown.sim.wallets import make_address
from tests.coins.chainhelp import chain
from tests.coins.fakes import InProcessChain
from tests.factories import make_actor


def _labels(session: Session) -> None:
    for lab in chain().labels:
        watch.add_label(
            session, None, lab["address"], lab["category"], name=lab["name"], shared=True
        )


def test_lists_are_per_agency_and_tlp_marked(db_session: Session) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    wl = watch.create_list(db_session, a.principal, "Campaigns", tlp="TLP:AMBER+STRICT")
    assert wl.tlp == "amber+strict"
    with pytest.raises(InvalidInput):
        watch.create_list(db_session, a.principal, "x", tlp="purple")
    with pytest.raises(Conflict):
        watch.create_list(db_session, a.principal, "Campaigns")
    addr = make_address("xmr", "standard", "watch")
    e = watch.add_entry(db_session, a.principal, wl.id, addr, label="poster 1")
    with pytest.raises(Conflict):
        watch.add_entry(db_session, a.principal, wl.id, addr)
    with pytest.raises(InvalidInput, match="checksum"):
        watch.add_entry(db_session, a.principal, wl.id, addr[:-1] + "1")
    assert watch.lists(db_session, b.principal) == []
    with pytest.raises(NotFound):
        watch.get_list(db_session, b.principal, wl.id)
    with pytest.raises(NotFound):
        watch.add_entry(db_session, b.principal, wl.id, make_address("btc", "p2pkh", "b"))
    with pytest.raises(NotFound):
        watch.remove_entry(db_session, b.principal, e.id)
    exported = watch.export_entries(db_session, a.principal, wl.id)
    assert exported["tlp"] == "amber+strict"
    assert exported["entries"][0]["misp_type"] == "xmr"
    assert exported["entries"][0]["stix_pattern"] == f"[cryptocurrency-wallet:address = '{addr}']"


def test_a_donation_campaign_raises_its_alerts_once(db_session: Session) -> None:
    c = chain()
    _labels(db_session)
    a = make_actor(db_session)
    wl = watch.create_list(db_session, a.principal, "Posted addresses")
    camp = c.campaign_addresses[0]
    decoy = next(x for x, r in c.roles.items() if r == "decoy-slow")
    e1 = watch.add_entry(db_session, a.principal, wl.id, camp)
    e2 = watch.add_entry(db_session, a.principal, wl.id, decoy)
    api = InProcessChain(c)
    out = watch.trace_all(db_session, a.principal, api)
    by_entry = {o.record.address: {al.rule for al in o.alerts} for o in out}
    assert by_entry[camp] == c.expected[camp]
    assert by_entry[decoy] == {"watched-address-funded"}
    assert e1.received and e1.tx_count == len(c.by_address[camp]) and e1.first_activity
    # traced again: nothing new happened, so no alert is raised twice
    again = watch.trace_all(db_session, a.principal, api)
    assert all(o.alerts == [] for o in again)
    alerts, total = watch.list_alerts(db_session, a.principal)
    assert total == len(c.expected[camp]) + 1
    assert all("FATF" in al.red_flag for al in alerts)
    # another agency sees none of it
    b = make_actor(db_session)
    assert watch.list_alerts(db_session, b.principal) == ([], 0)
    with pytest.raises(NotFound):
        watch.close_alert(db_session, b.principal, alerts[0].id)
    assert watch.close_alert(db_session, a.principal, alerts[0].id).status == "closed"
    rec = watch.latest_trace(db_session, a.principal, camp)
    assert rec is not None and rec.graph["nodes"]
    assert watch.latest_trace(db_session, b.principal, camp) is None
    watch.remove_entry(db_session, a.principal, e2.id)
    assert [x.id for x in watch.entries(db_session, a.principal, wl.id)] == [e1.id]


def test_untraceable_kind_is_refused(db_session: Session) -> None:
    a = make_actor(db_session)
    with pytest.raises(InvalidInput, match="traces btc"):
        watch.trace_address(
            db_session, a.principal, InProcessChain(chain()), make_address("xmr", "standard", "t")
        )
