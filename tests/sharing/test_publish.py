"""Sharing into a collection: what is published, at which TLP, and what is held back."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.items import service as items
from takedown.kit.errors import Forbidden
from takedown.matching import service as matching
from takedown.matching.schemas import Labels, SignalIn
from takedown.sharing import publish, shares
from takedown.sharing.models import Share, TaxiiObject
from takedown.sharing.tlp import MARKING_IDS, Tlp
from tests.items.factories import make_assessed_item, make_item
from tests.matching.factories import make_bank
from tests.sharing.helpers import shared_collection
from tests.sharing.stixcheck import assert_valid


def _bodies(session: Session, coll_id: int) -> list[dict[str, object]]:
    rows = session.scalars(
        select(TaxiiObject).where(TaxiiObject.collection_id == coll_id, TaxiiObject.is_latest)
    )
    return [json.loads(r.body) for r in rows]


def test_sharing_an_item_publishes_valid_objects_once(db_session: Session) -> None:
    s = shared_collection(db_session)
    item = make_assessed_item(db_session, s.owner)
    share, result = shares.share(
        db_session, s.owner.principal, s.coll.id, "item", item.id, tlp="GREEN"
    )
    # project identity, extension definition, producer identity, TLP:GREEN marking,
    # url, indicator, observed-data, one sighting
    assert result.added == 8
    objs = assert_valid(_bodies(db_session, s.coll.id))
    types = sorted(str(o["type"]) for o in objs)
    assert types.count("sighting") == 1 and "indicator" in types and "url" in types
    ind = next(o for o in objs if o["type"] == "indicator")
    assert ind["object_marking_refs"] == [MARKING_IDS[Tlp.GREEN]]
    # Unchanged: nothing new. Changed: a new version of the indicator only.
    again = publish.publish_share(db_session, share, now=share.published_at)  # type: ignore[arg-type]
    assert again.added == 0
    items.assess(db_session, s.owner.principal, item.id, "terrorist_content", ["a", "d"])
    third = publish.publish_share(db_session, share, now=share.published_at)  # type: ignore[arg-type]
    assert third.added >= 1
    ind2 = next(o for o in _bodies(db_session, s.coll.id) if o["type"] == "indicator")
    assert ind2["id"] == ind["id"] and ind2["modified"] >= ind["modified"]


def test_red_never_leaves_and_the_ceiling_is_named(db_session: Session) -> None:
    s = shared_collection(db_session, audience="community")
    item = make_item(db_session, s.owner)
    with pytest.raises(Forbidden, match="RED never leaves"):
        shares.share(db_session, s.owner.principal, s.coll.id, "item", item.id, tlp="RED")
    with pytest.raises(Forbidden, match="at most TLP:GREEN"):
        shares.share(db_session, s.owner.principal, s.coll.id, "item", item.id, tlp="AMBER")
    assert db_session.scalar(select(Share).where(Share.collection_id == s.coll.id)) is None


def test_only_what_the_agency_reported_itself_is_shared(db_session: Session) -> None:
    s = shared_collection(db_session)
    theirs = make_item(db_session, s.partner)
    items.share_item(db_session, s.partner.principal, theirs.id, s.owner.agency.id)
    with pytest.raises(Forbidden, match="only a reporter shares"):
        shares.share(db_session, s.owner.principal, s.coll.id, "item", theirs.id, tlp="GREEN")


def test_a_bank_is_shared_as_files_with_red_signals_withheld(db_session: Session) -> None:
    s = shared_collection(db_session, audience="clients")
    bank = make_bank(db_session, s.owner, tlp="GREEN")
    lab = Labels(group="Synthetic Group", tier=3)
    for t, v in (("sha256", "a" * 64), ("md5", "b" * 32), ("pdq", "c" * 64)):
        matching.add_signal(
            db_session, s.owner.principal, bank.id,
            SignalIn(signal_type=t, value=v, labels=lab, source="seed"),
        )  # fmt: skip
    matching.add_signal(
        db_session, s.owner.principal, bank.id,
        SignalIn(signal_type="sha256", value="e" * 64, tlp="RED", source="secret"),
    )  # fmt: skip
    share, result = shares.share(db_session, s.owner.principal, s.coll.id, "bank", bank.id)
    assert share.tlp == "GREEN" and result.withheld == 1
    files = [o for o in assert_valid(_bodies(db_session, s.coll.id)) if o["type"] == "file"]
    assert [f["hashes"] for f in files] == [
        {"SHA-256": "a" * 64, "MD5": "b" * 32, "x_pdq": "c" * 64}
    ]
    assert "e" * 64 not in json.dumps(_bodies(db_session, s.coll.id))


def test_a_banked_image_is_shared_without_its_derived_inner_signal(db_session: Session) -> None:
    """The inner-region PDQ (pdq_inner) is matching's own aid, made from pixels: the file
    object carries the image's hashes and band, never the derived signal (#17)."""
    from takedown.matching.models import Signal
    from tests.matching import media

    s = shared_collection(db_session, audience="clients")
    bank = make_bank(db_session, s.owner, tlp="GREEN")
    matching.add_media(db_session, s.owner.principal, bank.id, media.poster(5))
    inner = db_session.scalars(
        select(Signal).where(Signal.bank_id == bank.id, Signal.signal_type == "pdq_inner")
    ).one()
    shares.share(db_session, s.owner.principal, s.coll.id, "bank", bank.id)
    bodies = assert_valid(_bodies(db_session, s.coll.id))
    files = [o for o in bodies if o["type"] == "file"]
    assert len(files) == 1 and "x_pdq" in files[0]["hashes"]
    dumped = json.dumps(bodies)
    assert inner.value not in dumped and "pdq_inner" not in dumped


def test_revoking_takes_the_objects_out(db_session: Session) -> None:
    s = shared_collection(db_session)
    item = make_item(db_session, s.owner)
    share, _ = shares.share(db_session, s.owner.principal, s.coll.id, "item", item.id, tlp="GREEN")
    shares.revoke(db_session, s.owner.principal, share.id)
    kinds = {o["type"] for o in _bodies(db_session, s.coll.id)}
    assert "indicator" not in kinds
    views, total = shares.shared_with_whom(db_session, s.owner.principal)
    assert total == 1 and views[0].share.revoked_at is not None
    assert views[0].recipients == [s.partner.agency.name]
