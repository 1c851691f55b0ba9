"""JSON routes: banks, their signals, import/export, and matching a file or a hash."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUpload

from takedown.accounts.deps import (
    AnalystPrincipal,
    CurrentPrincipal,
    DbSession,
    SupervisorPrincipal,
    needs,
)
from takedown.config import Settings
from takedown.kit.errors import InvalidInput, NotFound, PayloadTooLarge
from takedown.kit.pagination import Limit, Offset, Page
from takedown.kit.types import IdPath
from takedown.matching import io as bank_io
from takedown.matching import repository as repo
from takedown.matching import review as review_service
from takedown.matching import service
from takedown.matching.engine import MatchingEngine, get_engine
from takedown.matching.repository import MatchRow
from takedown.matching.schemas import (
    BankCreate,
    BankOut,
    HashQuery,
    ImportReport,
    MatchReport,
    MatchResultOut,
    MediaAdded,
    ReviewIn,
    SignalIn,
    SignalOut,
    SignalPatch,
)

router = APIRouter(prefix="/api/v1", tags=["matching"])
Supervisor = SupervisorPrincipal
Writer = AnalystPrincipal
#: Largest upload the match and import endpoints read.
MAX_UPLOAD = 64 * 1024 * 1024


def engine_dep(request: Request) -> MatchingEngine:
    settings: Settings = request.app.state.settings
    return get_engine(settings.data_dir)


Engine = Annotated[MatchingEngine, Depends(engine_dep)]


def _bank_out(bank: Any, count: int, stale: int = 0) -> BankOut:
    out = BankOut.model_validate(bank)
    out.signal_count, out.stale_signal_count = count, stale
    return out


@router.get("/banks", response_model=list[BankOut], dependencies=[needs("banks:read")])
def list_banks(principal: CurrentPrincipal, session: DbSession) -> list[BankOut]:
    """Your agency's banks, plus CLEAR/GREEN banks and banks shared with you (never RED ones)."""
    banks = service.list_banks(session, principal)
    counts = service.signal_counts(session, banks)
    stale = service.stale_counts(session, banks)
    return [_bank_out(b, counts.get(b.id, 0), stale.get(b.id, 0)) for b in banks]


@router.post(
    "/banks",
    response_model=BankOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[needs("banks:write")],
)
def create_bank(data: BankCreate, principal: Supervisor, session: DbSession) -> BankOut:
    return _bank_out(service.create_bank(session, principal, data), 0)


@router.get("/banks/{bank_id}", response_model=BankOut, dependencies=[needs("banks:read")])
def get_bank(bank_id: IdPath, principal: CurrentPrincipal, session: DbSession) -> BankOut:
    bank = service.get_bank(session, principal, bank_id)
    return _bank_out(
        bank,
        service.signal_counts(session, [bank]).get(bank.id, 0),
        service.stale_counts(session, [bank]).get(bank.id, 0),
    )


@router.get(
    "/banks/{bank_id}/signals", response_model=Page[SignalOut], dependencies=[needs("banks:read")]
)
def list_signals(
    bank_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[SignalOut]:
    bank = service.get_bank(session, principal, bank_id)
    rows, total = repo.list_signals(session, bank.id, limit=limit, offset=offset)
    agency = None if principal.via == "system" else principal.agency_id
    visible = [
        SignalOut.model_validate(s) for s in rows if service._signal_visible(s, bank, agency)
    ]
    return Page[SignalOut](items=visible, total=total, limit=limit, offset=offset)


@router.post(
    "/banks/{bank_id}/signals",
    response_model=SignalOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[needs("banks:write")],
)
def add_signal(
    bank_id: IdPath, data: SignalIn, principal: Writer, session: DbSession, engine: Engine
) -> SignalOut:
    """Add a hash to a bank; it is matchable at once."""
    return SignalOut.model_validate(
        service.add_signal(session, principal, bank_id, data, engine=engine)
    )


@router.patch(
    "/banks/{bank_id}/signals/{signal_id}",
    response_model=SignalOut,
    dependencies=[needs("banks:write")],
)
def patch_signal(
    bank_id: IdPath,
    signal_id: IdPath,
    data: SignalPatch,
    principal: Writer,
    session: DbSession,
    engine: Engine,
) -> SignalOut:
    """Disable (or re-enable) a signal; signals are never deleted."""
    sig = repo.get_signal(session, signal_id)
    if sig is None or sig.bank_id != bank_id:
        raise NotFound(f"no signal {signal_id} in bank {bank_id}")
    return SignalOut.model_validate(
        service.set_signal_enabled(session, principal, signal_id, data.enabled, engine=engine)
    )


async def _read_upload(file: StarletteUpload) -> bytes:
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise PayloadTooLarge(f"uploads are limited to {MAX_UPLOAD} bytes")
    return data


@router.post(
    "/banks/{bank_id}/import", response_model=ImportReport, dependencies=[needs("banks:write")]
)
async def import_bank(
    bank_id: IdPath,
    file: UploadFile,
    principal: Supervisor,
    session: DbSession,
    engine: Engine,
    format: Annotated[str, Query(pattern="^(csv|json|tat)$")] = "json",
) -> ImportReport:
    """Import CSV, JSON or a Tech Against Terrorism hash list; bad rows reported, good ones kept."""
    data = await _read_upload(file)
    return await run_in_threadpool(
        bank_io.import_signals, session, principal, bank_id, data, format, engine=engine
    )


_MEDIA_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "labels": {"type": "string", "description": "a JSON object of labels"},
                        "source": {"type": "string"},
                    },
                    "required": ["file"],
                }
            }
        },
    }
}
MAX_MEDIA_FILES = 20


@router.post(
    "/banks/{bank_id}/media",
    response_model=list[MediaAdded],
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_MEDIA_BODY,
    dependencies=[needs("banks:write")],
)
async def add_bank_media(
    bank_id: IdPath, request: Request, principal: Writer, session: DbSession, engine: Engine
) -> list[MediaAdded]:
    """Upload image or video files (multipart ``file``, repeatable, up to 20): each is hashed
    as matching does and its signals added; a file that cannot be hashed is reported."""
    from takedown.matching.schemas import Labels

    async with request.form(max_files=MAX_MEDIA_FILES, max_fields=5) as form:
        uploads = [u for u in form.getlist("file") if not isinstance(u, str)]
        raw_labels = form.get("labels")
        source = form.get("source")
        if not uploads:
            raise InvalidInput("send the files in the multipart field 'file'")
        files = [(u.filename or f"file-{n}", await _read_upload(u)) for n, u in enumerate(uploads)]
    try:
        labels = Labels(**json.loads(raw_labels)) if isinstance(raw_labels, str) else None
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"labels must be a JSON object of labels: {exc}") from None
    return await run_in_threadpool(
        bank_io.add_media_files, session, principal, bank_id, files, labels=labels,
        source=source if isinstance(source, str) else "", engine=engine,
    )  # fmt: skip


@router.get("/banks/{bank_id}/export", dependencies=[needs("banks:read")])
def export_bank(
    bank_id: IdPath,
    principal: CurrentPrincipal,
    session: DbSession,
    format: Annotated[str, Query(pattern="^(csv|json)$")] = "json",
) -> Response:
    data, media_type = bank_io.export_signals(session, principal, bank_id, format)
    return Response(
        content=data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="bank-{bank_id}.{format}"'},
    )


_MATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "application/json": {"schema": HashQuery.model_json_schema()},
        },
    }
}


@router.post(
    "/match",
    response_model=MatchReport,
    openapi_extra=_MATCH_BODY,
    dependencies=[needs("banks:read")],
)
async def match(
    request: Request, principal: CurrentPrincipal, session: DbSession, engine: Engine
) -> MatchReport:
    """Match an uploaded file (multipart ``file``) or a hash (JSON ``{signal_type, value}``)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("send the file in the multipart field 'file'")
            data = await _read_upload(upload)
        return await run_in_threadpool(service.match_media, session, principal, data, engine=engine)
    if ctype.startswith("application/json"):
        body = await request.body()
        if len(body) > 1_000_000:
            raise PayloadTooLarge("a hash query is at most 1 MB")
        try:
            query = HashQuery.model_validate(json.loads(body or b"null"))
        except (ValueError, ValidationError) as exc:
            raise InvalidInput(f"expected {{'signal_type', 'value'}}: {exc}") from None
        return await run_in_threadpool(
            service.match_value, session, principal, query.signal_type, query.value, engine=engine
        )
    raise InvalidInput("send multipart/form-data with a file, or JSON with a hash")


# ---- the review of match results ---------------------------------------------------


def match_out(row: MatchRow) -> MatchResultOut:
    r = row.result
    return MatchResultOut(
        id=r.id,
        item_id=r.item_id,
        item_url=row.item_url,
        bank_id=row.bank.id,
        bank_name=row.bank.name,
        signal_id=row.signal.id,
        signal_type=r.signal_type,
        distance=r.distance,
        variant=r.variant,
        labels=dict(row.signal.labels or {}),
        tlp=row.signal.tlp or row.bank.tlp,
        status=r.status,
        reviewed_by=r.reviewed_by,
        reviewed_at=r.reviewed_at,
        review_note=r.review_note,
        created_at=r.created_at,
    )


@router.get("/matches", response_model=Page[MatchResultOut], dependencies=[needs("banks:read")])
def list_matches(
    principal: CurrentPrincipal,
    session: DbSession,
    review: Annotated[str, Query(max_length=16)] = "pending",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MatchResultOut]:
    """Your agency's match results; ``review=pending`` (the default) is the review queue."""
    rows, total = review_service.list_matches(
        session, principal, review=review_service.parse_filter(review), limit=limit, offset=offset
    )
    return Page[MatchResultOut](
        items=[match_out(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.post(
    "/matches/{result_id}/review",
    response_model=MatchResultOut,
    dependencies=[needs("banks:write")],
)
def review_match(
    result_id: IdPath, body: ReviewIn, principal: Writer, session: DbSession
) -> MatchResultOut:
    """Confirm or reject a match; a rejected match no longer suggests an attribution."""
    return match_out(
        review_service.review_match(session, principal, result_id, body.decision, note=body.note)
    )
