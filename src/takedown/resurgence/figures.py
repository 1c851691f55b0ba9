"""Resurgence figures, from plain records: time to return, time to detect, lifetime, generations.

Why pure functions over records: the service builds the records from the
database, ``bench/resurgence.py`` and the tests build them from the testbed's
ground truth, and all three must compute the same figure the same way. The
survival arithmetic is operations' Kaplan–Meier (``operations.stats``), so a
time to return reads like a time to removal.

Definitions (docs/resurgence.md):
- *time to return*: removal of an account or channel -> first sighting of its
  (first confirmed) successor; removals with no successor seen are censored at
  the end of follow-up. Kaplan–Meier median, and the KM share returned within 1 h,
  24 h and 7 d.
- *time to detect*: the successor's creation -> its proposal (testbed: the
  creation time comes from the ground truth). Median and p90 (nearest rank).
- *successor lifetime*: detected -> removed again; censored while it is still
  online. Kaplan–Meier median.
- *generations*: how many times one original came back (1 = first successor).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from takedown.operations.stats import SHARE_HORIZONS, KaplanMeier, kaplan_meier, nearest_rank


@dataclass(frozen=True, slots=True)
class Return:
    """One removed account or channel, and when (if) its successor was first seen."""

    group: str  # operation name / platform: what the figure is split by
    removed_at: dt.datetime
    returned_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Successor:
    group: str
    created_at: dt.datetime | None  # ground truth on the testbed; first seen otherwise
    detected_at: dt.datetime | None
    removed_at: dt.datetime | None
    generation: int


@dataclass(frozen=True, slots=True)
class Figures:
    removals: int
    returned: int
    return_km: KaplanMeier
    return_within: dict[str, float | None]
    detect_median: float | None
    detect_p90: float | None
    detected: int
    lifetime_km: KaplanMeier
    generations: dict[int, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "removals": self.removals,
            "returned": self.returned,
            "time_to_return_km_median_seconds": self.return_km.median,
            **{f"returned_within_{k}": v for k, v in self.return_within.items()},
            "detected": self.detected,
            "time_to_detect_median_seconds": self.detect_median,
            "time_to_detect_p90_seconds": self.detect_p90,
            "lifetime_km_median_seconds": self.lifetime_km.median,
            "successors_removed_again": self.lifetime_km.events,
            "generations": {str(k): v for k, v in sorted(self.generations.items())},
        }


def _secs(a: dt.datetime, b: dt.datetime) -> float:
    return max(0.0, (b - a).total_seconds())


def return_observations(returns: Iterable[Return], until: dt.datetime) -> list[tuple[float, bool]]:
    out: list[tuple[float, bool]] = []
    for r in returns:
        if r.returned_at is not None and r.returned_at <= until:
            out.append((_secs(r.removed_at, r.returned_at), True))
        else:
            out.append((_secs(r.removed_at, until), False))
    return out


def _share_within(km: KaplanMeier, seconds: float) -> float | None:
    if km.n == 0:
        return None
    return 1.0 - km.survival_at(seconds)


def compute(
    returns: Sequence[Return], successors: Sequence[Successor], until: dt.datetime
) -> Figures:
    """The figures of one group of removals and the successors found for them."""
    rkm = kaplan_meier(return_observations(returns, until))
    detect = [
        _secs(s.created_at, s.detected_at)
        for s in successors
        if s.created_at is not None and s.detected_at is not None
    ]
    life: list[tuple[float, bool]] = []
    for s in successors:
        if s.detected_at is None:
            continue
        if s.removed_at is not None and s.removed_at <= until:
            life.append((_secs(s.detected_at, s.removed_at), True))
        else:
            life.append((_secs(s.detected_at, until), False))
    return Figures(
        removals=len(returns),
        returned=rkm.events,
        return_km=rkm,
        return_within={k: _share_within(rkm, v) for k, v in SHARE_HORIZONS},
        detect_median=nearest_rank(detect, 0.5),
        detect_p90=nearest_rank(detect, 0.9),
        detected=len(detect),
        lifetime_km=kaplan_meier(life),
        generations=dict(Counter(s.generation for s in successors if s.detected_at is not None)),
    )


def by_group(
    returns: Sequence[Return], successors: Sequence[Successor], until: dt.datetime
) -> dict[str, Figures]:
    """``compute`` per group (platform or operation), plus ``"all"``."""
    groups = sorted({r.group for r in returns} | {s.group for s in successors})
    out = {"all": compute(returns, successors, until)}
    for g in groups:
        out[g] = compute(
            [r for r in returns if r.group == g], [s for s in successors if s.group == g], until
        )
    return out
