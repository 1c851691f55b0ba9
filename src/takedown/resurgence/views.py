"""HTML pages of resurgence: the candidates with their evidence, confirm / confirm and refer /
reject, the figures with their charts (the resurgence dashboard), predicted successors, and a
home-page panel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from takedown.accounts.deps import DbSession
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Conflict, InvalidInput
from takedown.kit.types import IdPath
from takedown.resurgence import report as section
from takedown.resurgence import repository, service
from takedown.resurgence.models import CandidateStatus
from takedown.web.deps import require_page_role
from takedown.web.nav import register_nav, register_panel
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)
AnalystPage = Annotated[Principal, Depends(require_page_role(Role.ANALYST, Role.SUPERVISOR))]

register_nav(
    "Resurgence",
    "/resurgence",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=47,
    prefixes=("/resurgence/",),
)
STATUSES = [s.value for s in CandidateStatus]


@router.get("/resurgence", response_class=HTMLResponse)
def page(
    request: Request,
    principal: AnalystPage,
    session: DbSession,
    status: Annotated[str, Query(max_length=16)] = CandidateStatus.PROPOSED.value,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    if status not in STATUSES:
        raise InvalidInput(f"status {status!r} is not one of {', '.join(STATUSES)}")
    views, total = service.list_candidates(
        session, principal, status=[status], limit=50, offset=offset
    )
    figs = service.figures_by(session, principal)
    preds, n_preds = repository.list_predictions(session, principal, state=None, limit=20, offset=0)
    return render(
        request,
        "resurgence/page.html",
        {
            "views": views,
            "total": total,
            "status": status,
            "statuses": STATUSES,
            "offset": offset,
            "threshold": service.threshold(),
            "rows": section.rows(figs),
            "columns": section.COLUMNS,
            "definition": section.DEFINITION,
            "charts": section.chart_list(figs) if figs["all"].removals else [],
            "predictions": preds,
            "n_predictions": n_preds,
        },
        title="Resurgence",
    )


def _decide(
    request: Request, session: Session, principal: Principal, candidate_id: int, action: str,
    note: str, refer: bool,
) -> Response:  # fmt: skip
    try:
        if action == "confirm":
            v = service.confirm(session, principal, candidate_id, note=note, refer=refer)
        else:
            v = service.reject(session, principal, candidate_id, note=note)
    except Conflict as exc:
        session.rollback()
        return redirect(request, "/resurgence", notice=exc.detail, level="warning")
    c = v.candidate
    if action == "confirm":
        msg = f"{v.successor.canonical_url} confirmed as successor of {v.predecessor.canonical_url}"
        if c.referral_id:
            msg += " and referred"
            return redirect(request, f"/referrals/{c.referral_id}", notice=msg + ".")
    else:
        msg = f"{v.successor.canonical_url} is not a successor of {v.predecessor.canonical_url}"
    return redirect(request, "/resurgence", notice=msg + ".")


@router.post("/resurgence/candidates/{candidate_id}/confirm", response_model=None)
def confirm(
    candidate_id: IdPath,
    request: Request,
    principal: AnalystPage,
    session: DbSession,
    note: Annotated[str, Form(max_length=2000)] = "",
    refer: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    return _decide(request, session, principal, candidate_id, "confirm", note, refer == "1")


@router.post("/resurgence/candidates/{candidate_id}/reject", response_model=None)
def reject(
    candidate_id: IdPath,
    request: Request,
    principal: AnalystPage,
    session: DbSession,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _decide(request, session, principal, candidate_id, "reject", note, False)


def _panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    views, total = service.list_candidates(session, principal, limit=5)
    if not total:
        return None
    return {"views": views, "total": total}


register_panel(
    "resurgence",
    "Successors proposed",
    "resurgence/_panel.html",
    _panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=60,
)
