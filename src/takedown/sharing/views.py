"""The sharing page: partners, collections, what was shared with whom (with its TLP),
incoming objects awaiting review, and deconfliction (questions asked, follow-ups,
questions answered: counts only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.sharing import collections, partners, review, shares
from takedown.sharing import deconfliction_repository as drepo
from takedown.sharing import objects_repository as objects
from takedown.web.deps import PagePrincipal
from takedown.web.nav import register_nav
from takedown.web.templating import render

router = APIRouter(include_in_schema=False)

register_nav(
    "Sharing", "/sharing", roles=(Role.ANALYST, Role.SUPERVISOR), order=70, prefixes=("/sharing/",)
)


@router.get("/sharing", response_class=HTMLResponse, dependencies=[needs("sharing:read")])
def sharing_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    agency = None if principal.via == "system" else principal.agency_id
    colls = collections.collections_for(session, principal)
    counts = objects.collection_counts(session, [c.id for c, _ in colls])
    coll_rows = [
        {
            "coll": c,
            "access": a,
            "ceiling": collections.ceiling(session, c).value,
            "objects": counts.get(c.id, 0),
        }
        for c, a in colls
    ]
    shared, _ = shares.shared_with_whom(session, principal, limit=50)
    pending, pending_total = review.list_inbox(session, principal, limit=50)
    asked, _ = drepo.requests_of(session, agency, limit=20, offset=0)
    followups, _ = drepo.followups_of(session, agency, status="open", limit=50, offset=0)
    answered, answered_total = drepo.answers(session, limit=20, offset=0)
    names = {p.id: p.name for p in partners.list_partners(session, principal)}
    return render(
        request,
        "sharing/overview.html",
        {
            "partners": partners.list_partners(session, principal),
            "collections": coll_rows,
            "shared": shared,
            "pending": pending,
            "pending_total": pending_total,
            "asked": asked,
            "followups": followups,
            "answered": answered if principal.is_admin else [],
            "answered_total": answered_total,
            "partner_names": names,
        },
        title="Sharing",
    )
