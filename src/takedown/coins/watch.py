"""Watch lists per agency (TLP-marked), tracing their addresses, and raising alerts.

A watch list belongs to one agency and carries a TLP marking, which the sharing
capability honours when it exports the entries (MISP ``btc``/``xmr`` attributes,
STIX cryptocurrency-wallet observables); TLP:RED never leaves the instance.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.coins import alerts as rules
from takedown.coins import repository as repo
from takedown.coins.extract import validate
from takedown.coins.models import (
    AlertStatus,
    CoinAlert,
    ServiceLabel,
    Tlp,
    TraceRecord,
    WatchEntry,
    WatchList,
)
from takedown.coins.trace.base import ChainApi
from takedown.coins.trace.tracer import LabelLookup, TraceResult, annotate, trace, trace_many
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)
LABEL_CATEGORIES = ("mixer", "exchange", "service", "gambling", "darknet-market")
MAX_SEEN = 2000


def _user(principal: Principal) -> int | None:
    return principal.user_id or None


def _tlp(value: str) -> str:
    v = value.strip().lower().removeprefix("tlp:")
    try:
        return Tlp(v).value
    except ValueError:
        known = ", ".join(t.value for t in Tlp)
        raise InvalidInput(f"unknown TLP {value!r} (known: {known})") from None


def create_list(
    session: Session, principal: Principal, name: str, *, tlp: str = "amber", description: str = ""
) -> WatchList:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("a watch list needs a name of 1 to 200 characters")
    if repo.watch_list_named(session, principal.agency_id, name) is not None:
        raise Conflict(f"watch list {name!r} already exists")
    row = WatchList(
        agency_id=principal.agency_id,
        name=name,
        tlp=_tlp(tlp),
        description=description,
        created_by=_user(principal),
    )
    repo.add(session, row)
    record(
        session,
        principal,
        "coins.watch_list.create",
        repo.SUBJECT_WATCH,
        row.id,
        {"name": name, "tlp": row.tlp},
    )
    return row


def get_list(session: Session, principal: Principal, list_id: int) -> WatchList:
    row = repo.watch_list(session, principal.agency_id, list_id)
    if row is None:
        raise NotFound(f"watch list {list_id} not found")
    return row


def find_list(session: Session, principal: Principal, ref: str) -> WatchList:
    """A list by id or by name (the CLI's way of naming one)."""
    if ref.isdigit():
        return get_list(session, principal, int(ref))
    row = repo.watch_list_named(session, principal.agency_id, ref)
    if row is None:
        raise NotFound(f"watch list {ref!r} not found")
    return row


def lists(session: Session, principal: Principal) -> list[WatchList]:
    return repo.watch_lists(session, principal.agency_id)


def entries(session: Session, principal: Principal, list_id: int) -> list[WatchEntry]:
    return repo.entries_of(session, get_list(session, principal, list_id).id)


def add_entry(
    session: Session,
    principal: Principal,
    list_id: int,
    address: str,
    *,
    label: str = "",
    note: str = "",
) -> WatchEntry:
    wl = get_list(session, principal, list_id)
    f = validate(address)
    if f is None:
        raise InvalidInput(f"{address.strip()[:120]!r} is not a valid address (checksum failed)")
    if repo.entry_in_list(session, wl.id, f.kind, f.address) is not None:
        raise Conflict(f"{f.address} is already on watch list {wl.name!r}")
    row = WatchEntry(
        watch_list_id=wl.id,
        agency_id=principal.agency_id,
        kind=f.kind,
        address=f.address,
        label=label[:200],
        note=note,
        added_by=_user(principal),
    )
    repo.add(session, row)
    record(
        session,
        principal,
        "coins.watch.add",
        repo.SUBJECT_WATCH,
        wl.id,
        {"entry_id": row.id, "kind": f.kind, "address": f.address},
    )
    return row


def remove_entry(session: Session, principal: Principal, entry_id: int) -> None:
    row = repo.entry(session, principal.agency_id, entry_id)
    if row is None:
        raise NotFound(f"watch entry {entry_id} not found")
    record(
        session,
        principal,
        "coins.watch.remove",
        repo.SUBJECT_WATCH,
        row.watch_list_id,
        {"entry_id": row.id, "address": row.address},
    )
    for a in repo.alerts_of_entry(session, row.id):
        a.entry_id = None
    repo.delete(session, row)


# --- labels -----------------------------------------------------------------------------


def add_label(
    session: Session,
    principal: Principal | None,
    address: str,
    category: str,
    *,
    name: str = "",
    source: str = "",
    shared: bool = False,
) -> ServiceLabel:
    """Label a known service's address; ``shared`` puts it on the instance's list."""
    if category not in LABEL_CATEGORIES:
        raise InvalidInput(
            f"unknown label category {category!r} (known: {', '.join(LABEL_CATEGORIES)})"
        )
    f = validate(address)
    if f is None:
        raise InvalidInput(f"{address.strip()[:120]!r} is not a valid address (checksum failed)")
    agency = None if shared or principal is None else principal.agency_id
    row = repo.label_row(session, agency, f.kind, f.address)
    if row is None:
        row = ServiceLabel(agency_id=agency, kind=f.kind, address=f.address, category=category)
        session.add(row)
    row.category = category
    row.name = name[:200]
    row.source = source[:200]
    session.flush()
    return row


def label_lookup(session: Session, agency_id: int | None) -> LabelLookup:
    def lookup(addresses: Sequence[str]) -> dict[str, tuple[str, str]]:
        return {
            a: (r.category, r.name)
            for a, r in repo.labels_for(session, agency_id, list(addresses)).items()
        }

    return lookup


# --- tracing and alerts -------------------------------------------------------------------


@dataclass
class TraceOutcome:
    record: TraceRecord
    result: TraceResult
    alerts: list[CoinAlert]


def _record(
    session: Session, principal: Principal, kind: str, res: TraceResult, now: dt.datetime
) -> TraceRecord:
    annotate(res, label_lookup(session, principal.agency_id))
    rec = TraceRecord(
        agency_id=principal.agency_id,
        kind=kind,
        address=res.address,
        hops=res.hops,
        summary=res.summary(),
        graph=res.graph(),
        traced_at=now,
    )
    repo.add(session, rec)
    return rec


def _traceable(api: ChainApi, address: str) -> tuple[str, str]:
    f = validate(address)
    if f is None:
        raise InvalidInput(f"{address.strip()[:120]!r} is not a valid address (checksum failed)")
    if f.kind not in api.kinds:
        raise InvalidInput(f"{api.name} traces {', '.join(api.kinds)} addresses, not {f.kind}")
    return f.kind, f.address


def trace_address(
    session: Session,
    principal: Principal,
    api: ChainApi,
    address: str,
    *,
    hops: int = 1,
    max_txs: int = 200,
    clock: Clock | None = None,
) -> TraceOutcome:
    """Trace any valid address for the principal's agency and keep the record (no alerts)."""
    kind, addr = _traceable(api, address)
    res = trace(api, addr, hops=max(1, min(hops, 4)), max_txs=max_txs)
    rec = _record(session, principal, kind, res, (clock or SystemClock()).now())
    return TraceOutcome(rec, res, [])


def _apply(
    session: Session,
    principal: Principal,
    row: WatchEntry,
    res: TraceResult,
    now: dt.datetime,
    crowd: rules.CrowdParams | None,
) -> TraceOutcome:
    """Keep a watched address's trace, update its entry, raise the alerts its rules find."""
    rec = _record(session, principal, row.kind, res, now)
    out = TraceOutcome(rec, res, [])
    labels = label_lookup(session, principal.agency_id)(
        sorted({a for t in res.txs for a, _ in (*t.inputs, *t.outputs)})
    )
    drafts = rules.evaluate(
        row.address, res.txs, labels, seen=set(row.seen_txids or []), crowd=crowd
    )
    for d in drafts:
        if repo.alert_by_key(session, principal.agency_id, d.key[:300]) is not None:
            continue
        alert = CoinAlert(
            agency_id=principal.agency_id,
            entry_id=row.id,
            kind=row.kind,
            address=row.address,
            rule=d.rule,
            red_flag=d.red_flag,
            detail=d.detail,
            dedupe_key=d.key[:300],
            created_at=now,
        )
        repo.add(session, alert)
        out.alerts.append(alert)
    row.last_traced_at = now
    row.balance = res.stats.balance
    row.received = res.stats.funded_sum
    row.tx_count = res.stats.tx_count
    row.first_activity = res.first_activity
    row.last_activity = res.last_activity
    row.seen_txids = [t.txid for t in res.txs][:MAX_SEEN]
    return out


def trace_entry(
    session: Session,
    principal: Principal,
    api: ChainApi,
    entry_id: int,
    *,
    hops: int = 1,
    max_txs: int = 200,
    crowd: rules.CrowdParams | None = None,
    clock: Clock | None = None,
) -> TraceOutcome:
    """Trace a watched address, update what it shows, and raise the alerts its rules find."""
    row = get_entry(session, principal, entry_id)
    _traceable(api, row.address)
    res = trace(api, row.address, hops=max(1, min(hops, 4)), max_txs=max_txs)
    return _apply(session, principal, row, res, (clock or SystemClock()).now(), crowd)


def trace_all(
    session: Session,
    principal: Principal,
    api: ChainApi,
    *,
    hops: int = 1,
    max_txs: int = 200,
    crowd: rules.CrowdParams | None = None,
    workers: int = 4,
    clock: Clock | None = None,
) -> list[TraceOutcome]:
    """Trace every entry of the agency's lists that ``api`` can trace (the periodic job).

    The chain API is asked with a few requests in flight (its rate limit sets the pace);
    the database is written from this thread only. An address the API fails on is
    logged and skipped; the others are kept.
    """
    entries = repo.all_entries(session, agency_id=principal.agency_id, kinds=api.kinds)
    results = trace_many(
        api,
        [e.address for e in entries],
        workers=workers,
        hops=max(1, min(hops, 4)),
        max_txs=max_txs,
    )
    now = (clock or SystemClock()).now()
    out = []
    for e, res in zip(entries, results, strict=True):
        if isinstance(res, Exception):
            log.warning("trace of %s failed: %s", e.address, res)
            continue
        out.append(_apply(session, principal, e, res, now, crowd))
    return out


def list_alerts(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    rule: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[CoinAlert], int]:
    return repo.list_alerts(
        session, principal.agency_id, status=status, rule=rule, limit=limit, offset=offset
    )


def close_alert(session: Session, principal: Principal, alert_id: int) -> CoinAlert:
    row = repo.alert(session, principal.agency_id, alert_id)
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    row.status = AlertStatus.CLOSED.value
    record(session, principal, "coins.alert.close", repo.SUBJECT_ALERT, row.id, {"rule": row.rule})
    return row


def latest_trace(session: Session, principal: Principal, address: str) -> TraceRecord | None:
    return repo.latest_trace(session, principal.agency_id, address)


def export_entries(session: Session, principal: Principal, list_id: int) -> dict[str, Any]:
    """A list's entries for sharing: MISP attribute types and STIX wallet observables."""
    wl = get_list(session, principal, list_id)
    misp_type = {"btc": "btc", "xmr": "xmr"}
    return {
        "list": wl.name,
        "tlp": wl.tlp,
        "entries": [
            {
                "kind": e.kind,
                "address": e.address,
                "label": e.label,
                "misp_type": misp_type.get(e.kind, "text"),
                "stix_pattern": f"[cryptocurrency-wallet:address = '{e.address}']",
            }
            for e in repo.entries_of(session, wl.id)
        ],
    }


def get_entry(session: Session, principal: Principal, entry_id: int) -> WatchEntry:
    row = repo.entry(session, principal.agency_id, entry_id)
    if row is None:
        raise NotFound(f"watch entry {entry_id} not found")
    return row


def labels(session: Session, principal: Principal) -> list[ServiceLabel]:
    return repo.list_labels(session, principal.agency_id)
