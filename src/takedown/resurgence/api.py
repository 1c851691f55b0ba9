"""JSON routes of resurgence under /api/v1/resurgence: candidates and decisions, scans on
demand, figures, predicted successors, and handle lists linked on demand."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from takedown.accounts.deps import DbSession, require_role, require_scope
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import InvalidInput
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.resurgence import repository, service
from takedown.resurgence.figures import Figures
from takedown.resurgence.models import CandidateStatus, PredictionState
from takedown.resurgence.schemas import (
    CandidateOut,
    DecisionIn,
    FigureOut,
    FiguresOut,
    ItemRef,
    LinkHandlesIn,
    LinkOut,
    PredictionOut,
    ReasonOut,
    ScanIn,
    ScanOut,
)

router = APIRouter(prefix="/api/v1/resurgence", tags=["resurgence"])

Reader = Annotated[Principal, Depends(require_scope("resurgence:read"))]


def _analyst(
    principal: Principal = Depends(require_role(Role.ANALYST, Role.SUPERVISOR)),
) -> Principal:
    return require_scope("resurgence:write")(principal)


Writer = Annotated[Principal, Depends(_analyst)]


def _ref(item: object) -> ItemRef:
    return ItemRef.model_validate(item, from_attributes=True)


def candidate_out(v: service.CandidateView) -> CandidateOut:
    c = v.candidate
    return CandidateOut(
        id=c.id,
        score=c.score,
        threshold=service.threshold(),
        status=c.status,
        reasons=[ReasonOut(**r) for r in c.reasons],
        suggestion=c.suggestion,
        generation=c.generation,
        created_at=c.created_at,
        decided_at=c.decided_at,
        note=c.note,
        referral_id=c.referral_id,
        predecessor=_ref(v.predecessor),
        successor=_ref(v.successor),
    )


@router.get("/candidates", response_model=Page[CandidateOut])
def list_candidates(
    principal: Reader,
    session: DbSession,
    status: Annotated[list[CandidateStatus] | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CandidateOut]:
    """Successor candidates whose both items you may see, best score first (default: proposed)."""
    views, total = service.list_candidates(
        session,
        principal,
        status=[s.value for s in status] if status else [CandidateStatus.PROPOSED.value],
        platform=platform,
        limit=limit,
        offset=offset,
    )
    return Page(items=[candidate_out(v) for v in views], total=total, limit=limit, offset=offset)


@router.get("/candidates/{candidate_id}", response_model=CandidateOut)
def get_candidate(candidate_id: IdPath, principal: Reader, session: DbSession) -> CandidateOut:
    return candidate_out(service.get_candidate(session, principal, candidate_id))


@router.post("/candidates/{candidate_id}/confirm", response_model=CandidateOut)
def confirm(
    candidate_id: IdPath, body: DecisionIn, principal: Writer, session: DbSession
) -> CandidateOut:
    """Link the successor to its predecessor; ``refer``: also assess it as the predecessor was
    and send a ToS referral of it."""
    return candidate_out(
        service.confirm(session, principal, candidate_id, note=body.note, refer=body.refer)
    )


@router.post("/candidates/{candidate_id}/reject", response_model=CandidateOut)
def reject(
    candidate_id: IdPath, body: DecisionIn, principal: Writer, session: DbSession
) -> CandidateOut:
    if body.refer:
        raise InvalidInput("a rejected candidate is not referred")
    return candidate_out(service.reject(session, principal, candidate_id, note=body.note))


@router.post("/scan", response_model=ScanOut)
def scan(body: ScanIn, principal: Writer, session: DbSession) -> ScanOut:
    """Score these items now (those you may see): seen ones against every removal, removed
    ones against what was seen since."""
    visible = {
        i.id
        for i in repository.visible_items(session, principal, repository.OWNER_KINDS)
        if i.id in set(body.item_ids)
    }
    removed = set(repository.removal_times(session, sorted(visible)))
    rep = service.scan(session, seen_ids=sorted(visible - removed), removed_ids=sorted(removed))
    return ScanOut(
        seen=rep.seen, removed=rep.removed, proposed=rep.proposed, kept_below=rep.kept_below
    )


def _figure(group: str, f: Figures) -> FigureOut:
    return FigureOut(group=group, **f.as_dict())


@router.get("/figures", response_model=FiguresOut)
def figures(
    principal: Reader,
    session: DbSession,
    by: Literal["platform", "operation"] = "platform",
    operation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> FiguresOut:
    """Time to return (Kaplan–Meier), time to detect, successor lifetime and generations."""
    if operation_id is not None:
        from takedown.operations.service import get_operation

        get_operation(session, principal, operation_id)  # 404 when not yours
    figs = service.figures_by(session, principal, by=by, operation_id=operation_id)
    return FiguresOut(by=by, groups=[_figure(g, f) for g, f in figs.items()])


@router.get("/predictions", response_model=Page[PredictionOut])
def predictions(
    principal: Reader,
    session: DbSession,
    state: PredictionState | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PredictionOut]:
    """Predicted successor handles of the removed accounts you may see, and what probing found."""
    rows, total = repository.list_predictions(
        session, principal, state=state.value if state else None, limit=limit, offset=offset
    )
    items = [
        PredictionOut(
            id=p.id, removed_id=p.removed_id, removed_url=i.canonical_url, platform=p.platform,
            handle=p.handle, pattern=p.pattern, url=p.url, state=p.state, probes=p.probes,
            probed_at=p.probed_at, next_probe_at=p.next_probe_at, detail=p.detail,
        )
        for p, i in rows
    ]  # fmt: skip
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/link-handles", response_model=list[LinkOut])
def link_handles(body: LinkHandlesIn, principal: Reader) -> list[LinkOut]:
    """For each seen handle, its best removed predecessor, the score, reasons and verdict."""
    removed, bad_r = service.clean_handles(body.removed, "removed")
    seen, bad_s = service.clean_handles(body.seen, "seen")
    if bad_r or bad_s:
        raise InvalidInput("; ".join([*bad_r, *bad_s][:20]))
    return [
        LinkOut(
            seen=h.seen,
            predecessor=h.predecessor,
            score=h.score,
            verdict=h.verdict,
            reasons=[ReasonOut(**r) for r in h.reasons],
        )
        for h in service.link_handles(body.platform, removed, seen)
    ]
