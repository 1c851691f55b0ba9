"""The fault test: 5xx, timeouts, 429s and dropped connections on every platform.

The testbed injects them at random (seeded); the checks must never count an
online item as removed, and every check that was due must be recorded.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.items import service as items_service
from takedown.items.models import Item
from takedown.kit.clock import FrozenClock
from takedown.platforms.identity import InvalidURL
from takedown.sim.harness import running_sim
from takedown.sim.scenario import Behaviour, Dist, load_scenario, resolve_scenario_path
from takedown.verification.engine import EngineConfig
from takedown.verification.models import Check, CheckSchedule
from takedown.verification.service import schedule_items, verify_due
from tests.factories import make_actor
from tests.verification.simutil import sim_registry

pytestmark = pytest.mark.slow
HOSTILE = Behaviour(
    error_rate={500: 0.1, 502: 0.05, 503: 0.1},
    drop_rate=0.08,
    slow_rate=0.05,
    slow_ms=1500,
    rate_limit_per_second=40,
    retry_after=1,
    latency_ms=Dist(median=2, sigma=0.5),
)
ENGINE = EngineConfig(retries=1, backoff_base=0.01, jitter=0.5, max_retry_after=0.0)


def test_no_false_removals_and_no_lost_checks(
    committing_db: tuple[Session, sessionmaker[Session]],
) -> None:
    db_session, session_factory = committing_db
    sc = load_scenario(resolve_scenario_path("small"))
    sc = sc.model_copy(
        update={"platforms": [p.model_copy(update={"behaviour": HOSTILE}) for p in sc.platforms]}
    )
    with running_sim(sc, inject=True) as sim:
        actor = make_actor(db_session)
        ids: dict[int, str] = {}
        for it in sim.items():
            try:
                item, _ = items_service.report_url(db_session, actor.principal, it["url"])
            except InvalidURL:
                continue  # the testbed's made-up onion names are not valid v3 addresses
            ids[item.id] = it["id"]
        clock = FrozenClock(sim.now())
        schedule_items(db_session, list(ids), clock=clock)
        rng = random.Random(5)
        victims = [sid for sid in ids.values() if rng.random() < 0.5]
        with sim.control() as ctl:
            for v in victims:
                ctl.post("/remove", json={"item_id": v})
        db_session.commit()
        registry = sim_registry(sim)
        due_total = 0
        outcomes: dict[str, int] = {}
        for _ in range(8):
            rep = verify_due(
                session_factory,
                lambda: sim.client(timeout=0.5, per_host_limit=8),
                registry=registry,
                clock=clock,
                engine_config=ENGINE,
            )
            assert rep.checked == rep.due  # every claimed check came back
            due_total += rep.due
            for k, v in (rep.outcomes or {}).items():
                outcomes[k] = outcomes.get(k, 0) + v
            clock.advance(dt.timedelta(minutes=16))
        truth = {t["id"]: t for t in sim.ground_truth() if t["type"] == "item"}
    stored = db_session.scalar(select(func.count()).select_from(Check)) or 0
    assert stored == due_total  # and every one of them is in the database
    assert outcomes.get("unreachable", 0) > 0  # the faults really happened
    scheds = {s.item_id: s for s in db_session.scalars(select(CheckSchedule))}
    false_removals = [
        ids[i]
        for i, s in scheds.items()
        if s.removed_confirmed_at is not None and truth[ids[i]]["removed_at"] is None
    ]
    assert false_removals == []
    gone = [i for i in ids if truth[ids[i]]["removed_at"] is not None]
    found = [i for i in gone if scheds[i].removed_confirmed_at is not None]
    assert len(found) >= 0.9 * len(gone)
    statuses = {
        i.id: i.status for i in db_session.scalars(select(Item).where(Item.id.in_(list(ids))))
    }
    assert all(statuses[i] != "removed" for i in ids if truth[ids[i]]["removed_at"] is None)
