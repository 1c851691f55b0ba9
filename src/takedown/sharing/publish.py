"""The publisher: shares become versions of STIX objects in their collection.

Publishing is idempotent: the mapping is deterministic (``stixmap``), so an unchanged
item, bank or operation gives the same objects and adds nothing; a change gives a new
version (a new ``modified`` for SDOs, a new body for observables), added now. Only
objects whose TLP the collection may carry are written (RED never, nor anything above
the collection's audience or partner ceiling); the rest are counted as withheld on the
share, so "what was shared with whom" says what was kept back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import stix2.utils
from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.kit.errors import NotFound
from takedown.sharing import collections, gather, repository, stixmap
from takedown.sharing import objects_repository as objects
from takedown.sharing.models import Collection, Share, TaxiiObject
from takedown.sharing.stixobj import timestamp_key
from takedown.sharing.tlp import Tlp, parse_tlp

#: (STIX object from stix2, its TLP)
Marked = tuple[Any, Tlp]


@dataclass
class Published:
    added: int = 0
    unchanged: int = 0
    withheld: int = 0


def acting_for(agency_id: int) -> Principal:
    """The sharing agency, as the publisher acts for it (its visibility, its own data)."""
    return Principal(user_id=0, agency_id=agency_id, role=Role.ANALYST, via="publisher")


def store(
    session: Session,
    coll: Collection,
    marked: Iterable[Marked],
    *,
    now: dt.datetime,
    share_id: int | None = None,
) -> Published:
    """Write the objects the collection may carry that are new or changed."""
    allowed = set(collections.allowed_tlps(session, coll))
    out = Published()
    batch: list[tuple[Any, Tlp]] = []
    for obj, tlp in marked:
        if tlp.value not in allowed:
            out.withheld += 1
        else:
            batch.append((obj, tlp))
    latest = objects.latest_rows(session, coll.id, [o.id for o, _ in batch])
    added_key = timestamp_key(now)
    rows: list[TaxiiObject] = []
    seen: set[str] = set()
    for obj, tlp in batch:
        if obj.id in seen:
            continue
        seen.add(obj.id)
        body = obj.serialize()
        stamp = obj.get("modified") or obj.get("created")
        if stamp is not None:
            version = stix2.utils.format_datetime(stamp)
            key = timestamp_key(stamp)
        else:
            version, key = added_key, added_key
        prev = latest.get(obj.id)
        if prev is not None:
            same = prev[1] == body if stamp is None else key <= prev[0]
            if same:
                out.unchanged += 1
                continue
        rows.append(
            TaxiiObject(
                collection_id=coll.id,
                stix_id=obj.id,
                stix_type=obj.type,
                version=version,
                version_key=key,
                spec_version="2.1",
                date_added=now,
                tlp=tlp.value,
                body=body,
                share_id=share_id,
                is_latest=True,
                is_first=prev is None,
            )
        )
    objects.add_new(session, rows)
    out.added = len(rows)
    return out


def objects_for_share(session: Session, share: Share, now: dt.datetime) -> list[Marked]:
    """The STIX objects a share stands for, each with its TLP (common objects CLEAR)."""
    principal = acting_for(share.agency_id)
    who = gather.producer(session, share.agency_id)
    tlp = parse_tlp(share.tlp)
    marked: list[Marked] = []
    tlps: set[Tlp] = set()
    if share.subject_type == "item":
        item = gather.own_item(session, principal, share.subject_id)
        fact = gather.item_fact(session, principal, item, tlp, include_hold=share.include_hold)
        marked += [(o, tlp) for o in stixmap.item_objects(fact, who)]
        tlps.add(tlp)
    elif share.subject_type == "bank":
        for media in gather.bank_media(session, principal, share.subject_id):
            f = stixmap.media_object(media, who)
            if f is not None:
                marked.append((f, media.tlp))
                tlps.add(media.tlp)
    elif share.subject_type == "operation":
        op, own = gather.operation_fact(session, principal, share.subject_id, tlp, now)
        refs = []
        for item in own:
            fact = gather.item_fact(session, principal, item, tlp)
            objs = stixmap.item_objects(fact, who)
            marked += [(o, tlp) for o in objs]
            refs += [o.id for o in objs if o.type == "indicator"]
        marked.append((stixmap.operation_report(op, who, refs), tlp))
        tlps.add(tlp)
    else:
        raise NotFound(f"cannot publish a share of {share.subject_type!r}")
    common = [(o, Tlp.CLEAR) for o in stixmap.common_objects(who, tlps)]
    return common + marked


def publish_share(session: Session, share: Share, *, now: dt.datetime) -> Published:
    coll = repository.collection(session, share.collection_id)
    if coll is None:
        raise NotFound(f"no collection {share.collection_id}")
    result = store(
        session, coll, objects_for_share(session, share, now), now=now, share_id=share.id
    )
    share.objects += result.added
    share.withheld = result.withheld
    share.published_at = now
    session.flush()
    return result


def due(session: Session, share: Share) -> bool:
    """Worth publishing again? Banks only when a signal changed since (they are big);
    items and operations always (a few objects, unchanged ones add nothing)."""
    if share.subject_type == "bank":
        return gather.bank_changed_since(session, share.subject_id, share.published_at)
    return True
