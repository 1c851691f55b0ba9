"""The monitoring page: watched sources with their last crawl and new items, the review
queue of proposed sources, and a live feed of what crawls saw (htmx polls the feed)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts.deps import DbSession
from takedown.accounts.models import Role
from takedown.kit.errors import InvalidInput, TakedownError
from takedown.kit.types import IdPath
from takedown.monitoring import repository, service
from takedown.monitoring.models import SourceKind
from takedown.web.deps import PagePrincipal
from takedown.web.nav import register_nav
from takedown.web.templating import redirect, render, render_fragment

router = APIRouter(include_in_schema=False)

register_nav(
    "Monitoring",
    "/monitoring",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=47,
    prefixes=("/monitoring/",),
)

KIND_OPTIONS = [("", "Detect from the URL")] + [(k.value, k.value) for k in SourceKind]
FEED_SIZE = 30


@router.get("/monitoring", response_class=HTMLResponse)
def monitoring_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    sources, total = service.list_sources(session, principal, limit=200)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    new_24h = repository.new_items_per_source(session, [s.id for s in sources], since)
    return render(
        request,
        "monitoring/index.html",
        {
            "sources": sources,
            "total": total,
            "new_24h": new_24h,
            "proposals": service.proposals(session, principal, limit=50),
            "feed": service.feed(session, principal, limit=FEED_SIZE),
            "kind_options": KIND_OPTIONS,
            "source_urls": {s.id: s.url for s in sources},
        },
        title="Monitoring",
    )


@router.get("/monitoring/feed", response_class=HTMLResponse)
def feed_fragment(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return render_fragment(
        request,
        "monitoring/_feed.html",
        {"feed": service.feed(session, principal, limit=FEED_SIZE)},
    )


@router.post("/monitoring/sources", response_class=HTMLResponse)
def add_source(
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    url: Annotated[str, Form(max_length=1024)] = "",
    kind: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    try:
        src, created = service.add_source(session, principal, url, kind=kind or None)
    except TakedownError as exc:
        session.rollback()
        return redirect(request, "/monitoring", notice=exc.detail, level="error")
    what = "Now watching" if created else "Already watching"
    return redirect(request, "/monitoring", notice=f"{what} {src.url} ({src.kind}).")


@router.post("/monitoring/sources/{source_id}/remove", response_class=HTMLResponse)
def remove_source(
    source_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> Response:
    src = service.remove_source(session, principal, source_id)
    return redirect(request, "/monitoring", notice=f"No longer watching {src.url}.")


@router.post("/monitoring/sources/{source_id}/crawl", response_class=HTMLResponse)
def crawl_now(
    source_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> Response:
    src = service.crawl_soon(session, principal, source_id)
    return redirect(request, "/monitoring", notice=f"{src.url} is due: the next run crawls it.")


@router.post("/monitoring/proposals/{proposal_id}/{decision}", response_class=HTMLResponse)
def decide(
    proposal_id: IdPath,
    decision: str,
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
) -> Response:
    if decision not in ("accept", "reject"):
        return redirect(request, "/monitoring", notice="Unknown decision.", level="error")
    try:
        p = service.decide_proposal(session, principal, proposal_id, decision == "accept")
    except InvalidInput as exc:  # NotFound stays a 404: another agency's proposal
        session.rollback()
        return redirect(request, "/monitoring", notice=exc.detail, level="error")
    verb = "Now watching" if p.status == "accepted" else "Dismissed"
    return redirect(request, "/monitoring", notice=f"{verb} {p.url}.")
