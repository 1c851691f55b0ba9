"""JSON routes under /api/v1/coins: addresses and sightings, extraction and classification,
watch lists, tracing, alerts and labels. Every route needs a ``coins:`` scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from takedown.accounts.deps import DbSession, require_role, require_scope
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.coins import service, watch
from takedown.coins.classify import classify
from takedown.coins.extract import extract
from takedown.coins.schemas import (
    AddressDetail,
    AddressOut,
    AlertOut,
    ClassificationOut,
    FoundOut,
    LabelIn,
    LabelOut,
    SightingOut,
    TextIn,
    TraceIn,
    TraceOut,
    WatchEntryIn,
    WatchEntryOut,
    WatchListDetail,
    WatchListIn,
    WatchListOut,
)
from takedown.coins.trace.base import ChainApi
from takedown.coins.trace.registry import open_chain
from takedown.config import Settings
from takedown.kit.errors import NotFound
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath

router = APIRouter(
    prefix="/api/v1/coins",
    tags=["coins"],
    dependencies=[Depends(require_role(Role.ANALYST, Role.SUPERVISOR))],
)
Reader = Annotated[Principal, Depends(require_scope("coins:read"))]
Writer = Annotated[Principal, Depends(require_scope("coins:write"))]


def chain_dep(request: Request) -> Iterator[ChainApi]:
    settings: Settings = request.app.state.settings
    with open_chain(settings) as api:
        yield api


Chain = Annotated[ChainApi, Depends(chain_dep)]


@router.get("/addresses", response_model=Page[AddressOut])
def list_addresses(
    principal: Reader,
    session: DbSession,
    kind: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AddressOut]:
    """Your agency's addresses, most recently seen first."""
    rows, total = service.list_addresses(
        session, principal, kind=kind, q=q, limit=limit, offset=offset
    )
    return Page(
        items=[AddressOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/addresses/{address_id}", response_model=AddressDetail)
def get_address(
    address_id: IdPath, principal: Reader, session: DbSession, limit: Limit = 100
) -> AddressDetail:
    """One address with where it was first seen and every later sighting."""
    row = service.get_address(session, principal, address_id)
    sightings, total = service.sightings_of(session, principal, address_id, limit=limit)
    out = AddressDetail.model_validate(row)
    out.sightings = [SightingOut.model_validate(s) for s in sightings]
    out.sightings_total = total
    return out


@router.post("/extract", response_model=list[FoundOut])
def extract_text(body: TextIn, principal: Reader) -> list[FoundOut]:
    """The valid addresses in a text (nothing is recorded)."""
    return [
        FoundOut(
            kind=f.kind,
            address=f.address,
            network=f.network,
            script=f.script,
            start=f.start,
            end=f.end,
            form=f.form,
            asset=f.asset,
        )
        for f in extract(body.text)
    ]


@router.post("/classify", response_model=ClassificationOut)
def classify_text(body: TextIn, principal: Reader) -> ClassificationOut:
    """The categories of a listing, post or page text, with the words that decided."""
    return ClassificationOut.model_validate(classify(body.text).as_dict())


@router.get("/watch-lists", response_model=list[WatchListOut])
def list_watch_lists(principal: Reader, session: DbSession) -> list[WatchListOut]:
    return [WatchListOut.model_validate(w) for w in watch.lists(session, principal)]


@router.post("/watch-lists", response_model=WatchListOut, status_code=status.HTTP_201_CREATED)
def create_watch_list(body: WatchListIn, principal: Writer, session: DbSession) -> WatchListOut:
    wl = watch.create_list(
        session, principal, body.name, tlp=body.tlp, description=body.description
    )
    return WatchListOut.model_validate(wl)


@router.get("/watch-lists/{list_id}", response_model=WatchListDetail)
def get_watch_list(list_id: IdPath, principal: Reader, session: DbSession) -> WatchListDetail:
    out = WatchListDetail.model_validate(watch.get_list(session, principal, list_id))
    out.entries = [
        WatchEntryOut.model_validate(e) for e in watch.entries(session, principal, list_id)
    ]
    return out


@router.get("/watch-lists/{list_id}/export")
def export_watch_list(list_id: IdPath, principal: Reader, session: DbSession) -> dict[str, Any]:
    """Entries with their MISP attribute type and STIX pattern, for the sharing capability."""
    return watch.export_entries(session, principal, list_id)


@router.post(
    "/watch-lists/{list_id}/entries",
    response_model=WatchEntryOut,
    status_code=status.HTTP_201_CREATED,
)
def add_watch_entry(
    list_id: IdPath, body: WatchEntryIn, principal: Writer, session: DbSession
) -> WatchEntryOut:
    e = watch.add_entry(session, principal, list_id, body.address, label=body.label, note=body.note)
    return WatchEntryOut.model_validate(e)


@router.delete("/watch-entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_watch_entry(entry_id: IdPath, principal: Writer, session: DbSession) -> None:
    watch.remove_entry(session, principal, entry_id)


def _trace_out(out: watch.TraceOutcome) -> TraceOut:
    r = out.record
    return TraceOut(
        address=r.address,
        kind=r.kind,
        hops=r.hops,
        traced_at=r.traced_at,
        summary=r.summary,
        graph=r.graph,
        alerts=[AlertOut.model_validate(a) for a in out.alerts],
    )


@router.post("/watch-entries/{entry_id}/trace", response_model=TraceOut)
def trace_watch_entry(
    entry_id: IdPath, principal: Writer, session: DbSession, request: Request
) -> TraceOut:
    """Trace a watched address now; new alerts come back with the trace."""
    watch.get_entry(session, principal, entry_id)  # another agency's entry: 404 first
    settings: Settings = request.app.state.settings
    with open_chain(settings) as api:
        out = watch.trace_entry(
            session,
            principal,
            api,
            entry_id,
            hops=settings.coins_trace_hops,
            max_txs=settings.coins_trace_max_txs,
        )
    return _trace_out(out)


@router.post("/trace", response_model=TraceOut)
def trace_address(
    body: TraceIn, principal: Writer, session: DbSession, api: Chain, request: Request
) -> TraceOut:
    """Trace any address (the chain API sees which address you asked about)."""
    settings: Settings = request.app.state.settings
    out = watch.trace_address(
        session, principal, api, body.address, hops=body.hops, max_txs=settings.coins_trace_max_txs
    )
    return _trace_out(out)


@router.get("/traces/latest", response_model=TraceOut)
def latest_trace(
    principal: Reader, session: DbSession, address: Annotated[str, Query(max_length=300)]
) -> TraceOut:
    rec = watch.latest_trace(session, principal, address.strip())
    if rec is None:
        raise NotFound("no trace of this address")
    return TraceOut(
        address=rec.address,
        kind=rec.kind,
        hops=rec.hops,
        traced_at=rec.traced_at,
        summary=rec.summary,
        graph=rec.graph,
    )


@router.get("/alerts", response_model=Page[AlertOut])
def list_alerts(
    principal: Reader,
    session: DbSession,
    status_: Annotated[str | None, Query(alias="status")] = None,
    rule: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AlertOut]:
    rows, total = watch.list_alerts(
        session, principal, status=status_, rule=rule, limit=limit, offset=offset
    )
    return Page(
        items=[AlertOut.model_validate(a) for a in rows], total=total, limit=limit, offset=offset
    )


@router.post("/alerts/{alert_id}/close", response_model=AlertOut)
def close_alert(alert_id: IdPath, principal: Writer, session: DbSession) -> AlertOut:
    return AlertOut.model_validate(watch.close_alert(session, principal, alert_id))


@router.get("/labels", response_model=list[LabelOut])
def list_labels(principal: Reader, session: DbSession) -> list[LabelOut]:
    """Known services: the instance's shared list and your agency's own."""
    return [
        LabelOut.model_validate(r).model_copy(update={"shared": r.agency_id is None})
        for r in watch.labels(session, principal)
    ]


@router.post("/labels", response_model=LabelOut, status_code=status.HTTP_201_CREATED)
def add_label(body: LabelIn, principal: Writer, session: DbSession) -> LabelOut:
    """Label a service's address for your agency (the shared list is kept by the CLI)."""
    row = watch.add_label(
        session, principal, body.address, body.category, name=body.name, source=body.source
    )
    return LabelOut.model_validate(row)
