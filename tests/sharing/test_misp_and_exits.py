"""MISP with PyMISP as the peer, and TLP on every exit: TAXII, MISP, STIX exports, the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pymisp import MISPEvent, MISPObject, MISPOrganisation
from pymisp.tools.feed import feed_meta_generator
from sqlalchemy.orm import Session

from takedown.config import Settings
from takedown.items import repository as items_repository
from takedown.kit.errors import Forbidden
from takedown.matching import service as matching
from takedown.matching.schemas import Labels, SignalIn
from takedown.sharing import exports, misp, partners, shares
from tests.items.factories import make_item
from tests.matching.factories import make_bank
from tests.sharing.helpers import shared_collection
from tests.sharing.stixcheck import assert_valid

TAXII = "application/taxii+json;version=2.1"


def _bank_with_every_marking(session: Session, actor) -> int:  # type: ignore[no-untyped-def]
    bank = make_bank(session, actor, tlp="CLEAR")
    for n, tlp in enumerate(["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]):
        matching.add_signal(
            session, actor.principal, bank.id,
            SignalIn(signal_type="sha256", value=f"{n}" * 64, tlp=tlp,
                     labels=Labels(group=f"group {n}"), source=f"s{n}"),
        )  # fmt: skip
    return bank.id


EXPECTED = {  # audience -> the markings of the five signals that may go there
    "organisation": {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"},
    "clients": {"CLEAR", "GREEN", "AMBER"},
    "community": {"CLEAR", "GREEN"},
    "public": {"CLEAR"},
}
DIGIT = {"CLEAR": "0", "GREEN": "1", "AMBER": "2", "AMBER+STRICT": "3", "RED": "4"}


@pytest.mark.parametrize("audience", list(EXPECTED))
def test_tlp_on_every_exit(audience: str, client: TestClient, db_session: Session) -> None:
    s = shared_collection(db_session, audience=audience)
    bank_id = _bank_with_every_marking(db_session, s.owner)
    allowed = {DIGIT[t] * 64 for t in EXPECTED[audience]}
    forbidden = {DIGIT[t] * 64 for t in set(DIGIT) - EXPECTED[audience]}
    # TAXII
    shares.share(db_session, s.owner.principal, s.coll.id, "bank", bank_id, tlp="CLEAR")
    got = client.get(
        f"/taxii2/api/collections/{s.coll.uuid}/objects/",
        headers={**s.partner.headers, "Accept": TAXII}, params={"limit": 1000},
    ).text  # fmt: skip
    # the API's bundle export of the collection
    api = client.get(
        f"/api/v1/sharing/collections/{s.coll.id}/bundle", headers=s.owner.headers
    ).text
    # a STIX file export and a MISP event for the same audience
    stix = exports.subject_bundle(
        db_session, s.owner.principal, "bank", bank_id, tlp="CLEAR", audience=audience
    ).text
    event = misp.subject_event(
        db_session, s.owner.principal, "bank", bank_id, tlp="CLEAR", audience=audience
    )
    for exit_name, text in (("taxii", got), ("api", api), ("stix", stix), ("misp", event)):
        assert all(v in text for v in allowed), (exit_name, audience)
        assert not any(v in text for v in forbidden), (exit_name, audience)
    assert_valid([json.loads(stix)])
    assert_valid([json.loads(api)])


def test_red_is_refused_at_the_door_of_every_export(db_session: Session) -> None:
    s = shared_collection(db_session)
    item = make_item(db_session, s.owner)
    for call in (
        lambda: exports.subject_bundle(db_session, s.owner.principal, "item", item.id,
                                       tlp="RED", audience="organisation"),
        lambda: misp.subject_event(db_session, s.owner.principal, "item", item.id,
                                   tlp="RED", audience="organisation"),
        lambda: shares.share(db_session, s.owner.principal, s.coll.id, "item", item.id, tlp="RED"),
        lambda: exports.subject_bundle(db_session, s.owner.principal, "item", item.id,
                                       tlp="AMBER", audience="public"),
    ):  # fmt: skip
        with pytest.raises(Forbidden):
            call()


def test_pymisp_loads_our_event_and_feed(db_session: Session, tmp_path: Path) -> None:
    s = shared_collection(db_session)
    item = make_item(db_session, s.owner, url="https://t.me/synthmispchan")
    post = make_item(db_session, s.owner, url="https://x.com/mispsynth/status/31337")
    bank_id = _bank_with_every_marking(db_session, s.owner)
    text = misp.subject_event(db_session, s.owner.principal, "item", item.id, tlp="GREEN",
                              audience="community")  # fmt: skip
    event = MISPEvent()
    event.load(text)
    (tg,) = event.objects
    assert tg.name == "telegram-account"
    assert tg.get_attributes_by_relation("username")[0].value == "synthmispchan"
    assert [t.name for t in event.tags] == ["tlp:green"] and event.distribution == 1
    n = misp.write_feed(
        db_session, s.owner.principal, [("item", post.id), ("bank", bank_id)], tmp_path,
        tlp="GREEN", audience="community",
    )  # fmt: skip
    assert n == 2
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest) == 2
    hashes = (tmp_path / "hashes.csv").read_text().splitlines()
    assert hashes and all(len(line.split(",")) == 2 for line in hashes)
    for uid in manifest:
        ev = MISPEvent()
        ev.load_file(str(tmp_path / f"{uid}.json"))
        assert ev.uuid == uid
        for obj in ev.objects:
            assert obj.name in ("url", "file")
            for a in obj.attributes:
                assert {t.name for t in a.tags} <= {"tlp:clear", "tlp:green"}
    assert "3" * 64 not in "".join(p.read_text() for p in tmp_path.glob("*.json"))


def test_we_import_a_feed_written_by_pymisps_generator(
    db_session: Session, tmp_path: Path, settings: Settings
) -> None:
    s = shared_collection(db_session)
    partner = partners.create_partner(
        db_session, s.owner.principal,
        partners.PartnerIn(name="MISP community", country="BE",
                           contact_point="misp@partner.invalid", trust="auto", tlp_ceiling="AMBER"),
        secret_key=settings.secret_key,
    )  # fmt: skip
    org = MISPOrganisation()
    org.name = "Synthetic CERT"
    org.uuid = "d1b9a0a4-4b1e-4c8e-9a3a-0c6f2d6f1b11"
    ev = MISPEvent()
    ev.info = "synthetic propaganda indicators"
    ev.Orgc = org
    ev.add_tag("tlp:green")
    url = MISPObject("url")
    url.add_attribute("url", value="https://x.com/mispfeed/status/4242")
    ev.add_object(url)
    tg = MISPObject("telegram-account")
    tg.add_attribute("username", value="mispfeedchan")
    ev.add_object(tg)
    f = MISPObject("file")
    f.add_attribute("sha256", value="9" * 64)
    f.add_attribute("md5", value="8" * 32)
    ev.add_object(f)
    ev.add_attribute("url", "https://example.org/synthetic-misp-page")
    red = MISPEvent()
    red.info = "too secret"
    red.Orgc = org
    red.add_tag("tlp:red")
    red.add_attribute("url", "https://example.org/never-imported")
    for e in (ev, red):
        (tmp_path / f"{e.uuid}.json").write_text(json.dumps(e.to_feed()))
    feed_meta_generator(tmp_path)  # PyMISP's own manifest.json and hashes.csv
    got = misp.import_source(db_session, s.owner.principal, partner.id, str(tmp_path),
                             settings=settings)  # fmt: skip
    assert got["failed"] == 1  # the RED event's attribute: above the partner's ceiling
    for identity in ("x:status/4242", "telegram:channel/mispfeedchan"):
        assert items_repository.item_by_identity(db_session, identity) is not None, identity
    assert (
        items_repository.item_by_identity(db_session, "website:page/example.org/never-imported")
        is None
    )
    again = misp.import_source(db_session, s.owner.principal, partner.id, str(tmp_path),
                               settings=settings)  # fmt: skip
    assert again["stored"] == 0 and again["duplicates"] == got["stored"]
