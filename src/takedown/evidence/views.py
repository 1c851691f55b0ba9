"""Safe viewing of evidence: pages in the shell, captured content behind a sandbox.

Why a separate, signed path: captured HTML is hostile. It is served only from
``/evidence-view/...``, and never as captured: ``safe_html.render_safe``
rewrites it so that it holds no live reference at all (frames, objects,
links, meta refresh, base, forms, SVG, CSS ``url()``/``@import``, event
handlers, ``ping``, resource hints: gone; images and videos we hold point at
this same signed path; images we do not hold become a drawn placeholder).
A sandboxed, CSP-blocked iframe still made Chromium open a TCP connection to
its host: a policy alone cannot keep the analyst's address from the page's
owner. The CSP stays as the second wall: ``sandbox`` (an opaque origin: no
scripts, no forms, no popups, no same-origin access, so no reading of the
app's cookies or DOM), ``default-src 'none'`` with images and media only from
this origin or inline ``data:``, and ``nosniff``. The URL carries an HMAC
signature that expires after a few minutes and names the user it was minted
for, so the view needs no cookie and the access is audited even though the
frame cannot prove a session. The embedding page's own CSP
(``frame-src 'self'``) stops a click inside the frame from navigating it to
the outside world. Media are blurred until the analyst chooses to look. The
original WARC is read, never written: the rewrite is a view.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from takedown.accounts import service as accounts
from takedown.accounts.deps import DbSession, get_settings_dep, needs
from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.evidence import service
from takedown.evidence.models import CaptureStatus, EvidenceCapture, EvidenceFile, FileRole
from takedown.evidence.retention import retain_until
from takedown.evidence.safe_page import safe_page
from takedown.evidence.storage import store_for_settings
from takedown.kit.errors import Forbidden, NotFound
from takedown.kit.types import IdPath
from takedown.web.deps import require_page_role
from takedown.web.nav import register_nav, register_panel
from takedown.web.pagination import paginate
from takedown.web.security import secret_of
from takedown.web.templating import is_htmx, redirect, render, render_fragment

router = APIRouter(include_in_schema=False)
log = logging.getLogger("takedown.evidence")
register_nav("Evidence", "/evidence", roles=(Role.ANALYST, Role.SUPERVISOR), order=60)

AnalystPage = Annotated[Principal, Depends(require_page_role(Role.ANALYST, Role.SUPERVISOR))]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]

VIEW_TTL_SECONDS = 300
SANDBOX_CSP = (
    "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; "
    "style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'"
)
VIEW_HEADERS = {
    "Content-Security-Policy": SANDBOX_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SHOWABLE = ("image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4", "video/webm")


def _sign(key: bytes, capture_id: int, target: str, exp: int, uid: int, aid: int) -> str:
    msg = f"evidence-view\x00{capture_id}\x00{target}\x00{exp}\x00{uid}\x00{aid}".encode()
    digest = hmac.new(key, msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def view_url(
    key: bytes, principal: Principal, capture_id: int, target: str, *, now: float | None = None
) -> str:
    """A short-lived signed URL for one piece of captured content, minted for this user."""
    exp = int((now or time.time()) + VIEW_TTL_SECONDS)
    uid, aid = principal.user_id, principal.agency_id
    sig = _sign(key, capture_id, target, exp, uid, aid)
    return f"/evidence-view/{capture_id}/{target}/{exp}/{uid}/{aid}/{sig}"


@router.get("/evidence", response_class=HTMLResponse, dependencies=[needs("evidence:read")])
def captures_page(request: Request, principal: AnalystPage, session: DbSession) -> HTMLResponse:
    status = (request.query_params.get("status") or "").strip()[:16] or None
    rows, pager = paginate(
        request,
        lambda limit, offset: service.list_captures(
            session, principal, status=status, limit=limit, offset=offset
        ),
    )
    return render(
        request,
        "evidence/list.html",
        {"captures": rows, "pager": pager, "status": status},
        title="Evidence",
    )


def _media_view(
    key: bytes, principal: Principal, cap: EvidenceCapture, files: list[EvidenceFile]
) -> list[dict[str, Any]]:
    out = []
    for f in files:
        if f.role in (FileRole.MEDIA.value, FileRole.SCREENSHOT.value) and f.media_type in SHOWABLE:
            out.append(
                {
                    "file": f,
                    "url": view_url(key, principal, cap.id, f"f{f.id}"),
                    "kind": "video" if f.media_type.startswith("video/") else "image",
                }
            )
    return out


@router.get(
    "/evidence/{capture_id}", response_class=HTMLResponse, dependencies=[needs("evidence:read")]
)
def capture_page(
    capture_id: IdPath, request: Request, principal: AnalystPage, session: DbSession
) -> HTMLResponse:
    cap = service.get_capture(session, principal, capture_id)
    files = service.files_of(session, principal, cap.id)
    key = secret_of(request)
    has_page = (
        bool(cap.final_url)
        and any(f.role == FileRole.WARC.value for f in files)
        and ((cap.content_type or "").startswith(("text/html", "application/xhtml")))
    )
    return render(
        request,
        "evidence/detail.html",
        {
            "cap": cap,
            "files": files,
            "media": _media_view(key, principal, cap, files),
            "page_url": view_url(key, principal, cap.id, "page") if has_page else None,
            "retain_until": retain_until(session, cap),
            "holds": service.list_holds(session, principal, item_id=cap.item_id),
        },
        title=f"Evidence capture {cap.id}",
    )


def _viewer(session: Session, uid: int, aid: int) -> Principal:
    try:
        user = accounts.get_user(session, uid) if uid > 0 else None
    except NotFound:
        user = None
    if user is None or not user.is_active or user.agency_id != aid:
        raise Forbidden("this viewing link is not valid for an active user")
    return Principal(
        user_id=uid, agency_id=aid, role=Role(user.role), via="signed_url", email=user.email
    )


@router.get("/evidence-view/{capture_id}/{target}/{exp}/{uid}/{aid}/{sig}")
def sandboxed_view(
    capture_id: int,
    target: str,
    exp: int,
    uid: int,
    aid: int,
    sig: str,
    request: Request,
    session: DbSession,
    settings: SettingsDep,
) -> Response:
    """Captured content under the sandbox policy; the signed URL stands in for the cookie."""
    expected = _sign(secret_of(request), capture_id, target, exp, uid, aid)
    if not hmac.compare_digest(expected, sig) or exp < time.time():
        return Response(
            "link expired or invalid",
            status_code=403,
            media_type="text/plain",
            headers=VIEW_HEADERS,
        )
    principal = _viewer(session, uid, aid)
    if principal.is_liaison:
        raise Forbidden("platform liaisons have no access to the evidence vault")
    store = store_for_settings(settings)
    cap = service.get_capture(session, principal, capture_id)
    if target == "page":
        files = service.files_of(session, principal, cap.id)
        warc = next((f for f in files if f.role == FileRole.WARC.value), None)
        if warc is None:
            raise NotFound("this capture has no WARC")
        _, data = service.read_file(
            session, principal, cap.id, warc.id, store=store, purpose="view"
        )
        key = secret_of(request)
        safe = safe_page(
            data,
            cap.final_url or "",
            files,
            showable=SHOWABLE,
            mint=lambda file_id: view_url(key, principal, cap.id, f"m{file_id}"),
        )
        return Response(
            safe.html.encode("utf-8"), media_type="text/html; charset=utf-8", headers=VIEW_HEADERS
        )
    if target[:1] not in ("f", "m") or not target[1:].isdigit():
        raise NotFound("no such view")
    file_id = int(target[1:])
    if target[0] == "m" and not any(
        f.id == file_id and f.media_type in SHOWABLE
        for f in service.files_of(session, principal, cap.id)
    ):
        raise NotFound("only captured images and videos are shown inside the page")
    row, data = service.read_file(session, principal, cap.id, file_id, store=store, purpose="view")
    if row.media_type in SHOWABLE:
        headers = VIEW_HEADERS
        if target[0] == "m":
            # Embedded in the sandboxed page, whose origin is opaque: CORP same-origin would
            # block it there. The signed, per-user, short-lived URL is the capability.
            headers = {**VIEW_HEADERS, "Cross-Origin-Resource-Policy": "cross-origin"}
        return Response(data, media_type=row.media_type, headers=headers)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={**VIEW_HEADERS, "Content-Disposition": "attachment"},
    )


# --- the item page's latest capture and "Capture now" -------------------------------------

EXCERPT_CHARS = 600
THUMB_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
#: How long the panel keeps polling for a requested capture before it asks for a reload.
POLL_SECONDS = 300


def latest_capture_context(
    request: Request,
    session: Session,
    principal: Principal,
    item_id: int,
    *,
    after: int | None = None,
    since: int | None = None,
) -> dict[str, Any]:
    """The item page's evidence panel: the newest finished capture by the caller's agency
    (title, the start of its text, a thumbnail shown blurred), and whether one is on its way.

    ``after``: a capture was requested when the newest capture id was this; the panel polls
    until a newer capture has finished (or ``POLL_SECONDS`` after ``since`` have passed).
    """
    caps, total = service.list_captures(session, principal, item_id=item_id, limit=10)
    latest = next((c for c in caps if c.status != CaptureStatus.RUNNING.value), None)
    running = any(c.status == CaptureStatus.RUNNING.value for c in caps)
    waiting = after is not None and (latest is None or latest.id <= after)
    overdue = since is not None and time.time() - since > POLL_SECONDS
    thumb: dict[str, Any] | None = None
    if latest is not None and latest.status == CaptureStatus.COMPLETE.value:
        files = service.files_of(session, principal, latest.id)
        pick = next((f for f in files if f.role == FileRole.SCREENSHOT.value), None) or next(
            (f for f in files if f.role == FileRole.MEDIA.value and f.media_type in THUMB_TYPES),
            None,
        )
        if pick is not None and pick.media_type in THUMB_TYPES:
            key = secret_of(request)
            thumb = {"file": pick, "url": view_url(key, principal, latest.id, f"f{pick.id}")}
    excerpt = (latest.text_excerpt or "") if latest is not None else ""
    return {
        "item_id": item_id,
        "cap": latest,
        "total": total,
        "thumb": thumb,
        "excerpt": excerpt[:EXCERPT_CHARS],
        "excerpt_cut": len(excerpt) > EXCERPT_CHARS,
        "running": running,
        "waiting": waiting and not overdue,
        "overdue": waiting and overdue,
        "poll": (running or waiting) and not overdue,
        "after": after if after is not None else (caps[0].id if caps else 0),
        "since": since if since is not None else int(time.time()),
    }


def _enqueue_capture(dispatcher: Any, item_id: int, user_id: int, screenshot: bool) -> None:
    """Hand the capture to the job runtime (the web process's pool, or a worker)."""
    if dispatcher is None:
        log.warning("no job dispatcher: the capture of item %d was not started", item_id)
        return
    extra = {"with_screenshot": True} if screenshot else {}
    try:
        dispatcher.enqueue("evidence.capture", item_ids=[item_id], user_id=user_id, **extra)
    except Exception:
        log.exception("could not enqueue the capture of item %d", item_id)


@router.post(
    "/evidence/items/{item_id}/capture", response_model=None, dependencies=[needs("evidence:write")]
)
def capture_now(
    item_id: IdPath,
    request: Request,
    background: BackgroundTasks,
    principal: AnalystPage,
    session: DbSession,
    screenshot: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Capture the item now, in the background (with a full-page screenshot if asked: the
    thumbnail of a page with no image); the panel polls until the capture is in."""
    item, after = service.request_capture(session, principal, item_id)
    background.add_task(
        _enqueue_capture,
        getattr(request.app.state, "dispatcher", None),
        item.id,
        principal.user_id,
        screenshot == "1",
    )
    if is_htmx(request):
        ctx = latest_capture_context(
            request, session, principal, item.id, after=after, since=int(time.time())
        )
        return render_fragment(request, "evidence/_latest.html", {"lc": ctx})
    return redirect(
        request,
        f"/items/{item.id}",
        notice="Capture requested: it runs in the background and shows here when it is in.",
    )


@router.get(
    "/evidence/items/{item_id}/latest",
    response_class=HTMLResponse,
    dependencies=[needs("evidence:read")],
)
def latest_capture_fragment(
    item_id: IdPath,
    request: Request,
    principal: AnalystPage,
    session: DbSession,
    after: int | None = None,
    since: int | None = None,
) -> HTMLResponse:
    from takedown.items.service import get_item

    item = get_item(session, principal, item_id)
    ctx = latest_capture_context(request, session, principal, item.id, after=after, since=since)
    return render_fragment(request, "evidence/_latest.html", {"lc": ctx})


def _holds_ending_panel(session: Session, principal: Principal) -> dict[str, Any] | None:
    holds = service.holds_ending_soon(session, principal)
    return {"holds": holds} if holds else None


register_panel(
    "evidence-holds-ending",
    "Evidence holds ending soon",
    "evidence/_panel_holds_ending.html",
    _holds_ending_panel,
    roles=(Role.ANALYST, Role.SUPERVISOR),
    order=35,
)
