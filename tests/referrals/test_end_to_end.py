"""The whole loop on the testbed's small.yaml, scored against its ground truth.

Import the agencies' reports, assess, build batches per platform, deliver by
API (x) and by e-mail (telegram, youtube), let the platforms act while the
scenario clock runs, verify on the schedule, and compare: the items we count
as removed are exactly the referred items the testbed removed, per platform,
and each measured time to removal brackets the true one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.items import service as items_service
from takedown.items.intake import import_stream
from takedown.items.models import Item, ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.referrals import delivery, service
from takedown.referrals.channels.api import ApiChannel
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import ItemState, ReferralItem
from takedown.referrals.platforms import signing_key
from takedown.referrals.stats import referral_stats
from takedown.sim.harness import SimHandle, running_sim
from takedown.sim.reports import export_reports
from takedown.verification.engine import EngineConfig
from takedown.verification.models import CheckSchedule
from takedown.verification.service import verify_due
from tests.factories import make_actor, make_agency
from tests.referrals.factories import ensure_platform
from tests.verification.simutil import sim_registry

pytestmark = pytest.mark.slow
CHANNELS = {"x": "api", "telegram": "email", "youtube": "email"}
ENGINE = EngineConfig(retries=2, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)
JUST = "Synthetic stand-in for official propaganda of a designated group (test)."


def _platforms(session: Session) -> None:
    ensure_platform(
        session,
        "x",
        channel="api",
        api_endpoint="https://legal.x.com/api/v1/referrals",
        contact="tco-referrals@x.com",
        country="IE",
    )
    ensure_platform(
        session,
        "telegram",
        channel="email",
        contact="abuse@telegram.org",
        country="AE",
        kind="messaging",
        domains=["t.me"],
    )
    ensure_platform(
        session,
        "youtube",
        channel="email",
        contact="legal-referrals@youtube.com",
        country="IE",
        kind="video",
        domains=["youtube.com"],
    )


def _sim_key(url: str, truth_by_url: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    return truth_by_url.get(url)


def test_action_day_end_to_end(
    committing_db: tuple[Session, sessionmaker[Session]], tmp_path: Path
) -> None:
    db_session, factory = committing_db
    with running_sim("small") as sim:
        _run(db_session, factory, tmp_path / "reports", sim)


def _run(db: Session, factory: sessionmaker[Session], tmp: Path, sim: SimHandle) -> None:
    clock = FrozenClock(sim.now())
    _platforms(db)
    # 1. the agencies' reports
    sim.call(lambda: export_reports(sim.world, tmp))
    files = sorted(
        p for p in tmp.iterdir() if p.name.endswith(("-report.csv", "-report.jsonl", "-report.txt"))
    )
    assert len(files) == 3
    analysts = []
    for f in files:
        agency = make_agency(db, name=f.name.split("-report")[0].upper(), country="FR")
        analyst = make_actor(db, agency, role="analyst")
        supervisor = make_actor(db, agency, role="supervisor")
        with f.open("rb") as fh:
            job = import_stream(db, analyst.principal, fh, filename=f.name, clock=clock)
        assert job.rows_ok > 0
        analysts.append((analyst, supervisor))
    db.flush()
    # 2. assess and refer: every agency its own items; duplicates across agencies are caught.
    # The analysts recognise the report files' junk lines (a bare "x.com/") and dismiss them.
    known = {t["url"] for t in sim.ground_truth() if t["type"] == "item"}
    sent_batches = []
    for analyst, supervisor in analysts:
        items, _ = items_service.list_items(db, analyst.principal, limit=500)
        ids = []
        for it in items:
            if it.platform not in CHANNELS:
                continue
            if it.fetch_url not in known and it.canonical_url not in known:
                continue
            if it.status == ItemStatus.NEW.value:
                items_service.assess(
                    db, analyst.principal, it.id, "terrorist_content", ["a"], clock=clock
                )
            ids.append(it.id)
        by_kind = {
            "tos": [i for i in ids if db.get(Item, i).platform != "youtube"],  # type: ignore[union-attr]
            "removal_order": [i for i in ids if db.get(Item, i).platform == "youtube"],
        }  # type: ignore[union-attr]
        for kind, kind_ids in by_kind.items():
            if not kind_ids:
                continue
            extra: dict[str, Any] = (
                {"reasons": ["a"], "justification": JUST, "emergency": True}
                if kind == "removal_order"
                else {}
            )
            for res in service.create_batches(
                db, analyst.principal, item_ids=kind_ids, kind=kind, clock=clock, **extra
            ):
                if res.included == 0:
                    continue
                service.submit(db, analyst.principal, res.referral.id, clock=clock)
                if kind == "removal_order":
                    service.approve(db, supervisor.principal, res.referral.id, clock=clock)
                sent_batches.append(res.referral)
    assert sent_batches
    included = db.scalars(
        select(ReferralItem).where(ReferralItem.state == ItemState.INCLUDED.value)
    ).all()
    referred_ids = [ri.item_id for ri in included]
    assert len(referred_ids) == len(set(referred_ids)), "an item was sent twice"
    dupes = db.scalars(
        select(ReferralItem).where(ReferralItem.state == ItemState.DUPLICATE.value)
    ).all()
    assert dupes, "small.yaml has overlapping reports; the overlap must be caught"
    db.commit()
    # 3. deliver by API and by e-mail
    with sim.sync_client() as http:
        channels = ChannelRegistry(
            [
                ApiChannel(http, lambda s: signing_key("test-secret", s), clock=clock),
                EmailChannel(
                    f"smtp://127.0.0.1:{sim.smtp_port}?from=iru@agency.example", attach_pdf=False
                ),
            ]
        )
        report = delivery.run_due(db, channels, clock=clock, limit=1000)
    assert report.delivered == len(sent_batches) and report.failed == report.gave_up == 0
    acks = sim.call(lambda: {r.ack: r.channel for r in sim.world.referrals})
    assert Counter(acks.values()) == Counter(b.channel for b in sent_batches)
    db.commit()
    # 4. the platforms act while time runs; we verify on schedule (15 min, then hourly)
    registry = sim_registry(sim)

    def verify_round() -> None:
        verify_due(
            factory,
            lambda: sim.client(per_host_limit=16),
            registry=registry,
            clock=clock,
            engine_config=ENGINE,
        )

    verify_round()
    for step in [15 * 60] * 24 + [3600] * 42:
        sim.advance(step)
        clock.set(sim.now())
        verify_round()
    # time stops for the platforms; our last checks confirm what the previous ones saw
    for _ in range(2):
        clock.advance(dt.timedelta(minutes=10))
        db.query(CheckSchedule).update({CheckSchedule.next_check_at: clock.now()})
        db.commit()
        verify_round()
    # 5. score against the ground truth
    truth = {t["url"]: t for t in sim.ground_truth() if t["type"] == "item"}
    db.expire_all()
    items = {i.id: i for i in db.scalars(select(Item).where(Item.id.in_(referred_ids)))}
    scheds = {
        s.item_id: s
        for s in db.scalars(select(CheckSchedule).where(CheckSchedule.item_id.in_(referred_ids)))
    }
    ours: Counter[str] = Counter()
    theirs: Counter[str] = Counter()
    mismatches = []
    for item_id in referred_ids:
        it = items[item_id]
        t = truth.get(it.fetch_url) or truth.get(it.canonical_url)
        assert t is not None, it.fetch_url
        gone = t["removed_at"] is not None
        counted = scheds[item_id].removed_confirmed_at is not None
        theirs[it.platform] += gone
        ours[it.platform] += counted
        if gone != counted or (it.status == ItemStatus.REMOVED.value) != gone:
            mismatches.append((it.fetch_url, t["removed_at"], it.status, t["access"]))
        if counted:
            s = scheds[item_id]
            true_at = dt.datetime.fromisoformat(t["removed_at"].replace("Z", "+00:00"))
            assert s.removed_at is not None and true_at <= s.removed_at
            if true_at >= s.anchor_at:  # removed after the referral: bracketed by our checks
                assert (s.online_before_removal_at or s.anchor_at) <= true_at
            else:  # already gone when referred: seen at the first check
                assert s.online_before_removal_at is None and s.removed_at == s.anchor_at
    assert mismatches == []
    assert ours == theirs and sum(ours.values()) > 0
    # per-referral statistics add up to the same truth
    total_removed = sum(referral_stats(db, b).removed for b in sent_batches)
    assert total_removed == sum(theirs.values())
