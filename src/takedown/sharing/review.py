"""Incoming objects awaiting review: an analyst of the receiving agency imports or rejects."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, NotFound
from takedown.sharing import importer, repository
from takedown.sharing.models import InboxObject, InboxStatus


def _agency(principal: Principal) -> int | None:
    return None if principal.via == "system" else principal.agency_id


def list_inbox(
    session: Session,
    principal: Principal,
    *,
    status: str | None = InboxStatus.PENDING.value,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[InboxObject], int]:
    if principal.is_liaison:
        return [], 0
    return repository.inbox_page(
        session, _agency(principal), status=status, limit=limit, offset=offset
    )


def get(session: Session, principal: Principal, inbox_id: int) -> InboxObject:
    row = repository.inbox_object(session, inbox_id)
    agency = _agency(principal)
    if row is None or (agency is not None and row.owner_agency_id != agency):
        raise NotFound(f"no incoming object {inbox_id}")
    return row


def decide(
    session: Session,
    principal: Principal,
    inbox_ids: Sequence[int],
    *,
    accept: bool,
    clock: Clock | None = None,
) -> list[InboxObject]:
    """Import (accept) or reject pending objects; each decision audited."""
    if principal.is_liaison:
        raise Forbidden("platform liaisons do not review shared objects")
    rows = [get(session, principal, i) for i in inbox_ids]
    for r in rows:
        if r.status != InboxStatus.PENDING.value:
            raise Conflict(f"incoming object {r.id} is already {r.status}")
    now = (clock or SystemClock()).now()
    uid = principal.user_id if principal.user_id > 0 else None
    if accept:
        importer.import_rows(session, rows, decided_by=uid, now=now)
    else:
        for r in rows:
            r.status = InboxStatus.REJECTED.value
            r.decided_at, r.decided_by = now, uid
        session.flush()
    for r in rows:
        record(
            session, principal, "sharing.inbox." + ("import" if accept else "reject"),
            "inbox_object", r.id,
            {"stix_id": r.stix_id, "status": r.status, "error": r.error[:200]},
        )  # fmt: skip
    return rows
