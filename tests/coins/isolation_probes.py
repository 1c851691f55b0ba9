"""Tenant-isolation probes for the coins routes (API and pages)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from takedown.coins import service, watch
from takedown.coins.models import SightingSource
from takedown.sim.wallets import make_address
from tests.factories import Actor
from tests.isolation import Case, probe

MARK = make_address("btc", "p2wpkh", "isolation-marker")
LIST_MARK = "owner-only-watch-list"


def _address(s: Session, a: Actor) -> int:
    service.observe_text(
        s, a.agency.id, f"donate {MARK}", service.Source(SightingSource.TEXT, "probe")
    )
    row = service.find_address(s, a.principal, MARK)
    assert row is not None
    return row.id


def _list(s: Session, a: Actor) -> int:
    return watch.create_list(s, a.principal, LIST_MARK).id


def _entry(s: Session, a: Actor) -> int:
    return watch.add_entry(s, a.principal, _list(s, a), MARK).id


def _alert(s: Session, a: Actor) -> int:
    from takedown.coins.models import CoinAlert

    row = CoinAlert(
        agency_id=a.agency.id,
        kind="btc",
        address=MARK,
        rule="watched-address-funded",
        red_flag="FATF",
        detail={},
        dedupe_key="probe",
    )
    s.add(row)
    s.flush()
    return row.id


probe("GET", "/api/v1/coins/addresses")(
    lambda s, a: Case(marker=MARK) if _address(s, a) else Case()
)
probe("GET", "/api/v1/coins/addresses/{address_id}")(
    lambda s, a: Case(params={"address_id": _address(s, a)})
)
probe("POST", "/api/v1/coins/extract", kind="self")(lambda s, a: Case(body={"text": "x"}))
probe("POST", "/api/v1/coins/classify", kind="self")(lambda s, a: Case(body={"text": "x"}))
probe("GET", "/api/v1/coins/watch-lists")(
    lambda s, a: Case(marker=LIST_MARK) if _list(s, a) else Case()
)
probe("POST", "/api/v1/coins/watch-lists", kind="self")(lambda s, a: Case(body={"name": "mine"}))
probe("GET", "/api/v1/coins/watch-lists/{list_id}")(
    lambda s, a: Case(params={"list_id": _list(s, a)}, marker=LIST_MARK)
)
probe("GET", "/api/v1/coins/watch-lists/{list_id}/export")(
    lambda s, a: Case(params={"list_id": _list(s, a)})
)
probe("POST", "/api/v1/coins/watch-lists/{list_id}/entries")(
    lambda s, a: Case(
        params={"list_id": _list(s, a)}, body={"address": make_address("btc", "p2pkh", "p")}
    )
)
probe("DELETE", "/api/v1/coins/watch-entries/{entry_id}")(
    lambda s, a: Case(params={"entry_id": _entry(s, a)}, owner_ok=False)
)
probe("POST", "/api/v1/coins/watch-entries/{entry_id}/trace")(
    lambda s, a: Case(params={"entry_id": _entry(s, a)}, owner_ok=False)
)
probe("POST", "/api/v1/coins/trace", kind="self")(
    lambda s, a: Case(body={"address": MARK}, owner_ok=False)
)
probe("GET", "/api/v1/coins/traces/latest")(
    lambda s, a: Case(query={"address": MARK}, owner_ok=False)
)
probe("GET", "/api/v1/coins/alerts")(lambda s, a: Case(marker=MARK) if _alert(s, a) else Case())
probe("POST", "/api/v1/coins/alerts/{alert_id}/close")(
    lambda s, a: Case(params={"alert_id": _alert(s, a)})
)
probe("GET", "/api/v1/coins/labels", kind="self")(lambda s, a: Case())
probe("POST", "/api/v1/coins/labels", kind="self")(
    lambda s, a: Case(body={"address": MARK, "category": "exchange"})
)
probe("GET", "/coins")(lambda s, a: Case(marker=MARK) if _address(s, a) else Case())
probe("GET", "/coins/addresses/{address_id}")(
    lambda s, a: Case(params={"address_id": _address(s, a)})
)
probe("GET", "/coins/watch")(lambda s, a: Case(marker=LIST_MARK) if _list(s, a) else Case())
