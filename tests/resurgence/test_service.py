"""The service on both engines: scans store candidates, analysts confirm, refer or reject."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.items.models import Assessment
from takedown.kit.errors import Conflict, NotFound
from takedown.referrals.models import Referral
from takedown.resurgence import repository, service
from takedown.resurgence.models import CandidateStatus
from tests.factories import make_actor
from tests.resurgence.factories import T0, removed_account, seen_account


def _signals(view: service.CandidateView) -> set[str]:
    return {r["signal"] for r in view.candidate.reasons}


def test_a_bumped_handle_is_proposed_as_successor(db_session: Session) -> None:
    a = make_actor(db_session)
    old = removed_account(db_session, a, "https://x.com/abumedia", title="Abu Media")
    new = seen_account(db_session, a, "https://x.com/abumedia2", title="Abu Media")
    other = seen_account(db_session, a, "https://x.com/gardening_club", title="Garden")
    rep = service.scan(db_session, seen_ids=[new.id, other.id, old.id])
    assert rep.proposed == 1
    [view], total = service.list_candidates(db_session, a.principal)
    assert total == 1
    assert (view.predecessor.id, view.successor.id) == (old.id, new.id)
    # "Abu Media" is a distinctive name no other removal had: title_unique as well.
    assert _signals(view) == {"handle_pattern", "title", "title_unique", "created_after"}
    assert view.candidate.score >= service.threshold()
    assert view.candidate.suggestion["categories"] == ["a", "c"]
    # Another agency sees neither item, so neither the candidate.
    b = make_actor(db_session)
    assert service.list_candidates(db_session, b.principal) == ([], 0)
    with pytest.raises(NotFound):
        service.get_candidate(db_session, b.principal, view.candidate.id)


def test_a_removal_scans_what_was_seen_since(db_session: Session) -> None:
    a = make_actor(db_session)
    new = seen_account(db_session, a, "https://t.me/qaswarat_back")
    old = removed_account(db_session, a, "https://t.me/qaswarat", removed_at=T0)
    repository.take_due(db_session, T0 + dt.timedelta(days=999), 100)  # as if scanned as seen
    assert service.enqueue_removed(db_session, old.id, clock=_clock(T0)) == 1
    assert service.enqueue_removed(db_session, old.id, clock=_clock(T0)) == 0  # already due
    rep = service.run_due(db_session, clock=_clock(T0 + dt.timedelta(days=1)))
    assert rep.removed == 1 and rep.proposed == 1
    assert repository.due_count(db_session) == 0
    [view], _ = service.list_candidates(db_session, a.principal)
    assert view.successor.id == new.id


def test_announcement_in_a_channel_that_linked_the_old_address(db_session: Session) -> None:
    a = make_actor(db_session)
    post1 = seen_account(db_session, a, "https://t.me/newsroom_hub/10")
    post2 = seen_account(db_session, a, "https://t.me/newsroom_hub/11")
    old = removed_account(db_session, a, "https://x.com/harbinger", source=post1.identity)
    # Unrelated handle and no shared name: only the announcement ties it to the old one.
    new = seen_account(db_session, a, "https://x.com/zqvmlpw", source=post2.identity)
    service.scan(db_session, seen_ids=[new.id])
    [view], _ = service.list_candidates(db_session, a.principal, status=["proposed", "below"])
    assert view.predecessor.id == old.id
    assert _signals(view) == {"announced_old", "created_after"}
    assert view.candidate.status == CandidateStatus.BELOW.value  # 0.55: shown, not proposed


def test_announcement_recorded_as_the_outlinks_parent(db_session: Session) -> None:
    """Monitoring records an outlink as an item whose parent is the post it was found in."""
    a = make_actor(db_session)
    post1 = seen_account(db_session, a, "https://t.me/newsroom_hub2/10")
    post2 = seen_account(db_session, a, "https://t.me/newsroom_hub2/11")
    old = removed_account(db_session, a, "https://x.com/harbinger2")
    old.parent_identity = post1.identity
    new = seen_account(db_session, a, "https://x.com/zqvmlpw2", title="Harbinger")
    new.parent_identity = post2.identity
    db_session.flush()
    service.scan(db_session, seen_ids=[new.id])
    [view], _ = service.list_candidates(db_session, a.principal, status=["proposed", "below"])
    assert view.predecessor.id == old.id
    assert _signals(view) == {"announced_old", "created_after"}
    assert "telegram:channel/newsroom_hub2" in view.candidate.reasons[0]["detail"]


def test_confirm_and_refer_in_one_step(db_session: Session) -> None:
    a = make_actor(db_session)
    old = removed_account(db_session, a, "https://x.com/abumedia", title="Abu Media")
    new = seen_account(db_session, a, "https://x.com/abumedia_back", title="Abu Media")
    service.scan(db_session, seen_ids=[new.id])
    [view], _ = service.list_candidates(db_session, a.principal)
    service.confirm(db_session, a.principal, view.candidate.id, refer=True, note="same logo")
    c = view.candidate
    assert c.status == CandidateStatus.CONFIRMED.value and c.referral_id is not None
    assessed = db_session.scalars(select(Assessment).where(Assessment.item_id == new.id)).one()
    assert (assessed.verdict, assessed.categories) == ("terrorist_content", ["a", "c"])
    assert assessed.group == "Synthetic Group" and old.canonical_url in assessed.notes
    ref = db_session.get(Referral, c.referral_id)
    assert ref is not None and ref.status != "draft"
    with pytest.raises(Conflict):
        service.reject(db_session, a.principal, c.id)


def test_reject_sticks_across_rescans(db_session: Session) -> None:
    a = make_actor(db_session)
    removed_account(db_session, a, "https://x.com/abumedia", title="Abu Media")
    new = seen_account(db_session, a, "https://x.com/abumedia3")
    service.scan(db_session, seen_ids=[new.id])
    [view], _ = service.list_candidates(db_session, a.principal)
    service.reject(db_session, a.principal, view.candidate.id, note="a fan account")
    service.scan(db_session, seen_ids=[new.id])
    assert service.list_candidates(db_session, a.principal) == ([], 0)
    [again], _ = service.list_candidates(db_session, a.principal, status=["rejected"])
    assert again.candidate.note == "a fan account"


def test_refer_needs_an_assessment_to_inherit(db_session: Session) -> None:
    a = make_actor(db_session)
    removed_account(db_session, a, "https://x.com/abumedia", assess=False)
    new = seen_account(db_session, a, "https://x.com/abumedia_new")
    service.scan(db_session, seen_ids=[new.id])
    [view], _ = service.list_candidates(db_session, a.principal)
    with pytest.raises(Conflict, match="no terrorist-content assessment"):
        service.confirm(db_session, a.principal, view.candidate.id, refer=True)


def _clock(t: dt.datetime):  # type: ignore[no-untyped-def]
    from takedown.kit.clock import FrozenClock

    return FrozenClock(t)


def test_a_removal_supersedes_a_pending_seen_scan(db_session: Session) -> None:
    from takedown.items.hooks import fire_items_created

    a = make_actor(db_session)
    old = removed_account(db_session, a, "https://t.me/orphaned_voice", assess=False)
    repository.take_due(db_session, T0 + dt.timedelta(days=999), 100)
    service.enqueue_seen(db_session, [old.id], clock=_clock(T0))
    assert service.enqueue_removed(db_session, old.id, clock=_clock(T0)) == 1
    [due] = repository.take_due(db_session, T0, 10)
    assert (due.item_id, due.reason) == (old.id, "removed")
    fire_items_created(db_session, [])  # no ids, no work
