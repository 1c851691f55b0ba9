"""HTML pages of the audit log: the filterable event list and the chain's status.

The chain check re-hashes every event (about 2 s per 30,000 events), so it never
runs while the list renders: the page shows the last result this process computed,
and a button (htmx, or a plain link without JavaScript) runs it again. The first
view after a start checks it once, after the page has loaded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from takedown.accounts import service as accounts
from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role, User
from takedown.accounts.principal import Principal
from takedown.audit import repository
from takedown.audit.anchors import keys_from_settings
from takedown.audit.service import VerifyResult, verify
from takedown.web.deps import AdminPage, SupervisorPage
from takedown.web.nav import register_nav, register_panel
from takedown.web.pagination import paginate
from takedown.web.templating import is_htmx, render, render_fragment

router = APIRouter(include_in_schema=False)

register_nav("Audit log", "/admin/audit", roles=(Role.SUPERVISOR,), section="admin", order=90)


@dataclass(frozen=True)
class ChainCheck:
    result: VerifyResult
    at: dt.datetime


def _last_check(request: Request) -> ChainCheck | None:
    check = getattr(request.app.state, "audit_chain_check", None)
    return check if isinstance(check, ChainCheck) else None


def _actors(session: Session, user_ids: set[int]) -> dict[int, User]:
    out: dict[int, User] = {}
    for uid in user_ids:
        user = accounts.get_user(session, uid) if uid else None
        if user is not None:
            out[uid] = user
    return out


@router.get("/admin/audit", response_class=HTMLResponse, dependencies=[needs("audit:read")])
def events(request: Request, principal: SupervisorPage, session: DbSession) -> HTMLResponse:
    q = request.query_params
    filters = {k: (q.get(k) or "").strip()[:128] for k in ("action", "subject_type", "subject_id")}
    agency_id = principal.agency_id
    rows, pager = paginate(
        request,
        lambda limit, offset: repository.list_events(
            session,
            agency_id=agency_id,
            action=filters["action"] or None,
            subject_type=filters["subject_type"] or None,
            subject_id=filters["subject_id"] or None,
            limit=limit,
            offset=offset,
        ),
    )
    actors = _actors(session, {r.actor_user_id for r in rows if r.actor_user_id})
    return render(
        request,
        "audit/events.html",
        {
            "events": rows,
            "pager": pager,
            "filters": filters,
            "filtered": any(filters.values()),
            "actors": actors,
            "can_verify": principal.is_admin,
            "check": _last_check(request),
        },
        title="Audit log",
    )


@router.get("/admin/audit/chain", response_class=HTMLResponse, dependencies=[needs("admin")])
def chain(request: Request, principal: AdminPage, session: DbSession) -> HTMLResponse:
    keys = keys_from_settings(request.app.state.settings)
    check = ChainCheck(verify(session, keys), dt.datetime.now(dt.UTC))
    request.app.state.audit_chain_check = check
    ctx = {"check": check}
    if is_htmx(request):
        return render_fragment(request, "audit/_chain.html", ctx)
    return render(request, "audit/chain.html", ctx, title="Audit chain")


def _recent_panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    agency_id = principal.agency_id
    rows, _ = repository.list_events(
        session,
        agency_id=agency_id,
        action=None,
        subject_type=None,
        subject_id=None,
        limit=8,
        offset=0,
    )
    return {"events": rows}


register_panel(
    "audit_recent",
    "Recent activity",
    "audit/_panel_recent.html",
    _recent_panel,
    roles=(Role.SUPERVISOR,),
    order=800,
)
