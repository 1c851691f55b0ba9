"""The matching index across processes (#18.3): a signal added or disabled through one
connection reaches another process's index within 2 s through PostgreSQL LISTEN/NOTIFY,
with no lookup to trigger it, and the index's memory stays flat across 1,000 updates."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.service import SYSTEM
from takedown.db import make_sessionmaker, session_scope
from takedown.matching import service
from takedown.matching.engine import MatchingEngine, codes_for
from takedown.matching.schemas import SignalIn
from takedown.runtime.notify import SIGNALS, Listener
from tests.factories import make_agency
from tests.matching.factories import agency_bank

pytestmark = pytest.mark.postgres

HEX = "f" * 8 + "0123456789abcdef" * 3 + "a" * 8


def _found(engine: MatchingEngine, value: str) -> bool:
    hits = engine.search("pdq", codes_for("pdq", value), 0)
    return bool(hits and hits[0])


def _wait(cond: Any, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


@pytest.fixture
def pg_factory(pg_engine: Any) -> sessionmaker[Session]:
    return make_sessionmaker(pg_engine)


def test_a_new_or_disabled_signal_reaches_another_process_within_2s(
    pg_engine: Any, pg_factory: sessionmaker[Session]
) -> None:
    theirs = MatchingEngine(sync_interval=3600)  # "another process": it never syncs on its own

    def sync() -> None:
        with session_scope(pg_factory) as s:
            theirs.sync(s, force=True)

    sync()  # loaded at its start
    listener = Listener(pg_engine.url.render_as_string(hide_password=False), {SIGNALS: sync})
    listener.start()
    try:
        assert listener.listening.wait(10)
        with session_scope(pg_factory) as s:
            bank = agency_bank(s, make_agency(s).id)
            sig = service.add_signal(s, SYSTEM, bank.id, SignalIn(signal_type="pdq", value=HEX),
                                     engine=MatchingEngine())  # fmt: skip
        assert _wait(lambda: _found(theirs, HEX)), "the new signal did not arrive within 2 s"
        with session_scope(pg_factory) as s:
            service.set_signal_enabled(s, SYSTEM, sig.id, False, engine=MatchingEngine())
        assert _wait(lambda: not _found(theirs, HEX)), "the disable did not arrive within 2 s"
    finally:
        listener.stop()


@pytest.mark.slow
def test_memory_stays_flat_across_1000_updates(pg_factory: sessionmaker[Session]) -> None:
    engine = MatchingEngine(sync_interval=0)
    writer = MatchingEngine()
    with session_scope(pg_factory) as s:
        bank = agency_bank(s, make_agency(s).id)
        sigs = [
            service.add_signal(
                s, SYSTEM, bank.id, SignalIn(signal_type="pdq", value=f"{i:064x}"), engine=writer
            ).id
            for i in range(1, 51)
        ]
    with session_scope(pg_factory) as s:
        engine.sync(s, force=True)
    idx = engine.indexes["pdq"]
    idx.merge()
    before = idx.nbytes()
    for n in range(1000):
        with session_scope(pg_factory) as s:
            service.set_signal_enabled(s, SYSTEM, sigs[n % 50], n % 2 == 1, engine=writer)
            engine.sync(s, force=True)
    # No explicit merge: the delta (at most DELTA_MAX entries) is all that can grow.
    assert len(idx) == 25  # the last update of each odd-numbered signal enabled it
    assert idx.nbytes() <= before * 1.1 + 64 * 1024  # bounded by the delta, not the updates
