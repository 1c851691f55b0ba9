"""Pure statistics of time-to-removal: Kaplan–Meier, quantiles, shares, cumulative counts.

No database and no clock here: every function takes plain numbers, so each
figure of a report can be recomputed by hand (and is, in the tests).

Definitions (the report's appendix quotes them):

- **time-to-removal** of a referred item: seconds from its first referral to
  its confirmed removal (``check_schedules.removed_at``, from
  ``verification.policy.removal_instant``: the time the platform stated, when
  the checks agree with it, else the first ``removed`` check of the run the
  checker confirmed). An item not (yet) removed at the report time is *censored* at
  ``report time - referral time``: we know it stayed online at least that long.
- **Kaplan–Meier** survival ``S(t)``: the estimated share of referred items
  still online ``t`` seconds after referral, with censored items leaving the
  risk set after their censoring time. Ties: removals at ``t`` are counted
  before censorings at ``t`` (the usual convention).
- **share removed within h** (1 h, 24 h, 7 days): ``1 - S(h)`` from
  Kaplan–Meier. With no censoring before ``h`` this is exactly "removed within
  h / referred"; it is ``None`` ("not yet known") when no item has been followed
  for ``h``.
- **KM median**: the smallest event time with ``S(t) <= 0.5`` (to 1e-9); ``None`` if the
  curve never gets there (fewer than half came down, as far as we know).
- **median / p90 of observed times**: nearest-rank quantiles over the removed
  items only: the smallest observed time within which at least 50 % / 90 % of
  the removed items came down.
- **95 % confidence intervals**: Greenwood's variance on the log(-log) scale
  (the "exponential Greenwood" interval); the median's interval is where the
  band crosses 0.5.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

Z95 = 1.959963984540054

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
#: The shares every report gives, as (label, seconds).
SHARE_HORIZONS: tuple[tuple[str, float], ...] = (("1h", HOUR), ("24h", DAY), ("7d", WEEK))


class Observation(NamedTuple):
    """One referred item: ``seconds`` until removal (``removed``) or until censoring."""

    seconds: float
    removed: bool


@dataclass(frozen=True, slots=True)
class KMPoint:
    """The curve just after ``t``: ``at_risk`` items followed to ``t``, ``removed`` at ``t``."""

    t: float
    at_risk: int
    removed: int
    censored: int
    survival: float
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class KaplanMeier:
    n: int
    events: int
    censored: int
    points: tuple[KMPoint, ...]  # one per distinct time with an event or a censoring
    median: float | None
    median_ci: tuple[float | None, float | None]
    max_followup: float | None

    def survival_at(self, t: float) -> float:
        """``S(t)``: 1 before the first event; right-continuous steps."""
        s = 1.0
        for p in self.points:
            if p.t > t:
                break
            s = p.survival
        return s

    def share_removed_within(self, seconds: float) -> float | None:
        """``1 - S(seconds)``, or None when nobody has been followed that long."""
        if self.max_followup is None or self.max_followup < seconds:
            # Every item's follow-up ends before the horizon: S(h) is not identified,
            # unless the curve already reached 0 (everyone removed before).
            if self.points and self.points[-1].survival == 0.0:
                return 1.0
            return None
        return 1.0 - self.survival_at(seconds)


def _tally(observations: Iterable[tuple[float, bool]]) -> tuple[int, dict[float, list[int]]]:
    """n, and per distinct time [removals, censorings]; refuses negative or non-finite times."""
    by_time: dict[float, list[int]] = {}
    n = 0
    for t, removed in observations:
        slot = by_time.get(t)
        if slot is None:
            if not (t >= 0.0 and math.isfinite(t)):
                raise ValueError(f"time-to-removal must be a finite, non-negative number: {t}")
            slot = by_time[t] = [0, 0]
        slot[0 if removed else 1] += 1
        n += 1
    return n, by_time


def _scan(
    n: int, by_time: dict[float, list[int]]
) -> Iterator[tuple[float, int, int, int, float, float | None, float | None]]:
    """The product-limit steps: (t, at risk, removed, censored, S, CI low, CI high)."""
    at_risk = n
    s = 1.0
    gw = 0.0
    lo: float | None = 1.0
    hi: float | None = 1.0
    for t in sorted(by_time):
        d, c = by_time[t]
        if d:
            s *= 1.0 - d / at_risk
            gw = gw + d / (at_risk * (at_risk - d)) if at_risk > d else math.inf
            lo, hi = _loglog_ci(s, gw)
        yield t, at_risk, d, c, s, lo, hi
        at_risk -= d + c


def _loglog_ci(s: float, greenwood_sum: float) -> tuple[float | None, float | None]:
    """95 % CI of S on the log(-log S) scale; None where it is undefined (S in {0, 1})."""
    if s <= 0.0 or s >= 1.0 or not math.isfinite(greenwood_sum):
        if s >= 1.0:
            return 1.0, 1.0
        return None, None
    log_s = math.log(s)
    se = math.sqrt(greenwood_sum) / abs(log_s)
    lo = s ** math.exp(Z95 * se)  # the lower bound uses the larger exponent
    hi = s ** math.exp(-Z95 * se)
    return lo, hi


def kaplan_meier(observations: Iterable[tuple[float, bool]]) -> KaplanMeier:
    """The Kaplan–Meier estimate of the time-to-removal survival curve, with Greenwood CIs."""
    n, by_time = _tally(observations)
    points = [KMPoint(*row) for row in _scan(n, by_time)]
    events = sum(p.removed for p in points)
    return KaplanMeier(
        n=n,
        events=events,
        censored=n - events,
        points=tuple(points),
        median=_crossing(points, lambda p: p.survival),
        median_ci=(
            _crossing(points, lambda p: p.ci_high),
            _crossing(points, lambda p: p.ci_low),
        ),
        max_followup=max(by_time) if by_time else None,
    )


def _crossing(points: Sequence[KMPoint], value: Callable[[KMPoint], float | None]) -> float | None:
    """The first event time where ``value(point) <= 0.5``."""
    for p in points:
        if not p.removed:
            continue
        v = value(p)
        if v is not None and v <= 0.5 + 1e-9:  # a product of floats may land a hair above
            return p.t
    return None


def nearest_rank(values: Sequence[float], q: float) -> float | None:
    """The smallest value with at least ``q`` of the values at or below it (nearest rank)."""
    if not 0.0 < q <= 1.0:
        raise ValueError("quantile must be in (0, 1]")
    if not values:
        return None
    xs = sorted(values)
    k = max(1, math.ceil(q * len(xs) - 1e-12))
    return xs[k - 1]


@dataclass(frozen=True, slots=True)
class RemovalSummary:
    """The figures of one group of referred items (an operation, a platform)."""

    referred: int
    removed: int
    not_removed: int  # referred, not removed by the report time (censored)
    removed_share: float | None  # removed / referred
    median_observed: float | None
    p90_observed: float | None
    km_median: float | None
    km_median_ci: tuple[float | None, float | None]
    within: dict[str, float | None]  # "1h" / "24h" / "7d" -> KM share removed within

    def as_dict(self) -> dict[str, object]:
        return {
            "referred": self.referred,
            "removed": self.removed,
            "not_removed": self.not_removed,
            "removed_share": self.removed_share,
            "median_observed_seconds": self.median_observed,
            "p90_observed_seconds": self.p90_observed,
            "km_median_seconds": self.km_median,
            "km_median_ci_seconds": list(self.km_median_ci),
            **{f"share_within_{k}": v for k, v in self.within.items()},
        }


def summarize(observations: Iterable[tuple[float, bool]]) -> RemovalSummary:
    """The figures of one group (see :func:`summarize_arrays`)."""
    arr = np.array(list(observations), dtype=np.float64).reshape(-1, 2)
    return summarize_arrays(arr[:, 0], arr[:, 1] != 0)


def summarize_arrays(
    times: npt.NDArray[np.float64], removed: npt.NDArray[np.bool_]
) -> RemovalSummary:
    """The figures of one group, vectorised (numpy): the same product-limit arithmetic, in the
    same order, as :func:`kaplan_meier`, without building the curve's points."""
    n = int(times.shape[0])
    if n == 0:
        return RemovalSummary(0, 0, 0, None, None, None, None, (None, None),
                              {label: None for label, _ in SHARE_HORIZONS})  # fmt: skip
    if not bool(np.all(np.isfinite(times))) or bool(np.any(times < 0)):
        raise ValueError("time-to-removal must be a finite, non-negative number")
    order = np.argsort(times, kind="stable")
    t_sorted = times[order]
    ev_sorted = removed[order]
    uniq, first = np.unique(t_sorted, return_index=True)
    d = np.add.reduceat(ev_sorted.astype(np.int64), first)
    at_risk = n - first
    surv = np.cumprod(1.0 - d / at_risk)
    half = 0.5 + 1e-9
    ev = d > 0
    median = _first(uniq, ev & (surv <= half))
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ev, np.where(at_risk > d, d / (at_risk * (at_risk - d)), np.inf), 0.0)
        gw = np.cumsum(terms)
        ok = ev & (surv > 0) & (surv < 1) & np.isfinite(gw)
        log_s = np.log(np.where(ok, surv, 0.5))
        se = np.sqrt(np.where(ok, gw, 0.0)) / np.abs(log_s)
        lo = np.where(ok, surv ** np.exp(Z95 * se), np.nan)
        hi = np.where(ok, surv ** np.exp(-Z95 * se), np.nan)
    ci_lo = _first(uniq, ev & (hi <= half))
    ci_hi = _first(uniq, ev & (lo <= half))
    max_followup = float(uniq[-1])
    last_s = float(surv[-1])
    within: dict[str, float | None] = {}
    for label, h in SHARE_HORIZONS:
        if max_followup < h:
            within[label] = 1.0 if last_s == 0.0 else None
        else:
            j = int(np.searchsorted(uniq, h, side="right")) - 1
            within[label] = 1.0 - (float(surv[j]) if j >= 0 else 1.0)
    removed_times = t_sorted[ev_sorted]
    k = int(removed_times.shape[0])
    return RemovalSummary(
        referred=n,
        removed=k,
        not_removed=n - k,
        removed_share=k / n,
        median_observed=_rank(removed_times, 0.5),
        p90_observed=_rank(removed_times, 0.9),
        km_median=median,
        km_median_ci=(ci_lo, ci_hi),
        within=within,
    )


def _first(values: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_]) -> float | None:
    idx = np.flatnonzero(mask)
    return float(values[idx[0]]) if idx.size else None


def _rank(xs: Sequence[float] | npt.NDArray[np.float64], q: float) -> float | None:
    """Nearest rank on an already sorted sequence."""
    if len(xs) == 0:
        return None
    return float(xs[max(1, math.ceil(q * len(xs) - 1e-12)) - 1])


def cumulative(times: Iterable[float]) -> list[tuple[float, int]]:
    """Step points ``(t, removals at or before t)`` at each distinct time, sorted."""
    counts: dict[float, int] = {}
    for t in times:
        counts[t] = counts.get(t, 0) + 1
    out: list[tuple[float, int]] = []
    total = 0
    for t in sorted(counts):
        total += counts[t]
        out.append((t, total))
    return out


def cumulative_buckets(counts: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
    """Running totals over ``(bucket, count)`` pairs (buckets sort as text: ISO hours)."""
    merged: dict[str, int] = {}
    for b, c in counts:
        merged[b] = merged.get(b, 0) + c
    out: list[tuple[str, int]] = []
    total = 0
    for b in sorted(merged):
        total += merged[b]
        out.append((b, total))
    return out
