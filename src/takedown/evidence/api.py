"""JSON routes of the evidence vault under /api/v1/evidence."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.deps import (
    AnalystPrincipal,
    CurrentPrincipal,
    DbSession,
    SupervisorPrincipal,
    get_settings_dep,
    needs,
)
from takedown.config import Settings
from takedown.evidence import service
from takedown.evidence.capturing import capture_items
from takedown.evidence.export import export_bundle
from takedown.evidence.models import EvidenceCapture
from takedown.evidence.retention import retain_until
from takedown.evidence.schemas import (
    CaptureDetailOut,
    CaptureIn,
    CaptureOut,
    CaptureSummaryOut,
    ExportIn,
    FileOut,
    HoldIn,
    HoldOut,
    VerifyIn,
    VerifyOut,
)
from takedown.evidence.storage import store_for_settings
from takedown.kit.errors import Forbidden
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath, IdQuery

router = APIRouter(prefix="/api/v1/evidence", tags=["evidence"])
Analyst = AnalystPrincipal
Supervisor = SupervisorPrincipal
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

ATTACHMENT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "no-store",
}


def _out(session: Session, cap: EvidenceCapture) -> CaptureOut:
    out = CaptureOut.model_validate(cap)
    out.retain_until = retain_until(session, cap)
    return out


# Holds first: "/holds" must not be taken for a capture id.
@router.get("/holds", response_model=list[HoldOut], dependencies=[needs("evidence:read")])
def list_holds(
    principal: Analyst, session: DbSession, item_id: IdQuery | None = None, active: bool = True
) -> list[HoldOut]:
    rows = service.list_holds(session, principal, item_id=item_id, active_only=active)
    return [HoldOut.model_validate(h) for h in rows]


@router.post(
    "/holds", response_model=HoldOut, status_code=201, dependencies=[needs("evidence:write")]
)
def place_hold(body: HoldIn, principal: Supervisor, session: DbSession) -> HoldOut:
    """Keep an item's evidence past the 6-month retention (investigation, court request)."""
    hold = service.place_hold(
        session,
        principal,
        body.item_id,
        kind=body.kind,
        reason=body.reason,
        reference=body.reference,
        until=body.until,
    )
    return HoldOut.model_validate(hold)


@router.delete("/holds/{hold_id}", response_model=HoldOut, dependencies=[needs("evidence:write")])
def release_hold(hold_id: IdPath, principal: Supervisor, session: DbSession) -> HoldOut:
    return HoldOut.model_validate(service.release_hold(session, principal, hold_id))


@router.post(
    "",
    response_model=list[CaptureSummaryOut],
    status_code=201,
    dependencies=[needs("evidence:write")],
)
def capture(
    body: CaptureIn,
    request: Request,
    principal: Analyst,
    session: DbSession,
    settings: SettingsDep,
) -> list[CaptureSummaryOut]:
    """Capture items now (up to 100 per call); capture failures come back as rows, not errors.

    Every item must be visible to the caller (404 otherwise, nothing captured).
    """
    from takedown.items.service import get_item

    for item_id in body.item_ids:
        get_item(session, principal, item_id)
    session.commit()  # release the request's transaction: capture runs its own
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    summaries = capture_items(
        factory, principal, body.item_ids, settings=settings, with_screenshot=body.with_screenshot
    )
    return [CaptureSummaryOut.model_validate(s, from_attributes=True) for s in summaries]


@router.get("", response_model=Page[CaptureOut], dependencies=[needs("evidence:read")])
def list_captures(
    principal: Analyst,
    session: DbSession,
    item_id: IdQuery | None = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[CaptureOut]:
    rows, total = service.list_captures(
        session, principal, item_id=item_id, status=status, limit=limit, offset=offset
    )
    return Page(items=[_out(session, c) for c in rows], total=total, limit=limit, offset=offset)


@router.post("/verify", response_model=list[VerifyOut], dependencies=[needs("evidence:read")])
def verify(
    body: VerifyIn, principal: Analyst, session: DbSession, settings: SettingsDep
) -> list[VerifyOut]:
    """Re-hash the files of the given (default: all of the agency's) captures."""
    for capture_id in body.capture_ids or []:
        service.get_capture(session, principal, capture_id)  # 404 for another agency's
    reports = service.verify_captures(
        session, principal, store=store_for_settings(settings), capture_ids=body.capture_ids
    )
    return [
        VerifyOut(capture_id=r.capture_id, ok=r.ok, checked=r.checked, problems=r.problems)
        for r in reports
    ]


@router.post("/export", response_class=Response, dependencies=[needs("evidence:read")])
def export(
    body: ExportIn, principal: Supervisor, session: DbSession, settings: SettingsDep
) -> Response:
    """A court bundle (zip) of these items' evidence, with the offline verifier inside."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "evidence-bundle.zip"
        result = export_bundle(
            session,
            principal,
            body.item_ids,
            path,
            store=store_for_settings(settings),
            recipient=body.recipient,
        )
        data = result.path.read_bytes()
    return Response(
        data,
        media_type="application/zip",
        headers={
            **ATTACHMENT_HEADERS,
            "Content-Disposition": 'attachment; filename="evidence-bundle.zip"',
            "X-Bundle-SHA256": result.sha256,
        },
    )


@router.get(
    "/{capture_id:int}", response_model=CaptureDetailOut, dependencies=[needs("evidence:read")]
)
def get_capture(capture_id: IdPath, principal: Analyst, session: DbSession) -> CaptureDetailOut:
    cap = service.get_capture(session, principal, capture_id)
    out = CaptureDetailOut.model_validate(cap)
    out.retain_until = retain_until(session, cap)
    out.files = [FileOut.model_validate(f) for f in service.files_of(session, principal, cap.id)]
    return out


@router.get(
    "/{capture_id:int}/files/{file_id:int}",
    response_class=Response,
    dependencies=[needs("evidence:read")],
)
def download(
    capture_id: IdPath,
    file_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    settings: SettingsDep,
) -> Response:
    """The file's bytes, re-checked against its SHA-256; the access is audited."""
    if principal.is_liaison:
        raise Forbidden("platform liaisons have no access to the evidence vault")
    row, data = service.read_file(
        session,
        principal,
        capture_id,
        file_id,
        store=store_for_settings(settings),
        purpose="download",
    )
    filename = row.name.rsplit("/", 1)[-1].replace('"', "")
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            **ATTACHMENT_HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Evidence-SHA256": row.sha256,
        },
    )
