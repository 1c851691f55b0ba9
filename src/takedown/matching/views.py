"""HTML pages of matching: banks of known content, their signals, and the match review queue.

Every read and change goes through ``service``, ``browse``, ``io`` and ``review``;
what a page may show is what the API would return to the same principal (a
bank that is not visible is a 404, another agency's TLP:RED signal is never
listed). The TLP banner shows the most restrictive marking on the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from takedown.accounts.deps import DbSession, needs
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, PayloadTooLarge
from takedown.kit.types import IdPath
from takedown.matching import browse, service
from takedown.matching import io as bank_io
from takedown.matching import review as review_service
from takedown.matching.api import MAX_UPLOAD, engine_dep
from takedown.matching.models import DEFAULT_THRESHOLDS, Bank, BankKind
from takedown.matching.schemas import BankCreate, ImportReport, Labels, MediaAdded
from takedown.web.deps import FormErrors, PagePrincipal, form_file, form_values
from takedown.web.nav import register_nav
from takedown.web.pagination import paginate
from takedown.web.templating import TLP_LEVELS, redirect, render

router = APIRouter(include_in_schema=False)

register_nav(
    "Banks", "/banks", roles=(Role.ANALYST, Role.SUPERVISOR), order=50, prefixes=("/banks/",)
)
register_nav(
    "Matches", "/matches", roles=(Role.ANALYST, Role.SUPERVISOR), order=55, prefixes=("/matches/",)
)

TLP_OPTIONS = [(t, f"TLP:{t}") for t in TLP_LEVELS]
KIND_OPTIONS = [
    (BankKind.KNOWN.value, "Known content (matches suggest attribution)"),
    (BankKind.ALLOW.value, "Allow-list (matches suppress known-content hits)"),
]
FORMAT_OPTIONS = [
    ("csv", "CSV (signal_type,value,group,outlet,…)"),
    ("json", "JSON (a list of signals)"),
    ("tat", "Tech Against Terrorism hash list (JSON)"),
]
REVIEW_OPTIONS = [
    ("pending", "awaiting review"),
    ("confirmed", "confirmed"),
    ("rejected", "rejected"),
    ("all", "all"),
]


def strictest(levels: Iterable[str | None]) -> str | None:
    """The most restrictive TLP among ``levels`` (None: nothing marked)."""
    ranks = [TLP_LEVELS.index(lv) for lv in levels if lv in TLP_LEVELS]
    return TLP_LEVELS[max(ranks)] if ranks else None


# ---- banks ---------------------------------------------------------------------------------


def _banks_page(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rows, pager = paginate(
        request,
        lambda limit, offset: browse.page_banks(session, principal, limit=limit, offset=offset),
    )
    counts = service.signal_counts(session, rows)
    return render(
        request,
        "matching/banks.html",
        {
            "banks": rows,
            "counts": counts,
            "pager": pager,
            "can_create": principal.is_supervisor,
            "tlp_options": TLP_OPTIONS,
            "kind_options": KIND_OPTIONS,
            "values": values
            or {"name": "", "kind": "known", "tlp": "AMBER", "shared": "", "description": ""},
            "errors": errors or {},
            "pdq_default": DEFAULT_THRESHOLDS["pdq"],
        },
        title="Banks",
        tlp=strictest(b.tlp for b in rows),
        status_code=status_code,
    )


@router.get("/banks", response_class=HTMLResponse, dependencies=[needs("banks:read")])
def banks(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    return _banks_page(request, session, principal)


@router.post("/banks", response_class=HTMLResponse, dependencies=[needs("banks:write")])
def bank_create(
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=16)] = "known",
    tlp: Annotated[str, Form(max_length=16)] = "AMBER",
    shared: Annotated[str, Form(max_length=4)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
    pdq_threshold: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    if not principal.is_supervisor:
        raise Forbidden("creating a bank needs the supervisor or admin role")
    values = {
        "name": name.strip(),
        "kind": kind,
        "tlp": tlp,
        "shared": shared,
        "description": description.strip(),
        "pdq_threshold": pdq_threshold.strip(),
    }
    errors: FormErrors = {}
    if not values["name"]:
        errors["name"] = "Give the bank a name."
    elif len(values["name"]) > 200:
        errors["name"] = "The name can have at most 200 characters."
    if kind not in {k for k, _ in KIND_OPTIONS}:
        errors["kind"] = "Choose known content or allow-list."
    if tlp not in TLP_LEVELS:
        errors["tlp"] = "Choose a TLP 2.0 marking."
    thresholds: dict[str, int] = {}
    if values["pdq_threshold"]:
        if not values["pdq_threshold"].isdigit() or int(values["pdq_threshold"]) > 64:
            errors["pdq_threshold"] = "A PDQ threshold is a whole number from 0 to 64."
        else:
            thresholds["pdq"] = int(values["pdq_threshold"])
    if not errors:
        try:
            data = BankCreate(
                name=values["name"],
                kind=BankKind(kind),
                tlp=tlp,
                shared=bool(shared),
                description=values["description"],
                thresholds=thresholds,
            )
            bank = service.create_bank(session, principal, data)
        except ValidationError as exc:
            errors[""] = str(exc.errors()[0]["msg"])
        except Conflict as exc:
            errors["name"] = exc.detail
        else:
            return redirect(request, f"/banks/{bank.id}", notice=f"Bank “{bank.name}” created.")
    return _banks_page(request, session, principal, values=values, errors=errors, status_code=422)


def _bank_page(
    request: Request,
    session: Session,
    principal: Principal,
    bank: Bank,
    *,
    errors: FormErrors | None = None,
    report: ImportReport | None = None,
    media_report: list[MediaAdded] | None = None,
    fmt: str = "csv",
    status_code: int = 200,
) -> HTMLResponse:
    rows, pager = paginate(
        request,
        lambda limit, offset: browse.page_signals(
            session, principal, bank, limit=limit, offset=offset
        ),
    )
    count = service.signal_counts(session, [bank]).get(bank.id, 0)
    stale = service.stale_counts(session, [bank]).get(bank.id, 0)
    may_change = browse.may_change(principal, bank)
    return render(
        request,
        "matching/bank.html",
        {
            "bank": bank,
            "signals": rows,
            "pager": pager,
            "count": count,
            "stale": stale,
            "may_change": may_change,
            "may_import": may_change and principal.is_supervisor,
            "format_options": FORMAT_OPTIONS,
            "fmt": fmt,
            "errors": errors or {},
            "report": report,
            "media_report": media_report,
            "thresholds": {t: bank.threshold(t) for t in DEFAULT_THRESHOLDS},
        },
        title=f"Bank {bank.name}",
        tlp=strictest([bank.tlp, *(s.tlp for s in rows)]),
        status_code=status_code,
    )


@router.get("/banks/{bank_id}", response_class=HTMLResponse, dependencies=[needs("banks:read")])
def bank_page(
    bank_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    bank = service.get_bank(session, principal, bank_id)
    return _bank_page(request, session, principal, bank)


@router.post(
    "/banks/{bank_id}/import", response_class=HTMLResponse, dependencies=[needs("banks:write")]
)
async def bank_import(
    bank_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    """Upload a CSV, JSON or TAT hash list; the page shows what was added and each bad row."""
    bank = service.get_bank(session, principal, bank_id)
    if not principal.is_supervisor:
        raise Forbidden("importing signals needs the supervisor or admin role")
    async with request.form(max_files=1, max_fields=5) as form:
        fmt = form_values(form, "format")["format"] or "csv"
        upload = form_file(form, "file")
        data = await upload.read(MAX_UPLOAD + 1) if upload is not None else b""
    errors: FormErrors = {}
    if fmt not in bank_io.FORMATS:
        errors["format"] = "Choose CSV, JSON or a TAT hash list."
    if not data:
        errors["file"] = "Choose a file to upload."
    elif len(data) > MAX_UPLOAD:
        raise PayloadTooLarge(f"uploads are limited to {MAX_UPLOAD} bytes")
    report = None
    if not errors:
        try:
            report = await run_in_threadpool(
                bank_io.import_signals, session, principal, bank.id, data, fmt,
                engine=engine_dep(request),
            )  # fmt: skip
        except InvalidInput as exc:
            errors["file"] = exc.detail
    status = 422 if errors else 200
    return _bank_page(
        request, session, principal, bank, errors=errors, report=report, fmt=fmt,
        status_code=status,
    )  # fmt: skip


@router.post(
    "/banks/{bank_id}/media", response_class=HTMLResponse, dependencies=[needs("banks:write")]
)
async def bank_media(
    bank_id: IdPath, request: Request, principal: PagePrincipal, session: DbSession
) -> HTMLResponse:
    """Upload image or video files: each is hashed as matching does and added to the bank;
    the page lists each file's signals, or why it could not be hashed."""
    bank = service.get_bank(session, principal, bank_id)
    if not browse.may_change(principal, bank):
        raise Forbidden("only the bank's agency adds to it")
    async with request.form(max_files=20, max_fields=6) as form:
        values = form_values(form, "group", "outlet")
        uploads = [u for u in form.getlist("media") if isinstance(u, UploadFile) and u.filename]
        files = []
        for u in uploads:
            data = await u.read(MAX_UPLOAD + 1)
            if len(data) > MAX_UPLOAD:
                raise PayloadTooLarge(f"uploads are limited to {MAX_UPLOAD} bytes")
            files.append((u.filename or "upload", data))
    errors: FormErrors = {}
    added = None
    if not files:
        errors["media"] = "Choose one or more image or video files."
    else:
        labels = Labels(**{k: v for k, v in values.items() if v})
        added = await run_in_threadpool(
            bank_io.add_media_files, session, principal, bank.id, files, labels=labels,
            engine=engine_dep(request),
        )  # fmt: skip
    return _bank_page(
        request, session, principal, bank, errors=errors, media_report=added,
        status_code=422 if errors else 200,
    )  # fmt: skip


@router.post("/banks/{bank_id}/signals/{signal_id}/enabled", dependencies=[needs("banks:write")])
def signal_enabled(
    bank_id: IdPath,
    signal_id: IdPath,
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    enabled: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Disable (or enable again) one signal; signals are never deleted."""
    bank = service.get_bank(session, principal, bank_id)
    sig = browse.signal_in_bank(session, bank, signal_id)
    on = enabled == "1"
    service.set_signal_enabled(session, principal, sig.id, on, engine=engine_dep(request))
    back = f"/banks/{bank.id}"
    page = request.query_params.get("page")
    if page and page.isdigit():
        back += f"?page={page}"
    return redirect(request, back, notice=f"Signal {sig.id} {'enabled' if on else 'disabled'}.")


# ---- matches awaiting review ---------------------------------------------------------------


@router.get("/matches", response_class=HTMLResponse, dependencies=[needs("banks:read")])
def matches(request: Request, principal: PagePrincipal, session: DbSession) -> HTMLResponse:
    raw = (request.query_params.get("review") or "pending")[:16]
    try:
        review = review_service.parse_filter(raw)
    except InvalidInput:
        review = review_service.ReviewFilter.PENDING
    rows, pager = paginate(
        request,
        lambda limit, offset: review_service.list_matches(
            session, principal, review=review, limit=limit, offset=offset
        ),
    )
    return render(
        request,
        "matching/matches.html",
        {
            "rows": rows,
            "pager": pager,
            "review": review.value,
            "review_options": REVIEW_OPTIONS,
            "can_review": principal.role is not Role.LIAISON,
        },
        title="Matches awaiting review" if review.value == "pending" else "Matches",
        tlp=strictest(r.signal.tlp or r.bank.tlp for r in rows),
    )


@router.post("/matches/{result_id}/review", dependencies=[needs("banks:write")])
def match_review(
    result_id: IdPath,
    request: Request,
    principal: PagePrincipal,
    session: DbSession,
    decision: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    back = "/matches"
    review = request.query_params.get("review")
    if review in {v for v, _ in REVIEW_OPTIONS}:
        back += f"?review={review}"
    try:
        review_service.review_match(session, principal, result_id, decision, note=note)
    except InvalidInput as exc:
        return redirect(request, back, notice=exc.detail, level="error")
    word = "confirmed" if decision == "confirmed" else "rejected"
    return redirect(request, back, notice=f"Match {result_id} {word}.")
