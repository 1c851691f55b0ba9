"""Sources: added by hand, in bulk and from an operation; kinds; credentials sealed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from takedown.items.models import Item
from takedown.kit.errors import InvalidInput, NotFound, Unavailable
from takedown.monitoring import credentials, service
from takedown.monitoring.models import Proposal, ProposalStatus, SourceStatus
from takedown.operations.models import OperationItem
from tests.factories import make_actor
from tests.monitoring.factories import SECRET, make_server, make_source, tg_url
from tests.operations.factories import make_operation


@pytest.mark.parametrize(
    ("url", "kind", "stored"),
    [
        ("https://t.me/SynthChan", "telegram", "https://t.me/s/synthchan"),
        ("t.me/s/synthchan2", "telegram", "https://t.me/s/synthchan2"),
        ("https://x.com/synth_handle", "account", "https://x.com/synth_handle"),
        ("https://www.youtube.com/@synthchannel", "account", None),
        ("http://kbejtd4ax5bbczpra2is3hgl3msz23thl7bceug2atqn5iwviylvkoqd.onion/", "onion", None),
        ("https://synthetic-news.example/", "website", "https://synthetic-news.example/"),
    ],
)
def test_kind_is_detected_and_url_normalised(
    db_session: Session, url: str, kind: str, stored: str | None
) -> None:
    actor = make_actor(db_session)
    src, created = service.add_source(db_session, actor.principal, url)
    assert created
    assert src.kind == kind
    if stored:
        assert src.url == stored
    assert src.status == SourceStatus.ACTIVE.value
    assert src.next_due_at is not None


def test_source_item_is_recorded_with_monitoring_as_source(db_session: Session) -> None:
    actor = make_actor(db_session)
    src = make_source(db_session, actor, "https://t.me/synthwatched")
    assert src.item_id is not None
    item = db_session.get(Item, src.item_id)
    assert item is not None and item.identity == "telegram:channel/synthwatched"


def test_adding_twice_is_a_noop_and_removed_source_comes_back(db_session: Session) -> None:
    actor = make_actor(db_session)
    src = make_source(db_session, actor, "https://t.me/synthagain")
    again, created = service.add_source(db_session, actor.principal, "https://t.me/s/SynthAgain")
    assert again.id == src.id and not created
    service.remove_source(db_session, actor.principal, src.id)
    assert src.status == SourceStatus.REMOVED.value
    back, created = service.add_source(db_session, actor.principal, "https://t.me/synthagain")
    assert back.id == src.id and created and back.status == SourceStatus.ACTIVE.value


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://t.me/synthchan/123", "telegram"),  # a message, not a channel
        ("https://x.com/synth/status/12345", "account"),  # a post, not an account page
        ("https://chat.synthetic.example/home", "rocketchat"),
        ("https://synthetic-news.example/", "onion"),
        ("ftp://example.org/", None),
    ],
)
def test_a_url_that_is_not_a_source_gets_a_clear_error(
    db_session: Session, url: str, kind: str | None
) -> None:
    actor = make_actor(db_session)
    with pytest.raises(InvalidInput, match="not"):
        service.add_source(db_session, actor.principal, url, kind=kind)


def test_rocketchat_room_needs_the_servers_credentials(db_session: Session) -> None:
    actor = make_actor(db_session)
    with pytest.raises(InvalidInput, match="no credentials"):
        service.add_source(db_session, actor.principal, "https://chat.synthetic.example/channel/r1")
    server = make_server(db_session, actor)
    src, _ = service.add_source(
        db_session, actor.principal, "https://chat.synthetic.example/channel/r1"
    )
    assert src.kind == "rocketchat" and src.server_id == server.id


def test_credentials_are_sealed_at_rest(db_session: Session) -> None:
    actor = make_actor(db_session)
    server = make_server(db_session, actor, token="tok-very-secret-123")
    raw = db_session.execute(
        text("SELECT user_id_sealed, token_sealed FROM monitoring_servers WHERE id = :i"),
        {"i": server.id},
    ).one()
    assert "tok-very-secret-123" not in raw[1] and "uid-synthetic" not in raw[0]
    assert service.server_headers(server, SECRET) == {
        "X-User-Id": "uid-synthetic",
        "X-Auth-Token": "tok-very-secret-123",
    }
    with pytest.raises(Unavailable, match="TAKEDOWN_SECRET_KEY changed"):
        service.server_headers(server, "another-key")
    with pytest.raises(InvalidInput, match="TAKEDOWN_SECRET_KEY"):
        credentials.seal(None, "x")


def test_bulk_add_reports_bad_lines_and_keeps_good_ones(db_session: Session) -> None:
    actor = make_actor(db_session)
    lines = [
        "# watched after the action day",
        tg_url(),
        "",
        "not a url at all",
        "https://x.com/synth_bulk",
        "https://t.me/synthchan/55",
    ]
    res = service.add_many(db_session, actor.principal, lines)
    assert len(res.added) == 2
    assert [e[0] for e in res.errors] == [4, 6]
    assert all(e[2] for e in res.errors)
    assert service.list_sources(db_session, actor.principal)[1] == 2


def test_from_operation_watches_removed_accounts_and_surviving_channels(
    db_session: Session,
) -> None:
    actor = make_actor(db_session, role="supervisor")
    op = make_operation(db_session, actor)
    from tests.items.factories import make_item

    removed_acc = make_item(db_session, actor, url="https://x.com/synth_removed")
    removed_ch = make_item(db_session, actor, url="https://t.me/synthremoved")
    surviving = make_item(db_session, actor, url="https://t.me/synthsurvivor")
    alive_acc = make_item(db_session, actor, url="https://x.com/synth_alive")
    post = make_item(db_session, actor, url="https://t.me/synthsurvivor/9")
    removed_acc.status = removed_ch.status = "removed"
    for it in (removed_acc, removed_ch, surviving, alive_acc, post):
        db_session.add(
            OperationItem(
                operation_id=op.id, item_id=it.id, agency_id=actor.agency.id, via="single"
            )
        )
    db_session.flush()
    res = service.add_from_operation(db_session, actor.principal, op.id)
    assert not res.errors
    rows, total = service.list_sources(db_session, actor.principal)
    assert total == 3
    assert {r.url for r in rows} == {
        "https://x.com/synth_removed",
        "https://t.me/s/synthremoved",
        "https://t.me/s/synthsurvivor",
    }
    assert all(r.operation_id == op.id for r in rows)


def test_other_agencies_do_not_see_a_source(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    src = make_source(db_session, a)
    with pytest.raises(NotFound):
        service.get_source(db_session, b.principal, src.id)
    with pytest.raises(NotFound):
        service.remove_source(db_session, b.principal, src.id)
    assert service.list_sources(db_session, b.principal)[1] == 0


def test_a_proposal_accepted_becomes_a_deeper_source(db_session: Session) -> None:
    actor = make_actor(db_session)
    src = make_source(db_session, actor)
    prop = Proposal(
        agency_id=actor.agency.id,
        identity="telegram:channel/synthproposed",
        url="https://t.me/synthproposed",
        kind="telegram",
        found_in_source_id=src.id,
        depth=1,
    )
    db_session.add(prop)
    db_session.flush()
    service.decide_proposal(db_session, actor.principal, prop.id, True)
    assert prop.status == ProposalStatus.ACCEPTED.value
    new = service.get_source(db_session, actor.principal, prop.source_id or 0)
    assert new.depth == 1 and new.origin == "proposal"
    with pytest.raises(InvalidInput, match="already"):
        service.decide_proposal(db_session, actor.principal, prop.id, False)
    assert db_session.scalars(select(Proposal)).all()
