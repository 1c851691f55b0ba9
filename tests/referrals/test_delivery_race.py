"""Each order delivered once (#12.1): "Send now", the ``referrals.deliver`` ticker and two job
threads race on the same approved batches, 50 rounds, on SQLite and PostgreSQL; the
testbed's inbox and API intake receive exactly one message per batch.

A delivery is claimed (compare-and-set on its row; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and the claim committed before any channel is called, so the second sender
finds it taken.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.db import session_scope
from takedown.kit.errors import Conflict
from takedown.referrals import delivery, service
from takedown.referrals.channels.api import ApiChannel
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import Delivery, DeliveryAttempt, DeliveryStatus
from takedown.referrals.platforms import signing_key
from takedown.sim.harness import SimHandle, running_sim
from tests.conftest import own_database
from tests.factories import make_actor, make_agency
from tests.items.factories import make_assessed_item
from tests.referrals.factories import ensure_platform

ROUNDS = 50
LATER = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
JUST = "Synthetic stand-in for official propaganda of a designated group (test)."


@pytest.fixture(params=["sqlite", "postgresql"])
def race_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A database of its own, with real connections (threads commit for real)."""
    with own_database(request.param, tmp_path, "trust_runtime_race") as factory:
        yield factory


def _batches(factory: sessionmaker[Session]) -> tuple[list[list[int]], object]:
    """Per round, two approved batches (an order by e-mail, a ToS referral by API), their
    deliveries parked in the future until their round starts."""
    rounds: list[list[int]] = []
    with session_scope(factory) as s:
        ensure_platform(s, "telegram", channel="email", contact="abuse@telegram.org",
                        kind="messaging", domains=["t.me"], country="AE")  # fmt: skip
        ensure_platform(s, "x", channel="api", contact="tco-referrals@x.com",
                        api_endpoint="https://legal.x.com/api/v1/referrals")  # fmt: skip
        agency = make_agency(s, country="FR")
        analyst = make_actor(s, agency, role="analyst")
        supervisor = make_actor(s, agency, role="supervisor")
        for r in range(ROUNDS):
            order = make_assessed_item(s, analyst, url=f"https://t.me/race_chan_{r}/{100 + r}")
            tos = make_assessed_item(s, analyst, url=f"https://x.com/race_{r}/status/{9000 + r}")
            ids = []
            for item, kind in ((order, "removal_order"), (tos, "tos")):
                extra = (
                    {"reasons": ["a"], "justification": JUST, "emergency": True}
                    if kind == "removal_order"
                    else {}
                )
                (res,) = service.create_batches(
                    s, analyst.principal, item_ids=[item.id], kind=kind, **extra
                )
                service.submit(s, analyst.principal, res.referral.id)
                if kind == "removal_order":
                    service.approve(s, supervisor.principal, res.referral.id)
                ids.append(res.referral.id)
            s.execute(
                update(Delivery).where(Delivery.referral_id.in_(ids)).values(next_attempt_at=LATER)
            )
            rounds.append(ids)
    return rounds, analyst.principal


def _race(factory: sessionmaker[Session], sim: SimHandle, tmp: Path) -> None:
    settings = Settings(
        data_dir=tmp / "var",
        secret_key="test-secret",
        capture_before_referral=False,  # the race is about sending; evidence has its tests
        check_before_referral=False,
    )
    rounds, principal = _batches(factory)
    http = sim.sync_client()
    channels = ChannelRegistry(
        [
            ApiChannel(http, lambda slug: signing_key("test-secret", slug)),
            EmailChannel(f"smtp://127.0.0.1:{sim.smtp_port}?from=iru@agency.example",
                         attach_pdf=False),
        ]
    )  # fmt: skip
    errors: list[BaseException] = []
    refused: Counter[str] = Counter()

    def guarded(fn):  # type: ignore[no-untyped-def]
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        return run

    for ids in rounds:
        with session_scope(factory) as s:
            s.execute(
                update(Delivery)
                .where(Delivery.referral_id.in_(ids))
                .values(next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
        go = threading.Barrier(4)

        def send_now(ids: list[int] = ids, go: threading.Barrier = go) -> None:
            go.wait()
            for rid in ids:
                try:
                    delivery.send_now_with_evidence(factory, settings, principal, rid, channels)  # type: ignore[arg-type]
                except Conflict as exc:  # taken or already sent: the page says so
                    refused[exc.detail.split(" ", 1)[1][:20]] += 1

        def job(go: threading.Barrier = go) -> None:
            go.wait()
            delivery.deliver_due(factory, settings, channels, limit=50)

        threads = [threading.Thread(target=guarded(f)) for f in (send_now, job, job, job)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    http.close()
    assert not errors, errors[:3]
    refs = {}
    with session_scope(factory) as s:
        for ids in rounds:
            for rid in ids:
                refs[rid] = service.repository.get(s, rid).reference  # type: ignore[union-attr]
        deliveries = s.scalars(select(Delivery)).all()
        attempts = Counter(a.delivery_id for a in s.scalars(select(DeliveryAttempt)).all())
    assert {d.status for d in deliveries} == {DeliveryStatus.ACKNOWLEDGED.value}
    assert set(attempts.values()) == {1}, "one attempt per delivery"
    inbox = sim.call(lambda: list(sim.sim.app.state.inbox))
    api = sim.call(lambda: list(sim.sim.app.state.api_received))
    per_ref = Counter(
        next(ref for ref in refs.values() if ref in m["subject"]) for m in inbox
    ) + Counter(a["reference"] for a in api)
    assert len(inbox) == len(api) == ROUNDS
    assert per_ref == Counter(refs.values()), [r for r, n in per_ref.items() if n != 1][:5]
    assert not any(m["repeat"] for m in inbox + api)


def test_send_now_ticker_and_job_threads_send_each_batch_once(
    race_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    with running_sim("small") as sim:
        _race(race_factory, sim, tmp_path)
