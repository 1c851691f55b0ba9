"""Every SQL query over collection objects (TAXII's objects, manifest and versions).

Paging is keyset paging on ``(date_added, id)``: a page ends at a row, the next page
starts strictly after it, so many objects sharing one ``date_added`` never repeat or
vanish between pages (the loop other servers fall into when ``added_after`` is their
only cursor).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from takedown.sharing.models import TaxiiObject


@dataclass(frozen=True)
class ObjectQuery:
    """The filters of one TAXII request (the same on every page of it)."""

    collection_id: int
    tlps: Sequence[str]
    added_after: dt.datetime | None = None
    ids: Sequence[str] = ()
    types: Sequence[str] = ()
    #: "last", "first", "all", or version keys (normalised timestamps).
    versions: Sequence[str] = field(default_factory=lambda: ["last"])
    spec_versions: Sequence[str] = ()


def _where(q: ObjectQuery) -> list[ColumnElement[bool]]:
    o = TaxiiObject
    cond: list[ColumnElement[bool]] = [o.collection_id == q.collection_id, o.tlp.in_(q.tlps)]
    if q.added_after is not None:
        cond.append(o.date_added > q.added_after)
    if q.ids:
        cond.append(o.stix_id.in_(q.ids))
    if q.types:
        cond.append(o.stix_type.in_(q.types))
    if q.spec_versions:
        cond.append(o.spec_version.in_(q.spec_versions))
    versions = set(q.versions)
    if "all" not in versions:
        picks: list[ColumnElement[bool]] = []
        if "last" in versions:
            picks.append(o.is_latest.is_(True))
        if "first" in versions:
            picks.append(o.is_first.is_(True))
        exact = [v for v in versions if v not in ("last", "first")]
        if exact:
            picks.append(o.version_key.in_(exact))
        cond.append(or_(*picks))
    return cond


def page(
    session: Session, q: ObjectQuery, *, after: tuple[dt.datetime, int] | None, limit: int
) -> tuple[list[TaxiiObject], bool]:
    """Up to ``limit`` rows after the cursor, in (date_added, id) order; and whether more."""
    o = TaxiiObject
    cond = _where(q)
    if after is not None:
        d, i = after
        cond.append(or_(o.date_added > d, and_(o.date_added == d, o.id > i)))
    stmt = select(o).where(*cond).order_by(o.date_added, o.id).limit(limit + 1)
    rows = list(session.scalars(stmt))
    return rows[:limit], len(rows) > limit


def count(session: Session, q: ObjectQuery) -> int:
    return int(session.scalar(select(func.count()).select_from(TaxiiObject).where(*_where(q))) or 0)


def versions_of(session: Session, collection_id: int, stix_id: str) -> list[TaxiiObject]:
    stmt = (
        select(TaxiiObject)
        .where(TaxiiObject.collection_id == collection_id, TaxiiObject.stix_id == stix_id)
        .order_by(TaxiiObject.version_key)
    )
    return list(session.scalars(stmt))


def latest_body(session: Session, collection_id: int, stix_id: str) -> TaxiiObject | None:
    stmt = select(TaxiiObject).where(
        TaxiiObject.collection_id == collection_id,
        TaxiiObject.stix_id == stix_id,
        TaxiiObject.is_latest.is_(True),
    )
    return session.scalars(stmt).first()


def latest_keys(session: Session, collection_id: int, stix_ids: Sequence[str]) -> dict[str, str]:
    """stix_id -> its latest version_key, for the ids given (chunked IN lists)."""
    out: dict[str, str] = {}
    ids = list(stix_ids)
    for i in range(0, len(ids), 500):
        stmt = select(TaxiiObject.stix_id, TaxiiObject.version_key).where(
            TaxiiObject.collection_id == collection_id,
            TaxiiObject.stix_id.in_(ids[i : i + 500]),
            TaxiiObject.is_latest.is_(True),
        )
        out.update({s: v for s, v in session.execute(stmt)})
    return out


def add_version(session: Session, obj: TaxiiObject) -> bool:
    """Store one version, keeping the latest/first flags right; False if it was there."""
    rows = versions_of(session, obj.collection_id, obj.stix_id)
    if any(r.version_key == obj.version_key for r in rows):
        return False
    keys = [r.version_key for r in rows]
    obj.is_latest = not keys or obj.version_key > max(keys)
    obj.is_first = not keys or obj.version_key < min(keys)
    for r in rows:
        if obj.is_latest and r.is_latest:
            r.is_latest = False
        if obj.is_first and r.is_first:
            r.is_first = False
    session.add(obj)
    session.flush()
    return True


def add_new(session: Session, objs: Sequence[TaxiiObject]) -> None:
    """Bulk insert of versions known to be new and the latest (the publisher's path)."""
    if not objs:
        return
    latest = [o.stix_id for o in objs]
    cid = objs[0].collection_id
    for i in range(0, len(latest), 500):
        session.execute(
            update(TaxiiObject)
            .where(
                TaxiiObject.collection_id == cid,
                TaxiiObject.stix_id.in_(latest[i : i + 500]),
                TaxiiObject.is_latest.is_(True),
            )
            .values(is_latest=False)
        )
    session.add_all(objs)
    session.flush()


def delete_versions(session: Session, collection_id: int, rows: Sequence[TaxiiObject]) -> int:
    """Delete the given versions and re-mark latest/first among what remains."""
    if not rows:
        return 0
    ids = {r.stix_id for r in rows}
    session.execute(delete(TaxiiObject).where(TaxiiObject.id.in_([r.id for r in rows])))
    session.flush()
    for stix_id in ids:
        rest = versions_of(session, collection_id, stix_id)
        for r in rest:
            r.is_latest = r is rest[-1]
            r.is_first = r is rest[0]
    session.flush()
    return len(rows)


def collection_counts(session: Session, collection_ids: Sequence[int]) -> dict[int, int]:
    if not collection_ids:
        return {}
    stmt = (
        select(TaxiiObject.collection_id, func.count())
        .where(TaxiiObject.collection_id.in_(collection_ids), TaxiiObject.is_latest.is_(True))
        .group_by(TaxiiObject.collection_id)
    )
    return {c: int(n) for c, n in session.execute(stmt)}


def latest_rows(
    session: Session, collection_id: int, stix_ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """stix_id -> (latest version_key, its body), for the ids given (chunked IN lists)."""
    out: dict[str, tuple[str, str]] = {}
    ids = sorted(set(stix_ids))
    for i in range(0, len(ids), 500):
        stmt = select(TaxiiObject.stix_id, TaxiiObject.version_key, TaxiiObject.body).where(
            TaxiiObject.collection_id == collection_id,
            TaxiiObject.stix_id.in_(ids[i : i + 500]),
            TaxiiObject.is_latest.is_(True),
        )
        out.update({s: (v, b) for s, v, b in session.execute(stmt)})
    return out


def delete_share_objects(session: Session, share_id: int) -> int:
    result = session.execute(delete(TaxiiObject).where(TaxiiObject.share_id == share_id))
    return int(getattr(result, "rowcount", 0) or 0)
