"""The live figures of an operation: SQL aggregates plus time-to-removal statistics.

One function, :func:`compute`, feeds the metrics endpoint, the dashboard and
the reports, so a figure can never differ between them. Every figure is
derived from rows (items, statuses, checks); nothing is typed in.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from takedown.operations import repository
from takedown.operations.models import Operation
from takedown.operations.repository import RemovalRow
from takedown.operations.stats import (
    KaplanMeier,
    Observation,
    RemovalSummary,
    cumulative_buckets,
    kaplan_meier,
    summarize,
)

#: The statuses the dashboard names, in the order it shows them.
STATUS_ORDER = (
    "new",
    "assessed",
    "dismissed",
    "referred",
    "still_online",
    "restricted",
    "removed",
    "reappeared",
)
STATUS_LABELS = {
    "new": "new",
    "assessed": "assessed",
    "dismissed": "dismissed",
    "referred": "referred (not yet checked)",
    "still_online": "still online",
    "restricted": "restricted",
    "removed": "confirmed removed",
    "reappeared": "reappeared",
}
KIND_ORDER = ("account", "channel", "post", "video", "file", "link", "page")


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _hour_iso(hour: int) -> str:
    return _iso(dt.datetime.fromtimestamp(hour * 3600, dt.UTC)) or ""


def observations(rows: list[RemovalRow], as_of: float) -> list[Observation]:
    """Removed by ``as_of`` -> an event; otherwise censored at ``as_of`` (never negative)."""
    out = []
    for r in rows:
        if r.removed is not None and r.removed <= as_of:
            out.append(Observation(max(0.0, r.removed - r.referred), True))
        else:
            out.append(Observation(max(0.0, as_of - r.referred), False))
    return out


@dataclass(frozen=True)
class Metrics:
    data: dict[str, Any]
    km_all: KaplanMeier
    km_by_platform: dict[str, KaplanMeier]
    summaries: dict[str, RemovalSummary]  # "" is the whole operation


def _sort_kinds(kinds: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(
        kinds.items(),
        key=lambda kv: (KIND_ORDER.index(kv[0]) if kv[0] in KIND_ORDER else 99, kv[0]),
    )


def compute(session: Session, op: Operation, as_of: dt.datetime) -> Metrics:
    items, contributions = repository.count_items(session, op.id)
    pk = repository.items_by_platform_kind(session, op.id)
    ps = repository.items_by_platform_status(session, op.id)
    by_kind: Counter[str] = Counter()
    by_platform: Counter[str] = Counter()
    for p, k, n in pk:
        by_kind[k] += n
        by_platform[p] += n
    by_status: Counter[str] = Counter()
    for _p, s, n in ps:
        by_status[s] += n

    rows = repository.removal_rows(session, op.id)
    t_as_of = as_of.timestamp()
    obs_all = observations(rows, t_as_of)
    per_platform: dict[str, list[Observation]] = {}
    for r, o in zip(rows, obs_all, strict=True):
        per_platform.setdefault(r.platform, []).append(o)
    summaries = {"": summarize(obs_all)}
    kms = {p: kaplan_meier(v) for p, v in sorted(per_platform.items())}
    for p, v in sorted(per_platform.items()):
        summaries[p] = summarize(v)
    km_all = kaplan_meier(obs_all)
    reappeared = sum(1 for r in rows if r.reappeared is not None and r.reappeared <= t_as_of)

    hours = repository.removals_by_hour(session, op.id, as_of)
    cum = dict(cumulative_buckets((f"{h:012d}", n) for h, n in hours))
    per_hour = [
        {"hour": _hour_iso(h), "removed": n, "cumulative": cum[f"{h:012d}"]} for h, n in hours
    ]

    s_all = summaries[""]
    contrib = repository.contributions(session, op.id)
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
        "totals": {
            "items": items,
            "contributions": contributions,
            "duplicates_folded": contributions - items,
            "platforms": len(by_platform),
            "agencies": len(contrib),
            "referred": s_all.referred,
            "removed": s_all.removed,
            "not_removed": s_all.not_removed,
            "removed_share": s_all.removed_share,
            "reappeared": reappeared,
            "held": repository.count_held(session, op.id),
            "removed_without_referral": repository.removed_without_referral(session, op.id),
        },
        "by_kind": [{"kind": k, "items": n} for k, n in _sort_kinds(dict(by_kind))],
        "by_platform": [
            {"platform": p, "items": n}
            for p, n in sorted(by_platform.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "by_platform_kind": [{"platform": p, "kind": k, "items": n} for p, k, n in pk],
        "by_status": [
            {"status": s, "label": STATUS_LABELS.get(s, s), "items": by_status[s]}
            for s in sorted(
                by_status, key=lambda s: STATUS_ORDER.index(s) if s in STATUS_ORDER else 99
            )
        ],
        "by_platform_status": [{"platform": p, "status": s, "items": n} for p, s, n in ps],
        "removals_over_time": per_hour,
        "time_to_removal": {
            "all": s_all.as_dict(),
            "by_platform": [{"platform": p, **summaries[p].as_dict()} for p in kms],
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
    return Metrics(data, km_all, kms, summaries)


def thin_curve(
    km: KaplanMeier, max_points: int = 400
) -> list[tuple[float, float, float | None, float | None]]:
    """Curve points for drawing: every event point, or an even subset when there are many."""
    pts = [(p.t, p.survival, p.ci_low, p.ci_high) for p in km.points if p.removed]
    if len(pts) <= max_points:
        return pts
    step = len(pts) / max_points
    keep = [pts[int(i * step)] for i in range(max_points)]
    if keep[-1] != pts[-1]:
        keep.append(pts[-1])
    return keep
