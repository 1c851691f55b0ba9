"""Rows and actors for the sharing tests."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.sharing import collections
from takedown.sharing import objects_repository as objects
from takedown.sharing.models import Collection, TaxiiObject
from takedown.sharing.stixobj import timestamp_key
from takedown.sharing.tlp import MARKING_IDS, Tlp
from tests.factories import Actor, make_actor, make_agency

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


@dataclass
class Setup:
    owner: Actor  # a supervisor of the owning agency
    partner: Actor  # an analyst of the partner's agency (its TAXII service user)
    coll: Collection


def shared_collection(
    session: Session,
    *,
    audience: str = "community",
    read: bool = True,
    write: bool = True,
    partner_scopes: list[str] | None = None,
) -> Setup:
    owner = make_actor(
        session, make_agency(session, name=f"Owner {uuid.uuid4().hex[:6]}"), role="supervisor"
    )
    partner = make_actor(
        session, make_agency(session, country="DE"), role="analyst", scopes=partner_scopes
    )
    coll = collections.create_collection(
        session, owner.principal, title="Shared with partners", audience=audience
    )
    collections.grant(session, owner.principal, coll.id, partner.agency.id, read=read, write=write)
    session.flush()
    return Setup(owner, partner, coll)


def indicator(n: int, *, tlp: Tlp = Tlp.GREEN, modified: dt.datetime = T0) -> dict[str, object]:
    ts = modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": ts,
        "name": f"synthetic indicator {n}",
        "pattern": f"[url:value = 'https://example.org/synthetic/{n}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00.000Z",
        "object_marking_refs": [MARKING_IDS[tlp]],
    }


def put(
    session: Session,
    coll: Collection,
    obj: dict[str, object],
    date_added: dt.datetime,
    tlp: Tlp = Tlp.GREEN,
) -> TaxiiObject:
    from takedown.sharing.stixobj import parse_timestamp

    version = str(obj["modified"])
    row = TaxiiObject(
        collection_id=coll.id,
        stix_id=str(obj["id"]),
        stix_type=str(obj["type"]),
        version=version,
        version_key=timestamp_key(parse_timestamp(version)),
        spec_version="2.1",
        date_added=date_added,
        tlp=tlp.value,
        body=json.dumps(obj),
    )
    objects.add_version(session, row)
    return row
