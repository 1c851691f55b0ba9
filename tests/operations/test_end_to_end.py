"""An action day with 3 agencies on the testbed's small.yaml, scored against its ground truth.

Import (each agency its own report file, into the operation), fold duplicates,
assess, refer the whole operation per platform (ToS referrals by API and e-mail,
removal orders for YouTube), verify while the platforms act, a preliminary
report mid-way, then the final report. Every figure in the final report equals
the testbed's ground truth, organic removals included (what a platform removed or
geo-blocked by itself before the referral went out is "removed before referral", never a
removal of the referral): counts, and times to removal too, because the
platforms state when they removed each item (their status API, asked by
``referrals.status.poll``) and verification confirms those removals.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.db import session_scope
from takedown.items import service as items_service
from takedown.items.models import Item, ItemStatus
from takedown.kit.clock import FrozenClock
from takedown.operations import report, service
from takedown.operations.models import OperationItem
from takedown.operations.stats import summarize
from takedown.platforms.identity import InvalidURL, canonicalize
from takedown.referrals import delivery, precheck, status
from takedown.referrals import service as referrals
from takedown.referrals.channels.api import ApiChannel
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import ItemState, ReferralItem
from takedown.referrals.platforms import signing_key
from takedown.sim.harness import SimHandle, running_sim
from takedown.sim.reports import export_reports
from takedown.verification.engine import EngineConfig
from takedown.verification.models import CheckSchedule
from takedown.verification.service import verify_due
from tests.factories import make_actor, make_agency
from tests.referrals.factories import ensure_platform
from tests.verification.simutil import sim_registry

pytestmark = pytest.mark.slow
ENGINE = EngineConfig(retries=2, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)
JUST = "Synthetic stand-in for official propaganda of a designated group (test)."
REFERRED_PLATFORMS = ("x", "telegram", "youtube")


def _platforms(session: Session) -> None:
    ensure_platform(
        session,
        "x",
        channel="api",
        api_endpoint="https://legal.x.com/api/v1/referrals",
        contact="tco-referrals@x.com",
        country="IE",
    )
    # Telegram and YouTube take referrals by e-mail; their status API answers for any
    # acknowledgement id, whatever channel carried the referral.
    ensure_platform(
        session,
        "telegram",
        channel="email",
        api_endpoint="https://tns.telegram.org/api/v1/referrals",
        contact="abuse@telegram.org",
        country="AE",
        kind="messaging",
        domains=["t.me"],
    )
    ensure_platform(
        session,
        "youtube",
        channel="email",
        api_endpoint="https://tns.youtube.com/api/v1/referrals",
        contact="legal-referrals@youtube.com",
        country="IE",
        kind="video",
        domains=["youtube.com"],
    )


def test_operation_end_to_end(
    db_session: Session, session_factory: sessionmaker[Session], tmp_path: Path, settings: Settings
) -> None:
    with running_sim("small") as sim:
        _run(db_session, session_factory, tmp_path, sim, settings)


def _by_identity(truth: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Ground-truth items keyed by our URL identity (how we tell two URLs are one item)."""
    out = {}
    for url, t in truth.items():
        try:
            out[canonicalize(url).identity] = t
        except InvalidURL:  # the testbed's .onion hosts are not real v3 addresses
            continue
    return out


def _at(iso: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")) if iso else None


def _named(d: dict[str, Any]) -> dict[str, Any]:
    """A summary under the figures' names (``operations.figures``)."""
    d = dict(d)
    d.pop("not_removed")
    return {"referred": d.pop("referred"), "confirmed_removed": d.pop("removed"), **d}


def _truth_of(it: Item, truth: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    return truth.get(it.identity)


def _run(
    db: Session, factory: sessionmaker[Session], tmp: Path, sim: SimHandle, settings: Settings
) -> None:
    clock = FrozenClock(sim.now())
    _platforms(db)
    sim.call(lambda: export_reports(sim.world, tmp))
    files = sorted(
        p for p in tmp.iterdir() if p.name.endswith(("-report.csv", "-report.jsonl", "-report.txt"))
    )
    assert len(files) == 3
    teams = []
    for f in files:
        agency = make_agency(db, name=f.name.split("-report")[0].upper(), country="FR")
        teams.append(
            (
                agency,
                make_actor(db, agency, role="analyst"),
                make_actor(db, agency, role="supervisor"),
                f,
            )
        )
    _lead_agency, lead_analyst, lead_sup, _ = teams[0]
    op = service.create_operation(
        db,
        lead_sup.principal,
        name="Synthetic action day (small.yaml)",
        starts_at=clock.now(),
        ends_at=clock.now() + dt.timedelta(days=4),
        participants=[(t[0].id, "participant") for t in teams[1:]],
        clock=clock,
    )
    service.set_status(db, lead_sup.principal, op.id, "running", clock=clock)

    # 1. import: each agency uploads its file into the operation
    refused: set[tuple[str, int]] = set()
    intake_folded: list[int] = []  # what each import's intake page says
    for _agency, analyst, _sup, f in teams:
        with f.open("rb") as fh:
            job, res = service.import_into(
                db, analyst.principal, op.id, fh, filename=f.name, clock=clock
            )
        assert job.rows_ok > 0 and res.added > 0
        intake_folded.append(job.duplicates_folded)
        # Lines intake refuses (with the reason, by line) never reach the operation. On
        # small.yaml these are the testbed's .onion addresses (they fail the v3 checksum) and
        # kind labels intake does not know ("video", "paste", "website"): see the report.
        refused |= {(f.name, int(e["line"])) for e in job.errors}
    db.flush()

    # 2. fold: the operation holds each reported thing once, every agency credited
    truth = _by_identity({t["url"]: t for t in sim.ground_truth() if t["type"] == "item"})
    lines = [
        json.loads(x) for x in (tmp / "ground-truth-reports.jsonl").read_text().splitlines() if x
    ]
    per_agency_truth: dict[str, set[str]] = {}
    for ln in lines:
        if ln["item_id"] is not None and (ln["file"], ln["line"]) not in refused:
            per_agency_truth.setdefault(ln["agency"].upper(), set()).add(ln["item_id"])
    members = db.execute(
        select(OperationItem.item_id, OperationItem.agency_id).where(
            OperationItem.operation_id == op.id
        )
    ).all()
    ours = {i.id: i for i in db.scalars(select(Item).where(Item.id.in_({m[0] for m in members})))}
    junk = {i for i, it in ours.items() if _truth_of(it, truth) is None}
    sim_id = {i: _truth_of(it, truth)["id"] for i, it in ours.items() if i not in junk}  # type: ignore[index]
    all_truth_ids = set().union(*per_agency_truth.values())
    assert set(sim_id.values()) == all_truth_ids  # every reported item is in, exactly once
    assert len(sim_id) == len(all_truth_ids)
    names = {t[0].id: t[0].name for t in teams}
    credited: dict[str, set[str]] = {}
    for item_id, agency_id in members:
        if item_id in sim_id:
            credited.setdefault(names[agency_id], set()).add(sim_id[item_id])
    assert credited == per_agency_truth

    # 3. assess: the analysts confirm what they reported; junk lines are dismissed
    for _agency, analyst, _sup, _f in teams:
        own = {m[0] for m in members if m[1] == analyst.agency.id}
        for item_id in sorted(own):
            it = ours[item_id]
            if item_id in junk:
                if it.status == ItemStatus.NEW.value:
                    items_service.assess(
                        db, analyst.principal, item_id, "not_terrorist_content", clock=clock
                    )
            elif it.status in (ItemStatus.NEW.value, ItemStatus.DISMISSED.value):
                items_service.assess(
                    db, analyst.principal, item_id, "terrorist_content", ["a"], clock=clock
                )

    # 4. the lead refers the whole operation, per platform
    batches = []
    batches += service.refer(
        db, lead_analyst.principal, op.id, kind="tos", platforms=["x", "telegram"], clock=clock
    )
    batches += service.refer(
        db,
        lead_analyst.principal,
        op.id,
        kind="removal_order",
        platforms=["youtube"],
        reasons=["a"],
        justification=JUST,
        emergency=True,
        clock=clock,
    )
    sent = []
    for res in batches:
        if res.included == 0:
            continue
        referrals.submit(db, lead_analyst.principal, res.referral.id, clock=clock)
        if res.referral.kind == "removal_order":
            referrals.approve(db, lead_sup.principal, res.referral.id, clock=clock)
        sent.append(res.referral)
    assert {r.platform for r in sent} == set(REFERRED_PLATFORMS)
    db.commit()
    with sim.sync_client() as http:
        channels = ChannelRegistry(
            [
                ApiChannel(http, lambda s: signing_key("test-secret", s), clock=clock),
                EmailChannel(
                    f"smtp://127.0.0.1:{sim.smtp_port}?from=iru@agency.example", attach_pdf=False
                ),
            ]
        )
        # The delivery job: each item checked just before sending; what the testbed already
        # removed (its own moderation, a suspended account) or geo-blocks is not sent.
        sent_at = clock.now()
        check = precheck.engine_check(
            lambda: sim.client(per_host_limit=16), sim_registry(sim), clock=clock, config=ENGINE
        )
        quiet = settings.model_copy(update={"capture_before_referral": False})
        rep = delivery.deliver_due(factory, quiet, channels, clock=clock, limit=1000, check=check)
    db.expire_all()
    closed_unsent = [r for r in sent if r.sent_at is None]
    assert rep.delivered == len(sent) - len(closed_unsent)

    # 5. the platforms act while time runs; we verify on schedule
    registry = sim_registry(sim)

    stated = 0

    def verify_round() -> None:
        nonlocal stated
        verify_due(
            factory,
            lambda: sim.client(per_host_limit=16),
            registry=registry,
            clock=clock,
            engine_config=ENGINE,
        )
        with sim.sync_client() as http, session_scope(factory) as s:
            polled = status.poll(s, http, clock=clock)
        assert polled.failed == 0
        stated += polled.stated

    verify_round()
    prelim = None
    for n, step in enumerate([15 * 60] * 24 + [3600] * 42):
        sim.advance(step)
        clock.set(sim.now())
        verify_round()
        if n == 8:  # two hours in: the preliminary figures
            db.expire_all()
            prelim = report.build(db, lead_sup.principal, op.id, clock=clock)
    for _ in range(2):
        clock.advance(dt.timedelta(minutes=10))
        db.query(CheckSchedule).update({CheckSchedule.next_check_at: clock.now()})
        db.commit()
        verify_round()
    service.set_status(db, lead_sup.principal, op.id, "closed", clock=clock)
    db.expire_all()

    # 6. the final report, against the ground truth
    assert prelim is not None and prelim.kind == "preliminary"
    assert "Preliminary results as of" in report.render_html(prelim)
    other = teams[1][1]  # a participant reads the same report
    final = report.build(db, other.principal, op.id, final=True, clock=clock)
    f = final.to_json()["figures"]
    tables = final.to_json()["tables"]
    truth = _by_identity({t["url"]: t for t in sim.ground_truth() if t["type"] == "item"})
    included = db.scalars(
        select(ReferralItem).where(
            ReferralItem.state == ItemState.INCLUDED.value,
            ReferralItem.referral_id.in_([r.id for r in sent]),
        )
    ).all()
    kept_out = db.scalars(
        select(ReferralItem).where(
            ReferralItem.state == ItemState.ALREADY_GONE.value,
            ReferralItem.referral_id.in_([r.id for r in sent]),
        )
    ).all()
    referred_truth = {ri.item_id: _truth_of(ours[ri.item_id], truth) for ri in included}
    # Gone when the batches went out, by the ground truth: removed by then (the platform's
    # own moderation, a suspended account) or geo-blocked (withheld). Exactly those were
    # kept out; none of them counts as removed by a referral.
    gone_truth = set()
    for ri in [*included, *kept_out]:
        t = _truth_of(ours[ri.item_id], truth)
        gone_at = _at(t["removed_at"]) if t else None
        if t and (t["access"] == "geo_blocked" or (gone_at is not None and gone_at <= sent_at)):
            gone_truth.add(ri.item_id)
    assert {ri.item_id for ri in kept_out} == gone_truth
    assert f["removed_before_referral"] == len(gone_truth) > 0
    received = sim.call(
        lambda: Counter(
            r.platform for r in sim.world.referrals for o in r.outcomes if o.item_id is not None
        )
    )

    want_items = len(sim_id) + len(junk)
    assert f["items"] == want_items
    assert f["agencies"] == 3
    # one meaning: the intake pages' duplicates folded, summed, are the operation's (all)
    assert f["duplicates_folded"] == sum(intake_folded) > len(members) - want_items
    several = Counter(i for i, _ in members)
    assert f["reported_by_several"] == sum(1 for n in several.values() if n > 1) > 0
    assert f["referred"] == len(included) == sum(received.values())
    removed_truth = [t for t in referred_truth.values() if t and t["removed_at"] is not None]
    assert f["confirmed_removed"] == len(removed_truth) > 0
    assert f["claimed_removed"] == len(removed_truth)  # every platform states its removals
    assert f["removed_share"] == pytest.approx(len(removed_truth) / len(included))
    assert sum(r["removed"] for r in tables["removals_over_time"]) == f["confirmed_removed"]
    assert f["reappeared"] == 0  # the adversary came back under new handles, never the same URL
    by_platform = {r["platform"]: r for r in tables["time_to_removal_by_platform"]}
    for p in REFERRED_PLATFORMS:
        want_ref = sum(1 for i, t in referred_truth.items() if ours[i].platform == p)
        want_rm = sum(
            1
            for i, t in referred_truth.items()
            if ours[i].platform == p and t and t["removed_at"] is not None
        )
        row = by_platform[p]
        assert (row["referred"], row["confirmed_removed"]) == (want_ref, want_rm), p
        assert row["claimed_removed"] == want_rm, p
        assert want_ref == received[p]
    kinds = Counter(
        (ours[i].platform, canonicalize(t["url"]).kind.value)
        for i, t in ((i, _truth_of(ours[i], truth)) for i in sim_id)
    )
    got = Counter(
        {(r["platform"], r["kind"]): r["items"] for r in tables["items_by_platform_kind"]}
    )
    junk_kinds = Counter((ours[i].platform, ours[i].kind) for i in junk)
    assert got == kinds + junk_kinds
    contrib = {r["agency"]: r["items"] for r in tables["contributions"]}
    junk_by_agency = Counter(names[a] for i, a in members if i in junk)
    assert contrib == {a: len(v) + junk_by_agency[a] for a, v in per_agency_truth.items()}
    # Times: every removal the platform made is dated by its own statement, which the checks
    # confirmed, so each time to removal is the truth's, and so is every figure built on them.
    as_of = clock.now().timestamp()
    assert stated == f["confirmed_removed"] == f["removals_dated_by_platform"]
    scheds = {
        s.item_id: s
        for s in db.scalars(
            select(CheckSchedule).where(CheckSchedule.item_id.in_(list(referred_truth)))
        )
    }
    received_at = {r.id: r.received_at for r in sent}
    receipt = {ri.item_id: received_at[ri.referral_id] for ri in included}
    obs: dict[str, list[tuple[float, bool]]] = {}
    for item_id, t in referred_truth.items():
        referred_at = ours[item_id].first_referred_at
        assert referred_at is not None
        true_at = _at(t["removed_at"]) if t else None
        # nothing referred was gone before it was sent (those were kept out, above)
        assert true_at is None or true_at > sent_at, item_id
        assert true_at is None or true_at >= receipt[item_id], item_id
        s = scheds[item_id]
        assert s.removed_at == true_at, item_id
        if true_at is not None:
            assert s.removed_observed_at is not None and true_at <= s.removed_observed_at
        gone = true_at is not None and true_at.timestamp() <= as_of
        end = true_at.timestamp() if gone and true_at else as_of
        o = (max(end - referred_at.timestamp(), 0.0), gone)
        obs.setdefault("", []).append(o)
        obs.setdefault(ours[item_id].platform, []).append(o)
    want = {p: _named(summarize(v).as_dict()) for p, v in obs.items()}
    keys = (
        "referred",
        "confirmed_removed",
        "median_observed_seconds",
        "p90_observed_seconds",
        "km_median_seconds",
        "share_within_1h",
        "share_within_24h",
        "share_within_7d",
    )
    for k in keys:
        assert f[k] == want[""][k], k
    assert want[""]["median_observed_seconds"] is not None
    assert want[""]["share_within_1h"] is not None and want[""]["share_within_24h"] is not None
    for p in REFERRED_PLATFORMS:
        row = by_platform[p]
        assert {k: row[k] for k in keys if k in row} == {k: want[p][k] for k in keys if k in row}
    assert [{k: v for k, v in r.items() if k != "claimed_removed"}
            for r in tables["time_to_removal_by_platform"]] == [
        {"platform": q, **want[q]} for q in sorted(want) if q
    ]  # fmt: skip
    # the page says what the JSON says
    html = report.render_html(final)
    for fig in final.figures:
        assert f"<dd>{fig.display}</dd>" in html
    assert len(tables["survival_curve"]) > 0
