"""Every figure of the metrics and the reports, recomputed from the raw rows by brute force.

The recomputation below shares no code with ``operations.metrics``/``stats``: it reads
the rows with plain SELECTs and counts in Python, the way a statistician with the
CSV export would.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from fractions import Fraction
from typing import Any

import pytest
from markupsafe import escape as html_escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.items.models import Item
from takedown.kit.clock import FrozenClock
from takedown.operations import metrics, report
from takedown.operations.models import OperationItem
from takedown.verification.models import CheckSchedule
from tests.operations.factories import seed_operation

H = 3600.0


def raw(session: Session, op_id: int) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    it, cs, oi = Item.__table__, CheckSchedule.__table__, OperationItem.__table__
    members = [
        (r[0], r[1])
        for r in session.execute(
            select(oi.c.item_id, oi.c.agency_id).where(oi.c.operation_id == op_id)
        )
    ]
    ids = sorted({m[0] for m in members})
    rows = [
        dict(r._mapping)
        for r in session.execute(
            select(
                it.c.id,
                it.c.platform,
                it.c.kind,
                it.c.status,
                it.c.first_referred_at,
                cs.c.removed_at,
                cs.c.platform_removed_at,
                cs.c.reappeared_at,
            )
            .select_from(it.outerjoin(cs, cs.c.item_id == it.c.id))
            .where(it.c.id.in_(ids))
        )
    ]
    return rows, members


def brute_s(times: list[tuple[float, bool]], t: float) -> Fraction:
    s = Fraction(1)
    for u in sorted({x for x, e in times if e}):
        if u > t:
            break
        n = sum(1 for x, _ in times if x >= u)
        d = sum(1 for x, e in times if x == u and e)
        s *= Fraction(n - d, n)
    return s


def quantile(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    return min(x for x in xs if sum(1 for y in xs if y <= x) >= q * len(xs) - 1e-9)


def expected_summary(times: list[tuple[float, bool]]) -> dict[str, Any]:
    removed = [x for x, e in times if e]
    out: dict[str, Any] = {
        "referred": len(times),
        "removed": len(removed),
        "not_removed": len(times) - len(removed),
        "removed_share": len(removed) / len(times) if times else None,
        "median_observed_seconds": quantile(removed, 0.5),
        "p90_observed_seconds": quantile(removed, 0.9),
    }
    follow = max((x for x, _ in times), default=None)
    for label, h in (("1h", H), ("24h", 24 * H), ("7d", 7 * 24 * H)):
        if follow is None:
            out[f"share_within_{label}"] = None
        elif follow >= h or brute_s(times, follow) == 0:
            out[f"share_within_{label}"] = float(1 - brute_s(times, h))
        else:
            out[f"share_within_{label}"] = None
    out["km_median_seconds"] = next(
        (u for u in sorted(set(removed)) if brute_s(times, u) <= Fraction(1, 2)), None
    )
    return out


def expected(session: Session, op_id: int, as_of: dt.datetime) -> dict[str, Any]:
    rows, members = raw(session, op_id)
    now = as_of.timestamp()
    times: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    hours: Counter[int] = Counter()
    reappeared = dated = 0
    for r in rows:
        if r["first_referred_at"] is None:
            continue
        ref = r["first_referred_at"].timestamp()
        rm = r["removed_at"].timestamp() if r["removed_at"] else None
        if rm is not None and rm <= now:
            t = (max(0.0, rm - ref), True)
            hours[math.floor(rm / H)] += 1
            dated += r["platform_removed_at"] == r["removed_at"]
        else:
            t = (max(0.0, now - ref), False)
        times[r["platform"]].append(t)
        times[""].append(t)
        if r["reappeared_at"] is not None and r["reappeared_at"].timestamp() <= now:
            reappeared += 1
    agencies: dict[int, set[int]] = defaultdict(set)
    for item_id, agency in members:
        agencies[item_id].add(agency)
    per_agency: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for item_id, agency in members:
        per_agency[agency][0] += 1
        per_agency[agency][1] += len(agencies[item_id]) == 1
    cum, total = [], 0
    for h in sorted(hours):
        total += hours[h]
        cum.append((h, hours[h], total))
    return {
        "items": len({m[0] for m in members}),
        "contributions": len(members),
        "by_kind": Counter(r["kind"] for r in rows),
        "by_platform": Counter(r["platform"] for r in rows),
        "by_status": Counter(r["status"] for r in rows),
        "by_platform_kind": Counter((r["platform"], r["kind"]) for r in rows),
        "summaries": {p: expected_summary(v) for p, v in times.items()},
        "reappeared": reappeared,
        "dated_by_platform": dated,
        "per_agency": {a: tuple(v) for a, v in per_agency.items()},
        "hours": cum,
        "without_referral": sum(
            1
            for r in rows
            if r["first_referred_at"] is None and r["status"] in ("removed", "reappeared")
        ),
    }


def approx_summary(got: dict[str, Any], want: dict[str, Any]) -> None:
    for k, v in want.items():
        if v is None:
            assert got[k] is None, k
        else:
            assert got[k] == pytest.approx(v, abs=1e-6), k


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_equal_brute_force(db_session: Session, seed: int) -> None:
    s = seed_operation(db_session, random.Random(seed), n=70)
    m = metrics.compute(db_session, s.op, s.as_of).data
    e = expected(db_session, s.op.id, s.as_of)
    t = m["totals"]
    assert t["items"] == e["items"] and t["contributions"] == e["contributions"]
    assert t["duplicates_folded"] == e["contributions"] - e["items"]
    assert {r["kind"]: r["items"] for r in m["by_kind"]} == dict(e["by_kind"])
    assert {r["platform"]: r["items"] for r in m["by_platform"]} == dict(e["by_platform"])
    assert {r["status"]: r["items"] for r in m["by_status"]} == dict(e["by_status"])
    assert {(r["platform"], r["kind"]): r["items"] for r in m["by_platform_kind"]} == dict(
        e["by_platform_kind"]
    )
    approx_summary(m["time_to_removal"]["all"], e["summaries"][""])
    got_pf = {r["platform"]: r for r in m["time_to_removal"]["by_platform"]}
    assert set(got_pf) == set(e["summaries"]) - {""}
    for p, want in e["summaries"].items():
        if p:
            approx_summary(got_pf[p], want)
    assert t["referred"] == e["summaries"][""]["referred"]
    assert t["removed"] == e["summaries"][""]["removed"]
    assert t["reappeared"] == e["reappeared"]
    assert t["removals_dated_by_platform"] == e["dated_by_platform"]
    assert t["removed_without_referral"] == e["without_referral"]
    assert {c["agency_id"]: (c["items"], c["only_this_agency"]) for c in m["contributions"]} == e[
        "per_agency"
    ]
    assert [
        (
            int(dt.datetime.fromisoformat(r["hour"].replace("Z", "+00:00")).timestamp() // H),
            r["removed"],
            r["cumulative"],
        )
        for r in m["removals_over_time"]
    ] == e["hours"]


def test_report_figures_equal_brute_force_and_the_page(db_session: Session) -> None:
    s = seed_operation(db_session, random.Random(11), n=50)
    rep = report.build(
        db_session, s.lead.principal, s.op.id, final=True, clock=FrozenClock(s.as_of)
    )
    e = expected(db_session, s.op.id, s.as_of)
    f = rep.to_json()["figures"]
    al = e["summaries"][""]
    assert f["items"] == e["items"]
    assert f["referred"] == al["referred"] and f["removed"] == al["removed"]
    assert f["reappeared"] == e["reappeared"]
    for k in (
        "share_within_1h",
        "share_within_24h",
        "share_within_7d",
        "km_median_seconds",
        "median_observed_seconds",
        "p90_observed_seconds",
        "removed_share",
    ):
        assert (f[k] is None) == (al[k] is None), k
        if al[k] is not None:
            assert f[k] == pytest.approx(al[k], abs=1e-6), k
    # The page prints what the JSON says, figure by figure.
    html = report.render_html(rep)
    for fig in rep.figures:
        assert f'data-figure="{fig.key}"' in html
        block = html.split(f'data-figure="{fig.key}"', 1)[1].split("</div>", 1)[0]
        assert f"<dd>{fig.display}</dd>" in block, fig.key
    # Every figure and table has its one-line definition in the appendix.
    for fig in rep.figures:
        assert f'id="def-{fig.key}"' in html and html_escape(fig.definition) in html
    for tab in rep.tables:
        assert html_escape(tab.definition) in html
    # The survival table is the Kaplan–Meier curve of the same rows.
    times = [(x, ev) for x, ev in _times(db_session, s.op.id, s.as_of)]
    for row in rep.table("survival_curve").rows:
        assert row["still_online_share"] == pytest.approx(float(brute_s(times, row["seconds"])))


def _times(session: Session, op_id: int, as_of: dt.datetime) -> list[tuple[float, bool]]:
    rows, _ = raw(session, op_id)
    out = []
    for r in rows:
        if r["first_referred_at"] is None:
            continue
        ref, rm = r["first_referred_at"].timestamp(), r["removed_at"]
        if rm is not None and rm <= as_of:
            out.append((max(0.0, rm.timestamp() - ref), True))
        else:
            out.append((max(0.0, as_of.timestamp() - ref), False))
    return out


def test_exports_carry_every_row(db_session: Session) -> None:
    s = seed_operation(db_session, random.Random(5), n=30)
    rep = report.build(
        db_session, s.lead.principal, s.op.id, final=True, clock=FrozenClock(s.as_of)
    )
    for tab in rep.tables:
        lines = report.table_csv(tab).strip().splitlines()
        assert len(lines) == len(tab.rows) + 1, tab.key
        assert lines[0].split(",")[: len(tab.columns)] == [c[0] for c in tab.columns]
    fig_lines = report.figures_csv(rep).strip().splitlines()
    assert len(fig_lines) == len(rep.figures) + 1


def test_empty_operation(db_session: Session) -> None:
    s = seed_operation(db_session, random.Random(1), n=0)
    m = metrics.compute(db_session, s.op, s.as_of).data
    assert m["totals"]["items"] == 0 and m["time_to_removal"]["all"]["referred"] == 0
    assert m["time_to_removal"]["all"]["share_within_1h"] is None
    rep = report.build(
        db_session, s.lead.principal, s.op.id, final=True, clock=FrozenClock(s.as_of)
    )
    html = report.render_html(rep)
    assert "not yet known" in html and "no data yet" in html
