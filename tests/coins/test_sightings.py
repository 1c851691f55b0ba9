"""Sightings: first seen and every later sighting, with attribution, per agency."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from takedown.coins import service
from takedown.coins.models import SightingSource
from takedown.evidence import capturing
from takedown.evidence.models import EvidenceCapture, EvidenceFile, FileRole
from takedown.items.models import Assessment
from takedown.sim.wallets import make_address, write_as
from tests.factories import make_actor
from tests.items.factories import make_item, synthetic_url

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def test_new_item_text_yields_a_sighting_with_attribution(
    db_session: Session, coins_hooks: None
) -> None:
    a = make_actor(db_session)
    btc = make_address("btc", "p2wpkh", "item-hook")
    item = make_item(
        db_session, a, title=f"Support the brothers: {write_as(btc, 'defanged', 3)}", note="tip"
    )
    rows, total = service.list_addresses(db_session, a.principal)
    assert total == 1 and rows[0].address == btc
    sightings, n = service.sightings_of(db_session, a.principal, rows[0].id)
    assert n == 1
    s = sightings[0]
    assert s.source == "item" and s.item_id == item.id and s.form == "defanged"
    assert s.attribution["platform"] == item.platform
    assert btc[:10] in s.context.replace("[.]", "")


def test_first_seen_and_later_sightings(db_session: Session) -> None:
    a = make_actor(db_session)
    evm = make_address("evm", "eip55", "later")
    text = f"USDT ERC20 {evm}"
    first = service.Source(SightingSource.POST, "post:1", post_url="http://forum.onion/t/1")
    assert len(service.observe_text(db_session, a.agency.id, text, first, seen_at=T0)) == 1
    # the same source scanned again adds nothing
    assert service.observe_text(db_session, a.agency.id, text, first, seen_at=T0) == []
    later = service.Source(SightingSource.POST, "post:2", attribution={"group": "Synthetic Front"})
    service.observe_text(db_session, a.agency.id, text, later, seen_at=T0 + dt.timedelta(days=2))
    earlier = service.Source(SightingSource.TEXT, "paste:0")
    service.observe_text(db_session, a.agency.id, text, earlier, seen_at=T0 - dt.timedelta(days=1))
    row = service.find_address(db_session, a.principal, evm)
    assert row is not None
    assert row.sightings_count == 3
    assert row.first_seen_at == T0 - dt.timedelta(days=1)
    assert row.last_seen_at == T0 + dt.timedelta(days=2)
    sightings, _ = service.sightings_of(db_session, a.principal, row.id)
    assert [s.source_key for s in sightings] == ["paste:0", "post:1", "post:2"]
    assert sightings[2].attribution == {"group": "Synthetic Front"}
    assert sightings[1].asset == "USDT-ERC20"


def test_agencies_never_see_each_others_addresses(db_session: Session, coins_hooks: None) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    tron = make_address("tron", "base58check", "iso")
    make_item(db_session, a, title=f"TRC20 {tron}")
    assert service.list_addresses(db_session, b.principal) == ([], 0)
    row_a = service.find_address(db_session, a.principal, tron)
    assert row_a is not None
    assert service.find_address(db_session, b.principal, tron) is None
    import pytest

    from takedown.kit.errors import NotFound

    with pytest.raises(NotFound):
        service.get_address(db_session, b.principal, row_a.id)
    with pytest.raises(NotFound):
        service.sightings_of(db_session, b.principal, row_a.id)
    # B's own sighting of the same address is B's own row; A's count is unchanged
    make_item(db_session, b, title=f"also {tron}")
    row_b = service.find_address(db_session, b.principal, tron)
    assert row_b is not None and row_b.id != row_a.id
    assert row_a.sightings_count == 1


def test_assessment_attribution_is_kept(db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a, url=synthetic_url())
    db_session.add(
        Assessment(
            item_id=item.id,
            agency_id=a.agency.id,
            verdict="terrorist",
            categories=[],
            group="Synthetic Front",
            outlet="Synthetic Media Office",
        )
    )
    db_session.flush()
    attr = service.attribution_of(db_session, a.agency.id, item.id)
    assert attr["group"] == "Synthetic Front" and attr["outlet"] == "Synthetic Media Office"


def test_captured_evidence_text_is_scanned(db_session: Session, coins_hooks: None) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a)
    xmr = make_address("xmr", "subaddress", "evidence")
    cap = EvidenceCapture(
        item_id=item.id,
        agency_id=a.agency.id,
        status="complete",
        url_reported=item.canonical_url,
        manifest_sha256="ab" * 32,
    )
    db_session.add(cap)
    db_session.flush()
    row = EvidenceFile(
        capture_id=cap.id,
        role=FileRole.TEXT.value,
        name="page.txt",
        sha256="cd" * 32,
        size=10,
    )
    db_session.add(row)
    db_session.flush()
    text = f"Donate XMR:\n{write_as(xmr, 'line-break', 5)}\n"
    capturing.run_text_hooks(db_session, cap, [(row, text.encode())])
    found = service.find_address(db_session, a.principal, xmr)
    assert found is not None
    [s], _ = service.sightings_of(db_session, a.principal, found.id)
    assert s.source == "evidence" and s.capture_id == cap.id
    assert s.manifest_sha256 == "ab" * 32 and s.form == "split"
