"""STIX bundle exports: a file leaves the instance, so TLP decides as on every exit.

- A collection's bundle is exactly what a TAXII reader of it may receive.
- A subject's bundle (an item, a bank, an operation) is for a named audience: only what
  may go to that audience is in it (RED never), and what was left out is counted.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.kit.clock import SystemClock
from takedown.kit.errors import Forbidden, NotFound
from takedown.sharing import collections, publish, repository
from takedown.sharing import objects_repository as objects
from takedown.sharing.models import Share
from takedown.sharing.tlp import Audience, Tlp, may_leave, parse_tlp


def _bundle(bodies: list[str]) -> str:
    return (
        '{"type": "bundle", "id": "bundle--' + str(uuid.uuid4()) + '", "objects": ['
        + ", ".join(bodies) + "]}"
    )  # fmt: skip


def collection_bundle(session: Session, principal: Principal, collection_id: int) -> str:
    coll = repository.collection(session, collection_id)
    if coll is None:
        raise NotFound(f"no collection {collection_id}")
    acc = collections.access(session, principal, coll)
    if not acc.read:
        raise NotFound(f"no collection {collection_id}")
    q = objects.ObjectQuery(collection_id=coll.id, tlps=collections.allowed_tlps(session, coll))
    bodies: list[str] = []
    after = None
    while True:
        rows, more = objects.page(session, q, after=after, limit=5000)
        bodies += [r.body for r in rows]
        if not more or not rows:
            break
        after = (rows[-1].date_added, rows[-1].id)
    record(
        session, principal, "sharing.export.stix", "collection", coll.id, {"objects": len(bodies)}
    )
    return _bundle(bodies)


@dataclass(frozen=True)
class Exported:
    text: str
    objects: int
    withheld: int


def subject_bundle(
    session: Session,
    principal: Principal,
    subject_type: str,
    subject_id: int,
    *,
    tlp: str | Tlp | None,
    audience: Audience | str,
    now: dt.datetime | None = None,
) -> Exported:
    """A bundle of one subject for one audience; RED never, the audience's ceiling always."""
    aud = Audience(audience)
    marking = parse_tlp(tlp)
    if marking is Tlp.RED:
        raise Forbidden("TLP:RED never leaves the instance")
    if not may_leave(marking, aud):
        raise Forbidden(f"TLP:{marking.value} may not go to a {aud.value} audience")
    if principal.via != "system" and principal.agency_id <= 0:
        raise Forbidden("an export is made for an agency")
    now = now or SystemClock().now()
    transient = Share(
        collection_id=0,
        agency_id=principal.agency_id,
        subject_type=subject_type,
        subject_id=subject_id,
        tlp=marking.value,
    )
    bodies: list[str] = []
    withheld = 0
    seen: set[str] = set()
    for obj, obj_tlp in publish.objects_for_share(session, transient, now):
        if not may_leave(obj_tlp, aud):
            withheld += 1
        elif obj.id not in seen:
            seen.add(obj.id)
            bodies.append(obj.serialize())
    record(
        session, principal, "sharing.export.stix", subject_type, subject_id,
        {"audience": aud.value, "tlp": marking.value, "objects": len(bodies), "withheld": withheld},
    )  # fmt: skip
    return Exported(_bundle(bodies), len(bodies), withheld)


def parse_bundle(text: str) -> list[dict[str, object]]:
    data = json.loads(text)
    return list(data.get("objects", [])) if isinstance(data, dict) else []
