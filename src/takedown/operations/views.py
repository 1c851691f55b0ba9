"""HTML pages of operations: the list, the live dashboard, the report page, PDF and CSV.

The dashboard refreshes its figures with htmx polling (``hx-trigger="every 15s"``
on the live block; no inline script, so the CSP holds). The charts are the
server-side SVG of ``charts``: the same markup as in the report and its PDF.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from takedown.accounts.deps import DbSession
from takedown.kit.clock import SystemClock
from takedown.kit.errors import NotFound
from takedown.kit.types import IdPath
from takedown.operations import metrics, report, service
from takedown.web.deps import PagePrincipal
from takedown.web.nav import register_nav
from takedown.web.templating import TEMPLATES_DIR, is_htmx, render, render_fragment

router = APIRouter(include_in_schema=False)

register_nav("Operations", "/operations", order=40, prefixes=("/operations",))

REFRESH_SECONDS = 15


@router.get("/operations/static/report.css")
def report_css(principal: PagePrincipal) -> Response:
    css = (TEMPLATES_DIR / "operations" / "report.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css")


@router.get("/operations", response_class=HTMLResponse)
def operations_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    rows, total = service.list_operations(session, principal, limit=200)
    return render(
        request, "operations/list.html", {"operations": rows, "total": total}, title="Operations"
    )


def _live_context(
    session: DbSession, principal: PagePrincipal, operation_id: int
) -> dict[str, Any]:
    op = service.get_operation(session, principal, operation_id)
    m = metrics.compute(session, op, SystemClock().now())
    return {
        "op": op,
        "md": m.data,
        "charts": report.make_charts(m, final=False),
        "held": service.held_items(session, principal, operation_id),
        "refresh": REFRESH_SECONDS,
        "cell": report.cell,
        "role": service.role_in(session, principal, op),
    }


@router.get("/operations/{operation_id}", response_class=HTMLResponse)
def dashboard(
    request: Request, operation_id: IdPath, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    ctx = _live_context(session, principal, operation_id)
    return render(request, "operations/dashboard.html", ctx, title=ctx["op"].name)


@router.get("/operations/{operation_id}/live", response_class=HTMLResponse)
def live(
    request: Request, operation_id: IdPath, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    ctx = _live_context(session, principal, operation_id)
    if is_htmx(request):
        return render_fragment(request, "operations/_live.html", ctx)
    return render(request, "operations/dashboard.html", ctx, title=ctx["op"].name)


@router.get("/operations/{operation_id}/report", response_class=HTMLResponse)
def report_page(
    request: Request,
    operation_id: IdPath,
    principal: PagePrincipal,
    session: DbSession,
    final: bool = False,
) -> HTMLResponse:
    rep = report.build(session, principal, operation_id, final=final)
    body = report.render_html(rep, standalone=False)
    return render(
        request,
        "operations/report_page.html",
        {"report": rep, "body": body, "final": final, "op_id": operation_id},
        title=rep.title,
    )


@router.get("/operations/{operation_id}/report.pdf")
async def report_pdf(
    operation_id: IdPath, principal: PagePrincipal, session: DbSession, final: bool = False
) -> Response:
    rep = report.build(session, principal, operation_id, final=final)
    pdf = await run_in_threadpool(report.render_pdf, report.render_html(rep))
    name = f"operation-{operation_id}-{rep.kind}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/operations/{operation_id}/export/{table}.csv")
def export_csv(
    operation_id: IdPath,
    table: str,
    principal: PagePrincipal,
    session: DbSession,
    final: bool = False,
) -> Response:
    rep = report.build(session, principal, operation_id, final=final)
    if table == "figures":
        text = report.figures_csv(rep)
    else:
        found = next((t for t in rep.tables if t.key == table), None)
        if found is None:
            raise NotFound(f"no table {table!r}")
        text = report.table_csv(found)
    return PlainTextResponse(
        text,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="operation-{operation_id}-{table}.csv"'
        },
    )
