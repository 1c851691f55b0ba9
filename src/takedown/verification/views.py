"""HTML pages of verification: removal statistics per platform, and one item's check timeline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from takedown.accounts.deps import DbSession
from takedown.accounts.models import Role
from takedown.kit.types import IdPath
from takedown.verification import repository, service
from takedown.web.deps import PagePrincipal
from takedown.web.nav import register_nav
from takedown.web.templating import render

router = APIRouter(include_in_schema=False)

register_nav(
    "Verification",
    "/verification",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=45,
    prefixes=("/verification/",),
)


@router.get("/verification", response_class=HTMLResponse)
def stats_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    by_platform: dict[str, list[int]] = {}
    for sched, item in repository.schedule_rows_visible(session, principal):
        by_platform.setdefault(item.platform, []).append(sched.item_id)
    rows = [
        (p, service.summarize(service.removal_times(session, ids)))
        for p, ids in sorted(by_platform.items())
    ]
    return render(request, "verification/stats.html", {"rows": rows}, title="Verification")


@router.get("/verification/items/{item_id}", response_class=HTMLResponse)
def timeline_page(
    item_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    item, sched, checks = service.item_timeline(session, principal, item_id)
    times = service.removal_times(session, [item.id])
    ttr = times[0].seconds if times else None
    return render(
        request,
        "verification/timeline.html",
        {
            "item": item,
            "sched": sched,
            "checks": checks,
            "ttr": ttr,
            "source": times[0].source if times else None,
        },
        title=f"Checks of item {item.id}",
    )
