"""Inbox objects into items, banks and holds, credited to the partner that sent them.

- ``sighting``: a report of the item its indicator matches, by the partner's agency
  (through the items intake service: the platforms' canonicaliser decides the identity,
  so a partner's URL folds into the item we already have);
- ``indicator`` (and a bare ``url`` or ``user-account``): the item exists, reported by
  the partner at least once; takedown's extension may carry the partner's assessment
  (recorded as the partner agency's) and a deconfliction hold (placed in its name, with
  its contact point; a later version without the hold releases it);
- ``file``: its hashes (SHA-256, MD5, x_pdq, and the extension's other signals) become
  signals of the owner's bank for that partner, with their labels and provenance
  (source ``partner:<name>``, external id the file's STIX id), through the matching
  service;
- anything else is kept in the inbox, marked ignored.

Items the partner reports are shared with the owner agency, whose analysts then see
them. A bad object fails alone (its reason kept on its inbox row), in a savepoint, so
the objects beside it still go in.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.service import SYSTEM
from takedown.items import intake
from takedown.items import repository as items_repository
from takedown.items import service as items
from takedown.kit.errors import Conflict, TakedownError
from takedown.matching import service as matching
from takedown.matching.schemas import BankCreate, Labels, SignalIn
from takedown.platforms.identity import InvalidURL, canonicalize
from takedown.sharing import partners as partners_service
from takedown.sharing import repository, stixmap
from takedown.sharing.models import InboxObject, InboxStatus, Partner
from takedown.sharing.stixobj import BadObject, parse_timestamp

_URL_PATTERN = re.compile(r"\[\s*url:value\s*=\s*'((?:[^'\\]|\\.)*)'\s*\]")
_ACCOUNT_PATTERN = re.compile(
    r"user-account:account_login\s*=\s*'((?:[^'\\]|\\.)*)'.*"
    r"user-account:account_type\s*=\s*'((?:[^'\\]|\\.)*)'"
)
_ACCOUNT_URLS = {"x": "https://x.com/{}", "facebook": "https://www.facebook.com/{}"}
_HASHES = {"SHA-256": "sha256", "MD5": "md5", "x_pdq": "pdq", "x-pdq": "pdq", "PDQ": "pdq"}
_ITEM_TYPES = ("indicator", "url", "user-account")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _ext(obj: dict[str, Any]) -> dict[str, Any]:
    ext = (obj.get("extensions") or {}).get(stixmap.EXTENSION_ID)
    return ext if isinstance(ext, dict) else {}


def url_of(obj: dict[str, Any]) -> str | None:
    """The URL an indicator or observable names (takedown's extension first)."""
    ext_url = _ext(obj).get("url")
    if isinstance(ext_url, str) and ext_url:
        return ext_url
    kind = obj.get("type")
    if kind == "url" and isinstance(obj.get("value"), str):
        return str(obj["value"])
    if kind == "user-account":
        platform = stixmap.PLATFORM_OF_ACCOUNT_TYPE.get(str(obj.get("account_type", "")))
        login = obj.get("account_login")
        if platform in _ACCOUNT_URLS and isinstance(login, str):
            return _ACCOUNT_URLS[platform].format(login)
        return None
    pattern = obj.get("pattern")
    if kind == "indicator" and isinstance(pattern, str):
        m = _URL_PATTERN.search(pattern)
        if m:
            return _unescape(m.group(1))
        m = _ACCOUNT_PATTERN.search(pattern)
        if m:
            platform = stixmap.PLATFORM_OF_ACCOUNT_TYPE.get(_unescape(m.group(2)))
            if platform in _ACCOUNT_URLS:
                return _ACCOUNT_URLS[platform].format(_unescape(m.group(1)))
    return None


def _when(obj: dict[str, Any], *props: str) -> str | None:
    for p in props:
        raw = obj.get(p)
        if isinstance(raw, str):
            try:
                return parse_timestamp(raw).isoformat()
            except BadObject:
                continue
    return None


class _Batch:
    def __init__(self, session: Session, partner: Partner, rows: Sequence[InboxObject]) -> None:
        self.session = session
        self.partner = partner
        self.actor = partners_service.acting_as(partner)
        self.rows = rows
        self.bodies = {r.stix_id: json.loads(r.body) for r in rows}

    def context(self, stix_id: str) -> dict[str, Any] | None:
        """An object referred to: in this batch, or received earlier from the same source."""
        found: dict[str, Any] | None = self.bodies.get(stix_id)
        if found is not None:
            return found
        earlier = repository.inbox_by_stix_id(self.session, self.partner.agency_id, stix_id)
        for row in reversed(earlier):
            if row.body and row.body != "{}":
                body: dict[str, Any] = json.loads(row.body)
                return body
        return None


def _fail(row: InboxObject, reason: str) -> None:
    row.status = InboxStatus.FAILED.value
    row.error = reason[:2000]


def import_rows(
    session: Session, rows: Sequence[InboxObject], *, decided_by: int | None, now: dt.datetime
) -> None:
    """Import pending rows (of any partners), marking each imported, failed or ignored."""
    by_partner: dict[int, list[InboxObject]] = {}
    for r in rows:
        if r.status != InboxStatus.PENDING.value:
            continue
        if r.partner_id is None:
            _fail(r, "no partner is configured for the agency that sent this object")
            continue
        by_partner.setdefault(r.partner_id, []).append(r)
    for partner_id, group in by_partner.items():
        partner = repository.partner(session, partner_id)
        if partner is None:
            for r in group:
                _fail(r, "the partner was removed")
            continue
        _import(_Batch(session, partner, group))
    for r in rows:
        if r.status != InboxStatus.PENDING.value and r.decided_at is None:
            r.decided_at = now
            r.decided_by = decided_by
    session.flush()


def _import(batch: _Batch) -> None:
    urls: list[tuple[InboxObject, dict[str, Any]]] = []  # rows that become one report each
    ensure: list[tuple[InboxObject, str]] = []  # indicators/observables: the item must exist
    files: list[InboxObject] = []
    for row in batch.rows:
        obj = batch.bodies[row.stix_id]
        if row.stix_type == "sighting":
            ref = obj.get("sighting_of_ref")
            target = batch.context(ref) if isinstance(ref, str) else None
            url = url_of(target) if target else None
            if url is None:
                _fail(row, f"the sighting's indicator {ref} is unknown or names no URL")
                continue
            urls.append((row, {
                "url": url,
                "reported_at": _when(obj, "first_seen", "created"),
                "note": f"sighting {obj['id']} shared by {batch.partner.name}",
                "source": f"partner:{batch.partner.name}"[:255],
            }))  # fmt: skip
        elif row.stix_type in _ITEM_TYPES:
            url = url_of(obj)
            if url is None:
                row.status = InboxStatus.IGNORED.value
                row.error = "no URL to import (only URL and account indicators become items)"
                continue
            ensure.append((row, url))
        elif row.stix_type == "file":
            files.append(row)
        else:
            row.status = InboxStatus.IGNORED.value
    # Indicators whose item the partner has not reported yet (and no sighting in this
    # batch reports) become one report each.
    reported = {canonicalize_or_none(r["url"]) for _, r in urls}
    for row, url in ensure:
        identity = canonicalize_or_none(url)
        if identity is None:
            _fail(row, f"invalid URL {url[:200]!r}")
            continue
        if identity in reported or _partner_reported(batch, identity):
            continue
        reported.add(identity)
        obj = batch.bodies[row.stix_id]
        urls.append((row, {
            "url": url,
            "reported_at": _when(obj, "valid_from", "created"),
            "note": f"{row.stix_type} {obj['id']} shared by {batch.partner.name}",
            "source": f"partner:{batch.partner.name}"[:255],
        }))  # fmt: skip
    _report(batch, urls)
    for row, url in ensure:
        if row.status == InboxStatus.PENDING.value:
            _item_extras(batch, row, url)
    for row in files:
        _file(batch, row)


def canonicalize_or_none(url: str) -> str | None:
    try:
        return canonicalize(url).identity
    except InvalidURL:
        return None


def _partner_reported(batch: _Batch, identity: str) -> bool:
    item = items_repository.item_by_identity(batch.session, identity)
    return item is not None and items_repository.has_sighting(
        batch.session, batch.partner.agency_id, item.id
    )


def _report(batch: _Batch, urls: list[tuple[InboxObject, dict[str, Any]]]) -> None:
    """Every report through the items intake service, in one file; bad lines fail alone."""
    if not urls:
        return
    text = "\n".join(json.dumps({k: v for k, v in r.items() if v}) for _, r in urls) + "\n"
    job = intake.import_stream(
        batch.session,
        batch.actor,
        io.BytesIO(text.encode("utf-8")),
        filename=f"partner-{batch.partner.id}.jsonl",
        format="jsonl",
        pipeline=False,
    )
    errors = {int(e["line"]): str(e["reason"]) for e in job.errors}
    for line, (row, r) in enumerate(urls, start=1):
        if line in errors:
            _fail(row, errors[line])
            continue
        identity = canonicalize_or_none(r["url"])
        item = items_repository.item_by_identity(batch.session, identity) if identity else None
        if item is None:
            _fail(row, "the item was not created")
            continue
        _share_with_owner(batch, item.id)
        row.status = InboxStatus.IMPORTED.value
        row.result = {"item_id": item.id, "import_id": job.id}


def _share_with_owner(batch: _Batch, item_id: int) -> None:
    items.share_item(batch.session, batch.actor, item_id, batch.partner.owner_agency_id)


def _item_extras(batch: _Batch, row: InboxObject, url: str) -> None:
    """The partner's assessment and hold from the extension, on an item it reported."""
    identity = canonicalize_or_none(url)
    item = items_repository.item_by_identity(batch.session, identity) if identity else None
    if item is None:
        _fail(row, "the item was not created")
        return
    _share_with_owner(batch, item.id)
    ext = _ext(batch.bodies[row.stix_id])
    result: dict[str, Any] = {"item_id": item.id}
    try:
        with batch.session.begin_nested():
            a = ext.get("assessment")
            if isinstance(a, dict) and a.get("verdict"):
                items.assess(
                    batch.session, batch.actor, item.id, str(a["verdict"]),
                    [str(c) for c in a.get("tco_categories") or []],
                    group=a.get("group"), outlet=a.get("outlet"),
                )  # fmt: skip
                result["assessment"] = a["verdict"]
            result.update(_hold(batch, item.id, ext.get("hold")))
    except TakedownError as exc:
        _fail(row, exc.detail)
        return
    row.status = InboxStatus.IMPORTED.value
    row.result = result


def _hold(batch: _Batch, item_id: int, hold: object) -> dict[str, Any]:
    mine = [
        h
        for h in items.active_holds(batch.session, item_id)
        if h.agency_id == batch.actor.agency_id
    ]
    if isinstance(hold, dict) and hold.get("contact_point"):
        if mine:
            return {"hold_id": mine[0].id}
        try:
            h = items.place_hold(
                batch.session, batch.actor, item_id,
                reason=f"deconfliction hold shared by {batch.partner.name}",
                contact_point=str(hold["contact_point"])[:320],
            )  # fmt: skip
        except Conflict:
            return {}
        return {"hold_id": h.id}
    for h in mine:
        items.release_hold(batch.session, batch.actor, item_id, h.id)
    return {"holds_released": len(mine)} if mine else {}


def partner_bank_id(session: Session, partner: Partner) -> int:
    """The owner agency's bank for what this partner shares (made on first use)."""
    name = f"partner: {partner.name}"[:200]
    for bank in matching.list_banks(session, None):
        if bank.agency_id == partner.owner_agency_id and bank.name == name:
            return bank.id
    bank = matching.create_bank(
        session,
        SYSTEM,
        BankCreate(
            name=name,
            tlp="AMBER",
            description=f"Signals shared by {partner.name} (TAXII / MISP).",
        ),
        agency_id=partner.owner_agency_id,
    )
    return bank.id


def _file(batch: _Batch, row: InboxObject) -> None:
    obj = batch.bodies[row.stix_id]
    ext = _ext(obj)
    signals: list[tuple[str, str, str]] = []
    for name, value in (obj.get("hashes") or {}).items():
        stype = _HASHES.get(name)
        if stype and isinstance(value, str):
            signals.append((stype, value, "original"))
    for extra in ext.get("signals") or []:
        if isinstance(extra, dict) and isinstance(extra.get("value"), str):
            signals.append(
                (str(extra.get("type")), extra["value"], str(extra.get("variant") or "original"))
            )
    if not signals:
        row.status = InboxStatus.IGNORED.value
        row.error = "no hash takedown can match (SHA-256, MD5 or PDQ)"
        return
    raw_labels = ext.get("labels") if isinstance(ext.get("labels"), dict) else {}
    try:
        with batch.session.begin_nested():
            bank_id = partner_bank_id(batch.session, batch.partner)
            labels = Labels(**(raw_labels or {}))
            ids = [
                matching.add_signal(
                    batch.session, SYSTEM, bank_id,
                    SignalIn(
                        signal_type=t, value=v, variant=var, labels=labels, tlp=row.tlp,
                        source=f"partner:{batch.partner.name}"[:200], external_id=obj["id"][:200],
                    ),
                ).id
                for t, v, var in signals
            ]  # fmt: skip
    except (TakedownError, ValueError) as exc:
        _fail(row, getattr(exc, "detail", None) or str(exc))
        return
    row.status = InboxStatus.IMPORTED.value
    row.result = {"bank_id": bank_id, "signal_ids": ids}
