"""The intake page: upload a file or paste URLs, optionally into an operation.

A small upload is imported during the request and the browser lands on its
result. A large one is spooled to a temporary file and imported after the
response (``intake_runs``): the browser gets a progress bar at once and the
server stays free for other requests. Either way the import is the one
``intake.import_stream`` transaction the API and the CLI use.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from takedown.accounts.deps import DbSession, get_settings_dep, needs
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.items import intake, intake_runs, workbench
from takedown.items.models import ImportFormat, ImportJob
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from takedown.kit.types import IdPath
from takedown.operations import service as operations
from takedown.web.deps import FormErrors, form_file, form_values, require_page_role
from takedown.web.nav import register_nav
from takedown.web.pagination import paginate
from takedown.web.progress import ProgressState, progress_fragment
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

register_nav(
    "Intake",
    "/intake",
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=15,
    prefixes=("/intake/",),
)

AnalystPage = Annotated[Principal, Depends(require_page_role(Role.ANALYST, Role.SUPERVISOR))]

#: Uploads larger than this run after the response, with a progress bar.
INLINE_BYTES = 256 * 1024
MAX_PASTE = 2 * 1024 * 1024
_MULTIPART_SLACK = 64 * 1024
FORMATS = [
    ("", "Detect from the file"),
    ("csv", "CSV"),
    ("jsonl", "JSON lines"),
    ("urls", "URL list (one per line)"),
]


def _size_guard(request: Request, settings: Annotated[Settings, Depends(get_settings_dep)]) -> int:
    """Refuse an oversized upload from its Content-Length, before reading a byte of it."""
    raw = request.headers.get("content-length", "")
    if raw.isdigit() and int(raw) > settings.import_max_bytes + _MULTIPART_SLACK:
        raise PayloadTooLarge(
            f"the upload is larger than the limit of {settings.import_max_bytes} bytes"
        )
    return settings.import_max_bytes


def _operations(session: Session, principal: Principal) -> list[tuple[str, str]]:
    ops, _ = operations.list_operations(session, principal, limit=200)
    return [(str(o.id), o.name) for o in ops if o.status != "closed"]


def _form_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "items/intake.html",
        {
            "values": values or {"format": "", "operation": "", "urls": ""},
            "errors": errors or {},
            "formats": FORMATS,
            "operations": _operations(session, principal),
            "recent": workbench.recent_imports(session, principal),
        },
        title="Intake",
        tlp="AMBER",
        status_code=status_code,
    )


@router.get("/intake", response_class=HTMLResponse, dependencies=[needs("items:read")])
def intake_page(request: Request, principal: AnalystPage, session: DbSession) -> HTMLResponse:
    return _form_page(request, session, principal)


def _operation_id(raw: str, session: Session, principal: Principal) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise InvalidInput("operation: choose an operation from the list")
    try:
        operations.get_operation(session, principal, int(raw))
    except NotFound:
        raise InvalidInput("operation: choose an operation from the list") from None
    return int(raw)


@router.post("/intake", response_model=None, dependencies=[needs("intake:write")])
async def intake_submit(
    limit: Annotated[int, Depends(_size_guard)],
    request: Request,
    principal: AnalystPage,
    session: DbSession,
    background: BackgroundTasks,
) -> Response:
    form = await request.form(max_files=1, max_fields=20)
    try:
        return await _submit(form, limit, request, principal, session, background)
    finally:
        await form.close()


async def _submit(
    form: FormData,
    limit: int,
    request: Request,
    principal: Principal,
    session: Session,
    background: BackgroundTasks,
) -> Response:
    values = form_values(form, "format", "operation")
    pasted = form.get("urls")
    values["urls"] = pasted if isinstance(pasted, str) else ""
    upload: UploadFile | None = form_file(form, "file")
    if upload is not None and not upload.filename and not upload.size:
        upload = None  # the browser sends an empty part when no file was chosen
    errors: FormErrors = {}
    fmt: str | None = values["format"] or None
    if fmt is not None and fmt not in {f.value for f in ImportFormat}:
        errors["format"] = "choose CSV, JSON lines or a URL list"
    try:
        op_id = _operation_id(values["operation"], session, principal)
    except InvalidInput as exc:
        errors["operation"] = exc.detail.removeprefix("operation: ")
        op_id = None
    if upload is None and not values["urls"].strip():
        errors["file"] = "choose a file, or paste URLs below"
    elif upload is None and len(values["urls"]) > MAX_PASTE:
        errors["urls"] = f"paste at most {MAX_PASTE // 1024 // 1024} MB; upload a file instead"
    elif upload is not None and upload.size is not None and upload.size > limit:
        errors["file"] = f"the file is larger than the limit of {limit} bytes"
    if errors:
        return _form_page(
            request, session, principal, values=values, errors=errors, status_code=422
        )

    def credit(s: Session, p: Principal, job_id: int) -> None:
        if op_id is not None:
            operations.add_import(s, p, op_id, job_id)

    if upload is not None and (upload.size or 0) > INLINE_BYTES:
        return _start_background(request, principal, upload, fmt, credit, background)
    field = "file" if upload is not None else "urls"
    try:
        if upload is not None:
            job: ImportJob = await run_in_threadpool(
                intake.import_stream,
                session,
                principal,
                upload.file,
                filename=upload.filename or "upload",
                format=fmt,
            )
        else:
            data = values["urls"].encode("utf-8")
            job = await run_in_threadpool(
                _import_bytes, session, principal, data, fmt or ImportFormat.URLS.value
            )
        field = "operation"  # the file went in; crediting it to the operation is what failed
        credit(session, principal, job.id)
    except (InvalidInput, Conflict, Forbidden) as exc:
        session.rollback()  # nothing of the import stays: it was one transaction with this
        return _form_page(
            request,
            session,
            principal,
            values=values,
            errors={field: exc.detail},
            status_code=422,
        )
    return redirect(request, f"/intake/{job.id}", notice=_summary(job))


def _import_bytes(session: Session, principal: Principal, data: bytes, fmt: str) -> ImportJob:
    import io

    return intake.import_stream(
        session, principal, io.BytesIO(data), filename="pasted-urls.txt", format=fmt
    )


def _summary(job: ImportJob) -> str:
    return (
        f"Imported {job.rows_ok} of {job.rows_total} rows: {job.items_created} new items, "
        f"{job.duplicates_folded} duplicates folded, {job.rows_bad} rows rejected."
    )


def _start_background(
    request: Request,
    principal: Principal,
    upload: UploadFile,
    fmt: str | None,
    credit: intake_runs.AfterImport,
    background: BackgroundTasks,
) -> Response:
    fd, path = tempfile.mkstemp(prefix="takedown-intake-", suffix=".upload")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(upload.file, out, 1024 * 1024)
    except BaseException:
        os.unlink(path)
        raise
    run = intake_runs.register(principal, upload.filename or "upload", upload.size)
    background.add_task(
        intake_runs.execute,
        run,
        request.app.state.sessionmaker,
        principal,
        path,
        format=fmt,
        after=credit,
    )
    return redirect(request, f"/intake/runs/{run.token}")


def _state(run: intake_runs.Run) -> ProgressState:
    kib = 1024
    detail = ""
    if run.error:
        detail = f"The import failed: {run.error}"
    elif run.finished:
        detail = "Imported."
    return ProgressState(
        id="intake-run",
        url=f"/intake/runs/{run.token}/progress",
        label=f"Importing {run.filename} (KiB read)",
        done=run.done // kib,
        total=(run.total // kib) or None if run.total else None,
        finished=run.finished,
        detail=detail,
        result_url=f"/intake/{run.job_id}" if run.job_id else None,
    )


@router.get("/intake/runs/{token}", response_class=HTMLResponse, dependencies=[needs("items:read")])
def run_page(token: str, request: Request, principal: AnalystPage) -> HTMLResponse:
    run = intake_runs.get_run(principal, token)
    return render(
        request, "items/intake_run.html", {"run": run, "state": _state(run)}, title="Importing"
    )


@router.get(
    "/intake/runs/{token}/progress", response_class=HTMLResponse, dependencies=[needs("items:read")]
)
def run_progress(token: str, request: Request, principal: AnalystPage) -> HTMLResponse:
    return progress_fragment(request, _state(intake_runs.get_run(principal, token)))


@router.get("/intake/{import_id}", response_class=HTMLResponse, dependencies=[needs("items:read")])
def import_page(
    import_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> HTMLResponse:
    job = workbench.get_import(session, principal, import_id)
    rows, pager = paginate(
        request,
        lambda limit, offset: workbench.folded_of(session, principal, job, limit, offset),
    )
    ctx: dict[str, Any] = {
        "job": job, "folded": rows, "pager": pager, "folded_means": intake.DUPLICATES_FOLDED,
    }  # fmt: skip
    return render(request, "items/import.html", ctx, title=f"Import {job.id}", tlp="AMBER")
