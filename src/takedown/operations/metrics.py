"""The live figures of an operation: SQL aggregates plus time-to-removal statistics.

One function, :func:`compute`, feeds the metrics endpoint, the dashboard and
the reports, so a figure can never differ between them; what each figure is called and
means is ``figures`` (one definition per figure). Every figure is derived from rows
(items, sightings, statuses, checks, the platforms' answers); nothing is typed in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from takedown.operations import figures, repository
from takedown.operations.models import Operation
from takedown.operations.stats import (
    KaplanMeier,
    RemovalSummary,
    kaplan_meier,
    summarize_arrays,
)

KIND_ORDER = ("account", "channel", "post", "video", "file", "link", "page")


def _iso(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    return t.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _hour_iso(hour: int) -> str:
    return _iso(dt.datetime.fromtimestamp(hour * 3600, dt.UTC)) or ""


@dataclass(frozen=True)
class Observations:
    """Per referred item: platform, time-to-removal or censoring time (s), removed?"""

    platforms: npt.NDArray[np.str_]
    seconds: npt.NDArray[np.float64]
    removed: npt.NDArray[np.bool_]

    def of(self, platform: str = "") -> list[tuple[float, bool]]:
        mask = slice(None) if not platform else self.platforms == platform
        return list(zip(self.seconds[mask].tolist(), self.removed[mask].tolist(), strict=True))

    def names(self) -> list[str]:
        return sorted(set(self.platforms.tolist()))


def observations(rows: repository.ReferredRows, as_of: float) -> Observations:
    """Removed by ``as_of`` -> an event at removed - referred; otherwise censored at
    ``as_of`` - referred (never negative)."""
    platforms = np.array(rows.platforms, dtype=np.str_)
    referred = np.array(rows.referred, dtype=np.float64)
    gone = np.array([np.nan if r is None else r for r in rows.removed], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        removed = gone <= as_of  # NaN compares False: not removed
    end = np.where(removed, gone, as_of)
    return Observations(platforms, np.maximum(end - referred, 0.0), removed)


def _by(t: float | None, as_of: float) -> bool:
    return t is not None and t <= as_of


def _states(
    session: Session,
    op: Operation,
    as_of: dt.datetime,
    groups: list[tuple[str, str, str, bool, int]],
    rows: repository.ReferredRows,
) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """Items per (platform, state), and claimed removals per platform.

    Unreferred items from the GROUP BY (and the few a batch kept out as already gone);
    referred ones from the rows time to removal reads anyway (their kind is not needed).
    """
    t = as_of.timestamp()
    gone = {(p, k, st): n for p, k, st, n in repository.gone_before_groups(session, op.id)}
    out: Counter[tuple[str, str]] = Counter()
    for p, k, st, referred, n in groups:
        if referred:
            continue
        g = n if st in ("removed", "reappeared") else min(n, gone.get((p, k, st), 0))
        if g:
            out[p, "removed_before_referral"] += g
        if n - g:
            state = figures.item_state(
                status=st, referred=False, gone_before=False, removed=False, reappeared=False,
                claimed=False,
            )  # fmt: skip
            out[p, state] += n - g
    annex = repository.annex_ii_removed(session, op.id, as_of)
    facts: Counter[tuple[str, str, bool, bool, bool]] = Counter(
        (p, st, _by(rm, t), _by(rm, t) and bool(f & repository.REAPPEARED),
         bool(f & repository.STATED) or i in annex)
        for i, p, st, rm, f in zip(
            rows.item_ids, rows.platforms, rows.statuses, rows.removed, rows.flags, strict=True
        )
    )  # fmt: skip
    claimed: Counter[str] = Counter()
    for (p, st, removed, reappeared, claim), n in facts.items():
        state = figures.item_state(
            status=st, referred=True, gone_before=False, removed=removed, reappeared=reappeared,
            claimed=claim,
        )  # fmt: skip
        out[p, state] += n
        if claim:
            claimed[p] += n
    return out, claimed


@dataclass
class Metrics:
    data: dict[str, Any]
    observations: Observations
    _km: dict[str, KaplanMeier] = field(default_factory=dict)

    def km(self, platform: str = "") -> KaplanMeier:
        """The full curve (for reports and charts), computed on first use."""
        if platform not in self._km:
            self._km[platform] = kaplan_meier(self.observations.of(platform))
        return self._km[platform]

    @property
    def km_all(self) -> KaplanMeier:
        return self.km("")

    @property
    def km_by_platform(self) -> dict[str, KaplanMeier]:
        return {p: self.km(p) for p in self.observations.names()}


def _sort_kinds(kinds: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(
        kinds.items(),
        key=lambda kv: (KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99, kv[0]),
    )


def _ttr_row(summary: RemovalSummary, claimed: int) -> dict[str, Any]:
    """A group's time-to-removal figures under the names of ``figures``."""
    d = summary.as_dict()
    d.pop("not_removed")
    return {
        "referred": d.pop("referred"),
        "claimed_removed": claimed,
        "confirmed_removed": d.pop("removed"),
        **d,
    }


def compute(session: Session, op: Operation, as_of: dt.datetime) -> Metrics:
    groups = repository.item_groups(session, op.id)
    pk: Counter[tuple[str, str]] = Counter()
    by_kind: Counter[str] = Counter()
    by_platform: Counter[str] = Counter()
    for platform, kind, _status, _referred, n in groups:
        pk[platform, kind] += n
        by_kind[kind] += n
        by_platform[platform] += n
    items = sum(by_platform.values())
    rows = repository.referred_rows(session, op.id, as_of)
    pst, claimed = _states(session, op, as_of, groups, rows)
    by_state: Counter[str] = Counter()
    for (_p, st), n in pst.items():
        by_state[st] += n

    t_as_of = as_of.timestamp()
    obs = observations(rows, t_as_of)
    summaries = {"": summarize_arrays(obs.seconds, obs.removed)}
    for p in obs.names():
        mask = obs.platforms == p
        summaries[p] = summarize_arrays(obs.seconds[mask], obs.removed[mask])
    hours: Counter[int] = Counter(
        math.floor(r / 3600) for r in rows.removed if r is not None and r <= t_as_of
    )
    per_hour = []
    running = 0
    for h in sorted(hours):
        running += hours[h]
        per_hour.append({"hour": _hour_iso(h), "removed": hours[h], "cumulative": running})

    contrib = repository.contributions(session, op.id)
    reports = repository.count_reports(session, op.id)
    s_all = summaries[""]
    ttr_all = _ttr_row(s_all, sum(claimed.values()))
    values: dict[str, Any] = {
        "items": items,
        "reports": reports,
        "duplicates_folded": reports - items,
        # items no single agency alone contributed (each such item is one agency's "only")
        "reported_by_several": items - sum(c[4] for c in contrib),
        "agencies": len(contrib),
        "platforms": len(by_platform),
        "referred": s_all.referred,
        "removed_before_referral": by_state["removed_before_referral"],
        "claimed_removed": ttr_all["claimed_removed"],
        "confirmed_removed": s_all.removed,
        "removed_share": s_all.removed_share,
        **{k: ttr_all[k] for k in (
            "share_within_1h", "share_within_24h", "share_within_7d", "km_median_seconds",
            "median_observed_seconds", "p90_observed_seconds",
        )},
        "removals_dated_by_platform": repository.count_removals_dated_by_platform(
            session, op.id, as_of
        ),
        "reappeared": by_state["reappeared"],
        "held": repository.count_held(session, op.id),
    }  # fmt: skip
    assert set(values) == set(figures.BY_KEY), "every figure has a value, and only those"
    data: dict[str, Any] = {
        "operation": {
            "id": op.id,
            "name": op.name,
            "kind": op.kind,
            "status": op.status,
            "starts_at": _iso(op.starts_at),
            "ends_at": _iso(op.ends_at),
            "lead_agency_id": op.lead_agency_id,
            "targets": op.targets,
        },
        "as_of": _iso(as_of),
        "figures": {f.key: values[f.key] for f in figures.FIGURES},
        "definitions": {
            f.key: {"label": f.label, "unit": f.unit, "definition": f.definition}
            for f in figures.FIGURES
        },
        "by_kind": [{"kind": k, "items": n} for k, n in _sort_kinds(dict(by_kind))],
        "by_platform": [
            {"platform": p, "items": n}
            for p, n in sorted(by_platform.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "by_platform_kind": [
            {"platform": p, "kind": k, "items": n} for (p, k), n in sorted(pk.items())
        ],
        "by_state": [
            {"state": st.key, "label": st.label, "items": by_state[st.key]}
            for st in figures.STATES
            if by_state[st.key]
        ],
        "by_platform_state": [
            {"platform": p, "state": st, "items": n}
            for (p, st), n in sorted(
                pst.items(), key=lambda kv: (kv[0][0], figures.STATE_KEYS.index(kv[0][1]))
            )
        ],
        "removals_over_time": per_hour,
        "time_to_removal": {
            "all": ttr_all,
            "by_platform": [
                {"platform": p, **_ttr_row(summaries[p], claimed[p])}
                for p in sorted(summaries)
                if p
            ],
        },
        "contributions": [
            {
                "agency_id": a,
                "agency": name,
                "country": country,
                "items": n,
                "only_this_agency": u,
                "also_reported_by_others": n - u,
            }
            for a, name, country, n, u in contrib
        ],
    }
    return Metrics(data, obs)


def thin_curve(
    km: KaplanMeier, max_points: int = 400
) -> list[tuple[float, float, float | None, float | None]]:
    """Curve points for drawing: every event point (or an even subset when there are many),
    and the last point, so that items followed with no removal yet draw a flat line at
    100 % instead of "no referred items yet"."""
    pts = [(p.t, p.survival, p.ci_low, p.ci_high) for p in km.points if p.removed]
    if km.points and not km.points[-1].removed:
        last = km.points[-1]
        pts.append((last.t, last.survival, last.ci_low, last.ci_high))
    if len(pts) <= max_points:
        return pts
    step = len(pts) / max_points
    keep = [pts[int(i * step)] for i in range(max_points)]
    if keep[-1] != pts[-1]:
        keep.append(pts[-1])
    return keep
