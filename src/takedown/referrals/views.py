"""HTML pages: the referral batches of an agency, and the platform portal for liaisons.

The same pages serve both audiences; what a principal sees is decided by
the service (``referrals.access``): an agency its own batches, a liaison what was
delivered to their platform (404 for anything else). Liaisons answer each
item with Annex II (removed) or Annex III (cannot comply, with a reason).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.kit.types import IdPath
from takedown.referrals import host_copy, render, sending, service
from takedown.referrals.annex import REASON_TEXT
from takedown.referrals.models import DELIVERY_DONE, CannotComplyReason
from takedown.web.deps import PageForm, PagePrincipal, error_field, form_list, form_values
from takedown.web.nav import register_nav, register_panel
from takedown.web.pagination import paginate
from takedown.web.templating import redirect, render_fragment
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


def _ids_param(raw: str | None) -> list[int]:
    """``?ids=3,4``: the batches just made from one selection (at most 200)."""
    return [int(p) for p in (raw or "").split(",")[:200] if p.strip().isdigit()]


def _list(request: Request, principal: Principal, session: Session, portal: bool) -> HTMLResponse:
    status = (request.query_params.get("status") or "").strip()[:24] or None
    ids = _ids_param(request.query_params.get("ids"))
    rows, pager = paginate(
        request,
        lambda limit, offset: service.list_referrals(
            session, principal, status=status, ids=ids or None, limit=limit, offset=offset
        ),
    )
    return render_page(
        request,
        "referrals/list.html",
        {
            "rows": rows,
            "pager": pager,
            "status": status or "",
            "portal": portal,
            "ids": ",".join(str(i) for i in ids),
        },
        title="Platform portal" if portal else "Referrals",
    )


@router.get("/referrals", response_class=HTMLResponse, dependencies=[needs("referrals:read")])
def referrals_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return _list(request, principal, session, portal=principal.is_liaison)


@router.get("/portal", response_class=HTMLResponse, dependencies=[needs("referrals:read")])
def portal_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return _list(request, principal, session, portal=True)


def _detail_context(session: Session, principal: Principal, referral_id: int) -> dict[str, Any]:
    ref = service.get_referral(session, principal, referral_id)
    data = render.as_json(session, ref)
    record = service.delivery_record(session, principal, referral_id)
    delivery = record.delivery if record else None
    agency_user = not principal.is_liaison
    waiting = (
        agency_user
        and ref.status == "approved"
        and delivery is not None
        and delivery.status not in DELIVERY_DONE
    )
    now = dt.datetime.now(dt.UTC)
    # The 12-hour prior notice holds the order: say so instead of a Send now that fails.
    held_until = ref.not_before if waiting and ref.not_before and ref.not_before > now else None
    is_order = ref.kind == "removal_order"
    send = sending.send_state(session, ref.id, now=now)
    return {
        "ref": ref,
        "data": data,
        "delivery": delivery,
        "attempts": record.attempts if record else [],
        "send": send,
        "can_send": waiting and held_until is None and not send.running,
        "held_until": held_until,
        "can_escalate": held_until is not None and is_order and principal.is_supervisor,
        "can_edit": agency_user
        and ref.status in ("draft", "pending_approval")
        and (principal.user_id == ref.author_id or principal.is_supervisor),
        "can_send_back": principal.is_supervisor
        and ref.status == "pending_approval"
        and principal.user_id != ref.author_id,
        "can_cancel": agency_user
        and ref.status in ("draft", "pending_approval", "approved")
        and not send.running,  # not while it is being sent
        "reason_options": sorted(REASON_TEXT.items()),
        "can_submit": not principal.is_liaison and ref.status == "draft",
        "can_approve": principal.is_supervisor
        and ref.status == "pending_approval"
        and principal.user_id not in (ref.author_id, ref.last_edited_by),
        "can_answer": principal.is_liaison,
        "reasons": REASON_LABELS,
        # Art. 4(1): where the copy to the host state's authority stands (not a liaison's)
        "host_copy": None if principal.is_liaison else host_copy.state(session, ref),
    }


@router.get(
    "/referrals/{referral_id}", response_class=HTMLResponse, dependencies=[needs("referrals:read")]
)
def referral_page(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    ctx = _detail_context(session, principal, referral_id)
    return render_page(request, "referrals/detail.html", ctx, title=ctx["ref"].reference)


@router.get(
    "/referrals/{referral_id}/document",
    response_class=HTMLResponse,
    dependencies=[needs("referrals:read")],
)
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


@router.post("/referrals/{referral_id}/submit", dependencies=[needs("referrals:write")])
def submit_form(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> RedirectResponse:
    return _act(request, referral_id, service.submit, session, principal, "Submitted.")


@router.post("/referrals/{referral_id}/approve", dependencies=[needs("referrals:write")])
def approve_form(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> RedirectResponse:
    return _act(request, referral_id, service.approve, session, principal,
                "Approved: the order is queued for delivery.")  # fmt: skip


@router.post("/referrals/{referral_id}/cancel", dependencies=[needs("referrals:write")])
def cancel_form(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> RedirectResponse:
    return _act(request, referral_id, service.cancel, session, principal,
                "Cancelled: nothing will be sent.")  # fmt: skip


@router.post("/referrals/{referral_id}/send-back", dependencies=[needs("referrals:write")])
def send_back_form(
    referral_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    """A supervisor returns an order awaiting approval to its author, with the reason."""
    reason = form_values(form_data, "send_back_reason")["send_back_reason"][:2000]
    back = f"/referrals/{referral_id}"
    try:
        service.reject(session, principal, referral_id, reason=reason)
    except (Conflict, InvalidInput, Forbidden) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    return redirect(request, back, notice="Sent back to its author as a draft, with your reason.")


@router.post("/referrals/{referral_id}/edit", dependencies=[needs("referrals:write")])
def edit_form(
    referral_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    """Change a draft or an order awaiting approval: reasons, justification, emergency,
    and items taken out of the batch."""
    form = form_data
    values = form_values(form, "justification")
    back = f"/referrals/{referral_id}"
    drop = [int(i) for i in form_list(form, "remove_items") if i.strip().isdigit()]
    try:
        ref = service.get_referral(session, principal, referral_id)
        is_order = ref.kind == "removal_order"
        reasons = [r for r in form_list(form, "reasons") if r in REASON_TEXT]
        service.edit(
            session, principal, referral_id,
            reasons=reasons if is_order else None,
            justification=values["justification"][:10_000] if is_order else None,
            emergency=form.get("emergency") == "1" if is_order else None,
            remove_items=drop,
        )  # fmt: skip
    except (Conflict, InvalidInput, Forbidden) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    return redirect(request, back, notice="Saved.")


@router.post("/referrals/{referral_id}/emergency", dependencies=[needs("referrals:write")])
def emergency_form(
    referral_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    """Escalate an order held by the 12-hour prior notice to an emergency order."""
    reason = form_values(form_data, "emergency_reason")["emergency_reason"][:2000]
    back = f"/referrals/{referral_id}"
    try:
        service.escalate_to_emergency(session, principal, referral_id, reason=reason)
    except (Conflict, InvalidInput, Forbidden) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    return redirect(request, back, notice="Now an emergency order: it can be sent at once.")


def _utc_field(value: str) -> dt.datetime | None:
    """A ``datetime-local`` form value, read as UTC (the form says so)."""
    if not value.strip():
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("the time of removal is not a date and time") from None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


@router.post("/referrals/{referral_id}/respond", dependencies=[needs("portal:write")])
def respond_many_form(
    referral_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    """The portal's Annex II for the selected items, with one time of removal."""
    raw = form_data
    form = form_values(raw, "removed_at")
    back = f"/referrals/{referral_id}"
    ids = [int(i) for i in form_list(raw, "item_ids") if i.strip().isdigit()][:1000]
    try:
        done = service.respond_many(
            session, principal, referral_id, ids, removed_at=_utc_field(form["removed_at"])
        )
    except (Conflict, InvalidInput) as exc:  # NotFound / Forbidden answer as such
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    words = f"Annex II (removed) recorded for {len(done.answered)} item(s)"
    if done.refused:
        why = "; ".join(f"item {i}: {d}" for i, d in done.refused.items())
        return redirect(request, back, notice=f"{words}; not recorded: {why}.", level="warning")
    return redirect(request, back, notice=f"{words}.")


@router.post(
    "/referrals/{referral_id}/items/{item_id}/respond", dependencies=[needs("portal:write")]
)
def respond_form(
    referral_id: IdPath,
    item_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    form = form_values(form_data, "response", "reason", "text", "removed_at")
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


def _batches_panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    """What waits on this user: orders to approve (a supervisor, four eyes: not their own),
    and their own batches still in draft."""
    approve: list[Any] = []
    if principal.role in (Role.SUPERVISOR, Role.ADMIN):
        pending, _ = service.list_referrals(session, principal, status="pending_approval", limit=50)
        approve = [r for r in pending if r.author_id != principal.user_id][:5]
    drafts, _ = service.list_referrals(session, principal, status="draft", limit=50)
    mine = [r for r in drafts if r.author_id == principal.user_id][:5]
    if not approve and not mine:
        return None
    return {"approve": approve, "drafts": mine}


register_panel(
    "referrals-batches",
    "Batches waiting on you",
    "referrals/_panel_batches.html",
    _batches_panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=15,
)
register_panel(
    "referrals-overdue",
    "Overdue removal orders",
    "referrals/_panel_notifications.html",
    _overdue_panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=20,
)


# --- batches from a selection, and sending an approved batch ---------------------------------

KIND_OF_FORM = {"tos": "tos", "order": "removal_order", "removal_order": "removal_order"}
NEW_FIELDS = {
    "reasons": ("reason", "art. 2(7)"),
    "justification": ("justification",),
    "item_ids": ("item", "no items"),
    "kind": ("kind",),
}


@router.post("/referrals/new", response_class=HTMLResponse, dependencies=[needs("referrals:write")])
async def new_batches(request: Request, principal: PagePrincipal, session: DbSession) -> Response:
    """One draft batch per platform from a selection of items (the queue posts here).

    Held, already-referred and unassessed items stay in their batch as *not sent*,
    with the reason; the notice says how many. A removal order also needs its
    Art. 2(7) reasons (the items' assessed categories by default) and a
    justification: when those are missing, this form comes back to ask for them.
    It can also be marked an emergency (TCO Art. 3(2)): sent without the 12-hour
    prior notice a platform otherwise gets before its first order.
    """
    form = await request.form()
    raw_ids = form_list(form, "item_ids")[:500]
    values = form_values(form, "kind", "justification")
    kind = KIND_OF_FORM.get(values["kind"], "")
    emergency = kind == "removal_order" and form.get("emergency") == "1"
    reasons = [r for r in form_list(form, "reasons") if r in REASON_TEXT]
    errors: dict[str, str] = {}
    ids = [int(i) for i in raw_ids if i.strip().isdigit()]
    if not ids or len(ids) != len(raw_ids):
        errors["item_ids"] = "Select the items to refer."
    if not kind:
        errors["kind"] = "Choose a ToS referral or a removal order."
    from_queue = "reasons_sent" not in form  # the queue's "Refer selected", not this form
    if kind == "removal_order" and not reasons and from_queue and ids:
        reasons = sorted({c for cs in service.categories_of(session, ids).values() for c in cs})
    # An order needs what only this form asks for: show it first, without errors (#13.6).
    ask_first = from_queue and kind == "removal_order" and not values["justification"].strip()
    if not errors and not ask_first:
        try:
            results = service.create_batches(
                session, principal, item_ids=ids, kind=kind, reasons=reasons,
                justification=values["justification"], emergency=emergency,
            )  # fmt: skip
        except (InvalidInput, NotFound) as exc:
            session.rollback()
            errors[error_field(exc.detail, NEW_FIELDS)] = exc.detail
        else:
            return _after_create(request, results)
    return render_page(
        request,
        "referrals/new.html",
        {
            "ids": ids,
            "kind": kind or "tos",
            "reasons": reasons,
            "justification": values["justification"],
            "emergency": emergency,
            "reason_options": sorted(REASON_TEXT.items()),
            "errors": errors,
        },
        title="New removal order" if kind == "removal_order" else "New referral",
        status_code=422 if errors else 200,
    )


def _after_create(request: Request, results: list[service.BatchResult]) -> Response:
    sent = sum(r.included for r in results)
    refused = [i for r in results for i in r.items if i.state != "included"]
    words = f"{sent} item(s) to send"
    if refused:
        why = sorted({i.state.replace("_", " ") for i in refused})
        words += f"; {len(refused)} not sent ({', '.join(why)}): see why beside each item"
    if len(results) == 1:
        ref = results[0].referral
        return redirect(
            request, f"/referrals/{ref.id}", notice=f"Draft {ref.reference} created: {words}.",
            level="warning" if refused else "success",
        )  # fmt: skip
    ids = ",".join(str(r.referral.id) for r in results)
    return redirect(
        request, f"/referrals?ids={ids}",
        notice=f"{len(results)} draft batches created, one per platform: {words}.",
        level="warning" if refused else "success",
    )  # fmt: skip


@router.post("/referrals/{referral_id}/deliver", dependencies=[needs("referrals:write")])
def deliver_form(
    referral_id: IdPath,
    request: Request,
    background: BackgroundTasks,
    principal: PagePrincipal,
    session: DbSession,
) -> RedirectResponse:
    """Send an approved batch now, in the background: capture its evidence first, look at
    its items once more, then one attempt through its channel (``sending.run_send`` calls
    ``delivery.send_now_with_evidence``, each step in its own transaction).

    The answer comes at once; the batch page shows "Sending…" and polls until the send has
    ended, then shows how (it used to wait ~9 s with no sign of life).
    """
    back = f"/referrals/{referral_id}"
    try:
        sending.request_send(session, principal, referral_id)
    except (Conflict, Forbidden, InvalidInput) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    # After the response, so after this request's commit: the send finds the request.
    background.add_task(
        sending.run_send,
        request.app.state.sessionmaker,
        request.app.state.settings,
        principal,
        referral_id,
    )
    return redirect(
        request,
        back,
        notice="Sending in the background: evidence first, then a last look at the items, "
        "then the platform. This page shows the result when it is done.",
    )


@router.post("/referrals/{referral_id}/host-copy", dependencies=[needs("referrals:write")])
def send_copy_form(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> RedirectResponse:
    """The "Send copy" action: the Art. 4(1) copy of a delivered order that was not sent (no contact
    point then) or gave up, to the contact point the registry has now; one e-mail, so the
    page waits for it (the channel's timeout is 30 s)."""
    from takedown.referrals import delivery

    back = f"/referrals/{referral_id}"
    service.own_referral(session, principal, referral_id)  # 404 before anything else
    session.rollback()  # send_copy works in its own transactions
    try:
        attempt = delivery.send_copy(
            request.app.state.sessionmaker,
            principal,
            referral_id,
            delivery.default_channels(request.app.state.settings),
        )
    except (Conflict, Forbidden, InvalidInput) as exc:
        return redirect(request, back, notice=exc.detail, level="error")
    if attempt.ok:
        return redirect(request, back, notice="Copy sent to the host state's authority.")
    return redirect(
        request, back, notice=f"The copy was not sent: {attempt.detail[:300]}", level="error"
    )


@router.get(
    "/referrals/{referral_id}/send-state",
    response_class=HTMLResponse,
    dependencies=[needs("referrals:read")],
)
def send_state_fragment(
    referral_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    """The polled "Sending…" line; once the send has ended, the page reloads (HX-Refresh)
    to show the batch's new state, its delivery and its attempts."""
    ref = service.own_referral(session, principal, referral_id)
    send = sending.send_state(session, ref.id)
    headers = {} if send.running else {"HX-Refresh": "true"}
    return render_fragment(
        request, "referrals/_send_state.html", {"ref": ref, "send": send}, headers=headers
    )
