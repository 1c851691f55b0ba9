"""Invented names, handle mutations and neutral texts."""

from __future__ import annotations

import random

import pytest

from takedown.sim.content import LANGUAGES, handle, mutate_handle, onion_host, paragraph, title


@pytest.mark.parametrize("lang", LANGUAGES)
def test_texts_in_each_language(lang: str) -> None:
    rng = random.Random(lang)
    text = paragraph(rng, lang)
    assert len(text.split()) >= 6
    assert title(rng, lang)


def test_arabic_and_russian_use_their_scripts() -> None:
    rng = random.Random(1)
    assert any("\u0600" <= ch <= "\u06ff" for ch in paragraph(rng, "ar"))
    assert any("\u0400" <= ch <= "\u04ff" for ch in paragraph(rng, "ru"))


def test_handles_are_valid_identifiers() -> None:
    rng = random.Random(2)
    for _ in range(200):
        h = handle(rng)
        assert h[0].isalpha() and len(h) <= 15
        assert all(c.isalnum() or c == "_" for c in h)


def test_mutations_cover_every_kind() -> None:
    rng = random.Random(3)
    seen: dict[str, str] = {}
    for _ in range(200):
        new, kind = mutate_handle(rng, "salomira_news7")
        assert new != "salomira_news7" and new[0].isalpha()
        seen[kind] = new
    assert set(seen) == {"digit", "swap", "homoglyph", "suffix"}
    assert seen["digit"] == "salomira_news8"


def test_onion_host_shape() -> None:
    host = onion_host(random.Random(4))
    assert host.endswith(".onion") and len(host) == 56 + 6
