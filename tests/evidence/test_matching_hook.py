"""Evidence meets matching: captured media are matched against banks, removed media banked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.evidence import capturing
from takedown.evidence.service import feed_removed_media
from takedown.evidence.storage import store_for_settings
from takedown.matching.engine import reset_engines
from takedown.matching.models import REMOVED_CONTENT_BANK
from takedown.matching.schemas import BankCreate
from takedown.matching.service import add_media, create_bank, list_banks, results_for_item
from tests.evidence.conftest import capture_one
from tests.evidence.hostile import png_bytes
from tests.factories import make_actor


@pytest.fixture
def with_matching_hook() -> Iterator[None]:
    capturing.on_media_captured[:] = [capturing.matching_hook]
    reset_engines()
    yield
    reset_engines()


def test_captured_media_is_matched_against_known_banks(
    db_session: Session,
    session_factory: sessionmaker[Session],
    ev_settings: Settings,
    with_matching_hook: None,
) -> None:
    sup = make_actor(db_session, role="supervisor")
    bank = create_bank(db_session, sup.principal, BankCreate(name="known posters"))
    add_media(db_session, sup.principal, bank.id, png_bytes())
    db_session.commit()
    item_id, _cap = capture_one(db_session, session_factory, ev_settings, sup.principal)
    results = results_for_item(db_session, item_id)
    assert results and {r.bank_id for r in results} == {bank.id}


def test_removed_items_media_feeds_the_removed_content_bank(
    db_session: Session,
    session_factory: sessionmaker[Session],
    ev_settings: Settings,
) -> None:
    actor = make_actor(db_session)
    item_id, _cap = capture_one(db_session, session_factory, ev_settings, actor.principal)
    n = feed_removed_media(db_session, item_id, store=store_for_settings(ev_settings))
    assert n == 1
    names = [b.name for b in list_banks(db_session, actor.principal)]
    assert REMOVED_CONTENT_BANK in names


def test_deferred_media_hooks_run_once_from_the_job(
    db_session: Session,
    session_factory: sessionmaker[Session],
    ev_settings: Settings,
) -> None:
    from takedown.evidence import repository
    from takedown.evidence.capturing import capture_items, process_pending_media
    from tests.evidence.conftest import TEST_LIMITS, make_item

    seen: list[str] = []
    capturing.on_media_captured[:] = [lambda s, cap, row, data: seen.append(row.sha256)]
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, "http://hostile.test/page?deferred=1")
    db_session.commit()
    [r] = capture_items(
        session_factory,
        actor.principal,
        [item_id],
        settings=ev_settings,
        limits=TEST_LIMITS,
        defer_hooks=True,
    )
    assert seen == []
    db_session.expire_all()
    store = store_for_settings(ev_settings)
    assert process_pending_media(db_session, store=store) == 1
    assert process_pending_media(db_session, store=store) == 0
    media = [f for f in repository.files_of(db_session, r.capture_id or 0) if f.role == "media"]
    assert seen == [media[0].sha256] and media[0].hooks_done_at is not None
