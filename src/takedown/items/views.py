"""HTML pages of items: the triage queue (filters, saved filters, bulk actions, keyboard)
and the item page (identity, sightings, suggestions, assessment, holds, evidence, checks).

The item page gathers what other capabilities know about the item through their
services (matching, evidence, verification, referrals): this module is where the
workbench is composed, so the items services stay free of those imports.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from takedown.accounts.deps import DbSession
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.evidence import service as evidence
from takedown.evidence import views as evidence_views
from takedown.items import service, workbench
from takedown.items.models import ItemStatus, TcoCategory, Verdict
from takedown.items.repository import ItemFilters
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from takedown.kit.types import IdPath
from takedown.matching import service as matching
from takedown.operations import service as operations
from takedown.platforms import service as platforms
from takedown.platforms.canon.types import ItemKind
from takedown.referrals import service as referrals
from takedown.verification import service as verification
from takedown.web.deps import (
    FormErrors,
    PageForm,
    error_field,
    form_list,
    form_values,
    require_page_role,
)
from takedown.web.nav import register_nav, register_panel
from takedown.web.pagination import paginate
from takedown.web.templating import redirect, render

router = APIRouter(include_in_schema=False)

register_nav(
    "Queue", "/queue", roles=(Role.ANALYST, Role.SUPERVISOR), order=20, prefixes=("/items",)
)

AnalystPage = Annotated[Principal, Depends(require_page_role(Role.ANALYST, Role.SUPERVISOR))]

VERDICTS = [
    (Verdict.TERRORIST_CONTENT.value, "Terrorist content"),
    (Verdict.NOT_TERRORIST_CONTENT.value, "Not terrorist content"),
    (Verdict.NEEDS_REVIEW.value, "Needs review"),
]
CATEGORIES = [
    (TcoCategory.INCITEMENT.value, "(a) incites the commission of terrorist offences"),
    (TcoCategory.SOLICITATION_COMMIT.value, "(b) solicits the commission of terrorist offences"),
    (TcoCategory.SOLICITATION_PARTICIPATE.value, "(c) solicits participation in a terrorist group"),
    (TcoCategory.INSTRUCTION.value, "(d) instructs on weapons, explosives or methods"),
    (TcoCategory.THREAT.value, "(e) threatens to commit a terrorist offence"),
]
ASSESS_FIELDS = {
    "categories": ("categor",),
    "verdict": ("verdict",),
    "language": ("language",),
    "group": ("group",),
    "outlet": ("outlet",),
    "notes": ("notes",),
}
MAX_TEXT = 20_000


# --- the queue --------------------------------------------------------------------------------


def _filters(
    request: Request, session: Session, principal: Principal
) -> tuple[ItemFilters, dict[str, str], FormErrors]:
    """The queue's filters from the query string, read leniently (people edit URLs)."""
    q = request.query_params
    raw = {k: (q.get(k) or "").strip()[:200] for k in workbench.FILTER_KEYS}
    errors: FormErrors = {}
    status = raw["status"] if raw["status"] in {s.value for s in ItemStatus} else ""
    kind = raw["kind"] if raw["kind"] in {k.value for k in ItemKind} else ""
    raw["status"], raw["kind"] = status, kind
    op_id: int | None = None
    if raw["operation"]:
        try:
            if not raw["operation"].isdigit():
                raise NotFound("no such operation")
            op_id = operations.get_operation(session, principal, int(raw["operation"])).id
        except NotFound:
            errors["operation"] = "no such operation"
            op_id = -1  # matches nothing: never widen the listing on a bad filter
    matched = {"yes": True, "no": False}.get(raw["match"])
    f = ItemFilters(
        status=[status] if status else None,
        platform=raw["platform"] or None,
        kind=kind or None,
        q=raw["q"] or None,
        operation_id=op_id,
        label=raw["label"] or None,
        matched=matched,
    )
    return f, raw, errors


@router.get("/queue", response_class=HTMLResponse)
def queue_page(request: Request, principal: AnalystPage, session: DbSession) -> HTMLResponse:
    filters, raw, errors = _filters(request, session, principal)
    rows, pager = paginate(
        request,
        lambda limit, offset: workbench.queue(
            session, principal, filters, limit=limit, offset=offset
        ),
    )
    query = urlencode([(k, v) for k, v in raw.items() if v])
    plats, _ = platforms.list_platforms(session, limit=500)
    return render(
        request,
        "items/queue.html",
        {
            "rows": rows,
            "pager": pager,
            "f": raw,
            "errors": errors,
            "query": query,
            "back": "/queue" + (f"?{query}" if query else ""),
            "saved": workbench.list_filters(session, principal),
            "statuses": [(s.value, s.value.replace("_", " ")) for s in ItemStatus],
            "kinds": [(k.value, k.value) for k in ItemKind],
            "platforms": [(p.slug, p.name) for p in plats],
            "operations": [
                (str(o.id), o.name)
                for o in operations.list_operations(session, principal, limit=200)[0]
            ],
            "verdicts": VERDICTS,
            "categories": CATEGORIES,
        },
        title="Queue",
        tlp="AMBER",
    )


def _back(raw: str) -> str:
    """Only back to the queue (never an open redirect)."""
    return raw if raw == "/queue" or raw.startswith("/queue?") else "/queue"


@router.post("/queue/filters", response_model=None)
def save_filter(
    request: Request, form_data: PageForm, principal: AnalystPage, session: DbSession
) -> Response:
    form = form_values(form_data, "name", "query")
    back = _back("/queue?" + workbench.clean_query(form["query"]))
    try:
        saved = workbench.save_filter(session, principal, form["name"], form["query"])
    except (InvalidInput, Conflict, Forbidden) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    return redirect(request, back, notice=f"Filter “{saved.name}” saved.")


@router.post("/queue/filters/{filter_id}/delete", response_model=None)
def delete_filter(
    filter_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> Response:
    workbench.delete_filter(session, principal, filter_id)
    return redirect(request, "/queue", notice="Filter deleted.")


@router.post("/queue/bulk", response_model=None)
def bulk(
    request: Request, form_data: PageForm, principal: AnalystPage, session: DbSession
) -> Response:
    form = form_data
    v = form_values(form, "action", "verdict", "reason", "contact_point", "operation", "back")
    back = _back(v["back"])
    try:
        ids = workbench.parse_ids(form_list(form, "item_ids"))
        if v["action"] == "assess":
            result = workbench.bulk_assess(
                session, principal, ids, v["verdict"], form_list(form, "categories")
            )
            text = result.summary("Assessed")
        elif v["action"] == "hold":
            result = workbench.bulk_hold(
                session,
                principal,
                ids,
                reason=v["reason"][:MAX_TEXT],
                contact_point=v["contact_point"][:320] or None,
            )
            text = result.summary("Put a hold on")
        elif v["action"] == "operation":
            if not v["operation"].isdigit():
                raise InvalidInput("choose an operation to add the items to")
            added = operations.add_items(session, principal, int(v["operation"]), ids)
            text = f"Added {added.added} items to the operation ({added.already} were in it)."
            result = workbench.BulkResult(done=ids)
        else:
            raise InvalidInput("choose an action")
    except (InvalidInput, Conflict, Forbidden) as exc:
        session.rollback()
        return redirect(request, back, notice=exc.detail, level="error")
    return redirect(request, back, notice=text, level="warning" if result.failed else "success")


# --- the item page ----------------------------------------------------------------------------


def _letters(labels: Counter[str]) -> list[str]:
    """Art. 2(7) letters from bank labels ("a", "(c)", "incitement"); others are ignored."""
    out: set[str] = set()
    for label in labels:
        try:
            out.update(service.normalize_categories([label]))
        except InvalidInput:
            continue
    return sorted(out)


def _suggestions(matches: list[Any], title: str | None) -> dict[str, Any]:
    """What the hash matches' labels and the language model suggest for the assessment."""
    labels: dict[str, Counter[str]] = {"group": Counter(), "outlet": Counter(), "tco": Counter()}
    for m in matches:
        lab = (m.details or {}).get("labels") or {}
        for key, dest in (("group", "group"), ("outlet", "outlet"), ("tco_category", "tco")):
            value = lab.get(key)
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, str) and one.strip():
                    labels[dest][one.strip()[:200]] += 1
    return {
        "group": labels["group"].most_common(1)[0][0] if labels["group"] else "",
        "outlet": labels["outlet"].most_common(1)[0][0] if labels["outlet"] else "",
        "categories": _letters(labels["tco"]),
        "languages": service.suggest_language(title),
    }


def _item_context(
    request: Request, session: Session, principal: Principal, item_id: int
) -> dict[str, Any]:
    item = service.get_item(session, principal, item_id)
    matches = matching.visible_results_for_item(session, principal, item.id)
    suggest = _suggestions(matches, item.title)
    captures, n_captures = evidence.list_captures(session, principal, item_id=item.id, limit=20)
    _, sched, checks = verification.item_timeline(session, principal, item.id)
    return {
        "item": item,
        "parent": workbench.parent_of(session, principal, item),
        "sightings": service.sightings_for(session, principal, item),
        "assessments": service.assessments_for(session, principal, item.id),
        "holds": service.holds_for(session, principal, item.id),
        "matches": matches,
        "suggest": suggest,
        "captures": captures,
        "n_captures": n_captures,
        "latest_capture": evidence_views.latest_capture_context(
            request, session, principal, item.id
        ),
        "sched": sched,
        "checks": checks[-5:],
        "n_checks": len(checks),
        "referrals": referrals.referrals_for_item(session, principal, item.id),
        "verdicts": VERDICTS,
        "categories": CATEGORIES,
        "errors": {},
        "hold_errors": {},
        "values": {
            "verdict": "",
            "categories": suggest["categories"],
            "group": suggest["group"],
            "outlet": suggest["outlet"],
            "language": suggest["languages"][0][0] if suggest["languages"] else "",
            "notes": "",
        },
        "hold_values": {"reason": "", "contact_point": ""},
    }


def _item_page(request: Request, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        "items/item.html",
        ctx,
        title=f"Item {ctx['item'].id}",
        tlp="AMBER",
        status_code=status_code,
    )


@router.get("/items/{item_id}", response_class=HTMLResponse)
def item_page(
    item_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> HTMLResponse:
    return _item_page(request, _item_context(request, session, principal, item_id))


@router.post("/items/{item_id}/assess", response_model=None)
def assess_form(
    item_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: AnalystPage,
    session: DbSession,
) -> Response:
    form = form_data
    v = form_values(form, "verdict", "group", "outlet", "language", "notes")
    cats = form_list(form, "categories")
    errors: FormErrors = {}
    if not v["verdict"]:
        errors["verdict"] = "choose a verdict"
    if len(v["notes"]) > MAX_TEXT:
        errors["notes"] = f"notes are longer than {MAX_TEXT} characters"
    if not errors:
        try:
            service.assess(
                session,
                principal,
                item_id,
                v["verdict"],
                cats,
                v["group"],
                v["outlet"],
                v["language"],
                v["notes"],
            )
        except InvalidInput as exc:
            session.rollback()
            errors[error_field(exc.detail, ASSESS_FIELDS)] = exc.detail
    if errors:
        ctx = _item_context(request, session, principal, item_id)
        ctx["errors"] = errors
        ctx["values"] = {**v, "categories": cats}
        return _item_page(request, ctx, status_code=422)
    return redirect(request, f"/items/{item_id}", notice="Assessment saved.")


@router.post("/items/{item_id}/holds", response_model=None)
def hold_form(
    item_id: IdPath,
    request: Request,
    form_data: PageForm,
    principal: AnalystPage,
    session: DbSession,
) -> Response:
    v = form_values(form_data, "reason", "contact_point")
    try:
        service.place_hold(
            session,
            principal,
            item_id,
            reason=v["reason"][:MAX_TEXT],
            contact_point=v["contact_point"][:320] or None,
        )
    except InvalidInput as exc:
        session.rollback()
        ctx = _item_context(request, session, principal, item_id)
        ctx["hold_errors"] = {
            error_field(exc.detail, {"contact_point": ("contact",)}, "reason"): exc.detail
        }
        ctx["hold_values"] = v
        return _item_page(request, ctx, status_code=422)
    except Conflict as exc:
        session.rollback()
        return redirect(request, f"/items/{item_id}", notice=exc.detail, level="error")
    return redirect(request, f"/items/{item_id}", notice="Hold placed: nobody can refer it now.")


@router.post("/items/{item_id}/holds/{hold_id}/release", response_model=None)
def release_form(
    item_id: IdPath, hold_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> Response:
    try:
        service.release_hold(session, principal, item_id, hold_id)
    except Conflict as exc:
        session.rollback()
        return redirect(request, f"/items/{item_id}", notice=exc.detail, level="error")
    return redirect(request, f"/items/{item_id}", notice="Hold released.")


# --- the home page's work panels ---------------------------------------------------------------


def _awaiting_panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    rows, total = service.list_items(
        session, principal, ItemFilters(status=[ItemStatus.NEW.value]), limit=5
    )
    return {"items": rows, "total": total}


def _holds_panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    holds, total = service.open_holds_of_my_agency(session, principal, limit=5)
    return {"holds": holds, "total": total} if total else None


register_panel(
    "items-awaiting",
    "Awaiting assessment",
    "items/_panel_awaiting.html",
    _awaiting_panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=10,
)
register_panel(
    "items-holds",
    "Your agency's holds",
    "items/_panel_holds.html",
    _holds_panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=30,
)
