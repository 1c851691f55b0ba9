"""JSON routes of the audit log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from takedown.accounts.deps import AdminPrincipal, DbSession, SupervisorPrincipal, needs
from takedown.audit import repository
from takedown.audit.anchors import keys_from_settings
from takedown.audit.service import verify
from takedown.kit.pagination import Limit, Offset, Page

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Supervisor = SupervisorPrincipal
Admin = AdminPrincipal


class AuditEventOut(BaseModel):
    id: int
    at: dt.datetime
    actor_user_id: int | None
    actor_agency_id: int | None
    action: str
    subject_type: str
    subject_id: str
    details: dict[str, Any]
    hash: str


class ChainStatusOut(BaseModel):
    ok: bool
    checked: int
    first_bad_id: int | None
    reason: str | None


@router.get("/events", response_model=Page[AuditEventOut], dependencies=[needs("audit:read")])
def list_events(
    principal: Supervisor,
    session: DbSession,
    action: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditEventOut]:
    """The events of your own agency (administrators included: an instance shared by several
    countries shows no agency another's log)."""
    agency_id = principal.agency_id
    rows, total = repository.list_events(
        session,
        agency_id=agency_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        limit=limit,
        offset=offset,
    )
    items = [
        AuditEventOut(
            id=r.id,
            at=r.at,
            actor_user_id=r.actor_user_id,
            actor_agency_id=r.actor_agency_id,
            action=r.action,
            subject_type=r.subject_type,
            subject_id=r.subject_id,
            details=json.loads(r.details),
            hash=r.hash,
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/verify", response_model=ChainStatusOut, dependencies=[needs("admin")])
def verify_chain(principal: Admin, session: DbSession, request: Request) -> ChainStatusOut:
    result = verify(session, keys_from_settings(request.app.state.settings))
    return ChainStatusOut(
        ok=result.ok, checked=result.checked, first_bad_id=result.first_bad_id, reason=result.reason
    )
