"""JSON routes of operations, their metrics and reports, and the Art. 8 report (/api/v1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from takedown.accounts.deps import (
    AnalystPrincipal,
    CurrentPrincipal,
    DbSession,
    SupervisorPrincipal,
    needs,
)
from takedown.accounts.principal import Principal
from takedown.kit.clock import SystemClock
from takedown.kit.errors import InvalidInput, NotFound
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.operations import legal, metrics, report, repository, service, transparency
from takedown.operations.models import Operation
from takedown.operations.schemas import (
    AddItemsIn,
    AddItemsOut,
    HeldItemOut,
    LegalEventIn,
    LegalEventOut,
    OperationDetailOut,
    OperationIn,
    OperationItemOut,
    OperationOut,
    ParticipantIn,
    ParticipantOut,
    StatusIn,
)

router = APIRouter(prefix="/api/v1", tags=["operations"])
Supervisor = SupervisorPrincipal
Contributor = AnalystPrincipal
Format = Literal["json", "html", "csv"]


def _detail(session: DbSession, principal: Principal, op: Operation) -> OperationDetailOut:
    out = OperationDetailOut.model_validate(op)
    out.participants = [
        ParticipantOut(
            agency_id=a.id, agency=a.name, country=a.country, role=p.role, joined_at=p.joined_at
        )
        for p, a in repository.participants_of(session, op.id)
    ]
    role = service.role_in(session, principal, op)
    out.your_role = role.value if role else None
    return out


@router.get(
    "/operations", response_model=Page[OperationOut], dependencies=[needs("operations:read")]
)
def list_operations(
    principal: CurrentPrincipal, session: DbSession, limit: Limit = 50, offset: Offset = 0
) -> Page[OperationOut]:
    """Operations your agency takes part in."""
    rows, total = service.list_operations(session, principal, limit=limit, offset=offset)
    return Page(
        items=[OperationOut.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/operations",
    response_model=OperationDetailOut,
    status_code=201,
    dependencies=[needs("operations:write")],
)
def create_operation(
    body: OperationIn, principal: Supervisor, session: DbSession
) -> OperationDetailOut:
    """Create an operation led by your agency."""
    op = service.create_operation(
        session,
        principal,
        name=body.name,
        kind=body.kind,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        targets=body.targets.model_dump(),
        notes=body.notes,
        participants=[(p.agency_id, p.role) for p in body.participants],
    )
    return _detail(session, principal, op)


@router.get(
    "/operations/{operation_id}",
    response_model=OperationDetailOut,
    dependencies=[needs("operations:read")],
)
def get_operation(
    operation_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> OperationDetailOut:
    return _detail(session, principal, service.get_operation(session, principal, operation_id))


@router.post(
    "/operations/{operation_id}/participants",
    response_model=OperationDetailOut,
    dependencies=[needs("operations:write")],
)
def add_participant(
    operation_id: IdPath, body: ParticipantIn, principal: Supervisor, session: DbSession
) -> OperationDetailOut:
    service.add_participant(session, principal, operation_id, body.agency_id, body.role)
    return _detail(session, principal, service.get_operation(session, principal, operation_id))


@router.post(
    "/operations/{operation_id}/status",
    response_model=OperationDetailOut,
    dependencies=[needs("operations:write")],
)
def set_status(
    operation_id: IdPath, body: StatusIn, principal: Supervisor, session: DbSession
) -> OperationDetailOut:
    op = service.set_status(session, principal, operation_id, body.status)
    return _detail(session, principal, op)


@router.get(
    "/operations/{operation_id}/items",
    response_model=Page[OperationItemOut],
    dependencies=[needs("operations:read")],
)
def list_items(
    operation_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    platform: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[OperationItemOut]:
    """The operation's items, each once, with how many agencies contributed it."""
    rows, total = service.list_items(
        session, principal, operation_id, platform=platform, status=status, limit=limit,
        offset=offset,
    )  # fmt: skip
    return Page(
        items=[
            OperationItemOut(
                id=it.id,
                platform=it.platform,
                kind=it.kind,
                canonical_url=it.canonical_url,
                status=it.status,
                contributors=n,
            )
            for it, n in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/operations/{operation_id}/items",
    response_model=AddItemsOut,
    dependencies=[needs("operations:write")],
)
def add_items(
    operation_id: IdPath, body: AddItemsIn, principal: Contributor, session: DbSession
) -> AddItemsOut:
    """Add your agency's items: by id, by one of your imports, or by a query."""
    given = [x is not None for x in (body.item_ids, body.import_id, body.query)]
    if sum(given) != 1:
        raise InvalidInput("give exactly one of item_ids, import_id, query")
    if body.item_ids is not None:
        res = service.add_items(session, principal, operation_id, body.item_ids)
    elif body.import_id is not None:
        res = service.add_import(session, principal, operation_id, body.import_id)
    else:
        assert body.query is not None
        q = body.query
        res = service.add_by_query(
            session,
            principal,
            operation_id,
            service.ItemQuery(tuple(q.status), q.platform, q.kind, q.q, q.label),
        )
    return AddItemsOut(requested=res.requested, added=res.added, already=res.already)


@router.get(
    "/operations/{operation_id}/holds",
    response_model=list[HeldItemOut],
    dependencies=[needs("operations:read")],
)
def list_holds(
    operation_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> list[HeldItemOut]:
    """Your agency's deconfliction holds on the operation's items, with blocked requests."""
    return [
        HeldItemOut(
            item_id=h.item.id,
            platform=h.item.platform,
            canonical_url=h.item.canonical_url,
            hold_id=h.hold.id,
            reason=h.hold.reason,
            contact_point=h.hold.contact_point,
            held_since=h.hold.created_at,
            requests=h.requests,
        )
        for h in service.held_items(session, principal, operation_id)
    ]


@router.get(
    "/operations/{operation_id}/referrable",
    response_model=dict[str, list[int]],
    dependencies=[needs("operations:read")],
)
def referrable(
    operation_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> dict[str, list[int]]:
    """Item ids ready for a referral batch, per platform (assessed or reappeared)."""
    return service.referrable_by_platform(session, principal, operation_id)


@router.get("/operations/{operation_id}/metrics", dependencies=[needs("operations:read")])
def get_metrics(
    operation_id: IdPath, principal: CurrentPrincipal, session: DbSession
) -> dict[str, Any]:
    """The dashboard's figures: items by kind, platform and status, removals over time,
    time-to-removal per platform, per-agency contribution (definitions: the report)."""
    op = service.get_operation(session, principal, operation_id)
    return metrics.compute(session, op, SystemClock().now()).data


def _emit(rep: report.Report, fmt: Format, table: str | None) -> Response:
    if fmt == "html":
        return HTMLResponse(report.render_html(rep))
    if fmt == "csv":
        if table in (None, "figures"):
            return PlainTextResponse(report.figures_csv(rep), media_type="text/csv")
        found = next((t for t in rep.tables if t.key == table), None)
        if found is None:
            raise NotFound(
                f"no table {table!r}; tables: figures, {', '.join(t.key for t in rep.tables)}"
            )
        return PlainTextResponse(report.table_csv(found), media_type="text/csv")
    return Response(report.to_json_text(rep), media_type="application/json")


@router.get(
    "/operations/{operation_id}/report",
    response_class=Response,
    dependencies=[needs("operations:read")],
)
def get_report(
    operation_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    final: bool = False,
    format: Format = "json",
    table: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The preliminary (default) or final report as JSON, standalone HTML, or CSV of a table."""
    rep = report.build(session, principal, operation_id, final=final)
    return _emit(rep, format, table)


@router.get(
    "/transparency/{year}", response_class=Response, dependencies=[needs("operations:read")]
)
def get_transparency(
    year: Annotated[int, Path(ge=2000, le=2200)],
    principal: CurrentPrincipal,
    session: DbSession,
    format: Format = "json",
    table: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Your authority's annual TCO Art. 8 report for a calendar year (UTC)."""
    return _emit(transparency.build(session, principal, year), format, table)


@router.get(
    "/legal-events", response_model=Page[LegalEventOut], dependencies=[needs("operations:read")]
)
def list_legal_events(
    principal: CurrentPrincipal, session: DbSession, limit: Limit = 50, offset: Offset = 0
) -> Page[LegalEventOut]:
    rows, total = legal.list_legal_events(session, principal, limit=limit, offset=offset)
    return Page(
        items=[LegalEventOut.model_validate(r) for r in rows], total=total, limit=limit,
        offset=offset,
    )  # fmt: skip


@router.post(
    "/legal-events",
    response_model=LegalEventOut,
    status_code=201,
    dependencies=[needs("operations:write")],
)
def record_legal_event(
    body: LegalEventIn, principal: Supervisor, session: DbSession
) -> LegalEventOut:
    """Record an Art. 4 scrutiny, Art. 5, review or penalty decision of your authority."""
    ev = legal.record_legal_event(
        session,
        principal,
        kind=body.kind,
        outcome=body.outcome,
        occurred_at=body.occurred_at,
        platform=body.platform,
        referral_id=body.referral_id,
        amount_eur=body.amount_eur,
        reference=body.reference,
        notes=body.notes,
    )
    return LegalEventOut.model_validate(ev)
