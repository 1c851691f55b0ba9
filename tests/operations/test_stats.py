"""Kaplan–Meier and friends: hand-computed examples, then brute force under hypothesis."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.operations.stats import (
    DAY,
    HOUR,
    WEEK,
    Observation,
    cumulative,
    cumulative_buckets,
    kaplan_meier,
    nearest_rank,
    summarize,
)

E = True
C = False


def obs(*pairs: tuple[float, bool]) -> list[Observation]:
    return [Observation(t, e) for t, e in pairs]


# --- hand-computed ----------------------------------------------------------------------------


def test_textbook_example() -> None:
    # 1 removed, 2 removed, 2 censored, 3 removed, 4 censored, 5 removed.
    km = kaplan_meier(obs((1, E), (2, E), (2, C), (3, E), (4, C), (5, E)))
    assert [p.t for p in km.points] == [1, 2, 3, 4, 5]
    assert [p.at_risk for p in km.points] == [6, 5, 3, 2, 1]
    s = [p.survival for p in km.points]
    assert s == pytest.approx([5 / 6, 2 / 3, 4 / 9, 4 / 9, 0.0])
    assert km.median == 3  # S(3) = 4/9 is the first value <= 1/2
    assert km.events == 4 and km.censored == 2 and km.n == 6
    # Greenwood at t=1: S^2 * 1/(6*5); log-log CI brackets S.
    p1 = km.points[0]
    assert p1.ci_low is not None and p1.ci_high is not None
    assert p1.ci_low < 5 / 6 < p1.ci_high
    se_loglog = math.sqrt(1 / 30) / abs(math.log(5 / 6))
    assert p1.ci_low == pytest.approx((5 / 6) ** math.exp(1.959963984540054 * se_loglog))
    assert km.survival_at(0.5) == 1.0
    assert km.survival_at(2.5) == pytest.approx(2 / 3)
    assert km.share_removed_within(2.5) == pytest.approx(1 / 3)
    # Followed to 5 s only, but the curve reached 0: everyone was removed by then.
    assert km.share_removed_within(10) == 1.0
    # The last point has S = 0: its interval is undefined, not invented.
    assert km.points[-1].ci_low is None


def test_censored_tail_is_not_known() -> None:
    km = kaplan_meier(obs((10, E), (20, C)))
    assert km.share_removed_within(15) == pytest.approx(0.5)
    assert km.share_removed_within(25) is None  # nobody followed 25 s and S > 0
    assert km.median == 10


def test_ties_removals_before_censorings() -> None:
    km = kaplan_meier(obs((5, E), (5, C), (7, E)))
    assert km.points[0].at_risk == 3 and km.points[0].survival == pytest.approx(2 / 3)
    assert km.points[1].at_risk == 1 and km.points[1].survival == 0.0


def test_empty_and_no_events() -> None:
    km = kaplan_meier([])
    assert km.n == 0 and km.median is None and km.share_removed_within(HOUR) is None
    km2 = kaplan_meier(obs((100, C), (200, C)))
    assert km2.median is None and km2.share_removed_within(50) == 0.0
    assert km2.points[0].ci_low == 1.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        kaplan_meier(obs((-1, E)))
    with pytest.raises(ValueError):
        kaplan_meier(obs((math.nan, E)))
    with pytest.raises(ValueError):
        nearest_rank([1.0], 0)


def test_nearest_rank_by_hand() -> None:
    xs = [40.0, 10.0, 30.0, 20.0]
    assert nearest_rank(xs, 0.5) == 20.0  # 2 of 4 at or below 20
    assert nearest_rank(xs, 0.9) == 40.0  # ceil(3.6) = 4th
    assert nearest_rank(xs, 0.25) == 10.0
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([7.0], 0.9) == 7.0


def test_summary_by_hand() -> None:
    # 5 referred: removed after 30 min, 2 h, 3 h, 2 days; one still online after 10 days.
    s = summarize(obs((1800, E), (7200, E), (10800, E), (2 * DAY, E), (10 * DAY, C)))
    assert (s.referred, s.removed, s.not_removed) == (5, 4, 1)
    assert s.removed_share == pytest.approx(0.8)
    assert s.median_observed == 7200  # nearest rank: 2nd of 4
    assert s.p90_observed == 2 * DAY  # 4th of 4
    assert s.within["1h"] == pytest.approx(0.2)
    assert s.within["24h"] == pytest.approx(0.6)
    assert s.within["7d"] == pytest.approx(0.8)
    assert s.km_median == 10800  # S = 0.4 after the third removal
    d = s.as_dict()
    assert d["share_within_24h"] == pytest.approx(0.6) and d["referred"] == 5


def test_cumulative() -> None:
    assert cumulative([3.0, 1.0, 3.0, 2.0]) == [(1.0, 1), (2.0, 2), (3.0, 4)]
    assert cumulative([]) == []
    assert cumulative_buckets(
        [("2019-11-21 08", 2), ("2019-11-21 07", 1), ("2019-11-21 08", 1)]
    ) == [
        ("2019-11-21 07", 1),
        ("2019-11-21 08", 4),
    ]


# --- brute force ------------------------------------------------------------------------------


def brute_survival(data: list[Observation], t: float) -> Fraction:
    """The product-limit definition, in exact fractions, straight from the raw rows."""
    s = Fraction(1)
    for u in sorted({o.seconds for o in data if o.removed}):
        if u > t:
            break
        at_risk = sum(1 for o in data if o.seconds >= u)
        d = sum(1 for o in data if o.seconds == u and o.removed)
        s *= Fraction(at_risk - d, at_risk)
    return s


def brute_greenwood(data: list[Observation], t: float) -> float:
    total = 0.0
    for u in sorted({o.seconds for o in data if o.removed}):
        if u > t:
            break
        n = sum(1 for o in data if o.seconds >= u)
        d = sum(1 for o in data if o.seconds == u and o.removed)
        total += d / (n * (n - d)) if n > d else math.inf
    return total


observations = st.lists(
    st.builds(Observation, st.integers(0, 40).map(float), st.booleans()), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(observations, st.integers(0, 45).map(float))
def test_km_equals_product_limit(data: list[Observation], t: float) -> None:
    km = kaplan_meier(data)
    assert km.survival_at(t) == pytest.approx(float(brute_survival(data, t)), abs=1e-12)
    # at-risk counts and intervals at each event point
    for p in km.points:
        assert p.at_risk == sum(1 for o in data if o.seconds >= p.t)
        if p.removed and 0 < p.survival < 1:
            gw = brute_greenwood(data, p.t)
            if math.isfinite(gw):
                assert p.ci_low is not None and p.ci_high is not None
                assert p.ci_low <= p.survival <= p.ci_high
    # the median is the first event time where S <= 1/2
    expected = next(
        (
            u
            for u in sorted({o.seconds for o in data if o.removed})
            if brute_survival(data, u) <= Fraction(1, 2)
        ),
        None,
    )
    assert km.median == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10 * 24).map(lambda h: h * HOUR / 2), min_size=1, max_size=30))
def test_without_censoring_km_share_is_the_plain_share(hours: list[float]) -> None:
    data = [Observation(x, True) for x in hours]
    s = summarize(data)
    for label, h in (("1h", HOUR), ("24h", DAY), ("7d", WEEK)):
        plain = sum(1 for x in hours if x <= h) / len(hours)
        if max(hours) >= h or plain == 1.0:
            assert s.within[label] == pytest.approx(plain)
        else:
            assert s.within[label] is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), max_size=50), st.sampled_from([0.5, 0.9, 1.0]))
def test_nearest_rank_brute_force(xs: list[float], q: float) -> None:
    got = nearest_rank(xs, q)
    if not xs:
        assert got is None
        return
    want = min(x for x in xs if sum(1 for y in xs if y <= x) >= q * len(xs) - 1e-9)
    assert got == want


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 20).map(float), max_size=30))
def test_cumulative_brute_force(ts: list[float]) -> None:
    for t, n in cumulative(ts):
        assert n == sum(1 for x in ts if x <= t)


@settings(max_examples=300, deadline=None)
@given(observations)
def test_the_one_pass_summary_agrees_with_the_curve(data: list[Observation]) -> None:
    s = summarize(data)
    km = kaplan_meier(data)
    assert s.km_median == km.median and s.km_median_ci == km.median_ci
    for label, h in (("1h", HOUR), ("24h", DAY), ("7d", WEEK), ("x", 7.0), ("y", 40.0)):
        want = km.share_removed_within(h)
        got = s.within.get(label) if label in s.within else _within(s, data, h)
        assert (got is None) == (want is None)
        if want is not None:
            assert got == pytest.approx(want)


def _within(s: object, data: list[Observation], h: float) -> float | None:
    from takedown.operations import stats

    old = stats.SHARE_HORIZONS
    stats.SHARE_HORIZONS = (("h", h),)
    try:
        return stats.summarize(data).within["h"]
    finally:
        stats.SHARE_HORIZONS = old
