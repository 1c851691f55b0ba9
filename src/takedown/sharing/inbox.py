"""The inbox: every object that came in from a partner, once, with what became of it.

Whatever the door (a pull from a partner's TAXII server, a partner posting to one of our
collections, a MISP feed), objects land here keyed by (source agency, id, version): the
same version arriving twice is not stored or imported twice. A partner trusted ``auto``
has its objects imported as they arrive; otherwise they wait for an analyst
(``review``). An object marked stricter than the partner's TLP ceiling is refused and
reported, and so is a malformed one; the good objects beside it are kept.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from takedown.sharing import repository
from takedown.sharing.models import InboxObject, InboxStatus, Partner, Trust
from takedown.sharing.stixobj import BadObject, check, content_version, tlp_of
from takedown.sharing.tlp import RANK, parse_tlp

#: Types that carry nothing to import on their own (they are read beside the others).
CONTEXT_TYPES = frozenset(
    {"marking-definition", "extension-definition", "identity", "language-content"}
)


@dataclass
class Received:
    stored: list[InboxObject] = field(default_factory=list)
    duplicates: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


def _partner_for(session: Session, owner_agency_id: int, source_agency_id: int) -> Partner | None:
    for p in repository.partner_by_agency(session, source_agency_id):
        if p.owner_agency_id == owner_agency_id:
            return p
    return None


def receive(
    session: Session,
    *,
    owner_agency_id: int,
    source_agency_id: int,
    channel: str,
    objects: Sequence[Any],
    now: dt.datetime,
    partner: Partner | None = None,
) -> Received:
    """Store what is new; import it at once for a trusted partner (in this transaction)."""
    partner = partner or _partner_for(session, owner_agency_id, source_agency_id)
    ceiling = parse_tlp(partner.tlp_ceiling) if partner else None
    out = Received()
    checked: list[tuple[dict[str, Any], str]] = []
    for raw in objects:
        try:
            obj = check(raw)
            version = content_version(obj)
        except BadObject as exc:
            oid = raw.get("id") if isinstance(raw, dict) else None
            out.failures.append({"id": str(oid or "?")[:200], "message": str(exc)[:500]})
            continue
        checked.append((obj, version))
    seen = repository.inbox_keys(session, source_agency_id, [(o["id"], v) for o, v in checked])
    for obj, version in checked:
        key = (obj["id"], version)
        if key in seen:
            out.duplicates += 1
            continue
        seen.add(key)
        tlp = tlp_of(obj)
        row = InboxObject(
            owner_agency_id=owner_agency_id,
            source_agency_id=source_agency_id,
            partner_id=partner.id if partner else None,
            channel=channel,
            stix_id=obj["id"],
            stix_type=obj["type"],
            version=version,
            tlp=tlp.value,
            body=json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
            received_at=now,
        )
        if ceiling is not None and RANK[tlp] > RANK[ceiling]:
            row.status = InboxStatus.FAILED.value
            row.error = f"marked TLP:{tlp.value}, stricter than this partner's ceiling"
            out.failures.append({"id": obj["id"], "message": row.error})
            # Kept only as the record of the refusal: the body is not stored.
            row.body = "{}"
        elif obj["type"] in CONTEXT_TYPES:
            row.status = InboxStatus.IGNORED.value
        session.add(row)
        out.stored.append(row)
    session.flush()
    if partner is not None and partner.trust == Trust.AUTO.value:
        from takedown.sharing.importer import import_rows

        pending = [r for r in out.stored if r.status == InboxStatus.PENDING.value]
        import_rows(session, pending, decided_by=None, now=now)
    return out
