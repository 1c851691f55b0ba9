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

from takedown.items.models import Hold, Item, Sighting
from takedown.kit.clock import FrozenClock
from takedown.operations import metrics, report
from takedown.operations.models import OperationItem
from takedown.referrals.models import ReferralItem
from takedown.verification.models import CheckSchedule
from tests.factories import make_actor, make_agency
from tests.operations.factories import T0, make_operation, raw_item, seed_operation

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


def side_rows(session: Session, ids: list[int]) -> dict[str, Any]:
    """Sightings, the batches' item rows and the holds of these items, as plain tuples."""
    sg, ri, hd = Sighting.__table__, ReferralItem.__table__, Hold.__table__
    return {
        "sightings": [
            (r[0], r[1]) for r in session.execute(
                select(sg.c.item_id, sg.c.agency_id).where(sg.c.item_id.in_(ids))
            )
        ],
        "referral_items": [
            dict(r._mapping) for r in session.execute(
                select(ri.c.item_id, ri.c.state, ri.c.response, ri.c.responded_at).where(
                    ri.c.item_id.in_(ids)
                )
            )
        ],
        "held": {
            r[0] for r in session.execute(
                select(hd.c.item_id).where(hd.c.item_id.in_(ids), hd.c.released_at.is_(None))
            )
        },
    }  # fmt: skip


def state_of(r: dict[str, Any], *, gone_before: bool, claimed: bool, now: float) -> str:
    """The item states of the report's definitions, restated by hand."""
    if r["first_referred_at"] is None:
        if gone_before or r["status"] in ("removed", "reappeared"):
            return "removed_before_referral"
        return {"new": "not_assessed", "dismissed": "dismissed"}.get(r["status"], "not_referred")
    rm, ra = r["removed_at"], r["reappeared_at"]
    if rm is not None and rm.timestamp() <= now:
        return "reappeared" if ra is not None and ra.timestamp() <= now else "confirmed_removed"
    if claimed:
        return "claimed_removed"
    return {"restricted": "restricted", "still_online": "still_online"}.get(
        r["status"], "awaiting_check"
    )


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
    side = side_rows(session, sorted({m[0] for m in members}))
    now = as_of.timestamp()
    times: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    hours: Counter[int] = Counter()
    dated = 0
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
    credited = set(members)
    reports = sum(1 for s in side["sightings"] if s in credited)
    gone_before = {r["item_id"] for r in side["referral_items"] if r["state"] == "already_gone"}
    annex_ii = {
        r["item_id"]
        for r in side["referral_items"]
        if r["state"] == "included" and r["response"] == "removed"
        and r["responded_at"] is not None and r["responded_at"].timestamp() <= now
    }  # fmt: skip
    claimed = {
        r["id"]
        for r in rows
        if r["first_referred_at"] is not None
        and (
            r["id"] in annex_ii
            or (
                r["platform_removed_at"] is not None and r["platform_removed_at"].timestamp() <= now
            )
        )
    }
    state = {
        r["id"]: state_of(
            r, gone_before=r["id"] in gone_before, claimed=r["id"] in claimed, now=now
        )
        for r in rows
    }
    platform_of = {r["id"]: r["platform"] for r in rows}
    items = len({m[0] for m in members})
    s_all = expected_summary(times[""])
    figures = {
        "items": items,
        "reports": reports,
        "duplicates_folded": reports - items,
        "reported_by_several": sum(1 for a in agencies.values() if len(a) > 1),
        "agencies": len({m[1] for m in members}),
        "platforms": len({r["platform"] for r in rows}),
        "referred": s_all["referred"],
        "removed_before_referral": sum(1 for v in state.values() if v == "removed_before_referral"),
        "claimed_removed": len(claimed),
        "confirmed_removed": s_all["removed"],
        "reappeared": sum(
            1 for r in rows
            if r["first_referred_at"] is not None and r["reappeared_at"] is not None
            and r["reappeared_at"].timestamp() <= now
        ),
        "removals_dated_by_platform": dated,
        "held": len(side["held"]),
        **{k: s_all[k] for k in (
            "removed_share", "share_within_1h", "share_within_24h", "share_within_7d",
            "km_median_seconds", "median_observed_seconds", "p90_observed_seconds",
        )},
    }  # fmt: skip
    return {
        "figures": figures,
        "by_kind": Counter(r["kind"] for r in rows),
        "by_platform": Counter(r["platform"] for r in rows),
        "by_state": Counter(state.values()),
        "by_platform_state": Counter((platform_of[i], v) for i, v in state.items()),
        "by_platform_kind": Counter((r["platform"], r["kind"]) for r in rows),
        "claimed_by_platform": Counter(platform_of[i] for i in claimed),
        "summaries": {p: expected_summary(v) for p, v in times.items()},
        "per_agency": {a: tuple(v) for a, v in per_agency.items()},
        "hours": cum,
    }


def approx_summary(got: dict[str, Any], want: dict[str, Any]) -> None:
    for k, v in want.items():
        if v is None:
            assert got[k] is None, k
        else:
            assert got[k] == pytest.approx(v, abs=1e-6), k


def approx_figures(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(got) == set(want)
    for k, v in want.items():
        if v is None or isinstance(v, int):
            assert got[k] == v, k
        else:
            assert got[k] == pytest.approx(v, abs=1e-6), k


def ttr_row(summary: dict[str, Any], claimed: int) -> dict[str, Any]:
    """A time-to-removal row under the figures' names."""
    want = {k: v for k, v in summary.items() if k not in ("removed", "not_removed")}
    return {**want, "confirmed_removed": summary["removed"], "claimed_removed": claimed}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_metrics_equal_brute_force(db_session: Session, seed: int) -> None:
    s = seed_operation(db_session, random.Random(seed), n=70)
    m = metrics.compute(db_session, s.op, s.as_of).data
    e = expected(db_session, s.op.id, s.as_of)
    approx_figures(m["figures"], e["figures"])
    # every kind of fact is there to be counted (the seed is varied enough)
    f = e["figures"]
    assert f["duplicates_folded"] > f["reported_by_several"] > 0
    assert f["claimed_removed"] > 0 and f["removed_before_referral"] > 0 and f["held"] > 0
    assert {"claimed_removed", "confirmed_removed", "reappeared", "dismissed"} <= set(e["by_state"])
    assert {r["kind"]: r["items"] for r in m["by_kind"]} == dict(e["by_kind"])
    assert {r["platform"]: r["items"] for r in m["by_platform"]} == dict(e["by_platform"])
    assert {r["state"]: r["items"] for r in m["by_state"]} == dict(e["by_state"])
    assert {(r["platform"], r["state"]): r["items"] for r in m["by_platform_state"]} == dict(
        e["by_platform_state"]
    )
    assert {(r["platform"], r["kind"]): r["items"] for r in m["by_platform_kind"]} == dict(
        e["by_platform_kind"]
    )
    # one meaning per name: the states add up to the figures that share their words
    st = e["by_state"]
    assert f["confirmed_removed"] == st["confirmed_removed"] + st["reappeared"]
    assert f["reappeared"] == st["reappeared"]
    assert f["removed_before_referral"] == st["removed_before_referral"]
    assert sum(st.values()) == f["items"]
    approx_summary(m["time_to_removal"]["all"], ttr_row(e["summaries"][""], f["claimed_removed"]))
    got_pf = {r["platform"]: r for r in m["time_to_removal"]["by_platform"]}
    assert set(got_pf) == set(e["summaries"]) - {""}
    for p, want in e["summaries"].items():
        if p:
            approx_summary(got_pf[p], ttr_row(want, e["claimed_by_platform"][p]))
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
    approx_figures(rep.to_json()["figures"], e["figures"])
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
    assert m["figures"]["items"] == 0 and m["time_to_removal"]["all"]["referred"] == 0
    assert m["time_to_removal"]["all"]["share_within_1h"] is None
    rep = report.build(
        db_session, s.lead.principal, s.op.id, final=True, clock=FrozenClock(s.as_of)
    )
    html = report.render_html(rep)
    assert "not yet known" in html and "no data yet" in html


def test_referred_items_without_a_removal_draw_a_survival_curve(db_session: Session) -> None:
    """25 items referred, none removed yet: the curve is flat at 100 %, not "no referred items
    yet" (it said so, because only removal points were drawn)."""
    lead = make_actor(db_session, make_agency(db_session), role="supervisor")
    op = make_operation(db_session, lead)
    for k in range(25):
        it = raw_item(
            db_session, [lead.agency.id], platform="x", kind="post", status="referred",
            referred=T0 + dt.timedelta(minutes=k),
        )  # fmt: skip
        db_session.add(
            OperationItem(
                operation_id=op.id, item_id=it.id, agency_id=lead.agency.id, added_at=T0,
                via="single",
            )
        )  # fmt: skip
    db_session.flush()
    m = metrics.compute(db_session, op, T0 + dt.timedelta(hours=3))
    assert m.data["figures"]["referred"] == 25 and m.data["figures"]["confirmed_removed"] == 0
    [(_caption, svg)] = [c for c in report.make_charts(m, final=False) if "Kaplan" in c[0]]
    assert "no referred items yet" not in svg
    assert "all platforms: 100 % still online" in svg
