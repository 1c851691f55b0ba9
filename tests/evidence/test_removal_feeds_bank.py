"""Composition: a removal confirmed by verification puts the item's captured media into
the removed-content bank (bootstrap.wire_hooks), so a re-upload is recognised later."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from takedown.bootstrap import wire_hooks
from takedown.config import Settings
from takedown.matching.models import REMOVED_CONTENT_BANK
from takedown.matching.service import list_banks
from takedown.platforms.detectors.base import Outcome
from takedown.verification.engine import CheckResult
from takedown.verification.service import record_results, schedule_items
from tests.evidence.conftest import capture_one
from tests.factories import make_actor


def test_confirmed_removal_banks_the_captured_media(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    wire_hooks(ev_settings)
    actor = make_actor(db_session)
    item_id, _cap = capture_one(db_session, session_factory, ev_settings, actor.principal)
    schedule_items(db_session, [item_id])
    assert REMOVED_CONTENT_BANK not in [b.name for b in list_banks(db_session, actor.principal)]
    t0 = dt.datetime.now(dt.UTC)
    results = [
        CheckResult(
            item_id,
            "http://hostile.test/",
            Outcome.REMOVED,
            "404",
            "generic",
            t0 + dt.timedelta(minutes=m),
            status=404,
        )
        for m in (1, 11)
    ]
    summary = record_results(db_session, results)
    assert summary.removed == 1
    assert REMOVED_CONTENT_BANK in [b.name for b in list_banks(db_session, actor.principal)]
