"""A check on demand against the testbed, through the job runtime.

An item the testbed has taken down is asked for; the job ``verification.check_request``
runs as the runtime would run it (the embedded thread pool, or a Dramatiq worker on a
stub broker), records the check as ``removed``, and the request's progress reads 1 of 1.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.items import service as items_service
from takedown.items.models import Item, ItemStatus
from takedown.kit import jobs
from takedown.platforms.seed import ensure_seeded
from takedown.sim.harness import SimHandle, running_sim
from takedown.verification import repository, tasks
from takedown.verification.requests import progress, request_checks
from takedown.verification.service import schedule_items
from tests.factories import make_actor


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        yield handle


def _run_job(runtime: str, request_id: int) -> None:
    if runtime == "embedded":
        d = jobs.InProcessDispatcher()
        try:
            tasks.enqueue_check_request(d, request_id)
            d.drain(timeout=120)
        finally:
            d.close()
        return
    from dramatiq.brokers.stub import StubBroker

    broker = StubBroker()
    d = jobs.DramatiqDispatcher(broker)
    worker = d.worker(threads=1)
    worker.start()
    try:
        tasks.enqueue_check_request(d, request_id)
        broker.join(d.QUEUE, timeout=120_000, fail_fast=True)
        worker.join()
    finally:
        worker.stop()
        d.close()


@pytest.mark.parametrize("runtime", ["embedded", "broker"])
def test_check_now_on_a_removed_item_records_it_removed_and_shows_1_of_1(
    runtime: str,
    sim: SimHandle,
    committing_db: tuple[Session, sessionmaker[Session]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session, factory = committing_db
    ensure_seeded(session)  # x.com is X's: its removal page is read by X's detector
    actor = make_actor(session)
    posts = sim.items(platform="x", kind="post", alive=True)
    assert posts, "the testbed has no X post left"
    target = posts[0]
    item, _ = items_service.report_url(session, actor.principal, target["url"])
    item.status = ItemStatus.REFERRED.value
    schedule_items(session, [item.id])
    session.commit()
    with sim.control() as ctl:
        assert ctl.post("/remove", json={"item_id": target["id"]}).status_code == 200
    req = request_checks(session, actor.principal, "item", item.id)
    session.commit()
    assert progress(session, req).checked == 0

    # The job opens the instance's database and settings: here, the test's and the testbed's.
    settings = Settings(resolve=sim.resolve, ca_bundle=sim.ca_path, tor_proxy=sim.tor_proxy)
    monkeypatch.setattr(tasks, "_factory", lambda: factory)
    monkeypatch.setattr(tasks, "get_settings", lambda: settings)
    _run_job(runtime, req.id)

    session.commit()  # a new snapshot: the job wrote through its own connection
    p = progress(session, req)
    assert (p.checked, p.total, p.finished, p.outcomes) == (1, 1, True, {"removed": 1})
    [check] = repository.timeline(session, item.id)
    assert check.outcome == "removed" and check.checked_at >= req.requested_at
    sched = repository.schedules_for(session, [item.id])[item.id]
    assert sched.requested_at is None and sched.removed_since == check.checked_at
    # one check is not yet a removal: the second, five minutes on, confirms it
    assert session.get_one(Item, item.id).status == ItemStatus.REFERRED.value
    _run_job(runtime, req.id)  # idempotent: delivered twice, checked once
    session.commit()  # a new snapshot: the job wrote through its own connection
    assert len(repository.timeline(session, item.id)) == 1
