"""``takedown demo``: the simulated action day, checked from the rows it leaves behind.

The runner's own summary is not trusted: every headline figure of the final report is
recounted here from the raw rows (operation members, referral items, check schedules)
and compared with the testbed's ground truth, as tests/operations/test_end_to_end.py
does. The day is shortened (the platforms of small.yaml act within hours) so the
slow tests stay well under a minute each.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from takedown.accounts import service as accounts
from takedown.accounts.models import User
from takedown.config import Settings, get_settings
from takedown.db import make_engine
from takedown.demo.runner import DemoConfig, run_demo, schedule
from takedown.demo.storage import DB_NAME, MARKER, prepare
from takedown.items.models import ImportJob, Item, Sighting
from takedown.kit.errors import Conflict, InvalidInput
from takedown.operations.models import Operation, OperationItem
from takedown.referrals.models import Delivery, ItemState, Referral, ReferralItem
from takedown.verification.models import CheckSchedule
from tests.conftest import IN_CI, own_pg_database

REFERRED = {"x": "tos", "telegram": "tos", "youtube": "removal_order"}


def _nearest_rank(values: list[float], q: float) -> float | None:
    xs = sorted(values)
    return xs[max(1, math.ceil(q * len(xs) - 1e-12)) - 1] if xs else None


def _recount(session: Session, op_id: int, as_of: float) -> dict[str, Any]:
    """The final report's headline figures, counted again from the rows."""
    members = session.execute(
        select(OperationItem.item_id, OperationItem.agency_id).where(
            OperationItem.operation_id == op_id
        )
    ).all()
    ids = {m[0] for m in members}
    rows = session.execute(
        select(Item.platform, Item.first_referred_at, CheckSchedule.removed_at)
        .outerjoin(CheckSchedule, CheckSchedule.item_id == Item.id)
        .where(Item.id.in_(ids), Item.first_referred_at.is_not(None))
    ).all()
    referred: Counter[str] = Counter()
    removed: dict[str, list[float]] = {}
    for platform, referred_at, removed_at in rows:
        referred[platform] += 1
        if removed_at is not None and removed_at.timestamp() <= as_of:
            d = max(removed_at.timestamp() - referred_at.timestamp(), 0.0)
            removed.setdefault(platform, []).append(d)
    every = [d for ds in removed.values() for d in ds]
    credited = set(members)
    reports = sum(
        1
        for s in session.execute(
            select(Sighting.item_id, Sighting.agency_id).where(Sighting.item_id.in_(ids))
        ).all()
        if (s[0], s[1]) in credited
    )
    batch_rows = session.execute(
        select(Item.id, Item.platform, Item.first_referred_at, ReferralItem.state)
        .join(ReferralItem, ReferralItem.item_id == Item.id)
        .where(Item.id.in_(ids))
    ).all()
    sent_or_kept = (ItemState.INCLUDED.value, ItemState.ALREADY_GONE.value)
    gone_before = Counter(
        p
        for _, p in {
            (i, p) for i, p, ref, st in batch_rows if st == ItemState.ALREADY_GONE.value and not ref
        }
    )
    batched = Counter(p for _, p in {(i, p) for i, p, _, st in batch_rows if st in sent_or_kept})
    return {
        "items": len(ids),
        "duplicates_folded": reports - len(ids),
        "agencies": len({m[1] for m in members}),
        "referred": sum(referred.values()),
        "removed": len(every),
        "removed_before_referral": sum(gone_before.values()),
        "gone_before": gone_before,
        "batched": batched,
        "removed_share": len(every) / sum(referred.values()),
        "median_observed_seconds": _nearest_rank(every, 0.5),
        "by_platform": {
            p: (n, len(removed.get(p, [])), _nearest_rank(removed.get(p, []), 0.5))
            for p, n in referred.items()
        },
    }


def _check_day(session: Session, result: Any) -> None:
    op = session.get(Operation, result.operation_id)
    assert op is not None and op.status == "closed" and op.closed_at is not None
    # imported: every agency's file, some lines refused (the files are messy on purpose)
    jobs = session.scalars(select(ImportJob).order_by(ImportJob.id)).all()
    assert len(jobs) == 3 and all(j.rows_ok > 0 for j in jobs)
    assert sum(j.rows_ok for j in jobs) == sum(i.rows_ok for i in result.imports)
    # referred: one acknowledged batch per platform, the removal order approved by another user
    refs = session.scalars(select(Referral).order_by(Referral.id)).all()
    assert {r.platform: r.kind for r in refs} == REFERRED
    for r in refs:
        assert r.status != "draft" and r.received_at is not None and r.ack_reference
        if r.kind == "removal_order":
            assert r.approver_id is not None and r.approver_id != r.author_id
    deliveries = session.scalars(select(Delivery).where(Delivery.kind == "order")).all()
    assert {d.status for d in deliveries} <= {"acknowledged", "not_sent"} and len(deliveries) == 3
    # the removal order's Art. 4(1) copy reached the testbed's host-state authority (IE)
    [copy] = session.scalars(select(Delivery).where(Delivery.kind == "host_copy")).all()
    assert copy.status == "delivered" and copy.recipient == "tco-ie@authority.example"
    included = session.scalars(
        select(ReferralItem).where(ReferralItem.state == ItemState.INCLUDED.value)
    ).all()
    # the final report says what the rows say
    f = result.figures
    want = _recount(session, op.id, result.simulated_to.timestamp())
    assert f["items"] == want["items"] > 0
    assert f["duplicates_folded"] == want["duplicates_folded"] > 0
    # ... and what the intake pages said, file by file
    assert f["duplicates_folded"] == sum(j.duplicates_folded for j in jobs)
    assert f["agencies"] == want["agencies"] == 3
    assert f["referred"] == want["referred"] == len({ri.item_id for ri in included}) > 0
    assert f["confirmed_removed"] == want["removed"] > 0
    assert f["claimed_removed"] == want["removed"]  # the platforms state every removal
    assert f["removed_share"] == pytest.approx(want["removed_share"])
    assert f["median_observed_seconds"] == pytest.approx(want["median_observed_seconds"])
    # what the platforms removed or geo-blocked by themselves was not sent, and is counted
    # as such (small.yaml: X's own moderation and geo-blocks, YouTube's geo-blocks)
    assert f["removed_before_referral"] == want["removed_before_referral"] > 0
    table = {r["platform"]: r for r in result.by_platform}
    assert set(table) == set(REFERRED) == set(want["by_platform"])
    for p, (n, gone, median) in want["by_platform"].items():
        assert (table[p]["referred"], table[p]["confirmed_removed"]) == (n, gone), p
        assert table[p]["claimed_removed"] == gone, p
        assert table[p]["median_observed_seconds"] == pytest.approx(median), p
    # and what the testbed's ground truth says became of every item put in a batch
    assert result.ground_truth == {
        p: {
            "batched": want["batched"][p],
            "removed_before_referral": want["gone_before"][p],
            "referred": n,
            "removed": gone,
        }
        for p, (n, gone, _) in want["by_platform"].items()
    }
    # the report files hold the same figures
    written = json.loads(Path(result.reports["final_json"]).read_text(encoding="utf-8"))
    assert written["report"] == "final" and written["figures"] == f
    assert written["operation"]["status"] == "closed"
    prelim = json.loads(Path(result.reports["preliminary_json"]).read_text(encoding="utf-8"))
    assert prelim["report"] == "preliminary"
    assert "Preliminary results as of" in Path(result.reports["preliminary_html"]).read_text()


# --- fast: the schedule and the storage rules ---------------------------------------------


def test_schedule_follows_the_checker_rhythm() -> None:
    assert schedule(48) == (900,) * 24 + (3600,) * 42  # the end-to-end test's day
    assert schedule(1) == (900,) * 4
    assert schedule(6.5) == (900,) * 24 + (1800,)
    assert sum(schedule(24)) == 24 * 3600


def test_a_bad_day_is_refused_before_anything_starts() -> None:
    with pytest.raises(InvalidInput, match="1 to 336 hours"):
        DemoConfig(hours=0.5)
    with pytest.raises(InvalidInput, match="'nope' not found"):
        DemoConfig(scenario="nope")
    assert DemoConfig().span == dt.timedelta(hours=24, minutes=20)


def test_storage_refuses_a_directory_that_is_not_a_demo(tmp_path: Path) -> None:
    keep = tmp_path / "mine.txt"
    keep.write_text("not the demo's")
    with pytest.raises(Conflict, match="not a demo directory"):
        prepare(tmp_path)
    assert keep.read_text() == "not the demo's" and not (tmp_path / MARKER).exists()


def test_storage_resets_only_what_a_demo_wrote(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    first = prepare(d)
    assert first.own_database and first.database_url == f"sqlite:///{d.resolve() / DB_NAME}"
    (d / DB_NAME).write_bytes(b"old")
    (d / "reports").mkdir()
    (d / "reports" / "old.html").write_text("old")
    (d / "notes.txt").write_text("someone's notes")
    with pytest.raises(Conflict, match="--reset"):
        prepare(d, reset=False)
    assert (d / DB_NAME).exists()
    prepare(d, reset=True)
    assert not (d / DB_NAME).exists() and not (d / "reports").exists()
    assert (d / "notes.txt").read_text() == "someone's notes" and (d / MARKER).exists()
    other = prepare(tmp_path / "other", "postgresql+psycopg://u:secret@db/x")
    assert not other.own_database and other.database_url.endswith("@db/x")


# --- slow: whole days ----------------------------------------------------------------------


@pytest.mark.slow
def test_demo_day_on_sqlite(tmp_path: Path) -> None:
    storage = prepare(tmp_path / "demo")
    settings = Settings(data_dir=storage.directory, database_url=storage.database_url)
    result = run_demo(DemoConfig(hours=2, pdf=False), storage, settings)
    assert result.operation_status == "closed" and result.reports.get("final_pdf") is None
    engine = make_engine(storage.database_url)
    try:
        with Session(engine) as session:
            _check_day(session, result)
            assert session.scalar(select(func.count()).select_from(User)) == len(result.logins)
    finally:
        engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with own_pg_database(f"takedown_demo_{worker}", migrate=False) as url:
        yield url  # empty: the demo migrates it


@pytest.mark.slow
@pytest.mark.postgres
def test_demo_day_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    """``--database-url``: the demo migrates an empty database, and refuses one in use."""
    storage = prepare(tmp_path / "demo", pg_url)
    settings = Settings(data_dir=storage.directory, database_url=pg_url)
    result = run_demo(DemoConfig(hours=1, pdf=False), storage, settings)
    assert not (storage.directory / DB_NAME).exists()
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            _check_day(session, result)
    finally:
        engine.dispose()
    with pytest.raises(Conflict, match="already has users"):
        run_demo(DemoConfig(hours=1, pdf=False), prepare(storage.directory, pg_url), settings)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in [k for k in os.environ if k.startswith("TAKEDOWN_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield tmp_path / "var"
    get_settings.cache_clear()


@pytest.mark.slow
def test_cli_prints_a_json_summary(data_dir: Path) -> None:
    from takedown.cli import app

    pdf = Path("/usr/bin/chromium").exists()
    if not pdf and IN_CI:
        pytest.fail("chromium is required under CI=true (the final report's PDF)")
    args = ["demo", "--no-serve", "--format", "json", "--hours", "1"]
    r = CliRunner().invoke(app, [*args, "--pdf" if pdf else "--no-pdf"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)  # nothing but the JSON on stdout
    demo = data_dir / "demo"  # the default: a directory of its own under TAKEDOWN_DATA_DIR
    assert summary["directory"] == str(demo.resolve())
    assert summary["database"] == f"sqlite:///{demo.resolve() / DB_NAME}"
    assert summary["operation"]["status"] == "closed"
    assert summary["operation"]["dashboard"] == f"/operations/{summary['operation']['id']}/live"
    assert summary["items"] > 0 and summary["duplicates_folded"] > 0
    assert summary["referred"] == sum(p["referred"] for p in summary["platforms"]) > 0
    truth = summary["ground_truth"]
    assert summary["referred"] == truth["referred"]
    for key in ("removed_before_referral", "claimed_removed", "confirmed_removed"):
        assert summary[key] == sum(p[key] for p in summary["platforms"]), key
    assert summary["removed_before_referral"] == truth["removed_before_referral"] > 0
    assert summary["claimed_removed"] == summary["confirmed_removed"] == truth["removed"]
    for p in summary["platforms"]:
        t = truth["by_platform"][p["platform"]]
        assert (p["removed_before_referral"], p["referred"], p["confirmed_removed"]) == (
            t["removed_before_referral"], t["referred"], t["removed"]
        ), p  # fmt: skip
    assert summary["figures"]["removed_before_referral"] == truth["removed_before_referral"]
    assert {p["platform"] for p in summary["platforms"]} == set(REFERRED)
    assert summary["rows_imported"] == sum(i["rows_ok"] for i in summary["imports"])
    want = {"preliminary_html", "preliminary_json", "final_html", "final_json"}
    want |= {"final_pdf"} if pdf else set()
    assert set(summary["reports"]) == want
    for key in want:
        path = Path(summary["reports"][key])
        assert path.is_file() and path.stat().st_size > 0 and path.is_relative_to(demo.resolve())
    if pdf:
        assert Path(summary["reports"]["final_pdf"]).read_bytes().startswith(b"%PDF-")
    # the logins work as printed, without a forced password change
    logins = summary["logins"]
    assert {u["role"] for u in logins} == {"admin", "analyst", "supervisor"} and len(logins) == 7
    assert len({u["password"] for u in logins}) == 7
    engine = make_engine(summary["database"])
    try:
        with Session(engine) as session:
            u = logins[1]
            res = accounts.login(
                session, email=u["email"], password=u["password"], totp_code=None,
                client_ip="127.0.0.1", max_attempts=5, window_seconds=300, max_age_seconds=60,
            )  # fmt: skip
            assert not res.principal.must_change_password
            session.rollback()
    finally:
        engine.dispose()
    # a second run without --reset refuses, with one clear line
    r = CliRunner().invoke(app, [*args, "--no-reset"])
    assert r.exit_code == 1 and "--reset" in r.stderr
