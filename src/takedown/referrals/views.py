"""HTML pages: the referral batches of an agency, and the platform portal for liaisons.

The same pages serve both audiences; what a principal sees is decided by
``repository.visible``: an agency its own batches, a liaison what was
delivered to their platform (404 for anything else). Liaisons answer each
item with Annex II (removed) or Annex III (cannot comply, with a reason).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from takedown.accounts.deps import DbSession
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Conflict, Forbidden, InvalidInput
from takedown.kit.types import IdPath
from takedown.referrals import render, repository, service
from takedown.referrals.models import CannotComplyReason
from takedown.web.deps import PagePrincipal, form_values
from takedown.web.nav import register_nav, register_panel
from takedown.web.pagination import paginate
from takedown.web.templating import redirect
from takedown.web.templating import render as render_page

router = APIRouter(include_in_schema=False)

register_nav(
    "Referrals",
    "/referrals",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=40,
    prefixes=("/referrals/",),
)
register_nav("Platform portal", "/portal", roles=(Role.LIAISON,), order=10, prefixes=("/portal/",))

REASON_LABELS = {
    CannotComplyReason.FORCE_MAJEURE.value: "Force majeure or de facto impossibility",
    CannotComplyReason.MANIFEST_ERROR.value: "Manifest error in the order",
    CannotComplyReason.INSUFFICIENT_INFORMATION.value: "Insufficient information",
}


def _list(request: Request, principal: Principal, session: Session, portal: bool) -> HTMLResponse:
    status = (request.query_params.get("status") or "").strip()[:24] or None
    rows, pager = paginate(
        request,
        lambda limit, offset: repository.list_visible(
            session, principal, status=status, limit=limit, offset=offset
        ),
    )
    return render_page(
        request,
        "referrals/list.html",
        {"rows": rows, "pager": pager, "status": status or "", "portal": portal},
        title="Platform portal" if portal else "Referrals",
    )


@router.get("/referrals", response_class=HTMLResponse)
def referrals_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return _list(request, principal, session, portal=principal.is_liaison)


@router.get("/portal", response_class=HTMLResponse)
def portal_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return _list(request, principal, session, portal=True)


def _detail_context(session: Session, principal: Principal, referral_id: int) -> dict[str, Any]:
    ref = service.get_referral(session, principal, referral_id)
    data = render.as_json(session, ref)
    return {
        "ref": ref,
        "data": data,
        "delivery": None if principal.is_liaison else repository.delivery_for(session, ref.id),
        "can_submit": not principal.is_liaison and ref.status == "draft",
        "can_approve": principal.is_supervisor
        and ref.status == "pending_approval"
        and principal.user_id != ref.author_id,
        "can_answer": principal.is_liaison,
        "reasons": REASON_LABELS,
    }


@router.get("/referrals/{referral_id}", response_class=HTMLResponse)
def referral_page(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    ctx = _detail_context(session, principal, referral_id)
    return render_page(request, "referrals/detail.html", ctx, title=ctx["ref"].reference)


@router.get("/referrals/{referral_id}/document", response_class=HTMLResponse)
def referral_document(
    referral_id: IdPath, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    ref = service.get_referral(session, principal, referral_id)
    return HTMLResponse(
        render.as_html(session, ref), headers={"Content-Security-Policy": render.DOCUMENT_CSP}
    )


def _act(request: Request, referral_id: int, fn: Any, session: Session, principal: Principal,
         done: str) -> RedirectResponse:  # fmt: skip
    back = f"/referrals/{referral_id}"
    try:
        fn(session, principal, referral_id)
    except (Conflict, InvalidInput, Forbidden) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    return redirect(request, back, notice=done)


@router.post("/referrals/{referral_id}/submit")
def submit_form(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> RedirectResponse:
    return _act(request, referral_id, service.submit, session, principal, "Submitted.")


@router.post("/referrals/{referral_id}/approve")
def approve_form(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> RedirectResponse:
    return _act(request, referral_id, service.approve, session, principal,
                "Approved: the order is queued for delivery.")  # fmt: skip


def _utc_field(value: str) -> dt.datetime | None:
    """A ``datetime-local`` form value, read as UTC (the form says so)."""
    if not value.strip():
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("the time of removal is not a date and time") from None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


@router.post("/referrals/{referral_id}/items/{item_id}/respond")
async def respond_form(
    referral_id: IdPath,
    item_id: IdPath,
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    form = form_values(await request.form(), "response", "reason", "text", "removed_at")
    back = f"/referrals/{referral_id}"
    try:
        removed_at = _utc_field(form["removed_at"])
        service.respond(
            session, principal, referral_id, item_id, response=form["response"],
            reason=form["reason"] or None, text=form["text"], removed_at=removed_at,
        )  # fmt: skip
    except (Conflict, InvalidInput) as exc:  # NotFound / Forbidden answer as such
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    label = "Annex II (removed)" if form["response"] == "removed" else "Annex III"
    return redirect(request, back, notice=f"Item {item_id}: {label} recorded.")


def _overdue_panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    notes = service.notifications(session, principal)[:10]
    if not notes:
        return None
    return {"notifications": notes}


register_panel(
    "referrals-overdue",
    "Overdue removal orders",
    "referrals/_panel_notifications.html",
    _overdue_panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=20,
)
