"""JSON routes of monitoring under /api/v1/monitoring: sources, crawls, the feed, the review
queue of proposed sources, and Rocket.Chat servers. Each route declares its scope."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from takedown.accounts.deps import DbSession, get_settings_dep, require_scope
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.kit.clock import SystemClock
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.monitoring import repository, service
from takedown.monitoring.models import Observation, Source
from takedown.monitoring.schemas import (
    BulkIn,
    BulkOut,
    CrawlOut,
    FeedEntryOut,
    LineError,
    ProposalOut,
    ServerIn,
    ServerOut,
    SourceDetailOut,
    SourceIn,
    SourceOut,
)

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])

Reader = Annotated[Principal, Depends(require_scope("monitoring:read"))]
Writer = Annotated[Principal, Depends(require_scope("monitoring:write"))]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _bulk(res: service.BulkResult) -> BulkOut:
    return BulkOut(
        added=res.added,
        existing=res.existing,
        errors=[LineError(line=n, url=u, reason=r) for n, u, r in res.errors],
    )


def _detail(session: Session, src: Source) -> SourceDetailOut:
    crawls = [CrawlOut.model_validate(c) for c in repository.crawls_of(session, src.id)]
    return SourceDetailOut(**SourceOut.model_validate(src).model_dump(), recent_crawls=crawls)


@router.get("/sources", response_model=Page[SourceOut])
def list_sources(
    principal: Reader,
    session: DbSession,
    status: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SourceOut]:
    """Your agency's watched sources (removed ones only with ``status=removed``)."""
    rows, total = service.list_sources(
        session, principal, status=status, kind=kind, limit=limit, offset=offset
    )
    return Page(
        items=[SourceOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("/sources", response_model=SourceOut, status_code=201)
def add_source(body: SourceIn, principal: Writer, session: DbSession) -> SourceOut:
    """Watch a channel, room, account page, website or .onion site (the kind is detected)."""
    src, _ = service.add_source(
        session,
        principal,
        body.url,
        kind=body.kind,
        label=body.label,
        operation_id=body.operation_id,
        interval_s=body.interval_s,
    )
    return SourceOut.model_validate(src)


@router.post("/sources/bulk", response_model=BulkOut)
def add_sources(body: BulkIn, principal: Writer, session: DbSession) -> BulkOut:
    """Watch many URLs; a bad one is reported with its position and reason, good ones go in."""
    return _bulk(
        service.add_many(
            session, principal, body.urls, kind=body.kind, operation_id=body.operation_id
        )
    )


@router.post("/sources/from-operation/{operation_id}", response_model=BulkOut)
def add_from_operation(operation_id: IdPath, principal: Writer, session: DbSession) -> BulkOut:
    """Watch every account and channel the operation removed, and every channel that survived."""
    return _bulk(service.add_from_operation(session, principal, operation_id))


@router.get("/sources/{source_id}", response_model=SourceDetailOut)
def get_source(source_id: IdPath, principal: Reader, session: DbSession) -> SourceDetailOut:
    return _detail(session, service.get_source(session, principal, source_id))


@router.delete("/sources/{source_id}", response_model=SourceOut)
def remove_source(source_id: IdPath, principal: Writer, session: DbSession) -> SourceOut:
    """Stop watching a source; its crawls and what they saw are kept."""
    return SourceOut.model_validate(service.remove_source(session, principal, source_id))


@router.post("/sources/{source_id}/crawl", response_model=SourceOut, status_code=202)
def crawl_now(
    source_id: IdPath, principal: Writer, session: DbSession, request: Request
) -> SourceOut:
    """Make the source due now; the next crawl run (every minute, or a worker) takes it."""
    src = service.crawl_soon(session, principal, source_id, clock=SystemClock())
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        session.commit()
        dispatcher.enqueue("monitoring.crawl")
    return SourceOut.model_validate(src)


@router.get("/feed", response_model=list[FeedEntryOut])
def feed(
    principal: Reader,
    session: DbSession,
    source_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Limit = 50,
) -> list[FeedEntryOut]:
    """What crawls saw, newest first (``before_id`` pages back)."""
    rows = service.feed(session, principal, source_id=source_id, limit=limit, before_id=before_id)
    return [feed_entry(o, s, i) for o, s, i in rows]


def feed_entry(o: Any, s: Source, i: Any) -> FeedEntryOut:
    obs: Observation = o
    return FeedEntryOut(
        id=obs.id,
        source_id=s.id,
        source_url=s.url,
        kind=obs.kind,
        item_id=obs.item_id,
        item_identity=i.identity,
        url=obs.url,
        text=obs.text,
        parent_item_id=obs.parent_item_id,
        sha256=obs.sha256,
        matches=obs.matches,
        posted_at=obs.posted_at,
        seen_at=obs.seen_at,
    )


@router.get("/proposals", response_model=list[ProposalOut])
def proposals(
    principal: Reader,
    session: DbSession,
    status: Annotated[str | None, Query(max_length=16)] = "pending",
    limit: Limit = 100,
) -> list[ProposalOut]:
    """Channels and accounts that crawls found links to: the review queue."""
    return [
        ProposalOut.model_validate(p)
        for p in service.proposals(session, principal, status=status, limit=limit)
    ]


@router.post("/proposals/{proposal_id}/accept", response_model=ProposalOut)
def accept(proposal_id: IdPath, principal: Writer, session: DbSession) -> ProposalOut:
    return ProposalOut.model_validate(
        service.decide_proposal(session, principal, proposal_id, True)
    )


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalOut)
def reject(proposal_id: IdPath, principal: Writer, session: DbSession) -> ProposalOut:
    return ProposalOut.model_validate(
        service.decide_proposal(session, principal, proposal_id, False)
    )


@router.get("/servers", response_model=list[ServerOut])
def servers(principal: Reader, session: DbSession) -> list[ServerOut]:
    """Rocket.Chat servers with stored credentials (the credentials are never returned)."""
    return [
        ServerOut.model_validate(s) for s in repository.servers_of(session, principal.agency_id)
    ]


@router.post("/servers", response_model=ServerOut, status_code=201)
def add_server(
    body: ServerIn, principal: Writer, session: DbSession, settings: SettingsDep
) -> ServerOut:
    """Store a Rocket.Chat server's X-User-Id and X-Auth-Token, sealed."""
    row = service.add_server(
        session,
        principal,
        body.base_url,
        user_id=body.user_id,
        token=body.token,
        secret_key=settings.secret_key,
    )
    return ServerOut.model_validate(row)
