"""Deconfliction by PSI: the asker learns exactly its hits, the answerer only the count."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.items import service as items
from takedown.kit.errors import Forbidden, InvalidInput
from takedown.sharing import deconfliction, partners, psi
from takedown.sharing.models import DeconflictionAnswer
from tests.factories import make_actor, make_agency
from tests.items.factories import make_item


def test_psi_finds_exactly_the_intersection() -> None:
    key = psi.epoch_key("k", dt.date(2026, 3, 1))
    theirs = [f"url:x:account/held{i}" for i in range(300)] + ["sha256:" + "a" * 64]
    mine = [
        "url:x:account/held7",
        "url:x:account/other",
        "sha256:" + "a" * 64,
        "sha256:" + "b" * 64,
    ]
    q = psi.Question(mine)
    ans = psi.answer(q.request, theirs, key, psi.SetupCache())
    assert ans.asked == 4
    assert q.hits(ans.response, ans.setups) == {"url:x:account/held7", "sha256:" + "a" * 64}
    # The request carries no element in the clear.
    assert b"held7" not in q.request and b"aaaa" not in q.request


def test_sharded_setups_answer_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(psi, "SHARD_MIN", 10)
    key = psi.epoch_key("k", dt.date(2026, 3, 1))
    theirs = [f"url:website:example.org/{i}" for i in range(50)]
    q = psi.Question(["url:website:example.org/3", "url:website:example.org/49", "url:nope"])
    ans = psi.answer(q.request, theirs, key, psi.SetupCache(workers=2))
    assert len(ans.setups) == 2
    assert q.hits(ans.response, ans.setups) == {
        "url:website:example.org/3",
        "url:website:example.org/49",
    }


def test_a_foreign_answer_is_refused() -> None:
    q = psi.Question(["url:x"])
    with pytest.raises(InvalidInput):
        q.hits(b"garbage", [])


def test_ask_and_answer_end_to_end_on_one_database(db_session: Session, settings: Settings) -> None:
    # The answering side: an agency holding one item and keeping an investigations list.
    answerer = make_actor(db_session, make_agency(db_session), role="supervisor")
    held_url = "https://x.com/synthetic_held/status/111"
    held = make_item(db_session, answerer, url=held_url)
    items.place_hold(db_session, answerer.principal, held.id, reason="operation synthetic")
    deconfliction.add_investigation(db_session, answerer.principal, url="https://t.me/synthchan")
    deconfliction.add_investigation(db_session, answerer.principal, sha256="c" * 64)
    # The asking side: an agency with a partner record for the answerer.
    asker = make_actor(db_session, make_agency(db_session), role="supervisor")
    partner = partners.create_partner(
        db_session, asker.principal,
        partners.PartnerIn(name="Answerer", country="DE", contact_point="desk@answerer.invalid",
                           deconfliction_url="http://answerer.invalid/api/v1/deconfliction/psi",
                           token="t"),
        secret_key=settings.secret_key,
    )  # fmt: skip
    # ... and the answerer knows the asker as a partner too (its service user asks).
    asker_rep = make_agency(db_session, name="Asker (partner)")
    partners.create_partner(
        db_session, answerer.principal,
        partners.PartnerIn(name="Asker", country="FR", contact_point="x@asker.invalid",
                           agency_id=asker_rep.id),
        secret_key=settings.secret_key,
    )  # fmt: skip
    service_user = make_actor(db_session, asker_rep, scopes=["sharing:read"])
    same = make_item(db_session, asker, url=held_url)  # the asker has the held item too
    post_of_account = make_item(db_session, asker, url="https://t.me/synthchan/42")
    other = make_item(db_session, asker, url="https://x.com/synthetic_free/status/222")

    def post(url: str, body: dict[str, object], token: str) -> dict[str, object]:
        return deconfliction.answer_question(
            db_session, service_user.principal, body["request"], settings=settings
        )

    row, followups = deconfliction.ask(
        db_session, asker.principal, partner.id, settings=settings,
        item_ids=[same.id, post_of_account.id, other.id],
        hashes=[("sha256", "c" * 64), ("md5", "d" * 32)], post=post,
    )  # fmt: skip
    assert row.status == "answered"
    # elements: held item (+ its account), the message (+ its channel), the free item (+ its
    # account), two hashes
    assert row.elements == 8
    hits = {f.element for f in followups}
    assert hits == {
        f"url:{held.identity}",
        "url:telegram:channel/synthchan",
        "sha256:" + "c" * 64,
    }
    by_item = {f.item_id for f in followups}
    assert by_item == {same.id, post_of_account.id, None}
    for f in followups:
        assert f.due_at - row.answered_at == dt.timedelta(hours=48)  # type: ignore[operator]
    # Holds in the partner's name, naming its contact point; the free item is untouched.
    hold = [
        h
        for h in items.holds_for(db_session, asker.principal, same.id)
        if h.agency_id == partner.agency_id
    ]
    assert [h.contact_point for h in hold] == ["desk@answerer.invalid"]
    with pytest.raises(Exception, match="deconfliction hold"):
        items.assert_referrable(db_session, same)
    assert items.active_holds(db_session, other.id) == []
    # The answerer's side kept and audited only the count.
    answers = db_session.scalars(select(DeconflictionAnswer)).all()
    assert [(a.asker_agency_id, a.elements) for a in answers] == [(asker_rep.id, 8)]
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "deconfliction.answer")
    ).all()
    assert [json.loads(e.details) for e in events] == [{"elements": 8}]
    # The asker may release the hold it placed once the follow-up is settled.
    f = next(f for f in followups if f.item_id == same.id)
    deconfliction.close_followup(db_session, asker.principal, f.id, note="called", release=True)
    assert [
        h for h in items.active_holds(db_session, same.id) if h.agency_id == partner.agency_id
    ] == []


def test_only_partners_may_ask(db_session: Session, settings: Settings) -> None:
    stranger = make_actor(db_session, make_agency(db_session))
    q = psi.Question(["url:x:account/a"])
    with pytest.raises(Forbidden):
        deconfliction.answer_question(
            db_session, stranger.principal, psi.b64(q.request), settings=settings
        )
