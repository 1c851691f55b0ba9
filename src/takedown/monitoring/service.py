"""Watched sources and Rocket.Chat servers: add (by hand, in bulk, from an operation),
list, remove; the review queue of proposed sources. Crawling lives in ``crawl``.

Services take a session and never commit. A source belongs to one agency;
anything another agency's user asks about is ``NotFound``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import service as items
from takedown.items.core import user_id_of
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput, NotFound, TakedownError
from takedown.monitoring import credentials, repository
from takedown.monitoring.connectors.rocketchat import room_of
from takedown.monitoring.models import (
    Proposal,
    ProposalStatus,
    RocketChatServer,
    Source,
    SourceKind,
    SourceStatus,
)
from takedown.monitoring.policy import SchedulePolicy
from takedown.monitoring.registry import build

#: The order in which a URL without an explicit kind is tried.
DETECT_ORDER = ("telegram", "rocketchat", "account", "onion", "website")
MAX_PROPOSAL_DEPTH = 2


def _now(clock: Clock | None) -> dt.datetime:
    return (clock or SystemClock()).now()


def detect_kind(url: str) -> tuple[str, str]:
    """(kind, normalised URL) of a source URL; InvalidInput naming why none fits."""
    reasons: list[str] = []
    for kind in DETECT_ORDER:
        try:
            return kind, build(kind).normalize(url)
        except InvalidInput as exc:
            reasons.append(str(exc))
    raise InvalidInput(f"{url!r} is not a channel, room, account page or site that can be watched")


def normalize(url: str, kind: str | None) -> tuple[str, str]:
    if not url or not url.strip():
        raise InvalidInput("a source needs a URL")
    if "\x00" in url:
        raise InvalidInput("the URL contains a NUL character")
    if kind:
        return kind, build(kind).normalize(url)
    return detect_kind(url)


# --- servers ------------------------------------------------------------------------------


def add_server(
    session: Session,
    principal: Principal,
    base_url: str,
    *,
    user_id: str,
    token: str,
    secret_key: str | None,
    clock: Clock | None = None,
) -> RocketChatServer:
    """Store (or replace) one Rocket.Chat server's credentials, sealed."""
    items.require_agency_user(principal, "store Rocket.Chat credentials")
    parts = urlsplit(base_url.strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{base_url!r} is not a server URL (https://chat.example.org)")
    if not user_id.strip() or not token.strip():
        raise InvalidInput("a Rocket.Chat server needs a user id and a token")
    base = f"{parts.scheme}://{parts.netloc.lower()}"
    row = repository.server_for(session, principal.agency_id, base)
    if row is None:
        row = RocketChatServer(
            agency_id=principal.agency_id,
            base_url=base,
            user_id_sealed="",
            token_sealed="",
            created_at=_now(clock),
            created_by=user_id_of(principal),
        )
        session.add(row)
    row.user_id_sealed = credentials.seal(secret_key, user_id.strip())
    row.token_sealed = credentials.seal(secret_key, token.strip())
    session.flush()
    # Never the token itself, not even in the audit log.
    record(
        session,
        principal,
        "monitoring.server",
        "monitoring_server",
        row.id,
        {"base_url": base},
        clock=clock,
    )
    return row


def server_headers(server: RocketChatServer, secret_key: str | None) -> dict[str, str]:
    return {
        "X-User-Id": credentials.unseal(secret_key, server.user_id_sealed),
        "X-Auth-Token": credentials.unseal(secret_key, server.token_sealed),
    }


# --- sources ------------------------------------------------------------------------------


def add_source(
    session: Session,
    principal: Principal,
    url: str,
    *,
    kind: str | None = None,
    label: str = "",
    operation_id: int | None = None,
    interval_s: int | None = None,
    origin: str = "manual",
    depth: int = 0,
    policy: SchedulePolicy | None = None,
    clock: Clock | None = None,
) -> tuple[Source, bool]:
    """Watch ``url``; returns (source, created). Watching it again is a no-op (a removed
    source is watched again)."""
    items.require_agency_user(principal, "watch sources")
    policy = policy or SchedulePolicy()
    kind, norm = normalize(url, kind)
    now = _now(clock)
    server_id: int | None = None
    if kind == SourceKind.ROCKETCHAT.value:
        base = room_of(norm)[0]
        server = repository.server_for(session, principal.agency_id, base)
        if server is None:
            raise InvalidInput(
                f"{norm}: no credentials for {base}; add them first "
                "(takedown watch server add, or POST /api/v1/monitoring/servers)"
            )
        server_id = server.id
    if operation_id is not None and repository.operation_by_id(session, operation_id) is None:
        raise NotFound(f"operation {operation_id} does not exist")
    if interval_s is not None and not 60 <= interval_s <= 30 * 86400:
        raise InvalidInput("interval must be between 60 seconds and 30 days")
    existing = repository.source_by_url(session, principal.agency_id, norm)
    if existing is not None:
        if existing.status == SourceStatus.REMOVED.value:
            existing.status = SourceStatus.ACTIVE.value
            existing.removed_at = None
            existing.next_due_at = now
            session.flush()
            return existing, True
        return existing, False
    base_s = interval_s or policy.base_for(kind)
    item_id: int | None = None
    try:
        with session.begin_nested():
            item, _ = items.report_url(
                session,
                principal,
                norm,
                source="monitoring",
                note=f"watched source ({kind})",
                clock=clock,
            )
            item_id = item.id
    except TakedownError:
        item_id = None  # a site's front page may name no item; the source is still watched
    src = Source(
        agency_id=principal.agency_id,
        kind=kind,
        url=norm,
        host=(urlsplit(norm).hostname or "").lower(),
        label=label[:300],
        item_id=item_id,
        server_id=server_id,
        operation_id=operation_id,
        status=SourceStatus.ACTIVE.value,
        depth=depth,
        origin=origin,
        base_interval_s=base_s,
        interval_s=base_s,
        next_due_at=now,
        created_at=now,
        created_by=user_id_of(principal),
    )
    repository.add(session, src)
    record(
        session,
        principal,
        "monitoring.watch",
        "monitoring_source",
        src.id,
        {"url": norm, "kind": kind, "origin": origin},
        clock=clock,
    )
    return src, True


@dataclass
class BulkResult:
    added: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, text, reason)


def add_many(
    session: Session,
    principal: Principal,
    lines: Iterable[str],
    *,
    kind: str | None = None,
    operation_id: int | None = None,
    clock: Clock | None = None,
) -> BulkResult:
    """One URL per line (``#`` comments, blank lines skipped); a bad line is reported with
    its number and reason, and never loses the good ones."""
    out = BulkResult()
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            with session.begin_nested():
                src, created = add_source(
                    session,
                    principal,
                    line,
                    kind=kind,
                    operation_id=operation_id,
                    origin="bulk",
                    clock=clock,
                )
        except TakedownError as exc:
            out.errors.append((n, line[:200], str(exc)))
            continue
        (out.added if created else out.existing).append(src.id)
    return out


def add_from_operation(
    session: Session, principal: Principal, operation_id: int, *, clock: Clock | None = None
) -> BulkResult:
    """Watch every account and channel removed in an operation, and every channel that
    survived it, linked to the operation (so its window surges them)."""
    items.require_agency_user(principal, "watch sources")
    if repository.operation_by_id(session, operation_id) is None:
        raise NotFound(f"operation {operation_id} does not exist")
    urls: list[str] = []
    for it in repository.operation_accounts(session, operation_id):
        removed = it.status == "removed"
        if removed or it.kind == "channel":
            urls.append(it.canonical_url)
    return add_many(session, principal, urls, operation_id=operation_id, clock=clock)


def get_source(session: Session, principal: Principal, source_id: int) -> Source:
    src = repository.source_by_id(session, source_id)
    if src is None or (principal.via != "system" and src.agency_id != principal.agency_id):
        raise NotFound(f"source {source_id} does not exist")
    return src


def list_sources(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Source], int]:
    if status is not None and status not in {s.value for s in SourceStatus}:
        raise InvalidInput(f"{status!r} is not a source status")
    return repository.list_sources(
        session,
        principal.agency_id,
        status=status,
        kind=kind,
        limit=min(max(limit, 1), 1000),
        offset=max(offset, 0),
    )


def remove_source(
    session: Session, principal: Principal, source_id: int, *, clock: Clock | None = None
) -> Source:
    items.require_agency_user(principal, "stop watching sources")
    src = get_source(session, principal, source_id)
    if src.status != SourceStatus.REMOVED.value:
        src.status = SourceStatus.REMOVED.value
        src.removed_at = _now(clock)
        session.flush()
        record(
            session,
            principal,
            "monitoring.unwatch",
            "monitoring_source",
            src.id,
            {"url": src.url},
            clock=clock,
        )
    return src


def feed(
    session: Session,
    principal: Principal,
    *,
    source_id: int | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[tuple[object, Source, object]]:
    if source_id is not None:
        get_source(session, principal, source_id)
    rows = repository.feed(
        session,
        principal.agency_id,
        source_id=source_id,
        limit=min(max(limit, 1), 500),
        before_id=before_id,
    )
    return [(o, s, i) for o, s, i in rows]


# --- proposals ----------------------------------------------------------------------------


def decide_proposal(
    session: Session,
    principal: Principal,
    proposal_id: int,
    accept: bool,
    *,
    clock: Clock | None = None,
) -> Proposal:
    """Accept (watch it, one level deeper than where it was found) or reject a proposal."""
    items.require_agency_user(principal, "review proposed sources")
    prop = repository.proposal_by_id(session, proposal_id)
    if prop is None or prop.agency_id != principal.agency_id:
        raise NotFound(f"proposal {proposal_id} does not exist")
    if prop.status != ProposalStatus.PENDING.value:
        raise InvalidInput(f"proposal {proposal_id} was already {prop.status}")
    now = _now(clock)
    if accept:
        src, _ = add_source(
            session,
            principal,
            prop.url,
            kind=prop.kind,
            origin="proposal",
            depth=prop.depth,
            clock=clock,
        )
        prop.source_id = src.id
    prop.status = (ProposalStatus.ACCEPTED if accept else ProposalStatus.REJECTED).value
    prop.decided_at = now
    prop.decided_by = user_id_of(principal)
    session.flush()
    record(
        session,
        principal,
        "monitoring.proposal",
        "monitoring_proposal",
        prop.id,
        {"status": prop.status, "url": prop.url},
        clock=clock,
    )
    return prop


def proposals(
    session: Session, principal: Principal, *, status: str | None = "pending", limit: int = 100
) -> list[Proposal]:
    return repository.proposals_of(session, principal.agency_id, status=status, limit=limit)


def crawl_soon(
    session: Session, principal: Principal, source_id: int, *, clock: Clock | None = None
) -> Source:
    """Make a source due now (an analyst's "crawl now"); a paused one is not resumed."""
    items.require_agency_user(principal, "crawl sources")
    src = get_source(session, principal, source_id)
    if src.status != SourceStatus.ACTIVE.value:
        raise InvalidInput(f"source {source_id} is {src.status}, not active")
    src.next_due_at = _now(clock)
    session.flush()
    return src
