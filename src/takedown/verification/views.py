"""HTML pages of verification: removal statistics per platform, one item's check timeline,
and checks on demand ("Check now" on an item, "Verify now" on a referral or an operation)
with their progress.

The "Check now" block is one include, ``verification/_check_now.html``, which the item,
referral and operation pages each pull in with a ``{% with %}``: the pages stay free of
this capability's forms, and their owners merge one line.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Conflict
from takedown.kit.types import IdPath
from takedown.verification import repository, requests, service
from takedown.verification.models import CheckRequest
from takedown.verification.tasks import enqueue_check_request, record_check_request
from takedown.web.deps import PagePrincipal, require_page_role
from takedown.web.nav import register_nav
from takedown.web.progress import ProgressState, progress_fragment
from takedown.web.templating import background_jobs, is_htmx, redirect, render

router = APIRouter(include_in_schema=False)

register_nav(
    "Verification",
    "/verification",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=45,
    prefixes=("/verification/",),
)


@router.get("/verification", response_class=HTMLResponse, dependencies=[needs("verification:read")])
def stats_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    by_platform: dict[str, list[int]] = {}
    for sched, item in repository.schedule_rows_visible(session, principal):
        by_platform.setdefault(item.platform, []).append(sched.item_id)
    rows = [
        (p, service.summarize(service.removal_times(session, ids)))
        for p, ids in sorted(by_platform.items())
    ]
    return render(request, "verification/stats.html", {"rows": rows}, title="Verification")


@router.get(
    "/verification/items/{item_id}",
    response_class=HTMLResponse,
    dependencies=[needs("verification:read")],
)
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


# --- checks on demand -----------------------------------------------------------------------

AnalystPage = Annotated[Principal, Depends(require_page_role(Role.ANALYST, Role.SUPERVISOR))]
#: Where a scope lives (the page the button is on), and where its result is best seen.
PAGE_OF = {"item": "/items/{}", "referral": "/referrals/{}", "operation": "/operations/{}"}
RESULT_OF = {
    "item": "/verification/items/{}",
    "referral": "/referrals/{}",
    "operation": "/operations/{}",
}


def _confirm_seconds(request: Request) -> float:
    return float(request.app.state.settings.verification_confirm_seconds)


def confirm_gap(seconds: float) -> str:
    """The confirmation gap as the pages say it (``Settings.verification_confirm_seconds``):
    "5 minutes" by default, "5 seconds" where a deployment or a test shortened it."""
    if seconds >= 60 and seconds % 60 == 0:
        n, unit = int(seconds // 60), "minute"
    else:
        n, unit = round(seconds), "second"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _detail(row: CheckRequest, p: requests.Progress, gap: str) -> str:
    parts = []
    if p.outcomes:
        parts.append(
            "Latest outcome: " + ", ".join(f"{o} {n}" for o, n in sorted(p.outcomes.items())) + "."
        )
    if p.running and p.running_until is not None:
        until = p.running_until.strftime("%H:%M:%S UTC")
        parts.append(
            f"{p.running} being checked now: a checker holds them (until {until}, renewed "
            "while it works) and saves results every few seconds."
        )
    if p.queued:
        parts.append(
            f"{p.queued} waiting for a checker to take them: the background jobs start "
            "within a minute; if none does, no job runner is up (embedded: takedown serve; "
            "distributed: takedown worker)."
        )
    if p.held and p.held_until is not None:
        until = p.held_until.strftime("%Y-%m-%d %H:%M:%S UTC")
        parts.append(f"{p.held} waiting: the platform asked us not to come back before {until}.")
    if p.outcomes.get("removed"):
        parts.append(f"A removal counts once a second check, {gap} on, confirms it.")
    if row.skipped:
        parts.append(f"{row.skipped} item(s) not under verification were not checked.")
    return " ".join(parts)


def progress_state(session: Session, row: CheckRequest, confirm_seconds: float) -> ProgressState:
    p = requests.progress(session, row)
    return ProgressState(
        id=f"check-request-{row.id}",
        url=f"/verification/requests/{row.id}/progress",
        label=f"Checks of {row.label}",
        done=p.checked,
        total=p.total,
        finished=p.finished,
        detail=_detail(row, p, confirm_gap(confirm_seconds)),
        result_url=RESULT_OF[row.scope].format(row.scope_id),
        every=2,
    )


def _check_now(
    request: Request,
    background: BackgroundTasks,
    session: Session,
    principal: Principal,
    scope: str,
    scope_id: int,
) -> Response:
    back = PAGE_OF[scope].format(scope_id)
    try:
        if not background_jobs(request):
            raise Conflict(
                "checks on demand need background jobs, and this server runs none "
                "(the demo's dashboard): run takedown serve, or workers, to check now"
            )
        row = requests.request_checks(session, principal, scope, scope_id)
    except Conflict as exc:
        if is_htmx(request):
            raise  # the error answer retargets itself to the notice area
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="warning")
    # Recorded with the request (the outbox); handed on after the response, so after the
    # commit: the job must find the request.
    record_check_request(session, row.id)
    background.add_task(
        enqueue_check_request,
        getattr(request.app.state, "dispatcher", None),
        row.id,
        getattr(request.app.state, "runtime", None),
    )
    if is_htmx(request):
        return progress_fragment(
            request,
            progress_state(session, row, _confirm_seconds(request)),
        )
    return redirect(
        request, f"/verification/requests/{row.id}", notice=f"Checks of {row.label} requested."
    )


@router.post(
    "/verification/items/{item_id}/check",
    response_model=None,
    dependencies=[needs("verification:write")],
)
def check_item(
    item_id: IdPath,
    request: Request,
    background: BackgroundTasks,
    principal: AnalystPage,
    session: DbSession,
) -> Response:
    return _check_now(request, background, session, principal, "item", item_id)


@router.post(
    "/verification/referrals/{referral_id}/check",
    response_model=None,
    dependencies=[needs("verification:write")],
)
def check_referral(
    referral_id: IdPath,
    request: Request,
    background: BackgroundTasks,
    principal: AnalystPage,
    session: DbSession,
) -> Response:
    return _check_now(request, background, session, principal, "referral", referral_id)


@router.post(
    "/verification/operations/{operation_id}/check",
    response_model=None,
    dependencies=[needs("verification:write")],
)
def check_operation(
    operation_id: IdPath,
    request: Request,
    background: BackgroundTasks,
    principal: AnalystPage,
    session: DbSession,
) -> Response:
    return _check_now(request, background, session, principal, "operation", operation_id)


@router.get(
    "/verification/requests/{request_id}",
    response_class=HTMLResponse,
    dependencies=[needs("verification:read")],
)
def request_page(
    request_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> HTMLResponse:
    row = requests.get_request(session, principal, request_id)
    return render(
        request,
        "verification/request.html",
        {
            "row": row,
            "state": progress_state(session, row, _confirm_seconds(request)),
            "page": PAGE_OF[row.scope].format(row.scope_id),
            "confirm_gap": confirm_gap(_confirm_seconds(request)),
        },
        title=f"Check request {row.id}",
    )


@router.get(
    "/verification/requests/{request_id}/progress",
    response_class=HTMLResponse,
    dependencies=[needs("verification:read")],
)
def request_progress(
    request_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> HTMLResponse:
    row = requests.get_request(session, principal, request_id)
    return progress_fragment(
        request,
        progress_state(session, row, _confirm_seconds(request)),
    )
