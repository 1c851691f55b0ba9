"""Incoming STIX into items, banks and holds: credited to the partner, once, bad ones alone."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.items import repository as items_repository
from takedown.items import service as items
from takedown.kit.clock import SystemClock
from takedown.matching.models import Signal
from takedown.sharing import inbox, partners, review, stixmap
from takedown.sharing.models import InboxObject, InboxStatus
from takedown.sharing.tlp import Tlp
from tests.factories import make_actor, make_agency
from tests.sharing.facts import PRODUCER, media, post

SECRET = "test-secret"


def _partner(session: Session, trust: str = "auto", ceiling: str = "AMBER"):  # type: ignore[no-untyped-def]
    owner = make_actor(session, make_agency(session), role="supervisor")
    p = partners.create_partner(
        session,
        owner.principal,
        partners.PartnerIn(
            name="IRU Partner", country="DE", contact_point="desk@partner.invalid",
            trust=trust, tlp_ceiling=ceiling,
        ),
        secret_key=SECRET,
    )  # fmt: skip
    return owner, p


def _objs(*facts: object) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for f in facts:
        objs = (
            stixmap.item_objects(f, PRODUCER)  # type: ignore[arg-type]
            if hasattr(f, "identity")
            else [stixmap.media_object(f, PRODUCER)]  # type: ignore[arg-type]
        )
        out += [json.loads(stixmap.serialize(o)) for o in objs]
    return out


def test_a_trusted_partners_objects_become_items_signals_and_holds(db_session: Session) -> None:
    owner, p = _partner(db_session)
    now = SystemClock().now()
    held = post(2, tlp=Tlp.GREEN, hold_contact_point="desk@partner.invalid")
    objs = _objs(post(1, tlp=Tlp.GREEN), held, media())
    got = inbox.receive(
        db_session, owner_agency_id=owner.agency.id, source_agency_id=p.agency_id,
        channel="taxii-pull", objects=objs, now=now,
    )  # fmt: skip
    assert not got.failures
    rows = got.stored
    assert all(r.status in ("imported", "ignored") for r in rows), [
        (r.stix_type, r.status, r.error) for r in rows
    ]
    item = items_repository.item_by_identity(db_session, "x:status/1")
    assert item is not None
    # Credited to the partner's agency, visible to the owner's analysts.
    sightings = items.sightings_for(db_session, owner.principal, item)
    assert {s.agency_id for s in sightings} == {p.agency_id}
    assert len(sightings) == 2  # the two sightings of the STIX item, no extra report
    assessed = items.assessments_for(db_session, owner.principal, item.id)
    assert [a.assessment.verdict for a in assessed] == ["terrorist_content"]
    item2 = items_repository.item_by_identity(db_session, "x:status/2")
    assert item2 is not None
    holds = items.holds_for(db_session, owner.principal, item2.id)
    assert [(h.agency_id, h.contact_point) for h in holds] == [
        (p.agency_id, "desk@partner.invalid")
    ]
    sigs = db_session.scalars(select(Signal).where(Signal.external_id.like("file--%"))).all()
    assert sorted(s.signal_type for s in sigs) == ["md5", "pdq", "pdq", "sha256"]
    assert all(
        s.source == "partner:IRU Partner" and s.labels["group"] == "Synthetic Group" for s in sigs
    )
    # The same objects again: nothing stored or imported twice.
    again = inbox.receive(
        db_session, owner_agency_id=owner.agency.id, source_agency_id=p.agency_id,
        channel="taxii-pull", objects=objs, now=now,
    )  # fmt: skip
    assert again.stored == [] and again.duplicates == len(objs)
    assert len(items.sightings_for(db_session, owner.principal, item)) == 2


def test_a_later_version_without_the_hold_releases_it(db_session: Session) -> None:
    owner, p = _partner(db_session)
    now = SystemClock().now()
    first = _objs(post(3, tlp=Tlp.GREEN, hold_contact_point="desk@partner.invalid"))
    inbox.receive(db_session, owner_agency_id=owner.agency.id, source_agency_id=p.agency_id,
                  channel="taxii-pull", objects=first, now=now)  # fmt: skip
    later = post(3, tlp=Tlp.GREEN, status="reappeared",
                 status_changed_at=post(3).status_changed_at.replace(day=20))  # fmt: skip
    inbox.receive(db_session, owner_agency_id=owner.agency.id, source_agency_id=p.agency_id,
                  channel="taxii-pull", objects=_objs(later), now=now)  # fmt: skip
    item = items_repository.item_by_identity(db_session, "x:status/3")
    assert item is not None and items.active_holds(db_session, item.id) == []


def test_bad_and_too_secret_objects_fail_alone(db_session: Session) -> None:
    owner, p = _partner(db_session, ceiling="GREEN")
    good = _objs(post(4, tlp=Tlp.GREEN))
    amber = _objs(post(5, tlp=Tlp.AMBER))
    broken = {"type": "indicator", "id": "indicator--1", "spec_version": "2.1"}
    no_url = dict(good[1], id="indicator--6b1f0a52-3c53-4b4e-9a1a-1f2b3c4d5e6f",
                  pattern="[ipv4-addr:value = '192.0.2.1']")  # fmt: skip
    no_url.pop("extensions")
    got = inbox.receive(
        db_session, owner_agency_id=owner.agency.id, source_agency_id=p.agency_id,
        channel="taxii-pull", objects=[*good, broken, *amber, no_url], now=SystemClock().now(),
    )  # fmt: skip
    assert {f["id"] for f in got.failures} >= {"indicator--1"}
    refused = [r for r in got.stored if r.tlp == "AMBER"]
    assert refused and all(r.status == "failed" and "ceiling" in r.error for r in refused)
    assert all(r.body == "{}" for r in refused)  # not kept: above what we accept
    assert items_repository.item_by_identity(db_session, "x:status/4") is not None
    assert items_repository.item_by_identity(db_session, "x:status/5") is None
    odd = next(r for r in got.stored if r.stix_id == no_url["id"])
    assert odd.status == "ignored" and "no URL" in odd.error


def test_a_partner_under_review_waits_for_an_analyst(db_session: Session) -> None:
    owner, p = _partner(db_session, trust="review")
    got = inbox.receive(
        db_session, owner_agency_id=owner.agency.id, source_agency_id=p.agency_id,
        channel="taxii-post", objects=_objs(post(7, tlp=Tlp.GREEN)), now=SystemClock().now(),
    )  # fmt: skip
    pending = [r for r in got.stored if r.status == "pending"]
    assert pending and items_repository.item_by_identity(db_session, "x:status/7") is None
    _listed, total = review.list_inbox(db_session, owner.principal)
    assert total == len(pending)
    stranger = make_actor(db_session, make_agency(db_session))
    assert review.list_inbox(db_session, stranger.principal)[1] == 0
    review.decide(db_session, owner.principal, [r.id for r in pending], accept=True)
    assert items_repository.item_by_identity(db_session, "x:status/7") is not None
    decided = db_session.scalars(
        select(InboxObject).where(InboxObject.id.in_([r.id for r in pending]))
    ).all()
    assert {r.stix_type: r.status for r in decided} == {
        "url": InboxStatus.IMPORTED.value,
        "indicator": InboxStatus.IMPORTED.value,
        "observed-data": InboxStatus.IGNORED.value,
        "sighting": InboxStatus.IMPORTED.value,
    }
    assert all(r.decided_by == owner.user.id for r in decided)
