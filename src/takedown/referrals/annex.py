"""The document a batch carries: Annex I (Sections A-F) for an order, a shorter header for ToS.

Frozen into ``Referral.annex`` when the batch is issued, so what was sent is
exactly what is rendered later, whatever happens to the platform record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency, User
from takedown.referrals import repository
from takedown.referrals.models import ItemState, Referral, ReferralKind
from takedown.referrals.platforms import host_state_authority, lookup

REASON_TEXT = {
    "a": "incites the commission of terrorist offences (Art. 2(7)(a))",
    "b": "solicits a person or a group to commit or contribute to terrorist offences "
    "(Art. 2(7)(b))",
    "c": "solicits a person or a group to participate in the activities of a terrorist group "
    "(Art. 2(7)(c))",
    "d": "provides instruction on the making or use of explosives, firearms or other weapons or "
    "noxious or hazardous substances, or on other specific methods or techniques for the "
    "purpose of committing terrorist offences (Art. 2(7)(d))",
    "e": "constitutes a threat to commit a terrorist offence (Art. 2(7)(e))",
}

REDRESS = (
    "The hosting service provider and the content provider have the right to an effective "
    "remedy against this removal order before the courts of the issuing Member State "
    "(Art. 9 of Regulation (EU) 2021/784), and the hosting service provider may request the "
    "competent authority of the Member State of its main establishment to scrutinise it "
    "(Art. 4(3)). Time limits and procedures are those of the issuing Member State's law."
)
TOS_NOTE = (
    "This is a referral for your voluntary consideration under your own terms of service. "
    "It is not a removal order under Regulation (EU) 2021/784."
)


def digest(sections: dict[str, Any]) -> str:
    body = json.dumps(sections, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def build_annex(session: Session, ref: Referral, *, preview: bool = False) -> dict[str, Any]:
    """The document of a batch. ``preview``: a draft's live view, which also lists what
    the order cannot say yet (``warnings``, e.g. no authority recorded for Section D);
    the frozen document (``preview=False``) never carries them."""
    agency = session.get(Agency, ref.agency_id)
    assert agency is not None
    info = lookup(session, ref.platform)
    items = [
        {"item_id": ri.item_id, "url": ri.url, "location": ri.location}
        for ri, _ in repository.items_of(session, ref.id)
        if ri.state == ItemState.INCLUDED.value
    ]
    author = session.get(User, ref.author_id) if ref.author_id else None
    approver = session.get(User, ref.approver_id) if ref.approver_id else None
    issued = ref.issued_at.isoformat() if ref.issued_at else None
    if ref.kind != ReferralKind.REMOVAL_ORDER.value:
        doc: dict[str, Any] = {
            "type": "tos_referral",
            "reference": ref.reference,
            "sender": {
                "agency": agency.name,
                "country": agency.country,
                "contact_point": agency.contact_point,
            },
            "addressee": {"platform": info.name, "contact_point": info.contact_point},
            "issued_at": issued,
            "items": items,
            "justification": ref.justification,
            "note": TOS_NOTE,
        }
        doc["digest"] = digest({k: v for k, v in doc.items() if k != "digest"})
        return doc
    cross_border = bool(info.country) and info.country != agency.country.upper()
    host = host_state_authority(session, info.country) if cross_border else None
    sections: dict[str, Any] = {
        "A": {
            "issuing_state": agency.country.upper(),
            "issuing_authority": agency.name,
            "addressee": info.name,
            "legal_representative": info.legal_representative,
            "contact_point": info.contact_point,
            "state_of_main_establishment": info.country or "unknown",
            "issued_at": issued,
            "reference": ref.reference,
            "emergency": ref.emergency,
        },
        "B": {
            "items": items,
            "reasons": [{"letter": r, "text": REASON_TEXT[r]} for r in ref.reasons],
            "justification": ref.justification,
            "deadline": "Remove or disable access in all Member States within one hour of "
            "receipt (Art. 3(3)).",
        },
        "C": {
            "disclosure_delayed": ref.disclosure_delayed,
            "delay_weeks": ref.disclosure_delay_weeks,
            "text": (
                f"Do not inform the content provider for {ref.disclosure_delay_weeks} weeks "
                "(Art. 11(3))."
                if ref.disclosure_delayed
                else "The content provider may be informed of the removal (Art. 11(1))."
            ),
        },
        "D": {
            "copy_to_host_state": cross_border,
            "host_state": info.country or None,
            "host_state_authority": host.name if host else None,
            "host_state_contact": host.contact_point if host and host.name else None,
        },
        "E": {
            "authority": agency.name,
            "contact_point": agency.contact_point,
            "author": (author.display_name or author.email) if author else None,
            "approved_by": (approver.display_name or approver.email) if approver else None,
            "approved_at": ref.approved_at.isoformat() if ref.approved_at else None,
        },
        "F": {"redress": REDRESS},
    }
    sections["E"]["seal"] = digest({k: sections[k] for k in "ABCD"})
    doc = {"type": "removal_order", "annex": "I", "reference": ref.reference, "sections": sections}
    if preview:
        doc["warnings"] = [host.warning] if host and host.warning else []
    return doc
