"""JSON routes of items, assessments, holds, shares and imports (under /api/v1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from takedown.accounts.deps import (
    DbSession,
    get_settings_dep,
    require_role,
    require_scope,
)
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.items import intake, repository, service
from takedown.items.models import ImportFormat, ImportJob, Item, ItemStatus
from takedown.items.schemas import (
    AssessmentIn,
    AssessmentOut,
    HoldIn,
    HoldOut,
    ImportJobOut,
    ItemDetailOut,
    ItemOut,
    ItemReportIn,
    ItemReportOut,
    ShareIn,
    ShareOut,
    SightingOut,
)
from takedown.kit.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.platforms.identity import ItemKind

router = APIRouter(prefix="/api/v1", tags=["items"])

_MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


def _writer(scope: str) -> Callable[[Principal], Principal]:
    """Analysts and supervisors (admins pass every role check) with the token scope."""
    role_check = require_role(Role.ANALYST, Role.SUPERVISOR)

    # A default, not Annotated: the closure's dependency must not hide in a string annotation.
    def check(principal: Principal = Depends(role_check)) -> Principal:
        if not principal.has_scope(scope):
            raise Forbidden(f"this token lacks the scope {scope!r}")
        return principal

    return check


Reader = Annotated[Principal, Depends(require_scope("items:read"))]
Writer = Annotated[Principal, Depends(_writer("items:write"))]
Importer = Annotated[Principal, Depends(_writer("intake:write"))]


def _utc(value: dt.datetime | None, what: str) -> dt.datetime | None:
    return service.as_utc(value, what)


def _detail(session: Session, principal: Principal, item: Item) -> ItemDetailOut:
    base = ItemOut.model_validate(item).model_dump()
    return ItemDetailOut(
        **base,
        fetch_url=None if principal.is_liaison else item.fetch_url,
        sightings=[SightingOut(**vars(s)) for s in service.sightings_for(session, principal, item)],
        holds=[HoldOut(**vars(h)) for h in service.holds_for(session, principal, item.id)],
    )


# --- items ------------------------------------------------------------------------------------


@router.get("/items", response_model=Page[ItemOut])
def list_items(
    principal: Reader,
    session: DbSession,
    status: Annotated[list[ItemStatus] | None, Query()] = None,
    platform: Annotated[str | None, Query(max_length=64)] = None,
    kind: ItemKind | None = None,
    agency: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="reporting agency")] = None,
    first_seen_from: dt.datetime | None = None,
    first_seen_to: dt.datetime | None = None,
    q: Annotated[
        str | None,
        Query(
            max_length=500,
            description="words, each in the URL, the title or your agency's captured text",
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ItemOut]:
    """Items your agency reported or that were shared with it, newest first."""
    filters = repository.ItemFilters(
        status=[s.value for s in status] if status else None,
        platform=platform,
        kind=kind.value if kind else None,
        agency_id=agency,
        first_seen_from=_utc(first_seen_from, "first_seen_from"),
        first_seen_to=_utc(first_seen_to, "first_seen_to"),
        q=q,
    )
    rows, total = service.list_items(session, principal, filters, limit, offset)
    return Page(
        items=[ItemOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post("/items", response_model=ItemReportOut, status_code=201)
def report_item(body: ItemReportIn, principal: Writer, session: DbSession) -> ItemReportOut:
    """Report one URL: a new item, or another sighting of the item it identifies."""
    item, created = service.report_url(
        session,
        principal,
        body.url,
        source="api",
        note=body.note,
        title=body.title,
        reported_at=_utc(body.reported_at, "reported_at"),
    )
    return ItemReportOut(item=ItemOut.model_validate(item), created=created)


@router.get("/items/{item_id}", response_model=ItemDetailOut)
def get_item(item_id: IdPath, principal: Reader, session: DbSession) -> ItemDetailOut:
    """One item, with the sightings and holds you may see."""
    return _detail(session, principal, service.get_item(session, principal, item_id))


# --- assessments ------------------------------------------------------------------------------


def _assessment_out(view: service.AssessmentView) -> AssessmentOut:
    a = view.assessment
    return AssessmentOut(
        id=a.id,
        item_id=a.item_id,
        agency_id=a.agency_id,
        agency_name=view.agency_name,
        own=view.own,
        verdict=a.verdict,
        categories=list(a.categories),
        group=a.group,
        outlet=a.outlet,
        language=a.language,
        language_suggested=a.language_suggested,
        language_scores=list(a.language_scores),
        notes=a.notes if view.own else None,
        analyst_id=a.analyst_id if view.own else None,
        created_at=a.created_at,
    )


@router.get("/items/{item_id}/assessments", response_model=list[AssessmentOut])
def list_assessments(item_id: IdPath, principal: Reader, session: DbSession) -> list[AssessmentOut]:
    return [_assessment_out(v) for v in service.assessments_for(session, principal, item_id)]


@router.post("/items/{item_id}/assessments", response_model=AssessmentOut, status_code=201)
def create_assessment(
    item_id: IdPath, body: AssessmentIn, principal: Writer, session: DbSession
) -> AssessmentOut:
    a = service.assess(
        session,
        principal,
        item_id,
        body.verdict,
        body.categories,
        body.group,
        body.outlet,
        body.language,
        body.notes,
    )
    name = repository.agency_names(session, [a.agency_id]).get(a.agency_id, "")
    return _assessment_out(service.AssessmentView(a, name, True))


# --- holds, shares ----------------------------------------------------------------------------


@router.post("/items/{item_id}/holds", response_model=HoldOut, status_code=201)
def create_hold(item_id: IdPath, body: HoldIn, principal: Writer, session: DbSession) -> HoldOut:
    """Put a deconfliction hold on an item: nobody can refer it until you release it."""
    h = service.place_hold(
        session, principal, item_id, reason=body.reason, contact_point=body.contact_point
    )
    name = repository.agency_names(session, [h.agency_id]).get(h.agency_id, "")
    return HoldOut(
        id=h.id,
        agency_id=h.agency_id,
        agency_name=name,
        contact_point=h.contact_point,
        created_at=h.created_at,
        own=True,
        reason=h.reason,
    )


@router.delete("/items/{item_id}/holds/{hold_id}", status_code=204)
def delete_hold(
    item_id: IdPath, hold_id: IdPath, principal: Writer, session: DbSession
) -> Response:
    service.release_hold(session, principal, item_id, hold_id)
    return Response(status_code=204)


@router.post("/items/{item_id}/shares", response_model=ShareOut, status_code=201)
def create_share(item_id: IdPath, body: ShareIn, principal: Writer, session: DbSession) -> ShareOut:
    """Share an item your agency reported with another agency."""
    return ShareOut.model_validate(service.share_item(session, principal, item_id, body.agency_id))


# --- imports ----------------------------------------------------------------------------------


def _content_length_guard(
    request: Request, settings: Annotated[Settings, Depends(get_settings_dep)]
) -> int:
    """Refuse an oversized upload from its Content-Length, before reading a byte of it."""
    limit = settings.import_max_bytes
    raw = request.headers.get("content-length", "")
    if raw.isdigit() and int(raw) > limit + _MULTIPART_SLACK:
        raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")
    return limit


_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post("/imports", response_model=ImportJobOut, status_code=201, openapi_extra=_UPLOAD_SCHEMA)
async def create_import(
    limit: Annotated[int, Depends(_content_length_guard)],
    request: Request,
    principal: Importer,
    session: DbSession,
    format: ImportFormat | None = None,
) -> ImportJobOut:
    """Import a CSV, JSON-lines or URL-list file (multipart field ``file``).

    Bad rows are listed in the job with their line numbers; good rows go in. The
    whole import is one transaction.
    """
    form = await request.form(max_files=1, max_fields=20)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("send the file as the multipart field 'file'")
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")
        job = await run_in_threadpool(
            intake.import_stream,
            session,
            principal,
            upload.file,
            filename=upload.filename or "upload",
            format=format,
        )
        return ImportJobOut.model_validate(job)
    finally:
        await form.close()


def _job_for(session: Session, principal: Principal, job_id: int) -> ImportJob:
    job = repository.import_job(session, job_id)
    if job is None or (principal.via != "system" and job.agency_id != principal.agency_id):
        raise NotFound(f"import {job_id} does not exist")
    return job


@router.get("/imports/{import_id}", response_model=ImportJobOut)
def get_import(import_id: IdPath, principal: Reader, session: DbSession) -> ImportJobOut:
    return ImportJobOut.model_validate(_job_for(session, principal, import_id))
