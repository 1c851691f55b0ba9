from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.models import AuditEvent
from takedown.items import repository, service
from takedown.items.hooks import register_on_items_created, unregister_on_items_created
from takedown.items.models import ItemStatus, Verdict
from takedown.items.repository import ItemFilters
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import make_actor, make_agency
from tests.items.factories import make_assessed_item, make_item, synthetic_url


def _events(session: Session, action: str, item_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.subject_id == str(item_id))
            .order_by(AuditEvent.id)
        )
    )


# --- reporting and folding --------------------------------------------------------------------


def test_same_item_in_other_url_forms_folds_into_sightings(db_session: Session) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    item, created = service.report_url(
        db_session, a.principal, "https://twitter.com/syn_h/status/42?utm_source=tg"
    )
    again, created2 = service.report_url(
        db_session, b.principal, "https://mobile.x.com/syn_h/status/42"
    )
    assert created and not created2
    assert again.id == item.id and item.identity == "x:status/42"
    views = service.sightings_for(db_session, a.principal, item)
    assert [v.agency_id for v in views] == [a.agency.id, b.agency.id]


def test_report_rejects_liaisons_and_bad_urls(db_session: Session) -> None:
    platform = make_agency(db_session, kind="platform", platform_slug="x")
    liaison = make_actor(db_session, platform, role="liaison")
    with pytest.raises(Forbidden):
        service.report_url(db_session, liaison.principal, synthetic_url())
    with pytest.raises(InvalidInput, match="agency"):
        service.report_url(db_session, SYSTEM, synthetic_url())
    a = make_actor(db_session)
    with pytest.raises(InvalidInput):
        service.report_url(db_session, a.principal, "not a url at all")


def test_items_created_hook_fires_once_per_new_item(db_session: Session) -> None:
    seen: list[list[int]] = []

    def hook(_s: Session, ids: object) -> None:
        seen.append(list(ids))  # type: ignore[call-overload]

    register_on_items_created(hook)
    try:
        a = make_actor(db_session)
        url = synthetic_url()
        item = make_item(db_session, a, url=url)
        make_item(db_session, a, url=url)
    finally:
        unregister_on_items_created(hook)
    assert seen == [[item.id]]


# --- visibility -------------------------------------------------------------------------------


def test_other_agency_cannot_see_until_shared(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    item = make_item(db_session, a, note="secret note of A")
    with pytest.raises(NotFound, match=f"item {item.id} does not exist"):
        service.get_item(db_session, b.principal, item.id)
    assert service.list_items(db_session, b.principal)[1] == 0
    for call in (
        lambda: service.assess(db_session, b.principal, item.id, "needs_review"),
        lambda: service.place_hold(db_session, b.principal, item.id, reason="x"),
        lambda: service.share_item(db_session, b.principal, item.id, b.agency.id),
    ):
        with pytest.raises(NotFound):
            call()
    service.share_item(db_session, a.principal, item.id, b.agency.id)
    assert service.get_item(db_session, b.principal, item.id).id == item.id
    # B sees that A reported it, not A's note or URL form.
    (view,) = service.sightings_for(db_session, b.principal, item)
    assert view.agency_name == a.agency.name and not view.own
    assert view.note is None and view.reported_url is None
    # B cannot pass it on: it is not B's.
    c = make_agency(db_session)
    with pytest.raises(Forbidden):
        service.share_item(db_session, b.principal, item.id, c.id)


def test_share_is_idempotent_and_validated(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    item = make_item(db_session, a)
    s1 = service.share_item(db_session, a.principal, item.id, b.agency.id)
    s2 = service.share_item(db_session, a.principal, item.id, b.agency.id)
    assert s1.id == s2.id and len(_events(db_session, "item.share", item.id)) == 1
    with pytest.raises(InvalidInput, match="itself"):
        service.share_item(db_session, a.principal, item.id, a.agency.id)
    with pytest.raises(NotFound, match="agency"):
        service.share_item(db_session, a.principal, item.id, 2**31 - 1)


def test_admins_are_not_exempt_but_system_sees_all(db_session: Session) -> None:
    a = make_actor(db_session)
    admin = make_actor(db_session, role="admin")
    item = make_item(db_session, a)
    with pytest.raises(NotFound):
        service.get_item(db_session, admin.principal, item.id)
    assert service.get_item(db_session, SYSTEM, item.id).id == item.id


def test_liaison_sees_referred_items_of_their_platform_only(db_session: Session) -> None:
    a = make_actor(db_session)
    x_item = make_assessed_item(db_session, a)
    yt_item = make_item(db_session, a, url="https://www.youtube.com/watch?v=SynthVid001")
    platform = make_agency(db_session, kind="platform", platform_slug="x")
    liaison = make_actor(db_session, platform, role="liaison")
    with pytest.raises(NotFound):
        service.get_item(db_session, liaison.principal, x_item.id)
    service.transition(db_session, SYSTEM, x_item, ItemStatus.REFERRED, reason="referral 1")
    assert service.get_item(db_session, liaison.principal, x_item.id).id == x_item.id
    assert service.sightings_for(db_session, liaison.principal, x_item) == []
    assert service.assessments_for(db_session, liaison.principal, x_item.id) == []
    with pytest.raises(NotFound):
        service.get_item(db_session, liaison.principal, yt_item.id)


def test_visibility_hook_widens(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    item = make_item(db_session, a)
    from takedown.items.models import Item

    def hook(p: Principal):  # type: ignore[no-untyped-def]
        return Item.id == item.id if p.agency_id == b.agency.id else None

    repository.register_visibility(hook)
    try:
        assert service.get_item(db_session, b.principal, item.id).id == item.id
    finally:
        repository.unregister_visibility(hook)
    with pytest.raises(NotFound):
        service.get_item(db_session, b.principal, item.id)


# --- listing ----------------------------------------------------------------------------------


def test_list_filters(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    clock = FrozenClock(dt.datetime(2026, 5, 1, tzinfo=dt.UTC))
    early, _ = service.report_url(
        db_session, a.principal, "https://t.me/s/synthchan_list/7", clock=clock
    )
    clock.advance(dt.timedelta(days=2))
    late, _ = service.report_url(
        db_session, a.principal, "https://youtu.be/SynthList01", clock=clock
    )
    service.report_url(db_session, b.principal, "https://youtu.be/SynthList01")
    service.assess(db_session, a.principal, late.id, Verdict.TERRORIST_CONTENT, ["d"])

    def ids(**kw: object) -> set[int]:
        rows, total = service.list_items(db_session, a.principal, ItemFilters(**kw))  # type: ignore[arg-type]
        assert total == len(rows)
        return {r.id for r in rows}

    assert ids() == {early.id, late.id}
    assert ids(status=["assessed"]) == {late.id}
    assert ids(platform="telegram") == {early.id}
    assert ids(kind="message") == {early.id}
    assert ids(agency_id=b.agency.id) == {late.id}
    assert ids(first_seen_from=dt.datetime(2026, 5, 2, tzinfo=dt.UTC)) == {late.id}
    assert ids(first_seen_to=dt.datetime(2026, 5, 2, tzinfo=dt.UTC)) == {early.id}
    assert ids(q="SYNTHCHAN_LIST") == {early.id}
    assert ids(q="%") == set()  # wildcards are literal
    rows, total = service.list_items(db_session, a.principal, limit=1, offset=1)
    assert total == 2 and [r.id for r in rows] == [early.id]


# --- status workflow --------------------------------------------------------------------------


def test_transitions_follow_the_table(db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_assessed_item(db_session, a)
    with pytest.raises(Conflict, match=f"cannot move item {item.id} from assessed to still_online"):
        service.transition(db_session, SYSTEM, item, "still_online", reason="x")
    service.transition(db_session, a.principal, item, ItemStatus.REFERRED, reason="batch 7")
    assert item.first_referred_at is not None
    service.transition(db_session, SYSTEM, item, ItemStatus.STILL_ONLINE, reason="check")
    service.transition(db_session, SYSTEM, item, ItemStatus.STILL_ONLINE, reason="re-check")
    service.transition(db_session, SYSTEM, item, ItemStatus.REMOVED, reason="check")
    with pytest.raises(Conflict, match="from removed to referred"):
        service.transition(db_session, SYSTEM, item, ItemStatus.REFERRED, reason="x")
    service.transition(db_session, SYSTEM, item, ItemStatus.REAPPEARED, reason="check")
    with pytest.raises(InvalidInput, match="status"):
        service.transition(db_session, SYSTEM, item, "vanished", reason="x")
    moves = [(e.details, e.actor_agency_id) for e in _events(db_session, "item.status", item.id)]
    # new->assessed, ->referred, ->still_online (once: same status is a no-op),
    # ->removed, ->reappeared
    assert len(moves) == 5
    assert '"to":"referred"' in moves[1][0] and moves[1][1] == a.agency.id
    assert moves[2][1] is None  # SYSTEM


def test_every_status_has_a_way_out_or_is_terminal_by_design(db_session: Session) -> None:
    assert set(service.TRANSITIONS) == set(ItemStatus)
    for targets in service.TRANSITIONS.values():
        assert targets, "no dead ends: removed can reappear, everything else moves on"


# --- holds ------------------------------------------------------------------------------------


def test_hold_blocks_referral_and_hides_reason(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    item = make_assessed_item(db_session, a)
    service.report_url(db_session, b.principal, item.canonical_url)
    service.assert_referrable(db_session, item)
    hold = service.place_hold(db_session, b.principal, item.id, reason="operation SYNTH-7")
    assert hold.contact_point == b.agency.contact_point
    with pytest.raises(Conflict) as exc:
        service.assert_referrable(db_session, item)
    assert f"item {item.id}" in exc.value.detail and b.agency.contact_point in exc.value.detail
    assert "SYNTH-7" not in exc.value.detail
    assert exc.value.extra["holds"] == [
        {"agency": b.agency.name, "contact_point": b.agency.contact_point}
    ]
    (seen_by_a,) = service.holds_for(db_session, a.principal, item.id)
    assert seen_by_a.reason is None and seen_by_a.contact_point == b.agency.contact_point
    (seen_by_b,) = service.holds_for(db_session, b.principal, item.id)
    assert seen_by_b.reason == "operation SYNTH-7"
    with pytest.raises(Conflict, match="already holds"):
        service.place_hold(db_session, b.principal, item.id, reason="again")
    with pytest.raises(NotFound):
        service.release_hold(db_session, a.principal, item.id, hold.id)
    service.release_hold(db_session, b.principal, item.id, hold.id)
    service.assert_referrable(db_session, item)
    assert service.active_holds(db_session, item.id) == []
    with pytest.raises(Conflict, match="already released"):
        service.release_hold(db_session, b.principal, item.id, hold.id)


def test_hold_needs_a_contact_point(db_session: Session) -> None:
    ag = make_agency(db_session)
    ag.contact_point = ""
    a = make_actor(db_session, ag)
    item = make_item(db_session, a)
    with pytest.raises(InvalidInput, match="contact point"):
        service.place_hold(db_session, a.principal, item.id, reason="x")
    h = service.place_hold(
        db_session, a.principal, item.id, reason="x", contact_point="+33 1 00 00 00 00"
    )
    assert h.contact_point == "+33 1 00 00 00 00"


def test_hold_needs_a_reason(db_session: Session) -> None:
    """A hold stops every agency's referral: the holder must say why (#13.15)."""
    a = make_actor(db_session)
    item = make_item(db_session, a)
    for blank in ("", "   "):
        with pytest.raises(InvalidInput, match="needs a reason"):
            service.place_hold(db_session, a.principal, item.id, reason=blank)
    assert service.holds_for(db_session, a.principal, item.id) == []


# --- assessments ------------------------------------------------------------------------------


def test_assessment_validation(db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_item(db_session, a)
    with pytest.raises(InvalidInput, match="at least one category"):
        service.assess(db_session, a.principal, item.id, "terrorist_content", [])
    with pytest.raises(InvalidInput, match="letter a-e"):
        service.assess(db_session, a.principal, item.id, "terrorist_content", ["f"])
    with pytest.raises(InvalidInput, match="takes no categories"):
        service.assess(db_session, a.principal, item.id, "not_terrorist_content", ["a"])
    with pytest.raises(InvalidInput, match="verdict"):
        service.assess(db_session, a.principal, item.id, "bad", ["a"])
    with pytest.raises(InvalidInput, match="ISO 639"):
        service.assess(db_session, a.principal, item.id, "needs_review", language="Arabic!")
    got = service.assess(
        db_session,
        a.principal,
        item.id,
        "terrorist_content",
        ["instruction", "a", "(c)", "a"],
        group=" Synthetic Group ",
        outlet="Synthetic Outlet",
        language="PS",
        notes="n",
    )
    assert got.categories == ["a", "c", "d"] and got.group == "Synthetic Group"
    assert got.language == "ps" and got.analyst_id == a.user.id


def test_language_is_suggested_and_can_be_overridden(db_session: Session) -> None:
    a = make_actor(db_session)
    item = make_item(
        db_session, a, title="Dies ist ein kurzer deutscher Text über das Wetter von morgen"
    )
    got = service.assess(db_session, a.principal, item.id, "needs_review")
    assert got.language_suggested == "de" and got.language == "de"
    assert len(got.language_scores) == 3 and got.language_scores[0][0] == "de"
    over = service.assess(db_session, a.principal, item.id, "needs_review", language="lb")
    assert over.language == "lb" and over.language_suggested == "de"
    assert service.suggest_language("") == []


def test_verdicts_move_status_before_referral_only(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    item = make_item(db_session, a)
    service.report_url(db_session, b.principal, item.canonical_url)
    service.assess(db_session, a.principal, item.id, "needs_review")
    assert item.status == "new"
    service.assess(db_session, a.principal, item.id, "not_terrorist_content")
    assert item.status == "dismissed"
    service.assess(db_session, b.principal, item.id, "terrorist_content", ["e"])
    assert item.status == "assessed"
    # A's dismissal does not override B's terrorist-content verdict...
    service.assess(db_session, a.principal, item.id, "not_terrorist_content")
    assert item.status == "assessed"
    # ...until B changes its mind.
    service.assess(db_session, b.principal, item.id, "not_terrorist_content")
    assert item.status == "dismissed"
    service.assess(db_session, b.principal, item.id, "terrorist_content", ["e"])
    service.transition(db_session, SYSTEM, item, "referred", reason="r")
    service.assess(db_session, b.principal, item.id, "not_terrorist_content")
    assert item.status == "referred"


def test_other_agencies_assessments_are_redacted(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    item = make_item(db_session, a)
    service.share_item(db_session, a.principal, item.id, b.agency.id)
    service.assess(db_session, a.principal, item.id, "terrorist_content", ["a"], notes="A only")
    (view,) = service.assessments_for(db_session, b.principal, item.id)
    assert not view.own and view.agency_name == a.agency.name
    (own,) = service.assessments_for(db_session, a.principal, item.id)
    assert own.own


def test_supervisor_and_analyst_roles_write(db_session: Session) -> None:
    sup = make_actor(db_session, role="supervisor")
    assert sup.principal.role is Role.SUPERVISOR
    item = make_item(db_session, sup)
    service.assess(db_session, sup.principal, item.id, "terrorist_content", ["b"])
    assert item.status == "assessed"
