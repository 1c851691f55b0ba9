"""Listing classification: six languages, deciding words, held-apart synthetic listings."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from takedown.coins import listings as listing_classes
from takedown.coins.classify import CATEGORIES, classify, highlight_spans
from takedown.sim.listings import LANGS, make_listings
from tests.factories import make_actor
from tests.items.factories import make_item

EXAMPLES = [
    ("Selling fake passports and ID cards, escrow ok", "documents"),
    ("Vends pistolets et munitions, livraison discrète", "weapons"),
    ("Sprengstoff und Zünder, nur PGP", "explosives"),
    ("Пожертвуйте братьям, закят на дело", "fundraising"),
    ("Medya ofisinden yeni yayını ve resmi açıklama", "propaganda"),
    ("تبرعوا لدعم الإخوة، زكاة", "fundraising"),
    ("بيع جوازات سفر مزورة", "documents"),
    ("VPN accounts and gift cards, cheap", "other"),
]


@pytest.mark.parametrize(("text", "category"), EXAMPLES)
def test_examples(text: str, category: str) -> None:
    r = classify(text)
    assert category in r.categories
    if category != "other":
        marked = [piece for piece, cat in highlight_spans(text, r) if cat == category]
        assert marked, "the deciding words are highlighted"


def test_language_is_suggested() -> None:
    assert classify("Selling fake passports and identity cards of every country").language == "en"


def test_held_apart_listings_precision_and_recall() -> None:
    """The lexicon was written against seed 99; these listings (seed 7) were never looked at."""
    held = make_listings(600, seed=7)
    assert {x.lang for x in held} == set(LANGS)
    for cat in CATEGORIES:
        tp = fp = fn = 0
        for x in held:
            got = cat in classify(x.title + "\n" + x.text, language=False).categories
            exp = cat in x.categories
            tp += got and exp
            fp += got and not exp
            fn += exp and not got
        assert tp / max(1, tp + fp) >= 0.95, cat
        assert tp / max(1, tp + fn) >= 0.95, cat


def test_hostile_text_is_bounded() -> None:
    r = classify("passport " * 100_000 + "x" * 500_000)
    assert r.categories == ["documents"]


def test_item_titles_are_classified_per_agency(db_session: Session, coins_hooks: None) -> None:
    a = make_actor(db_session)
    b = make_actor(db_session)
    item = make_item(db_session, a, title="Donate to support the brothers, zakat accepted")
    [row] = listing_classes.of_item(db_session, a.principal, item.id)
    assert row.categories == ["fundraising"] and row.highlights
    assert listing_classes.of_item(db_session, b.principal, item.id) == []
    plain = make_item(db_session, a, title="Weather in the mountains today")
    assert listing_classes.of_item(db_session, a.principal, plain.id) == []
    assert [r.item_id for r in listing_classes.recent(db_session, a.principal)] == [item.id]
