"""Pages: the agency's addresses with where they were seen, one address with its sightings,
alerts and flow graph, and the watch lists with their alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from takedown.accounts.deps import DbSession
from takedown.accounts.models import Role
from takedown.coins import listings, service, watch
from takedown.coins import repository as repo
from takedown.coins.alerts import RED_FLAGS
from takedown.coins.graph import btc, render_svg
from takedown.kit.types import IdPath
from takedown.web.deps import PagePrincipal
from takedown.web.nav import register_nav
from takedown.web.templating import render

router = APIRouter(include_in_schema=False)

register_nav(
    "Coins", "/coins", roles=(Role.ANALYST, Role.SUPERVISOR), order=75, prefixes=("/coins/",)
)
_TLP_ORDER = ["clear", "green", "amber", "amber+strict", "red"]


@router.get("/coins", response_class=HTMLResponse)
def coins_page(
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    rows, total = service.list_addresses(session, principal, q=q, limit=100)
    alerts, open_total = watch.list_alerts(session, principal, status="open", limit=10)
    classes = listings.recent(session, principal, limit=20)
    titles = repo.item_titles(session, [c.item_id for c in classes if c.item_id])
    return render(
        request,
        "coins/addresses.html",
        {
            "rows": rows,
            "total": total,
            "q": q or "",
            "alerts": alerts,
            "open_total": open_total,
            "classes": classes,
            "titles": titles,
        },
        title="Coins",
    )


@router.get("/coins/addresses/{address_id}", response_class=HTMLResponse)
def address_page(
    request: Request, address_id: IdPath, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    row = service.get_address(session, principal, address_id)
    sightings, total = service.sightings_of(session, principal, address_id, limit=200)
    rec = watch.latest_trace(session, principal, row.address)
    svg = (
        Markup(render_svg(row.address, rec.graph, title=f"Flows of {row.address}"))  # noqa: S704
        if rec is not None and rec.graph.get("nodes")
        else None
    )
    return render(
        request,
        "coins/address.html",
        {
            "row": row,
            "sightings": sightings,
            "total": total,
            "trace": rec,
            "svg": svg,
            "btc": btc,
            "alerts": repo.alerts_for_address(session, principal.agency_id, row.address),
            "entries": repo.entries_for_address(session, principal.agency_id, row.address),
        },
        title=f"Address {row.address[:16]}…",
    )


@router.get("/coins/watch", response_class=HTMLResponse)
def watch_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    lists = watch.lists(session, principal)
    entries = {wl.id: watch.entries(session, principal, wl.id) for wl in lists}
    alerts, total = watch.list_alerts(session, principal, limit=100)
    known = {
        (a.kind, a.address): a.id
        for a in repo.list_addresses(session, principal.agency_id, limit=500)[0]
    }
    top = max((_TLP_ORDER.index(wl.tlp) for wl in lists if wl.tlp in _TLP_ORDER), default=None)
    return render(
        request,
        "coins/watch.html",
        {
            "lists": lists,
            "entries": entries,
            "alerts": alerts,
            "alerts_total": total,
            "known": known,
            "btc": btc,
            "red_flags": RED_FLAGS,
        },
        title="Watch lists",
        tlp=_TLP_ORDER[top].upper() if top is not None else None,
    )
