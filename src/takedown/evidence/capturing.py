"""Capture orchestration: rows, the network run outside any transaction, storage, audit.

``capture_items`` is what referrals call before sending a referral: it opens
its own short transactions (one to create the capture rows, one to store the
results), runs the network part in between, and never raises for a failed
capture; each failure is a capture row with status ``failed`` and a reason.
``capture_items_in_session`` does the same inside a caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.config import Settings
from takedown.db import session_scope
from takedown.evidence import repository
from takedown.evidence.capture.engine import CaptureEngine, CaptureJob, CaptureOutput
from takedown.evidence.capture.fetch import Limits
from takedown.evidence.manifest import manifest_bytes, manifest_dict
from takedown.evidence.models import CaptureStatus, EvidenceCapture, EvidenceFile, FileRole
from takedown.evidence.storage import EvidenceStore, store_for_settings
from takedown.kit import aio
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput, TakedownError
from takedown.kit.http import DEFAULT_USER_AGENT, make_client

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Called for each stored media file of a completed capture, inside the transaction.
MediaHook = Callable[[Session, EvidenceCapture, EvidenceFile, bytes], None]
#: ``hook(session, capture, text_file_row, text)``: the text extracted from a capture.
TextHook = Callable[[Session, EvidenceCapture, EvidenceFile, str], None]


@dataclass(frozen=True)
class CaptureSummary:
    item_id: int
    capture_id: int | None
    status: str
    failure_code: str | None = None
    failure_reason: str | None = None
    manifest_sha256: str | None = None


def http_client_for(
    settings: Settings, limits: Limits, *, per_host_limit: int = 8
) -> httpx.AsyncClient:
    """The guarded client, configured from the one Settings (resolver map, allow-list, proxies)."""
    return make_client(
        **settings.http_client_options(),
        timeout=limits.read_timeout,
        follow_redirects=False,
        per_host_limit=per_host_limit,
        max_connections=128,
        user_agent=DEFAULT_USER_AGENT,
    )


def access_context_for(settings: Settings) -> dict[str, Any]:
    return {
        "proxy": "http proxy" if settings.http_proxy else None,
        "tor_proxy_configured": bool(settings.tor_proxy),
        "testbed_resolver": bool(settings.resolve),
        "region": None,
    }


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine from sync code (see :func:`takedown.kit.aio.run_sync`)."""
    return aio.run_sync(factory, name="evidence-capture")


#: How much of a capture's text the database keeps for the item page and the queue's search.
TEXT_EXCERPT_CHARS = 20_000
_BLANKS_RE = re.compile(r"\s+")


def text_excerpt(text: str | None, limit: int = TEXT_EXCERPT_CHARS) -> str | None:
    """The start of a capture's text with runs of blanks folded to one space (None if empty)."""
    if not text:
        return None
    folded = _BLANKS_RE.sub(" ", text[: limit * 2]).strip()[:limit]
    return folded or None


# --- phase 1: rows ---------------------------------------------------------------------


def _start(
    session: Session,
    principal: Principal,
    item_ids: Sequence[int],
    *,
    with_screenshot: bool,
    store_name: str,
    clock: Clock,
    job_key: str | None = None,
) -> tuple[list[CaptureJob], list[CaptureSummary]]:
    """The capture rows (status running), committed before the network run.

    With ``job_key`` (a keyed capture job) an item gets one capture per job however often
    the job is delivered: a capture an earlier delivery finished is reported as it is, one
    it left running (a killed worker) is run again on the same row."""
    from takedown.items.service import get_item

    if principal.agency_id <= 0:
        raise InvalidInput("evidence is captured on behalf of an agency user")
    jobs: list[CaptureJob] = []
    refused: list[CaptureSummary] = []
    done: list[CaptureSummary] = []
    for item_id in dict.fromkeys(item_ids):
        try:
            item = get_item(session, principal, item_id)
        except TakedownError as exc:
            refused.append(CaptureSummary(item_id, None, "failed", exc.type_slug, exc.detail))
            continue
        cap = EvidenceCapture(
            item_id=item.id,
            agency_id=principal.agency_id,
            requested_by=principal.user_id if principal.user_id > 0 else None,
            status=CaptureStatus.RUNNING.value,
            url_reported=item.fetch_url or item.canonical_url,
            url_canonical=item.canonical_url,
            with_screenshot=with_screenshot,
            storage_backend=store_name,
            created_at=clock.now(),
            job_key=job_key,
        )
        if job_key is None:
            repository.add(session, cap)
        else:
            earlier = repository.capture_of_job(session, job_key, item.id)
            if earlier is None and not repository.add_capture_of_job(session, cap):
                earlier = repository.capture_of_job(session, job_key, item.id)
                assert earlier is not None  # the constraint that refused ours names it
            cap = earlier or cap
        if cap.status != CaptureStatus.RUNNING.value:  # an earlier delivery finished it
            done.append(
                CaptureSummary(cap.item_id, cap.id, cap.status, manifest_sha256=cap.manifest_sha256)
            )
            continue
        jobs.append(
            CaptureJob(cap.id, cap.url_reported, cap.url_canonical, with_screenshot=with_screenshot)
        )
    return jobs, refused + done


# --- phase 2: network --------------------------------------------------------------------


async def run_jobs(
    jobs: Sequence[CaptureJob],
    *,
    settings: Settings,
    limits: Limits | None = None,
    client: httpx.AsyncClient | None = None,
    clock: Clock | None = None,
    concurrency: int = 64,
) -> list[CaptureOutput]:
    limits = limits or Limits()
    own = client is None
    client = client or http_client_for(settings, limits)
    try:
        shooter_cm = None
        if any(j.with_screenshot for j in jobs):
            from takedown.evidence.capture.screenshot import browser_screenshotter

            shooter_cm = browser_screenshotter(settings, client, limits=limits)
        if shooter_cm is None:
            engine = CaptureEngine(
                client,
                limits=limits,
                concurrency=concurrency,
                clock=clock,
                access_context=access_context_for(settings),
            )
            return await engine.capture_many(jobs)
        async with shooter_cm as shooter:
            engine = CaptureEngine(
                client,
                limits=limits,
                concurrency=concurrency,
                clock=clock,
                screenshotter=shooter,
                access_context=access_context_for(settings),
            )
            return await engine.capture_many(jobs)
    finally:
        if own:
            await client.aclose()


# --- phase 3: storage, manifest, audit -----------------------------------------------------


def _collector(session: Session, cap: EvidenceCapture, principal: Principal) -> dict[str, Any]:
    return {
        "user_id": cap.requested_by,
        "email": principal.email or None,
        "agency_id": cap.agency_id,
        "role": principal.role.value,
        "via": principal.via,
    }


def _finish_one(
    session: Session,
    principal: Principal,
    cap: EvidenceCapture,
    out: CaptureOutput,
    store: EvidenceStore,
    clock: Clock,
    defer_hooks: bool,
) -> CaptureSummary:
    cap.captured_at = out.captured_at
    cap.final_url = out.final_url
    cap.http_status = out.http_status
    cap.content_type = (out.content_type or "")[:200] or None
    cap.title = out.title
    cap.text_excerpt = text_excerpt(out.text)
    cap.tool = out.tool.get("name", "takedown-evidence")
    cap.tool_version = " ".join(f"{k}={v}" for k, v in sorted(out.tool.items()) if k != "name")[:64]
    cap.access_context = out.access_context
    cap.response_headers = [[k, v] for k, v in out.response_headers]
    cap.tls_certificate = out.tls
    files: list[tuple[EvidenceFile, bytes]] = []
    locations: dict[str, str] = {}
    for f in out.files:
        stored = store.put(f.data)
        row = EvidenceFile(
            capture_id=cap.id,
            role=f.role,
            name=f.name,
            sha256=stored.sha256,
            size=stored.size,
            media_type=f.media_type[:200],
            source_url=f.source_url,
            created_at=clock.now(),
            created_by=cap.requested_by,
        )
        repository.add(session, row)
        files.append((row, f.data))
        locations[f.name] = store.locate(stored.sha256)
    if out.failure is not None:
        cap.status = CaptureStatus.FAILED.value
        cap.failure_reason = f"{out.failure[0]}: {out.failure[1]}"
    else:
        cap.status = CaptureStatus.COMPLETE.value
    item = repository.item(session, cap.item_id)
    manifest = manifest_bytes(
        manifest_dict(
            cap,
            [r for r, _ in files],
            item_identity=item.identity if item else "",
            platform=item.platform if item else "",
            collector=_collector(session, cap, principal),
            storage_locations=locations,
            redirect_chain=out.redirect_chain,
            warnings=out.warnings,
        )
    )
    mstored = store.put(manifest)
    repository.add(
        session,
        EvidenceFile(
            capture_id=cap.id,
            role=FileRole.MANIFEST.value,
            name="manifest.json",
            sha256=mstored.sha256,
            size=mstored.size,
            media_type="application/json",
            created_at=clock.now(),
            created_by=cap.requested_by,
        ),
    )
    cap.manifest_sha256 = mstored.sha256
    details: dict[str, Any] = {
        "item_id": cap.item_id,
        "url": cap.url_reported,
        "manifest_sha256": mstored.sha256,
        "files": {r.name: r.sha256 for r, _ in files},
        "status": cap.status,
    }
    if out.failure is not None:
        details["failure"] = out.failure[0]
        details["reason"] = out.failure[1]
    action = "evidence.captured" if out.failure is None else "evidence.capture_failed"
    record(session, principal, action, repository.SUBJECT, cap.id, details, clock=clock)
    if out.failure is None and not defer_hooks:
        run_media_hooks(session, cap, files, clock.now())
    if out.failure is None:
        run_text_hooks(session, cap, files)
    return CaptureSummary(
        cap.item_id,
        cap.id,
        cap.status,
        out.failure[0] if out.failure else None,
        out.failure[1] if out.failure else None,
        mstored.sha256,
    )


def run_media_hooks(
    session: Session,
    cap: EvidenceCapture,
    files: Sequence[tuple[EvidenceFile, bytes]],
    now: dt.datetime,
) -> None:
    """Let matching (and any other listener) see captured media; a hook failure is logged only."""
    hooks = list(on_media_captured)
    for row, data in files:
        if row.role != FileRole.MEDIA.value:
            continue
        for hook in hooks:
            try:
                with session.begin_nested():
                    hook(session, cap, row, data)
            except Exception:
                log.exception("media hook failed for capture %s file %s", cap.id, row.name)
        row.hooks_done_at = now


def run_text_hooks(
    session: Session, cap: EvidenceCapture, files: Sequence[tuple[EvidenceFile, bytes]]
) -> None:
    """Let listeners (coins: addresses in the text) read a capture's text; they are cheap,
    so they run at once even when media hooks are deferred. A failure is logged only."""
    hooks = list(on_text_captured)
    if not hooks:
        return
    for row, data in files:
        if row.role != FileRole.TEXT.value:
            continue
        text = data.decode("utf-8", "replace")
        for hook in hooks:
            try:
                with session.begin_nested():
                    hook(session, cap, row, text)
            except Exception:
                log.exception("text hook failed for capture %s file %s", cap.id, row.name)


def process_pending_media(
    session: Session, *, store: EvidenceStore, clock: Clock | None = None, limit: int = 200
) -> int:
    """Run the media hooks on files captured with ``defer_hooks`` (the ``evidence.media`` job).

    Idempotent: a file is marked once its hooks ran, so a crash re-runs only the rest.
    """
    now = (clock or SystemClock()).now()
    done = 0
    for row in repository.media_pending_hooks(session, limit):
        cap = repository.capture(session, row.capture_id)
        if cap is None:
            continue
        try:
            data = store.get(row.sha256)
        except TakedownError:
            log.warning("media %s of capture %s is missing; hooks skipped", row.sha256, cap.id)
            row.hooks_done_at = now
            continue
        run_media_hooks(session, cap, [(row, data)], now)
        done += 1
    return done


def matching_hook(session: Session, cap: EvidenceCapture, row: EvidenceFile, data: bytes) -> None:
    """Default hook: hash and match the media against the banks the agency may use."""
    if not row.media_type.startswith(("image/", "video/")):
        return
    from takedown.matching.service import match_item_media

    match_item_media(session, cap.item_id, data, agency_id=cap.agency_id)


#: Hooks run for each media file of a completed capture; matching's is there by default.
on_media_captured: list[MediaHook] = [matching_hook]
#: Hooks run for each text file of a completed capture (``bootstrap.wire_hooks`` adds coins').
on_text_captured: list[TextHook] = []


def _fail(
    session: Session,
    principal: Principal | None,
    cap: EvidenceCapture,
    code: str,
    reason: str,
    clock: Clock,
) -> CaptureSummary:
    cap.status = CaptureStatus.FAILED.value
    cap.failure_reason = f"{code}: {reason}"
    record(
        session,
        principal,
        "evidence.capture_failed",
        repository.SUBJECT,
        cap.id,
        {"item_id": cap.item_id, "url": cap.url_reported, "failure": code, "reason": reason},
        clock=clock,
    )
    return CaptureSummary(cap.item_id, cap.id, cap.status, code, reason)


def _finish(
    session: Session,
    principal: Principal,
    outputs: Sequence[CaptureOutput],
    store: EvidenceStore,
    clock: Clock,
    defer_hooks: bool = False,
) -> list[CaptureSummary]:
    summaries = []
    # Held until the caller commits: orphan collection never deletes an object between
    # our ``put`` and the commit of the rows naming it (``orphans`` explains why).
    repository.lock_store_writes(session, exclusive=False)
    # One durability barrier for the whole batch (files and manifests), not one per file;
    # it completes before the caller commits the rows that name these objects.
    with store.batch():
        for out in outputs:
            # Locked and re-read: when two deliveries of a keyed job ran the same capture,
            # the second finds it finished and stores nothing (one manifest, one audit event).
            cap = repository.capture(session, out.key, lock=True)
            if cap is None or cap.status != CaptureStatus.RUNNING.value:
                continue
            try:
                with session.begin_nested():
                    summaries.append(
                        _finish_one(session, principal, cap, out, store, clock, defer_hooks)
                    )
            except Exception as exc:
                log.exception("storing capture %s failed", cap.id)
                summaries.append(_fail(session, principal, cap, "storage", repr(exc), clock))
    return summaries


#: A capture still ``running`` this long after it started was left by a process that
#: stopped (killed, crashed, restarted): a capture takes seconds to minutes, every request
#: in it being bounded by ``Limits``.
INTERRUPTED_AFTER = dt.timedelta(hours=1)


def fail_interrupted(
    session: Session, *, clock: Clock | None = None, after: dt.timedelta = INTERRUPTED_AFTER
) -> list[CaptureSummary]:
    """Mark captures left running by a stopped process as failed (``interrupted``), each
    with an audit event, so the item page stops showing them as under way and the analyst
    knows to capture again. A keyed job delivered later finds its capture failed and
    leaves it so (one capture per job and item)."""
    clock = clock or SystemClock()
    minutes = int(after.total_seconds() // 60)
    reason = f"still running {minutes} minutes after it started: the process running it stopped"
    return [
        _fail(session, None, cap, "interrupted", reason, clock)
        for cap in repository.running_captures_before(session, clock.now() - after)
    ]


# --- entry points -----------------------------------------------------------------------


def capture_items_in_session(
    session: Session,
    principal: Principal,
    item_ids: Sequence[int],
    *,
    settings: Settings,
    with_screenshot: bool = False,
    store: EvidenceStore | None = None,
    clock: Clock | None = None,
    limits: Limits | None = None,
    defer_hooks: bool = False,
) -> list[CaptureSummary]:
    """Capture inside the caller's transaction (the caller commits)."""
    clock = clock or SystemClock()
    store = store or store_for_settings(settings)
    jobs, refused = _start(
        session,
        principal,
        item_ids,
        with_screenshot=with_screenshot,
        store_name=store.name,
        clock=clock,
    )
    outputs = run_sync(lambda: run_jobs(jobs, settings=settings, limits=limits, clock=clock))
    return refused + _finish(session, principal, outputs, store, clock, defer_hooks)


def capture_items(
    session_factory: sessionmaker[Session],
    principal: Principal,
    item_ids: Sequence[int],
    *,
    settings: Settings,
    with_screenshot: bool = False,
    store: EvidenceStore | None = None,
    clock: Clock | None = None,
    limits: Limits | None = None,
    defer_hooks: bool = False,
    job_key: str | None = None,
) -> list[CaptureSummary]:
    """Capture before referral: own transactions, never raises for a failed capture.

    ``job_key``: the capture job's key; a job delivered again captures each item once
    (``_start``)."""
    clock = clock or SystemClock()
    try:
        store = store or store_for_settings(settings)
        with session_scope(session_factory) as session:
            jobs, refused = _start(
                session,
                principal,
                item_ids,
                with_screenshot=with_screenshot,
                store_name=store.name,
                clock=clock,
                job_key=job_key,
            )
    except Exception as exc:
        log.exception("evidence capture could not start")
        reason = exc.detail if isinstance(exc, TakedownError) else repr(exc)
        return [CaptureSummary(i, None, "failed", "start", reason) for i in item_ids]
    try:
        outputs = run_sync(lambda: run_jobs(jobs, settings=settings, limits=limits, clock=clock))
    except Exception as exc:
        log.exception("evidence capture run failed")
        outputs = []
        with session_scope(session_factory) as session:
            return refused + [
                _fail(session, principal, c, "error", repr(exc), clock)
                for c in repository.captures_by_ids(session, [j.key for j in jobs])
                if c.status == CaptureStatus.RUNNING.value
            ]
    with session_scope(session_factory) as session:
        return refused + _finish(session, principal, outputs, store, clock, defer_hooks)


async def acapture_items(
    session_factory: sessionmaker[Session],
    principal: Principal,
    item_ids: Sequence[int],
    *,
    settings: Settings,
    with_screenshot: bool = False,
    store: EvidenceStore | None = None,
    clock: Clock | None = None,
    limits: Limits | None = None,
    client: httpx.AsyncClient | None = None,
    defer_hooks: bool = False,
) -> list[CaptureSummary]:
    """The async twin, for callers already inside an event loop (workers, async routes)."""
    clock = clock or SystemClock()
    store = store or store_for_settings(settings)
    s = store

    def start() -> tuple[list[CaptureJob], list[CaptureSummary]]:
        with session_scope(session_factory) as session:
            return _start(
                session,
                principal,
                item_ids,
                with_screenshot=with_screenshot,
                store_name=s.name,
                clock=clock,
            )

    jobs, refused = start()
    outputs = await run_jobs(jobs, settings=settings, limits=limits, client=client, clock=clock)
    with session_scope(session_factory) as session:
        return refused + _finish(session, principal, outputs, s, clock, defer_hooks)
