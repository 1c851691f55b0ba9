"""JSON routes of referrals: batches, approval, documents, deliveries, the platform's answers.

Liaison users reach the same routes (their platform's delivered batches only,
404 for anything else), so a platform can automate its Annex II / III answers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts.deps import CurrentPrincipal, DbSession, needs
from takedown.kit.errors import NotFound
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.referrals import host_copy, render, service
from takedown.referrals.schemas import (
    AttemptOut,
    BatchIn,
    BatchItemOut,
    BatchOut,
    DeliveryOut,
    EmergencyIn,
    HostCopyOut,
    NotificationOut,
    ReferralDetail,
    ReferralEditIn,
    ReferralOut,
    RejectIn,
    RemovalStatsOut,
    ResponseIn,
    ResponseOut,
)
from takedown.referrals.stats import referral_stats

router = APIRouter(prefix="/api/v1", tags=["referrals"])
Writer = CurrentPrincipal


@router.post(
    "/referrals",
    response_model=list[BatchOut],
    status_code=201,
    dependencies=[needs("referrals:write")],
)
def create_referrals(body: BatchIn, principal: Writer, session: DbSession) -> list[BatchOut]:
    """Build draft batches, one per platform; held and duplicate items are listed, not sent."""
    results = service.create_batches(
        session,
        principal,
        item_ids=body.item_ids,
        kind=body.kind,
        reasons=body.reasons,
        justification=body.justification,
        emergency=body.emergency,
        disclosure_delayed=body.disclosure_delayed,
        disclosure_delay_weeks=body.disclosure_delay_weeks,
        channel=body.channel,
    )
    return [
        BatchOut(
            id=r.referral.id,
            reference=r.referral.reference,
            platform=r.referral.platform,
            kind=r.referral.kind,
            status=r.referral.status,
            included=r.included,
            items=[
                BatchItemOut(item_id=i.item_id, url=i.url, state=i.state, detail=i.detail)
                for i in r.items
            ],
        )
        for r in results
    ]


@router.get("/referrals", response_model=Page[ReferralOut], dependencies=[needs("referrals:read")])
def list_referrals(
    principal: CurrentPrincipal,
    session: DbSession,
    status: Annotated[str | None, Query(max_length=24)] = None,
    platform: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ReferralOut]:
    rows, total = service.list_referrals(
        session, principal, status=status, platform=platform, kind=kind, limit=limit, offset=offset
    )
    return Page(
        items=[ReferralOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralDetail,
    dependencies=[needs("referrals:read")],
)
def get_referral(
    referral_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> ReferralDetail:
    ref = service.get_referral(session, principal, referral_id)
    out = ReferralDetail.model_validate(render.as_json(session, ref))
    if not principal.is_liaison:
        out.host_copy = _host_copy_out(host_copy.state(session, ref))
    return out


def _host_copy_out(st: host_copy.HostCopyState) -> HostCopyOut:
    return HostCopyOut(
        status=st.status,
        host_state=st.host_state,
        authority=st.authority,
        recipient=st.recipient,
        sent_at=st.sent_at,
        attempts=st.attempts,
        next_attempt_at=st.next_attempt_at,
        reason=st.reason,
        can_send=st.can_send,
        message=st.message,
    )


@router.post(
    "/referrals/{referral_id}/host-copy",
    response_model=HostCopyOut,
    dependencies=[needs("referrals:write")],
)
def send_host_copy(
    referral_id: IdPath, request: Request, principal: Writer, session: DbSession
) -> HostCopyOut:
    """Send a delivered order's Art. 4(1) copy that was not sent (no contact point then) or
    gave up, to the contact point the registry has now (409 with the reason otherwise);
    answers with the copy's state after the attempt."""
    from takedown.referrals import delivery

    service.own_referral(session, principal, referral_id)
    session.rollback()  # send_copy works in its own transactions
    delivery.send_copy(
        request.app.state.sessionmaker,
        principal,
        referral_id,
        delivery.default_channels(request.app.state.settings),
    )
    ref = service.get_referral(session, principal, referral_id)
    return _host_copy_out(host_copy.state(session, ref))


@router.get(
    "/referrals/{referral_id}/document.html",
    response_class=HTMLResponse,
    dependencies=[needs("referrals:read")],
)
def referral_html(referral_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    ref = service.get_referral(session, principal, referral_id)
    return HTMLResponse(
        render.as_html(session, ref), headers={"Content-Security-Policy": render.DOCUMENT_CSP}
    )


@router.get(
    "/referrals/{referral_id}/document.pdf",
    response_class=Response,
    dependencies=[needs("referrals:read")],
)
def referral_pdf(referral_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    ref = service.get_referral(session, principal, referral_id)
    return Response(
        render.as_pdf(session, ref),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{ref.reference}.pdf"'},
    )


@router.get(
    "/referrals/{referral_id}/export.csv",
    response_class=Response,
    dependencies=[needs("referrals:read")],
)
def referral_csv(referral_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> Response:
    ref = service.get_referral(session, principal, referral_id)
    return Response(
        render.as_csv(session, ref),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{ref.reference}.csv"'},
    )


@router.post(
    "/referrals/{referral_id}/submit",
    response_model=ReferralOut,
    dependencies=[needs("referrals:write")],
)
def submit(referral_id: IdPath, principal: Writer, session: DbSession) -> ReferralOut:
    return ReferralOut.model_validate(service.submit(session, principal, referral_id))


@router.post(
    "/referrals/{referral_id}/approve",
    response_model=ReferralOut,
    dependencies=[needs("referrals:write")],
)
def approve(referral_id: IdPath, principal: Writer, session: DbSession) -> ReferralOut:
    """Supervisor approval of a removal order; the approver must not be its author."""
    return ReferralOut.model_validate(service.approve(session, principal, referral_id))


@router.post(
    "/referrals/{referral_id}/reject",
    response_model=ReferralOut,
    dependencies=[needs("referrals:write")],
)
def reject(
    referral_id: IdPath, body: RejectIn, principal: Writer, session: DbSession
) -> ReferralOut:
    return ReferralOut.model_validate(
        service.reject(session, principal, referral_id, reason=body.reason)
    )


@router.patch(
    "/referrals/{referral_id}", response_model=ReferralOut, dependencies=[needs("referrals:write")]
)
def edit(
    referral_id: IdPath, body: ReferralEditIn, principal: Writer, session: DbSession
) -> ReferralOut:
    """Change a draft or an order awaiting approval (its author or a supervisor); whoever
    edits an order cannot approve it."""
    return ReferralOut.model_validate(
        service.edit(
            session,
            principal,
            referral_id,
            reasons=body.reasons,
            justification=body.justification,
            emergency=body.emergency,
            remove_items=body.remove_items,
        )
    )


@router.post(
    "/referrals/{referral_id}/emergency",
    response_model=ReferralOut,
    dependencies=[needs("referrals:write")],
)
def emergency(
    referral_id: IdPath, body: EmergencyIn, principal: Writer, session: DbSession
) -> ReferralOut:
    """A supervisor escalates an order held by the 12-hour prior notice to an emergency
    order (TCO Art. 3(2)), so it may be sent at once."""
    return ReferralOut.model_validate(
        service.escalate_to_emergency(session, principal, referral_id, reason=body.reason)
    )


@router.post(
    "/referrals/{referral_id}/cancel",
    response_model=ReferralOut,
    dependencies=[needs("referrals:write")],
)
def cancel(referral_id: IdPath, principal: Writer, session: DbSession) -> ReferralOut:
    return ReferralOut.model_validate(service.cancel(session, principal, referral_id))


@router.get(
    "/referrals/{referral_id}/delivery",
    response_model=DeliveryOut,
    dependencies=[needs("referrals:read")],
)
def delivery_status(
    referral_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> DeliveryOut:
    ref = service.get_referral(session, principal, referral_id)
    if principal.is_liaison:
        raise NotFound(f"referral {referral_id} has no delivery record for you")
    record = service.delivery_record(session, principal, referral_id)
    if record is None:
        raise NotFound(f"referral {ref.reference} has not been queued for delivery")
    d = record.delivery
    return DeliveryOut(
        channel=d.channel,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        ack_reference=d.ack_reference,
        acknowledged_at=d.acknowledged_at,
        history=[AttemptOut.model_validate(a) for a in record.attempts],
    )


@router.post(
    "/referrals/{referral_id}/items/{item_id}/response",
    response_model=ResponseOut,
    tags=["portal"],
    dependencies=[needs("portal:write")],
)
def respond(
    referral_id: IdPath,
    item_id: IdPath,
    body: ResponseIn,
    principal: Writer,
    session: DbSession,
) -> ResponseOut:
    """The platform answers: Annex II (removed) or Annex III (cannot comply, with the reason)."""
    ri = service.respond(
        session,
        principal,
        referral_id,
        item_id,
        response=body.response,
        reason=body.reason,
        text=body.text,
        removed_at=body.removed_at,
    )
    from takedown.items.models import Item

    item = session.get(Item, item_id)
    assert item is not None
    return ResponseOut(
        item_id=ri.item_id,
        response=ri.response or "",
        reason=ri.response_reason,
        responded_at=ri.responded_at,
        item_status=item.status,
    )


@router.get(
    "/referrals/{referral_id}/stats",
    response_model=RemovalStatsOut,
    dependencies=[needs("referrals:read")],
)
def stats(referral_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> RemovalStatsOut:
    """Time to removal per item (from receipt), and the share removed within 1 hour."""
    ref = service.get_referral(session, principal, referral_id)
    return referral_stats(session, ref)


@router.get(
    "/notifications", response_model=list[NotificationOut], dependencies=[needs("referrals:read")]
)
def notifications(principal: CurrentPrincipal, session: DbSession) -> list[NotificationOut]:
    return [NotificationOut.model_validate(n) for n in service.notifications(session, principal)]


@router.post(
    "/notifications/{notification_id}/read", status_code=204, dependencies=[needs("referrals:read")]
)
def notification_read(
    notification_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> Response:
    service.mark_read(session, principal, notification_id)
    return Response(status_code=204)
