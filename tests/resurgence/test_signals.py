"""Signals: normalisation, successor patterns, pair scores and the blocking engine."""

from __future__ import annotations

import datetime as dt

import pytest

from takedown.resurgence.signals import engine, normalise, patterns
from takedown.resurgence.signals.score import THRESHOLD, WEIGHTS, Profile, score_pair

T0 = dt.datetime(2019, 11, 21, 6, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("Abu_Media", "abumedia", "same"),
        ("salam", "\u0455alam", "homoglyph"),  # Cyrillic dze: TR39 skeleton
        ("salam", "saIam", "homoglyph"),  # capital I for l
        ("abumedia", "4bum3dia", "homoglyph"),  # leet
        ("marsad", "rnarsad", "homoglyph"),  # rn for m
        ("abu12", "abu13", "digit"),
        ("abu_media", "abu_media1", "digit"),
        ("abumedia", "aubmedia", "swap"),
        ("abumedia", "abumedia_official", "suffix"),
        ("abumedia", "abumedia_back", "suffix"),
        ("abumedia_news", "abumedia2", "core"),
    ],
)
def test_classify_knows_the_successor_patterns(old: str, new: str, kind: str) -> None:
    pat = patterns.classify(old, new)
    assert pat is not None and pat.name == kind


@pytest.mark.parametrize(("old", "new"), [("abumedia", "qaswarat"), ("abu", "xyz_news")])
def test_classify_refuses_unrelated_handles(old: str, new: str) -> None:
    assert patterns.classify(old, new) is None


def test_core_drops_counters_and_suffixes_but_not_a_short_name() -> None:
    assert normalise.core("abumedia3_back") == normalise.core("abumedia2") == "abumedia"
    assert normalise.core("abu_media") == "abumedia"  # "abu" alone would be too short


def test_predicted_handles_classify_as_the_pattern_that_made_them() -> None:
    preds = patterns.predict("abu_media7", max_len=15)
    assert ("abu_media8", "digit") in preds and ("abu_media7_new", "suffix") in preds
    assert all(len(h) <= 15 for h, _ in preds)
    for h, pattern in preds:
        got = patterns.classify("abu_media7", h, 15)
        assert got is not None, h
        # "abu_media7_" is the same handle once separators go; "abu_media72" bumps the digit.
        assert got.name in {pattern, "same", "digit"}, (h, pattern, got)


def _p(key: str, handle: str, **kw: object) -> Profile:
    return Profile(key=key, platform="telegram", handle=handle, **kw)  # type: ignore[arg-type]


def test_score_sums_reasons_and_proposes_above_the_threshold() -> None:
    old = _p("r1", "abumedia", title="Abu Media", removed_at=T0)
    new = _p("s1", "abumedia2", title="ABU  media", first_seen_at=T0 + dt.timedelta(hours=3))
    s = score_pair(old, new)
    signals = {r.signal for r in s.reasons}
    assert signals == {"handle_pattern", "title", "created_after"}
    assert s.score == pytest.approx(
        WEIGHTS["handle_pattern"] + WEIGHTS["title"] + WEIGHTS["created_after"]
    )
    assert s.proposed and s.verdict == "successor"


def test_an_account_older_than_the_removal_is_not_proposed_on_its_handle() -> None:
    old = _p("r1", "abumedia", removed_at=T0)
    new = _p("s1", "abumedia2", first_seen_at=T0 - dt.timedelta(days=3))
    s = score_pair(old, new)
    assert s.score < THRESHOLD
    assert "created_before" in {r.signal for r in s.reasons}


def test_unrelated_handle_found_by_media_and_announcement() -> None:
    old = _p("r1", "abumedia", removed_at=T0)
    new = _p(
        "s1",
        "qaswarat",
        first_seen_at=T0 + dt.timedelta(hours=1),
        media_from={"r1"},
        announced_in=[("ch9", T0 + dt.timedelta(hours=2), frozenset({"r1"}))],
    )
    s = score_pair(old, new)
    assert {r.signal for r in s.reasons} == {"media", "announced_old", "created_after"}
    assert s.proposed


def test_engine_picks_the_best_predecessor_among_many() -> None:
    removed = [
        _p("r1", "abumedia", title="Abu Media", removed_at=T0),
        _p("r2", "abumedia_news", title="Other", removed_at=T0),
        _p("r3", "qaswarat", title="Qaswarat", removed_at=T0),
    ]
    seen = [
        _p("s1", "abumedia_back", title="Abu Media", first_seen_at=T0 + dt.timedelta(hours=1)),
        _p("s2", "unrelated99", title="Nothing", first_seen_at=T0 + dt.timedelta(hours=1)),
    ]
    out = dict((p.key, s) for p, s in engine.link(removed, seen))
    best = out["s1"]
    assert best is not None and best.removed == "r1" and best.proposed
    assert out["s2"] is None or not out["s2"].proposed


def test_a_name_only_one_removal_had_outweighs_a_chance_handle_pattern() -> None:
    """Unrelated handle, silent: the name is the evidence; rarer names weigh more."""
    removed = [
        _p("r1", "kalomi", title="Zeraqu Baditi", removed_at=T0),
        _p("r2", "sute", title="Other Name", removed_at=T0),
        _p("r3", "vona", title="Vona", removed_at=T0),
        _p("r4", "rina", title="Vona", removed_at=T0),
    ]
    later = T0 + dt.timedelta(hours=1)
    seen = [
        # a random new handle that happens to extend r2's, with r1's (unique) name
        _p("s1", "sute_news", title="Zeraqu Baditi", first_seen_at=later),
        # a name two removals had: not enough on its own
        _p("s2", "qaswarat", title="Vona", first_seen_at=later),
    ]
    out = {p.key: s for p, s in engine.link(removed, seen)}
    s1 = out["s1"]
    assert s1 is not None and s1.removed == "r1" and s1.proposed
    assert {r.signal for r in s1.reasons} == {"title", "title_unique", "created_after"}
    assert s1.score == pytest.approx(
        WEIGHTS["title"] + WEIGHTS["title_unique"] + WEIGHTS["created_after"]
    )
    s2 = out["s2"]
    assert s2 is not None and not s2.proposed
    assert "title_unique" not in {r.signal for r in s2.reasons}


def test_a_successor_on_another_platform_is_scored_like_any_other() -> None:
    """A Telegram channel back as a Rocket.Chat room: the index is not split by platform."""
    old = _p("r1", "abumedia", title="Abu Media", removed_at=T0)
    new = Profile(
        key="s1",
        platform="rocket",
        handle="abumedia_back",
        title="Abu Media",
        first_seen_at=T0 + dt.timedelta(hours=3),
    )
    [(_, best)] = engine.link([old], [new])
    assert best is not None and best.removed == "r1" and best.proposed


def test_a_name_kept_along_one_lineage_is_still_unique() -> None:
    """A removed successor keeps its predecessor's name: one lineage, one holder."""
    removed = [
        _p("r1", "kalomi", title="Zeraqu Baditi", removed_at=T0),
        _p(
            "r2",
            "kalomi2",
            title="Zeraqu Baditi",
            removed_at=T0 + dt.timedelta(hours=5),
            predecessor="r1",
        ),
        _p("r3", "vona", title="Vona Lytemi", removed_at=T0),
        _p("r4", "rina", title="Vona Lytemi", removed_at=T0),  # another lineage, same name
    ]
    later = T0 + dt.timedelta(hours=9)
    seen = [
        _p("s1", "qaswarat", title="Zeraqu Baditi", first_seen_at=later),
        _p("s2", "ulvodi", title="Vona Lytemi", first_seen_at=later),
    ]
    out = {p.key: s for p, s in engine.link(removed, seen)}
    s1, s2 = out["s1"], out["s2"]
    assert s1 is not None and s1.proposed and s1.removed == "r2"  # the latest of the lineage
    assert "title_unique" in {r.signal for r in s1.reasons}
    assert s2 is not None and not s2.proposed
