"""Access to captures (audited), verification, working copies and retention holds.

Capture lives in ``capturing``, retention in ``retention``, court export in
``export``. Every read of evidence bytes by a person goes through
``read_file`` so it enters the audit log: who, when, which file, which hash,
and whether the bytes were re-checked against it (they always are).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.evidence import repository
from takedown.evidence.capturing import (
    CaptureSummary,
    acapture_items,
    capture_items,
    capture_items_in_session,
)
from takedown.evidence.models import (
    CaptureStatus,
    EvidenceCapture,
    EvidenceFile,
    EvidenceHold,
    FileRole,
)
from takedown.evidence.storage import EvidenceStore, sha256_hex
from takedown.evidence.storage.base import ObjectMissing
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound

if TYPE_CHECKING:
    from takedown.items.models import Item

__all__ = [
    "CaptureSummary",
    "VerifyReport",
    "acapture_items",
    "capture_items",
    "capture_items_in_session",
    "get_capture",
    "list_captures",
    "make_working_copy",
    "place_hold",
    "read_file",
    "release_hold",
    "request_capture",
    "verify_captures",
]

READ_ACTIONS = {
    "view": "evidence.viewed",
    "download": "evidence.downloaded",
    "export": "evidence.exported",
}
HOLD_KINDS = ("investigation", "court_request", "legal_proceedings", "other")


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def _agency_scope(principal: Principal) -> int | None:
    """Captures belong to the capturing agency; the SYSTEM principal sees all (jobs)."""
    return None if principal.via == "system" else principal.agency_id


def get_capture(session: Session, principal: Principal, capture_id: int) -> EvidenceCapture:
    cap = repository.capture(session, capture_id)
    scope = _agency_scope(principal)
    if cap is None or (scope is not None and cap.agency_id != scope):
        raise NotFound(f"no evidence capture {capture_id}")
    return cap


def list_captures(
    session: Session,
    principal: Principal,
    *,
    item_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[EvidenceCapture], int]:
    return repository.list_captures(
        session,
        agency_id=_agency_scope(principal),
        item_ids=[item_id] if item_id is not None else None,
        status=status,
        limit=limit,
        offset=offset,
    )


def request_capture(session: Session, principal: Principal, item_id: int) -> tuple[Item, int]:
    """Record that the caller asked for a capture of an item it may see; the caller hands
    the job to the runtime after the commit. Returns the item and the id of the newest
    capture before this one (0 for none), so a page can wait for a newer one."""
    from takedown.items.service import get_item

    if principal.agency_id <= 0:
        raise InvalidInput("evidence is captured on behalf of an agency user")
    item = get_item(session, principal, item_id)
    caps, _ = list_captures(session, principal, item_id=item.id, limit=1)
    after = caps[0].id if caps else 0
    record(session, principal, "evidence.capture_requested", "item", item.id, {"after": after})
    return item, after


def files_of(session: Session, principal: Principal, capture_id: int) -> list[EvidenceFile]:
    get_capture(session, principal, capture_id)
    return repository.files_of(session, capture_id)


def read_file(
    session: Session,
    principal: Principal,
    capture_id: int,
    file_id: int,
    *,
    store: EvidenceStore,
    purpose: str,
    clock: Clock | None = None,
) -> tuple[EvidenceFile, bytes]:
    """The bytes of one file, re-checked against its hash, with an audit event.

    ``purpose`` is ``view`` (safe viewer), ``download`` or ``export``. A file whose
    bytes no longer match raises ``Conflict``; the failed check is audited too.
    """
    if principal.is_liaison:
        raise Forbidden("platform liaisons have no access to the evidence vault")
    cap = get_capture(session, principal, capture_id)
    row = repository.file(session, file_id)
    if row is None or row.capture_id != cap.id or row.deleted_at is not None:
        raise NotFound(f"no file {file_id} in evidence capture {capture_id}")
    try:
        data = store.get(row.sha256)
    except ObjectMissing:
        data = None
    ok = data is not None and sha256_hex(data) == row.sha256
    record(
        session,
        principal,
        READ_ACTIONS.get(purpose, "evidence.accessed"),
        repository.SUBJECT,
        cap.id,
        {
            "file": row.name,
            "file_id": row.id,
            "sha256": row.sha256,
            "hash_checked": True,
            "hash_ok": ok,
        },
        clock=clock,
    )
    if data is None or not ok:
        raise Conflict(f"evidence file {row.name} of capture {cap.id} fails its hash check")
    return row, data


def make_working_copy(
    session: Session,
    principal: Principal,
    capture_id: int,
    file_id: int,
    data: bytes,
    *,
    store: EvidenceStore,
    note: str,
    clock: Clock | None = None,
) -> EvidenceFile:
    """Store an edited copy (a redaction, a crop) as a new object linked to its original."""
    cap = get_capture(session, principal, capture_id)
    original = repository.file(session, file_id)
    if original is None or original.capture_id != cap.id:
        raise NotFound(f"no file {file_id} in evidence capture {capture_id}")
    repository.lock_store_writes(session, exclusive=False)  # until commit: see ``orphans``
    stored = store.put(data)
    if stored.sha256 == original.sha256:
        raise InvalidInput("a working copy must differ from its original")
    row = EvidenceFile(
        capture_id=cap.id,
        role=FileRole.WORKING_COPY.value,
        name=f"working/{original.id}-{stored.sha256[:12]}-{original.name.rsplit('/', 1)[-1]}",
        sha256=stored.sha256,
        size=stored.size,
        media_type=original.media_type,
        source_url=original.source_url,
        derived_from_id=original.id,
        created_at=_now(clock),
        created_by=principal.user_id if principal.user_id > 0 else None,
    )
    repository.add(session, row)
    record(
        session,
        principal,
        "evidence.working_copy",
        repository.SUBJECT,
        cap.id,
        {"from_sha256": original.sha256, "sha256": stored.sha256, "note": note[:500]},
        clock=clock,
    )
    return row


# --- verification --------------------------------------------------------------------------


@dataclass
class VerifyReport:
    capture_id: int
    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)


def _verify_one(session: Session, cap: EvidenceCapture, store: EvidenceStore) -> VerifyReport:
    rep = VerifyReport(cap.id, True, 0)
    files = repository.files_of(session, cap.id)
    manifest: dict[str, Any] | None = None
    for f in files:
        rep.checked += 1
        try:
            data = store.get(f.sha256)
        except ObjectMissing:
            rep.problems.append(f"{f.name}: object {f.sha256} is missing")
            continue
        actual = sha256_hex(data)
        if actual != f.sha256:
            rep.problems.append(f"{f.name}: SHA-256 {actual} does not match recorded {f.sha256}")
            continue
        if f.role == FileRole.MANIFEST.value:
            manifest = json.loads(data)
            if cap.manifest_sha256 != f.sha256:
                rep.problems.append("manifest hash differs from the one recorded on the capture")
    if manifest is not None:
        recorded = {f.name: f.sha256 for f in files}
        for entry in manifest.get("files", []):
            if recorded.get(entry["name"]) != entry["sha256"]:
                rep.problems.append(f"{entry['name']}: manifest and database disagree")
    elif cap.status != CaptureStatus.PURGED.value:
        rep.problems.append("manifest missing")
    rep.ok = not rep.problems
    return rep


def verify_captures(
    session: Session,
    principal: Principal,
    *,
    store: EvidenceStore,
    capture_ids: Sequence[int] | None = None,
    clock: Clock | None = None,
) -> list[VerifyReport]:
    """Re-hash every file of the given (or all visible, unpurged) captures; audit each check."""
    reports = []
    for cap in repository.iter_captures(
        session, agency_id=_agency_scope(principal), ids=capture_ids
    ):
        if cap.status in (CaptureStatus.PURGED.value, CaptureStatus.RUNNING.value):
            continue
        rep = _verify_one(session, cap, store)
        record(
            session,
            principal,
            "evidence.verified",
            repository.SUBJECT,
            cap.id,
            {
                "ok": rep.ok,
                "files_checked": rep.checked,
                "problems": rep.problems[:20],
                "manifest_sha256": cap.manifest_sha256,
            },
            clock=clock,
        )
        reports.append(rep)
    return reports


# --- holds -------------------------------------------------------------------------------


def place_hold(
    session: Session,
    principal: Principal,
    item_id: int,
    *,
    kind: str,
    reason: str,
    reference: str = "",
    until: dt.datetime | None = None,
    clock: Clock | None = None,
) -> EvidenceHold:
    """Keep an item's evidence past retention (investigation, court request)."""
    from takedown.items.service import get_item

    if kind not in HOLD_KINDS:
        raise InvalidInput(f"hold kind must be one of {', '.join(HOLD_KINDS)}")
    if not reason.strip():
        raise InvalidInput("a hold needs a reason")
    if principal.agency_id <= 0 or principal.is_liaison:
        raise Forbidden("holds are placed by an agency's users")
    item = get_item(session, principal, item_id)
    hold = EvidenceHold(
        item_id=item.id,
        agency_id=principal.agency_id,
        kind=kind,
        reason=reason.strip()[:2000],
        reference=reference.strip()[:200],
        placed_by=principal.user_id if principal.user_id > 0 else None,
        placed_at=_now(clock),
        until=until,
    )
    repository.add(session, hold)
    record(
        session,
        principal,
        "evidence.hold_placed",
        repository.HOLD_SUBJECT,
        hold.id,
        {
            "item_id": item.id,
            "kind": kind,
            "reference": hold.reference,
            "until": until.isoformat() if until else None,
        },
        clock=clock,
    )
    return hold


def release_hold(
    session: Session, principal: Principal, hold_id: int, *, clock: Clock | None = None
) -> EvidenceHold:
    hold = repository.hold(session, hold_id)
    scope = _agency_scope(principal)
    if hold is None or (scope is not None and hold.agency_id != scope):
        raise NotFound(f"no evidence hold {hold_id}")
    if hold.released_at is not None:
        return hold
    hold.released_at = _now(clock)
    hold.released_by = principal.user_id if principal.user_id > 0 else None
    record(
        session,
        principal,
        "evidence.hold_released",
        repository.HOLD_SUBJECT,
        hold.id,
        {"item_id": hold.item_id},
        clock=clock,
    )
    return hold


def list_holds(
    session: Session, principal: Principal, *, item_id: int | None = None, active_only: bool = True
) -> list[EvidenceHold]:
    return repository.list_holds(
        session, agency_id=_agency_scope(principal), item_id=item_id, active_only=active_only
    )


def holds_ending_soon(
    session: Session,
    principal: Principal,
    *,
    within: dt.timedelta = dt.timedelta(days=14),
    limit: int = 5,
    clock: Clock | None = None,
) -> list[EvidenceHold]:
    """The agency's evidence holds that end within ``within`` (or have ended and still
    hold): after that the evidence falls back to the retention rule, so someone should
    extend or release them knowingly."""
    if principal.agency_id <= 0:
        return []
    before = (clock or SystemClock()).now() + within
    return repository.holds_ending(
        session, agency_id=principal.agency_id, before=before, limit=limit
    )


def feed_removed_media(session: Session, item_id: int, *, store: EvidenceStore) -> int:
    """When an item's removal is confirmed: its captured media join the removed-content bank.

    Verification calls this; re-uploads of the same media then match. Returns
    the number of media files handed to matching (a failure is logged, never raised).
    """
    import logging

    from takedown.matching.service import add_removed_media

    caps, _ = repository.list_captures(session, agency_id=None, item_ids=[item_id], limit=1000)
    seen: set[str] = set()
    n = 0
    for cap in caps:
        if cap.status != CaptureStatus.COMPLETE.value:
            continue
        for f in repository.files_of(session, cap.id):
            if f.role != FileRole.MEDIA.value or f.sha256 in seen:
                continue
            if not f.media_type.startswith(("image/", "video/")):
                continue
            seen.add(f.sha256)
            try:
                with session.begin_nested():
                    add_removed_media(
                        session, item_id, store.get(f.sha256), agency_id=cap.agency_id
                    )
                n += 1
            except Exception:
                logging.getLogger(__name__).exception("removed media of item %s", item_id)
    return n
