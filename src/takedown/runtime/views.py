"""The admin page of background jobs: the dead-letter queue (retry one or all) and the
outbox's counts. The instance operator's only: a failed job's arguments and error may name
any agency's rows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, Response

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.kit.errors import TakedownError
from takedown.runtime import deadletters
from takedown.runtime import repository as repo
from takedown.web.deps import OperatorPage
from takedown.web.nav import register_nav
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

register_nav(
    "Background jobs",
    "/admin/jobs",
    roles=(Role.ADMIN,),
    section="admin",
    order=60,
    operator_only=True,
)


@router.get("/admin/jobs", response_class=HTMLResponse, dependencies=[needs("admin")])
def jobs_page(request: Request, principal: OperatorPage, session: DbSession) -> HTMLResponse:
    return render(
        request,
        "runtime/jobs.html",
        {
            "failed": deadletters.failed(session),
            "counts": repo.outbox_counts(session),
            "max_attempts": request.app.state.settings.job_max_attempts,
        },
        title="Background jobs",
    )


@router.post("/admin/jobs/retry", response_class=HTMLResponse, dependencies=[needs("admin")])
def retry_all(request: Request, principal: OperatorPage, session: DbSession) -> Response:
    ids = deadletters.retry_all(session)
    return redirect(request, "/admin/jobs", notice=f"{len(ids)} failed job(s) queued again.")


@router.post(
    "/admin/jobs/{dead_id}/retry", response_class=HTMLResponse, dependencies=[needs("admin")]
)
def retry_one(
    dead_id: Annotated[int, Path(ge=1)],
    request: Request,
    principal: OperatorPage,
    session: DbSession,
) -> Response:
    try:
        deadletters.retry(session, dead_id)
    except TakedownError as exc:
        session.rollback()
        return redirect(request, "/admin/jobs", notice=exc.detail, level="error")
    return redirect(request, "/admin/jobs", notice=f"Failed job {dead_id} queued again.")
