"""Deconfliction between instances: "is any of these part of your investigations?"

The asker learns which of its elements a partner has, and nothing of the partner's
other elements; the partner learns how many were asked, and nothing else (``psi``).

- Elements are the items' URL identities (``url:<platform>:<key>``; a post also asks
  for its account or channel, ``url:`` of its parent) and exact hashes
  (``sha256:``, ``md5:``), canonicalised by the platforms' canonicaliser on both sides.
- The partner answers from the items its own agencies hold and its agencies'
  investigations lists (never from holds it placed in other partners' names).
- A hit puts a hold on the asker's item in the partner's name, naming the partner's
  contact point (referral is blocked, as for a hold within one instance), and opens a
  follow-up due within ``deconfliction_followup_hours`` (48 h, as Prüm's data-after-hit).
- Both sides audit: the asker its question (how many elements, how many hits), the
  answerer only the count of elements it was asked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.config import Settings
from takedown.items import service as items
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from takedown.kit.http import make_sync_client
from takedown.platforms.identity import InvalidURL, canonicalize
from takedown.sharing import deconfliction_repository as repo
from takedown.sharing import partners, psi, repository, secrets
from takedown.sharing.models import (
    DeconflictionAnswer,
    DeconflictionRequest,
    Followup,
    Investigation,
)

#: Questions one partner may ask per hour (PSI answers membership, so guesses are bounded).
MAX_QUESTIONS_PER_HOUR = 60
_HEX = {"sha256": re.compile(r"^[0-9a-f]{64}$"), "md5": re.compile(r"^[0-9a-f]{32}$")}

Post = Callable[[str, dict[str, Any], str], dict[str, Any]]


# --- elements ---------------------------------------------------------------------------------


def url_elements(url: str) -> list[str]:
    """``url:`` elements of a URL: its identity and its account's or channel's."""
    try:
        ident = canonicalize(url)
    except InvalidURL as exc:
        raise InvalidInput(f"{url[:200]!r}: {exc.detail}") from None
    out = [f"url:{ident.identity}"]
    if ident.parent_identity:
        out.append(f"url:{ident.parent_identity}")
    return out


def hash_element(kind: str, value: str) -> str:
    v = value.strip().lower()
    pattern = _HEX.get(kind)
    if pattern is None or not pattern.match(v):
        raise InvalidInput(f"{kind} must be {64 if kind == 'sha256' else 32} hex characters")
    return f"{kind}:{v}"


# --- the investigations list (what this instance answers from, beside holds) ------------------


def add_investigation(
    session: Session,
    principal: Principal,
    *,
    url: str | None = None,
    sha256: str | None = None,
    md5: str | None = None,
    label: str = "",
) -> Investigation:
    items.require_agency_user(principal, "keep an investigations list")
    given = [(k, v) for k, v in (("url", url), ("sha256", sha256), ("md5", md5)) if v]
    if len(given) != 1:
        raise InvalidInput("give exactly one of url, sha256, md5")
    kind, value = given[0]
    element = url_elements(value)[0] if kind == "url" else hash_element(kind, value)
    existing = repo.investigation(session, principal.agency_id, element)
    if existing is not None:
        if existing.closed_at is None:
            return existing
        existing.closed_at = None
        row = existing
    else:
        row = Investigation(
            agency_id=principal.agency_id,
            element=element,
            label=label.strip()[:300],
            created_by=principal.user_id if principal.user_id > 0 else None,
        )
        repository.add(session, row)
    session.flush()
    # The element itself stays out of the audit's details: the list is the secret.
    record(session, principal, "deconfliction.investigation.add", "investigation", row.id, {})
    return row


def close_investigation(
    session: Session, principal: Principal, investigation_id: int
) -> Investigation:
    row = session.get(Investigation, investigation_id)
    if row is None or (principal.via != "system" and row.agency_id != principal.agency_id):
        raise NotFound(f"no investigation {investigation_id}")
    if row.closed_at is None:
        row.closed_at = SystemClock().now()
        session.flush()
        record(session, principal, "deconfliction.investigation.close", "investigation", row.id, {})
    return row


# --- the answering side -----------------------------------------------------------------------


def answer_question(
    session: Session,
    principal: Principal,
    request_b64: object,
    *,
    settings: Settings,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Answer a partner's question; only the number of elements is kept or audited."""
    if principal.via == "system" or not repository.partner_by_agency(session, principal.agency_id):
        raise Forbidden("only a partner organisation's service user asks deconfliction questions")
    now = (clock or SystemClock()).now()
    if repo.answers_since(session, principal.agency_id, now - dt.timedelta(hours=1)) >= (
        MAX_QUESTIONS_PER_HOUR
    ):
        raise RateLimited("too many deconfliction questions this hour", retry_after=600)
    request = psi.unb64(request_b64, "request")
    key = psi.epoch_key(settings.secret_key, now.date())
    ans = psi.answer(request, repo.answer_elements(session), key)
    repository.add(
        session,
        DeconflictionAnswer(asker_agency_id=principal.agency_id, asked_at=now, elements=ans.asked),
    )
    record(
        session, principal, "deconfliction.answer", "agency", principal.agency_id,
        {"elements": ans.asked},
    )  # fmt: skip
    owner = repository.partner_by_agency(session, principal.agency_id)[0].owner_agency_id
    agency = session.get(Agency, owner)
    return {
        "response": psi.b64(ans.response),
        "setups": [psi.b64(s) for s in ans.setups],
        "fpr": psi.FPR,
        "asked": ans.asked,
        "contact_point": agency.contact_point if agency else "",
    }


# --- the asking side --------------------------------------------------------------------------


def http_post(settings: Settings) -> Post:
    def post(url: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        with make_sync_client(**settings.http_client_options(), timeout=120.0) as client:
            r = client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
        if r.status_code != 200:
            raise httpx.HTTPStatusError(
                f"the partner answered {r.status_code}: {r.text[:300]}",
                request=r.request,
                response=r,
            )
        out: dict[str, Any] = r.json()
        return out

    return post


def _targets(
    session: Session, principal: Principal, item_ids: Sequence[int], urls: Sequence[str],
    hashes: Sequence[tuple[str, str]],
) -> dict[str, list[int | None]]:  # fmt: skip
    """element -> the asker's items it stands for (None for a bare URL or hash)."""
    out: dict[str, list[int | None]] = {}
    for item_id in item_ids:
        item = items.get_item(session, principal, item_id)
        els = [f"url:{item.identity}"] + (
            [f"url:{item.parent_identity}"] if item.parent_identity else []
        )
        for e in els:
            out.setdefault(e, []).append(item.id)
    for url in urls:
        for e in url_elements(url):
            out.setdefault(e, []).append(None)
    for kind, value in hashes:
        out.setdefault(hash_element(kind, value), []).append(None)
    return out


def ask(
    session: Session,
    principal: Principal,
    partner_id: int,
    *,
    settings: Settings,
    item_ids: Sequence[int] = (),
    urls: Sequence[str] = (),
    hashes: Sequence[tuple[str, str]] = (),
    post: Post | None = None,
    clock: Clock | None = None,
) -> tuple[DeconflictionRequest, list[Followup]]:
    """Ask a partner; holds and follow-ups for the hits. A failed question is recorded
    (status ``failed``, with the reason) and returned, never half-applied."""
    items.require_agency_user(principal, "ask for deconfliction")
    partner = partners.get_partner(session, principal, partner_id)
    if not partner.deconfliction_url:
        raise InvalidInput(f"partner {partner.name!r} has no deconfliction URL")
    targets = _targets(session, principal, item_ids, urls, hashes)
    question = psi.Question(sorted(targets))
    now = (clock or SystemClock()).now()
    row = DeconflictionRequest(
        agency_id=principal.agency_id,
        partner_id=partner.id,
        created_by=principal.user_id if principal.user_id > 0 else None,
        created_at=now,
        elements=len(question.elements),
    )
    body = {"request": psi.b64(question.request)}
    row.bytes_sent = len(body["request"]) + 16
    try:
        token = secrets.unseal(settings.secret_key, partner.secret_sealed)
        reply = (post or http_post(settings))(partner.deconfliction_url, body, token)
        setups = [psi.unb64(s, "setup") for s in reply.get("setups") or []]
        hits = question.hits(psi.unb64(reply.get("response"), "response"), setups)
        row.bytes_received = len(reply.get("response") or "") + sum(
            len(s) for s in reply.get("setups") or []
        )
    except (httpx.HTTPError, InvalidInput, ValueError) as exc:
        row.status, row.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        repository.add(session, row)
        record(
            session, principal, "deconfliction.ask", "partner", partner.id,
            {"request_id": row.id, "elements": row.elements, "status": "failed"},
        )  # fmt: skip
        return row, []
    row.hits, row.answered_at = len(hits), (clock or SystemClock()).now()
    repository.add(session, row)
    record(
        session, principal, "deconfliction.ask", "partner", partner.id,
        {"request_id": row.id, "elements": row.elements, "hits": row.hits},
    )  # fmt: skip
    due = row.answered_at + dt.timedelta(hours=settings.deconfliction_followup_hours)
    followups = []
    for element in sorted(hits):
        for item_id in sorted(set(targets[element]), key=lambda i: (i is None, i or 0)):
            hold_id = _hold(session, principal, item_id, partner, row.id) if item_id else None
            f = Followup(
                request_id=row.id, agency_id=principal.agency_id, partner_id=partner.id,
                item_id=item_id, element=element, hold_id=hold_id, due_at=due,
            )  # fmt: skip
            repository.add(session, f)
            followups.append(f)
    return row, followups


def _hold(
    session: Session, principal: Principal, item_id: int, partner: Any, request_id: int
) -> int | None:
    for h in items.active_holds(session, item_id):
        if h.agency_id == partner.agency_id:
            return h.id
    try:
        hold = items.place_hold_for(
            session, principal, item_id,
            holder_agency_id=partner.agency_id,
            reason=f"deconfliction hit at {partner.name} (request {request_id})",
            contact_point=partner.contact_point or "unknown",
        )  # fmt: skip
    except Conflict:
        return None
    return hold.id


def close_followup(
    session: Session,
    principal: Principal,
    followup_id: int,
    *,
    note: str = "",
    release: bool = False,
) -> Followup:
    f = session.get(Followup, followup_id)
    if f is None or (principal.via != "system" and f.agency_id != principal.agency_id):
        raise NotFound(f"no follow-up {followup_id}")
    if f.status == "closed":
        raise Conflict(f"follow-up {followup_id} is already closed")
    f.status, f.note = "closed", note.strip()[:4000]
    f.closed_at = SystemClock().now()
    f.closed_by = principal.user_id if principal.user_id > 0 else None
    if release and f.hold_id and f.item_id:
        items.release_hold(session, principal, f.item_id, f.hold_id)
    session.flush()
    record(
        session, principal, "deconfliction.followup.close", "followup", f.id, {"released": release}
    )
    return f
