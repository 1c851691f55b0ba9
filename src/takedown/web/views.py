"""The shell's own pages: the home page with the panels capabilities register, and the
gallery of shared UI components."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from takedown.accounts.deps import DbSession, needs
from takedown.web.deps import AdminPage, PagePrincipal
from takedown.web.nav import panels_for, register_nav
from takedown.web.pagination import Pager
from takedown.web.progress import ProgressState, progress_fragment
from takedown.web.templating import render

router = APIRouter(include_in_schema=False)

register_nav("Home", "/", order=0)

FAVICON = "/static/favicon.svg"


@router.get("/favicon.ico")
def favicon() -> RedirectResponse:
    """Browsers ask for /favicon.ico on their own (feed readers, bookmarks, pages without our
    ``<link rel="icon">``); send them to the SVG. Public, as /static is: it shows nothing."""
    return RedirectResponse(FAVICON, status_code=308)


@router.get("/", response_class=HTMLResponse, dependencies=[needs("items:read")])
def home(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    panels: list[dict[str, Any]] = []
    for panel in panels_for(principal):
        ctx = panel.context(session, principal)
        if ctx is not None:
            panels.append(
                {"key": panel.key, "title": panel.title, "template": panel.template, "ctx": ctx}
            )
    return render(request, "web/home.html", {"panels": panels}, title="Home")


# --- the component gallery: every shared macro on one page (admins; not in the navigation) ----


@router.get("/admin/ui", response_class=HTMLResponse, dependencies=[needs("admin")])
def components(request: Request, principal: AdminPage) -> HTMLResponse:
    """What other capabilities' pages are made of, rendered live (see docs/web.md)."""
    rows = [f"Example row {n}" for n in range(1, 8)]
    pager = Pager(page=3, per_page=25, total=230, path="/admin/ui")
    errors = {"handle": "A handle has at most 64 characters.", "": "Nothing was saved."}
    started = time.time()
    return render(
        request,
        "web/components.html",
        {
            "rows": rows,
            "pager": pager,
            "errors": errors,
            "progress": _demo_progress(started),
        },
        title="UI components",
        tlp="AMBER",
    )


DEMO_STEPS = 8


def _demo_progress(started: float) -> ProgressState:
    done = min(DEMO_STEPS, int((time.time() - started) * 4))
    return ProgressState(
        id="demo-progress",
        url=f"/admin/ui/progress?started={started:.3f}",
        label="A demonstration job",
        done=done,
        total=DEMO_STEPS,
        finished=done >= DEMO_STEPS,
        detail=f"{done} of {DEMO_STEPS} steps",
    )


@router.get("/admin/ui/progress", response_class=HTMLResponse, dependencies=[needs("admin")])
def components_progress(
    request: Request, principal: AdminPage, started: float = 0.0
) -> HTMLResponse:
    """The progress component's polling endpoint, for the gallery's demonstration job."""
    return progress_fragment(request, _demo_progress(started or time.time()))
