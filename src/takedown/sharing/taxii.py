"""The TAXII 2.1 server's logic: discovery, API root, collections, objects, manifest,
versions, deletion, posting with a status resource.

Routes (``taxii_api``) only translate HTTP; everything a reader may get passes here:
the collection's access (owner, or a grant), the token's ``sharing:read`` /
``sharing:write`` scope, and the collection's TLP ceiling (a reader never receives a
marking its audience may not have, RED never). ``next`` is an opaque cursor over
``(date_added, id)`` plus a digest of the filters, so a page never repeats or skips an
object, whatever number of them share one ``date_added``, and a client that changes its
filters between pages is told so instead of getting a silently different listing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import Forbidden, NotFound, TakedownError
from takedown.sharing import collections, inbox, repository
from takedown.sharing import objects_repository as objects
from takedown.sharing.models import Collection, TaxiiObject, TaxiiStatus
from takedown.sharing.stixobj import (
    BadObject,
    check,
    format_timestamp,
    parse_timestamp,
    timestamp_key,
    tlp_of,
    version_of,
)
from takedown.sharing.tlp import Audience, may_leave, may_reshare

MEDIA_TAXII = "application/taxii+json;version=2.1"
MEDIA_STIX = "application/stix+json;version=2.1"
API_ROOT = "api"
DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_POST_OBJECTS = 10_000
MAX_CONTENT_LENGTH = 50 * 1024 * 1024


class BadRequest(TakedownError):
    """TAXII answers 400 to parameters it cannot understand."""

    status = 400
    title = "Bad request"
    type_slug = "bad-request"


# --- discovery, API root, collections ---------------------------------------------------------


def discovery(base_url: str) -> dict[str, Any]:
    root = f"{base_url.rstrip('/')}/taxii2/{API_ROOT}/"
    return {
        "title": "takedown TAXII 2.1",
        "description": "Items, banked media and operation summaries shared by this instance.",
        "default": root,
        "api_roots": [root],
    }


def api_root(name: str) -> dict[str, Any]:
    _root(name)
    return {
        "title": "takedown",
        "description": "Collections shared with your organisation.",
        "versions": [MEDIA_TAXII],
        "max_content_length": MAX_CONTENT_LENGTH,
    }


def _root(name: str) -> None:
    if name != API_ROOT:
        raise NotFound(f"no API root {name!r}")


def _info(coll: Collection, acc: collections.Access) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": coll.uuid,
        "title": coll.title,
        "can_read": acc.read,
        "can_write": acc.write,
        "media_types": [MEDIA_STIX],
    }
    if coll.description:
        out["description"] = coll.description
    return out


def list_collections(session: Session, principal: Principal, root: str) -> dict[str, Any]:
    _root(root)
    found = [_info(c, a) for c, a in collections.collections_for(session, principal)]
    return {"collections": found} if found else {}


def get_collection(session: Session, principal: Principal, root: str, uuid: str) -> dict[str, Any]:
    _root(root)
    coll, acc = collections.visible_collection(session, principal, uuid)
    return _info(coll, acc)


def _readable(session: Session, principal: Principal, root: str, uuid: str) -> Collection:
    _root(root)
    coll, acc = collections.visible_collection(session, principal, uuid)
    if not acc.read:
        raise Forbidden(f"your organisation may not read collection {uuid}")
    return coll


def writable(session: Session, principal: Principal, root: str, uuid: str) -> Collection:
    _root(root)
    coll, acc = collections.visible_collection(session, principal, uuid)
    if not acc.write:
        raise Forbidden(f"your organisation may not write to collection {uuid}")
    return coll


# --- query parameters and the cursor ----------------------------------------------------------


@dataclass(frozen=True)
class Params:
    added_after: dt.datetime | None = None
    limit: int = DEFAULT_PAGE
    next: str | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    #: As asked; empty means the endpoint's default ("last" to read, "all" to delete).
    versions: tuple[str, ...] = ()
    spec_versions: tuple[str, ...] = ()

    def digest(self) -> str:
        text = json.dumps(
            [
                self.added_after.isoformat() if self.added_after else None,
                sorted(self.ids),
                sorted(self.types),
                sorted(self.versions),
                sorted(self.spec_versions),
            ]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _csv(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v.strip() for raw in values for v in raw.split(",") if v.strip())


def parse_params(query: Mapping[str, Sequence[str]]) -> Params:
    """The TAXII filters of a query string; BadRequest (400) for anything malformed."""
    try:
        added_after = None
        if query.get("added_after"):
            added_after = parse_timestamp(query["added_after"][-1])
        limit = DEFAULT_PAGE
        if query.get("limit"):
            limit = int(query["limit"][-1])
            if limit < 1:
                raise BadObject("limit must be at least 1")
        versions = tuple(
            v if v in ("last", "first", "all") else timestamp_key(parse_timestamp(v))
            for v in _csv(query.get("match[version]", []))
        )
    except (BadObject, ValueError) as exc:
        raise BadRequest(f"bad TAXII parameter: {exc}") from None
    nxt = query.get("next", [None])[-1] or None
    return Params(
        added_after=added_after,
        limit=min(limit, MAX_PAGE),
        next=nxt,
        ids=_csv(query.get("match[id]", [])),
        types=_csv(query.get("match[type]", [])),
        versions=versions,
        spec_versions=_csv(query.get("match[spec_version]", [])),
    )


def encode_cursor(row: TaxiiObject, params: Params) -> str:
    raw = json.dumps([timestamp_key(row.date_added), row.id, params.digest()])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, params: Params) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        when, row_id, digest = json.loads(raw)
        at = parse_timestamp(when)
        if not isinstance(row_id, int):
            raise ValueError("bad id")
    except (ValueError, TypeError, BadObject):
        raise BadRequest("'next' is not a cursor this server gave") from None
    if digest != params.digest():
        raise BadRequest(
            "the filters changed between pages: send the same added_after and match[...] "
            "with 'next' as with the first page"
        )
    return at, row_id


def _query(
    session: Session, coll: Collection, params: Params, ids: Sequence[str] = ()
) -> objects.ObjectQuery:
    return objects.ObjectQuery(
        collection_id=coll.id,
        tlps=collections.allowed_tlps(session, coll),
        added_after=params.added_after,
        ids=tuple(ids) or params.ids,
        types=params.types,
        versions=params.versions or ("last",),
        spec_versions=params.spec_versions,
    )


@dataclass(frozen=True)
class Page:
    """One page: the rows, whether more follow, the cursor, and the date_added headers."""

    rows: list[TaxiiObject]
    more: bool
    next: str | None

    @property
    def headers(self) -> dict[str, str]:
        if not self.rows:
            return {}
        return {
            "X-TAXII-Date-Added-First": format_timestamp(self.rows[0].date_added),
            "X-TAXII-Date-Added-Last": format_timestamp(self.rows[-1].date_added),
        }


def _page(session: Session, q: objects.ObjectQuery, params: Params) -> Page:
    after = decode_cursor(params.next, params) if params.next else None
    rows, more = objects.page(session, q, after=after, limit=params.limit)
    return Page(rows, more, encode_cursor(rows[-1], params) if more and rows else None)


def envelope_text(page: Page) -> str:
    """The envelope as text, the stored objects spliced in as they are (no re-parsing)."""
    if not page.rows:
        return "{}"
    head = '{"more": true, "next": ' + json.dumps(page.next) if page.more else '{"more": false'
    return head + ', "objects": [' + ", ".join(r.body for r in page.rows) + "]}"


# --- reading ----------------------------------------------------------------------------------


def get_objects(
    session: Session, principal: Principal, root: str, uuid: str, params: Params
) -> Page:
    coll = _readable(session, principal, root, uuid)
    return _page(session, _query(session, coll, params), params)


def get_object(
    session: Session, principal: Principal, root: str, uuid: str, stix_id: str, params: Params
) -> Page:
    coll = _readable(session, principal, root, uuid)
    page = _page(session, _query(session, coll, params, [stix_id]), params)
    if not page.rows and not params.next:
        raise NotFound(f"no object {stix_id} in collection {uuid}")
    return page


def manifest(
    session: Session, principal: Principal, root: str, uuid: str, params: Params
) -> tuple[dict[str, Any], Page]:
    coll = _readable(session, principal, root, uuid)
    page = _page(session, _query(session, coll, params), params)
    if not page.rows:
        return {}, page
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    body["objects"] = [
        {
            "id": r.stix_id,
            "date_added": format_timestamp(r.date_added),
            "version": r.version,
            "media_type": MEDIA_STIX,
        }
        for r in page.rows
    ]
    return body, page


def versions(
    session: Session, principal: Principal, root: str, uuid: str, stix_id: str, params: Params
) -> tuple[dict[str, Any], Page]:
    coll = _readable(session, principal, root, uuid)
    all_versions = Params(
        added_after=params.added_after,
        limit=params.limit,
        next=params.next,
        versions=("all",),
        spec_versions=params.spec_versions,
    )
    page = _page(session, _query(session, coll, all_versions, [stix_id]), all_versions)
    if not page.rows and not params.next:
        raise NotFound(f"no object {stix_id} in collection {uuid}")
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    body["versions"] = [r.version for r in page.rows]
    return body, page


def delete_object(
    session: Session, principal: Principal, root: str, uuid: str, stix_id: str, params: Params
) -> int:
    """Delete the object's matching versions (all by default); needs read and write."""
    coll = writable(session, principal, root, uuid)
    _readable(session, principal, root, uuid)
    q = objects.ObjectQuery(
        collection_id=coll.id,
        tlps=collections.allowed_tlps(session, coll),
        ids=(stix_id,),
        versions=params.versions or ("all",),
        spec_versions=params.spec_versions,
    )
    rows, _ = objects.page(session, q, after=None, limit=100_000)
    if not rows:
        raise NotFound(f"no object {stix_id} in collection {uuid}")
    n = objects.delete_versions(session, coll.id, rows)
    record(
        session, principal, "sharing.taxii.delete", "collection", coll.id,
        {"object": stix_id, "versions": n},
    )  # fmt: skip
    return n


# --- writing ----------------------------------------------------------------------------------


def add_objects(
    session: Session,
    principal: Principal,
    root: str,
    uuid: str,
    body: object,
    *,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Take in an envelope of objects; a bad object fails alone and the good ones beside it
    are kept. A partner's objects go to the owner's inbox (imported at once if the partner
    is trusted); they are served to the collection's other readers only when their marking
    lets a recipient pass them on that far."""
    coll = writable(session, principal, root, uuid)
    if not isinstance(body, dict) or not isinstance(body.get("objects"), list):
        raise BadRequest("the body must be a TAXII envelope with an 'objects' list")
    raw: list[Any] = body["objects"]
    if len(raw) > MAX_POST_OBJECTS:
        raise BadRequest(f"at most {MAX_POST_OBJECTS} objects per request")
    now = (clock or SystemClock()).now()
    own = principal.via == "system" or principal.agency_id == coll.owner_agency_id
    audience = Audience(coll.audience)
    allowed = set(collections.allowed_tlps(session, coll))
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    accepted: list[dict[str, Any]] = []
    for obj in raw:
        try:
            o = check(obj)
            version, key = version_of(o, now)
        except BadObject as exc:
            oid = obj.get("id") if isinstance(obj, dict) else None
            failures.append({"id": str(oid or "?")[:200], "message": str(exc)[:500]})
            continue
        tlp = tlp_of(o)
        passes = may_leave(tlp, audience) if own else may_reshare(tlp, audience)
        timeless = "modified" not in o and "created" not in o
        if timeless and _unchanged(session, coll.id, o):
            pass  # an observable is its content: the same one again adds no version
        elif passes and tlp.value in allowed:
            objects.add_version(
                session,
                TaxiiObject(
                    collection_id=coll.id,
                    stix_id=o["id"],
                    stix_type=o["type"],
                    version=version,
                    version_key=key,
                    spec_version=str(o.get("spec_version", "2.1")),
                    date_added=now,
                    tlp=tlp.value,
                    body=json.dumps(o, ensure_ascii=False, separators=(",", ":")),
                    posted_by_agency_id=None if own else principal.agency_id,
                ),
            )
        accepted.append(o)
        successes.append({"id": o["id"], "version": version})
    received = None
    if accepted and not own:
        received = inbox.receive(
            session,
            owner_agency_id=coll.owner_agency_id,
            source_agency_id=principal.agency_id,
            channel="taxii-post",
            objects=accepted,
            now=now,
        )
        for f in received.failures:
            successes = [s for s in successes if s["id"] != f["id"]]
            failures.append(f)
    status = TaxiiStatus(
        uuid=str(uuidlib.uuid4()),
        collection_id=coll.id,
        agency_id=principal.agency_id if principal.agency_id > 0 else coll.owner_agency_id,
        request_timestamp=now,
        status="complete",
        total_count=len(raw),
        success_count=len(successes),
        failure_count=len(failures),
        pending_count=0,
        successes=successes,
        failures=failures,
    )
    repository.add(session, status)
    record(
        session, principal, "sharing.taxii.add", "collection", coll.id,
        {"status": status.uuid, "total": len(raw), "success": len(successes),
         "failure": len(failures)},
    )  # fmt: skip
    return status_body(status)


def _unchanged(session: Session, collection_id: int, obj: dict[str, Any]) -> bool:
    latest = objects.latest_body(session, collection_id, obj["id"])
    return latest is not None and json.loads(latest.body) == obj


def status_body(s: TaxiiStatus) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.uuid,
        "status": s.status,
        "request_timestamp": format_timestamp(s.request_timestamp),
        "total_count": s.total_count,
        "success_count": s.success_count,
        "failure_count": s.failure_count,
        "pending_count": s.pending_count,
    }
    if s.successes:
        out["successes"] = s.successes
    if s.failures:
        out["failures"] = s.failures
    return out


def get_status(session: Session, principal: Principal, root: str, status_id: str) -> dict[str, Any]:
    """Only the agency that posted (or the collection's owner) reads a status."""
    _root(root)
    s = repository.status_by_uuid(session, status_id)
    if s is None:
        raise NotFound(f"no status {status_id}")
    coll = repository.collection(session, s.collection_id)
    if principal.via != "system" and principal.agency_id not in (
        s.agency_id,
        coll.owner_agency_id if coll else -1,
    ):
        raise NotFound(f"no status {status_id}")
    return status_body(s)
