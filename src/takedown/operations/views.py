"""HTML pages of operations: the list, creating one, the live dashboard (with the lead's
management forms: participants, status, items by query), the report page, PDF and CSV.

The dashboard refreshes its figures with htmx polling (``hx-trigger="every 15s"``
on the live block; no inline script, so the CSP holds). The charts are the
server-side SVG of ``charts``: the same markup as in the report and its PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.clock import SystemClock
from takedown.kit.errors import Conflict, InvalidInput, NotFound
from takedown.kit.types import IdPath
from takedown.operations import figures, metrics, report, service
from takedown.operations.models import OperationKind, OperationStatus, ParticipantRole
from takedown.web.deps import FormErrors, PagePrincipal, SupervisorPage, error_field
from takedown.web.nav import register_nav
from takedown.web.templating import TEMPLATES_DIR, is_htmx, redirect, render, render_fragment

router = APIRouter(include_in_schema=False)

# Liaisons (platform users) take part in no operation: no link for them (admins see all).
register_nav(
    "Operations",
    "/operations",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=40,
    prefixes=("/operations",),
)

REFRESH_SECONDS = 15


@router.get("/operations/static/report.css", dependencies=[needs("operations:read")])
def report_css(principal: PagePrincipal) -> Response:
    css = (TEMPLATES_DIR / "operations" / "report.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css")


@router.get("/operations", response_class=HTMLResponse, dependencies=[needs("operations:read")])
def operations_page(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    rows, total = service.list_operations(session, principal, limit=200)
    return render(
        request,
        "operations/list.html",
        {"operations": rows, "total": total, "may_create": _may_create(principal)},
        title="Operations",
    )


# --- create -----------------------------------------------------------------------------------

KINDS = [
    (OperationKind.ACTION_DAY.value, "Action day (a few days, many agencies)"),
    (OperationKind.CAMPAIGN.value, "Standing campaign (between action days)"),
]
TARGET_FIELDS = ("groups", "outlets", "platforms")
CREATE_FIELDS = {
    "name": ("name",),
    "ends_at": ("end after", "time zone"),
    "kind": ("kind",),
    "groups": ("target groups",),
    "outlets": ("target outlets",),
    "platforms": ("target platforms",),
}
MAX_TARGETS = 100


def _may_create(principal: Principal) -> bool:
    """What ``service.create_operation`` allows: a supervisor (or admin) of an agency."""
    return principal.is_supervisor and principal.agency_id > 0 and not principal.is_liaison


def _minute(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")


def _parse_time(raw: str) -> dt.datetime:
    """A ``datetime-local`` value (or ISO 8601), read as UTC unless it names a zone."""
    value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _split(raw: str) -> list[str]:
    """Entries one per line or separated by commas."""
    return [v.strip() for line in raw.splitlines() for v in line.split(",") if v.strip()]


def _new_page(
    request: Request,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    start = SystemClock().now().replace(second=0, microsecond=0)
    return render(
        request,
        "operations/new.html",
        {
            "kinds": KINDS,
            "values": values
            or {
                "name": "",
                "kind": OperationKind.ACTION_DAY.value,
                "starts_at": _minute(start),
                "ends_at": "",
                "groups": "",
                "outlets": "",
                "platforms": "",
                "notes": "",
            },
            "errors": errors or {},
        },
        title="New operation",
        status_code=status_code,
    )


@router.get("/operations/new", response_class=HTMLResponse, dependencies=[needs("operations:read")])
def new_operation(request: Request, principal: SupervisorPage) -> HTMLResponse:
    return _new_page(request)


@router.post(
    "/operations/new", response_class=HTMLResponse, dependencies=[needs("operations:write")]
)
def create_operation(
    request: Request,
    principal: SupervisorPage,
    session: DbSession,
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=32)] = "",
    starts_at: Annotated[str, Form(max_length=64)] = "",
    ends_at: Annotated[str, Form(max_length=64)] = "",
    groups: Annotated[str, Form(max_length=20_000)] = "",
    outlets: Annotated[str, Form(max_length=20_000)] = "",
    platforms: Annotated[str, Form(max_length=20_000)] = "",
    notes: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {
        "name": name.strip(),
        "kind": kind,
        "starts_at": starts_at.strip(),
        "ends_at": ends_at.strip(),
        "groups": groups,
        "outlets": outlets,
        "platforms": platforms,
        "notes": notes,
    }
    errors: FormErrors = {}
    if not values["name"]:
        errors["name"] = "Enter the operation's name."
    elif len(values["name"]) > 200:
        errors["name"] = "The name can have at most 200 characters."
    if kind not in {k for k, _ in KINDS}:
        errors["kind"] = "Choose the kind of operation."
    start = end = None
    if not values["starts_at"]:
        errors["starts_at"] = "Enter when the operation starts."
    else:
        try:
            start = _parse_time(values["starts_at"])
        except ValueError:
            errors["starts_at"] = "Enter a date and time, e.g. 2026-11-21 06:00 (UTC)."
    if values["ends_at"]:
        try:
            end = _parse_time(values["ends_at"])
        except ValueError:
            errors["ends_at"] = "Enter a date and time, e.g. 2026-11-23 18:00 (UTC), or nothing."
        else:
            if start is not None and end <= start:
                errors["ends_at"] = "The operation must end after it starts."
    targets: dict[str, Sequence[str]] = {key: _split(values[key]) for key in TARGET_FIELDS}
    for key, entries in targets.items():
        if len(entries) > MAX_TARGETS:
            errors[key] = f"At most {MAX_TARGETS} entries."
        elif any(len(e) > 200 for e in entries):
            errors[key] = "Each entry can have at most 200 characters."
    if not errors and start is not None:
        try:
            op = service.create_operation(
                session,
                principal,
                name=values["name"],
                kind=kind,
                starts_at=start,
                ends_at=end,
                targets=targets,
                notes=notes,
            )
        except InvalidInput as exc:
            errors[error_field(exc.detail, CREATE_FIELDS)] = exc.detail
        else:
            return redirect(
                request,
                f"/operations/{op.id}",
                notice=f"Operation “{op.name}” created (planned). Add participants, then start it.",
            )
    return _new_page(request, values, errors, status_code=422)


def _live_context(session: DbSession, principal: Principal, operation_id: int) -> dict[str, Any]:
    op = service.get_operation(session, principal, operation_id)
    m = metrics.compute(session, op, SystemClock().now())
    return {
        "op": op,
        "md": m.data,
        "charts": report.make_charts(m, final=False),
        "held": service.held_items(session, principal, operation_id),
        "refresh": REFRESH_SECONDS,
        "cell": report.cell,
        "cards": figures.CARDS,
        "role": service.role_in(session, principal, op),
    }


# --- the dashboard and its management forms ---------------------------------------------------

ROLES = [
    (ParticipantRole.PARTICIPANT.value, "Participant (contributes items)"),
    (ParticipantRole.OBSERVER.value, "Observer (sees the set and the figures)"),
]
STATUS_ACTIONS = {
    OperationStatus.RUNNING: "Start the operation (running)",
    OperationStatus.CLOSED: "Close the operation",
}
ITEM_STATUSES = [
    ("new", "new"),
    ("assessed", "assessed"),
    ("referred", "referred"),
    ("still_online", "still online"),
    ("restricted", "restricted"),
    ("reappeared", "reappeared"),
    ("removed", "removed"),
    ("dismissed", "dismissed"),
]
QUERY_FIELDS = {"q_status": ("not an item status",)}
EMPTY_VALUES = {
    "agency_id": "",
    "role": ParticipantRole.PARTICIPANT.value,
    "q_platform": "",
    "q_kind": "",
    "q_url": "",
    "q_label": "",
}


def _dashboard(
    request: Request,
    session: DbSession,
    principal: Principal,
    operation_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx = _live_context(session, principal, operation_id)
    op = ctx["op"]
    nxt = service.NEXT_STATUS.get(OperationStatus(op.status))
    ctx.update(
        {
            "participants": service.participants(session, principal, op.id),
            "may_manage": service.may_manage(session, principal, op),
            "may_contribute": service.may_contribute(session, principal, op),
            "candidates": [
                (str(a.id), f"{a.name} ({a.country})")
                for a in service.participant_candidates(session, principal, op)
            ],
            "roles": ROLES,
            "next_status": (nxt.value, STATUS_ACTIONS[nxt]) if nxt else None,
            "item_statuses": ITEM_STATUSES,
            # Sections other capabilities add (resurgence): their charts show here too.
            "extra_sections": [
                sec
                for build in report.report_sections
                if (sec := build(session, op.id, SystemClock().now())) is not None
            ],
            "values": {**EMPTY_VALUES, "q_status": [], **(values or {})},
            "errors": errors or {},
        }
    )
    return render(request, "operations/dashboard.html", ctx, title=op.name, status_code=status_code)


@router.get(
    "/operations/{operation_id}",
    response_class=HTMLResponse,
    dependencies=[needs("operations:read")],
)
def dashboard(
    request: Request, operation_id: IdPath, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    return _dashboard(request, session, principal, operation_id)


@router.post(
    "/operations/{operation_id}/participants",
    response_class=HTMLResponse,
    dependencies=[needs("operations:write")],
)
def add_participant(
    request: Request,
    operation_id: IdPath,
    principal: PagePrincipal,
    session: DbSession,
    agency_id: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    op = service.get_operation(session, principal, operation_id)  # NotFound for outsiders
    values = {"agency_id": agency_id, "role": role}
    errors: FormErrors = {}
    if not agency_id.isdigit():
        errors["agency_id"] = "Choose an agency from the list."
    if role not in {r for r, _ in ROLES}:
        errors["role"] = "Choose participant or observer."
    if not errors:
        try:
            p = service.add_participant(session, principal, op.id, int(agency_id), role)
        except NotFound:
            errors["agency_id"] = "Choose an agency from the list."
        except (InvalidInput, Conflict) as exc:
            errors["agency_id"] = exc.detail
        else:
            name = next((a.name for q, a in service.participants(session, principal, op.id)
                         if q.id == p.id), "The agency")  # fmt: skip
            return redirect(
                request, f"/operations/{op.id}", notice=f"{name} takes part as {p.role}."
            )
    return _dashboard(
        request, session, principal, op.id, values=values, errors=errors, status_code=422
    )


@router.post(
    "/operations/{operation_id}/status",
    response_class=HTMLResponse,
    dependencies=[needs("operations:write")],
)
def set_status(
    request: Request,
    operation_id: IdPath,
    principal: PagePrincipal,
    session: DbSession,
    status: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    op = service.get_operation(session, principal, operation_id)  # NotFound for outsiders
    try:
        before = op.status
        op = service.set_status(session, principal, op.id, status)
    except InvalidInput as exc:
        error, code = exc.detail, 422
    except Conflict as exc:
        error, code = exc.detail, 409
    else:
        if op.status == before:
            notice = f"The operation is already {op.status}."
            return redirect(request, f"/operations/{op.id}", notice=notice, level="info")
        notice = f"The operation is now {op.status}."
        return redirect(request, f"/operations/{op.id}", notice=notice)
    return _dashboard(
        request, session, principal, op.id, errors={"status": error}, status_code=code
    )


@router.post(
    "/operations/{operation_id}/items",
    response_class=HTMLResponse,
    dependencies=[needs("operations:write")],
)
def add_by_query(
    request: Request,
    operation_id: IdPath,
    principal: PagePrincipal,
    session: DbSession,
    q_status: Annotated[list[str] | None, Form(max_length=16)] = None,
    q_platform: Annotated[str, Form(max_length=64)] = "",
    q_kind: Annotated[str, Form(max_length=16)] = "",
    q_url: Annotated[str, Form(max_length=500)] = "",
    q_label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values: dict[str, Any] = {
        "q_status": (q_status or [])[:10],
        "q_platform": q_platform.strip(),
        "q_kind": q_kind.strip(),
        "q_url": q_url.strip(),
        "q_label": q_label.strip(),
    }
    op = service.get_operation(session, principal, operation_id)  # NotFound for outsiders
    query = service.ItemQuery(
        status=tuple(values["q_status"]),
        platform=values["q_platform"] or None,
        kind=values["q_kind"] or None,
        q=values["q_url"] or None,
        label=values["q_label"] or None,
    )
    try:
        res = service.add_by_query(session, principal, op.id, query)
    except (InvalidInput, Conflict) as exc:
        errors = {error_field(exc.detail, QUERY_FIELDS, default="query"): exc.detail}
        code = 409 if isinstance(exc, Conflict) else 422
        return _dashboard(
            request, session, principal, op.id, values=values, errors=errors, status_code=code
        )
    notice = (
        f"Query matched {res.requested} of your agency's items: {res.added} added, "
        f"{res.already} already in the operation."
    )
    return redirect(request, f"/operations/{op.id}", notice=notice)


@router.get(
    "/operations/{operation_id}/live",
    response_class=HTMLResponse,
    dependencies=[needs("operations:read")],
)
def live(
    request: Request, operation_id: IdPath, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    if is_htmx(request):
        ctx = _live_context(session, principal, operation_id)
        return render_fragment(request, "operations/_live.html", ctx)
    return _dashboard(request, session, principal, operation_id)


@router.get(
    "/operations/{operation_id}/report",
    response_class=HTMLResponse,
    dependencies=[needs("operations:read")],
)
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


@router.get("/operations/{operation_id}/report.pdf", dependencies=[needs("operations:read")])
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


@router.get(
    "/operations/{operation_id}/export/{table}.csv", dependencies=[needs("operations:read")]
)
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
