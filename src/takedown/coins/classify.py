"""Listing classification: forged or identity documents, weapons, explosives and precursors,
fundraising and donations, propaganda, other, in Arabic, English, French, German,
Russian and Turkish, offline.

Why rules: an analyst must see *why* a listing was put in a category, and a rule is
its own explanation: the words that decided are returned as highlights. Each term
is a stem (it matches any word it begins; German compounds and Arabic words with
attached articles or prepositions match anywhere inside the word) with a weight:
2 for a noun that alone names the category, 1 for a word that only supports it.
A category needs a score of 2. Nothing is downloaded; the lexicon is below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CATEGORIES = ("documents", "weapons", "explosives", "fundraising", "propaganda", "other")
LANGUAGES = ("ar", "en", "fr", "de", "ru", "tr")
THRESHOLD = 2

# category -> language -> {stem: weight}
LEXICON: dict[str, dict[str, dict[str, int]]] = {
    "documents": {
        "en": {
            "passport": 2,
            "identity": 2,
            "id card": 2,
            "licence": 2,
            "license": 2,
            "permit": 2,
            "visa": 2,
            "forged": 1,
            "fake": 1,
            "document": 1,
            "hologram": 1,
        },
        "fr": {
            "passeport": 2,
            "identité": 2,
            "permis": 2,
            "séjour": 2,
            "visa": 2,
            "falsifi": 1,
            "faux": 1,
            "document": 1,
        },
        "de": {
            "reisepass": 2,
            "ausweis": 2,
            "führerschein": 2,
            "aufenthalt": 2,
            "visum": 2,
            "gefälscht": 1,
            "falsch": 1,
            "dokument": 1,
        },
        "ru": {
            "паспорт": 2,
            "загранпаспорт": 2,
            "удостоверени": 2,
            "водительск": 2,
            "жительств": 2,
            "виза": 2,
            "поддельн": 1,
            "документ": 1,
        },
        "tr": {
            "pasaport": 2,
            "kimlik": 2,
            "ehliyet": 2,
            "oturma izni": 2,
            "vize": 2,
            "sahte": 1,
            "belge": 1,
        },
        "ar": {
            "جواز": 2,
            "جوازات": 2,
            "هوية": 2,
            "رخصة": 2,
            "إقامة": 2,
            "تأشيرة": 2,
            "مزور": 1,
            "وثائق": 1,
        },
    },
    "weapons": {
        "en": {
            "pistol": 2,
            "rifle": 2,
            "ammunition": 2,
            "ammo": 2,
            "firearm": 2,
            "handgun": 2,
            "gun": 1,
            "caliber": 1,
            "glock": 2,
            "kalashnikov": 2,
        },
        "fr": {
            "pistolet": 2,
            "fusil": 2,
            "munition": 2,
            "armes": 2,
            "arme de": 2,
            "arme à": 2,
            "chargeur": 1,
            "calibre": 1,
        },
        "de": {"pistole": 2, "gewehr": 2, "munition": 2, "waffe": 2, "magazin": 1, "kaliber": 1},
        "ru": {
            "пистолет": 2,
            "винтовк": 2,
            "патрон": 2,
            "автомат": 2,
            "оружи": 2,
            "огнестрел": 2,
            "магазин": 1,
            "калибр": 1,
        },
        "tr": {"tabanca": 2, "tüfe": 2, "mühimmat": 2, "silah": 2, "fişek": 2, "şarjör": 1},
        "ar": {"مسدس": 2, "بندقي": 2, "ذخير": 2, "سلاح": 2, "أسلحة": 2, "مخازن": 1},
    },
    "explosives": {
        "en": {
            "explosive": 2,
            "detonator": 2,
            "precursor": 2,
            "blasting": 2,
            "semtex": 2,
            "tnt": 2,
            "ammonium nitrate": 2,
            "oxidiser": 1,
            "oxidizer": 1,
        },
        "fr": {"explosif": 2, "détonateur": 2, "précurseur": 2, "amorce": 2},
        "de": {
            "sprengstoff": 2,
            "zünder": 2,
            "sprengkapsel": 2,
            "ausgangsstoff": 2,
            "grundstoff": 1,
        },
        "ru": {
            "взрывчат": 2,
            "детонатор": 2,
            "прекурсор": 2,
            "капсюл": 2,
            "пластит": 2,
            "тротил": 2,
        },
        "tr": {"patlayıcı": 2, "fünye": 2, "öncül": 2, "kapsül": 1},
        "ar": {"متفجر": 2, "صاعق": 2, "صواعق": 2, "سلائف": 2, "تفجير": 2},
    },
    "fundraising": {
        "en": {
            "donat": 2,
            "zakat": 2,
            "sadaqa": 2,
            "fundrais": 2,
            "crowdfund": 2,
            "support our": 1,
            "support the": 1,
            "campaign": 1,
            "contribut": 1,
            "equip": 1,
        },
        "fr": {
            "don": 2,
            "dons": 2,
            "zakat": 2,
            "collecte": 2,
            "cagnotte": 2,
            "soutenez": 1,
            "campagne": 1,
        },
        "de": {"spende": 2, "spendet": 2, "zakat": 2, "unterstützt": 1, "kampagne": 1},
        "ru": {"пожертв": 2, "закят": 2, "садак": 2, "сбор средств": 2, "поддерж": 1},
        "tr": {"bağış": 2, "zekat": 2, "sadaka": 2, "destek": 1, "kampanya": 1},
        "ar": {"تبرع": 2, "زكاة": 2, "صدقة": 2, "ادعم": 1, "دعم": 1, "حملة": 1},
    },
    "propaganda": {
        "en": {
            "release": 2,
            "statement": 2,
            "nashid": 2,
            "nasheed": 2,
            "martyr": 2,
            "media office": 2,
            "issue": 1,
            "video": 1,
            "share": 1,
            "magazine": 1,
        },
        "fr": {
            "publication": 2,
            "communiqué": 2,
            "anachid": 2,
            "nachid": 2,
            "médiatique": 2,
            "vidéo": 1,
            "numéro": 1,
            "magazine": 1,
            "partagez": 1,
        },
        "de": {
            "veröffentlichung": 2,
            "erklärung": 2,
            "naschid": 2,
            "medienbüro": 2,
            "video": 1,
            "ausgabe": 1,
            "magazin": 1,
            "teilt": 1,
        },
        "ru": {
            "выпуск": 2,
            "заявлени": 2,
            "нашид": 2,
            "медиа": 2,
            "видео": 1,
            "журнал": 1,
            "номер": 1,
            "распространя": 1,
        },
        "tr": {
            "yayın": 1,
            "açıklama": 2,
            "neşid": 2,
            "medya": 2,
            "video": 1,
            "dergi": 1,
            "paylaş": 1,
        },
        "ar": {
            "إصدار": 2,
            "الإصدار": 2,
            "بيان": 2,
            "نشيد": 2,
            "إعلام": 2,
            "مرئي": 1,
            "مجلة": 1,
            "انشروا": 1,
        },
    },
}

_WORD = re.compile(r"\w+", re.UNICODE)
_AR_PREFIXES = ("وال", "بال", "لل", "ال", "و", "ب", "ل", "ف")


@dataclass(frozen=True)
class Highlight:
    start: int
    end: int
    category: str
    term: str
    weight: int


@dataclass
class Classification:
    categories: list[str]
    scores: dict[str, int]
    highlights: list[Highlight] = field(default_factory=list)
    language: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "categories": self.categories,
            "scores": self.scores,
            "language": self.language,
            "highlights": [
                {"start": h.start, "end": h.end, "category": h.category, "term": h.term}
                for h in self.highlights
            ],
        }


@dataclass(frozen=True)
class _CatMatcher:
    category: str
    prefix: re.Pattern[str] | None  # stems a word must begin with
    anywhere: re.Pattern[str] | None  # German and Arabic stems, found inside compounds
    exact: frozenset[str]  # short words that must match whole
    weights: dict[str, int]


# Exact-word terms: short stems would match too much as prefixes ("don" in "donc").
_EXACT = {"don", "dons", "gun", "tnt", "visa", "vize", "faux"}


def _alt(stems: list[str]) -> re.Pattern[str] | None:
    if not stems:
        return None
    return re.compile("|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)))


def _compile() -> tuple[list[_CatMatcher], list[tuple[re.Pattern[str], str, str, int]]]:
    matchers: list[_CatMatcher] = []
    multi: list[tuple[re.Pattern[str], str, str, int]] = []
    for cat, langs in LEXICON.items():
        prefix: list[str] = []
        anywhere: list[str] = []
        exact: set[str] = set()
        weights: dict[str, int] = {}
        for lang, terms in langs.items():
            for term, w in terms.items():
                t = term.casefold()
                if " " in t:
                    multi.append((re.compile(r"\b" + re.escape(t)), cat, term, w))
                    continue
                weights[t] = max(w, weights.get(t, 0))
                if t in _EXACT:
                    exact.add(t)
                elif lang in ("de", "ar") and len(t) >= 4:
                    anywhere.append(t)
                else:
                    prefix.append(t)
        matchers.append(_CatMatcher(cat, _alt(prefix), _alt(anywhere), frozenset(exact), weights))
    return matchers, multi


_MATCHERS, _MULTI = _compile()


def _token_hits(word: str) -> list[tuple[str, str, int]]:
    """(stem, category, weight) for each category this word supports (its best stem)."""
    w = word.casefold()
    forms = [w]
    for p in _AR_PREFIXES:
        if w.startswith(p) and len(w) - len(p) >= 3:
            forms.append(w[len(p) :])
    out: list[tuple[str, str, int]] = []
    for m in _MATCHERS:
        best: str | None = None
        for f in forms:
            if f in m.exact:
                best = f
                break
            hit = m.prefix.match(f) if m.prefix else None
            if hit is None and m.anywhere is not None:
                hit = m.anywhere.search(f)
            if hit is not None:
                best = hit.group()
                break
        if best is not None:
            out.append((best, m.category, m.weights[best]))
    return out


def detect_language(text: str) -> str | None:
    from takedown.items.language import suggest_language

    for lang, _score in suggest_language(text[:2000], top=3):
        if lang in LANGUAGES:
            return lang
    return None


def classify(text: str, *, language: bool = True) -> Classification:
    """Categories of one listing, post or page text, with the words that decided."""
    text = text[:200_000]
    scores: dict[str, int] = {}
    hits: list[Highlight] = []
    seen_terms: set[tuple[str, str]] = set()
    for m in _WORD.finditer(text):
        word = m.group()
        if len(word) < 3 or word.isdigit():
            continue
        for stem, cat, weight in _token_hits(word):
            hits.append(Highlight(m.start(), m.end(), cat, stem, weight))
            if (cat, stem) not in seen_terms:  # a repeated word counts once
                seen_terms.add((cat, stem))
                scores[cat] = scores.get(cat, 0) + weight
    low = text.casefold()
    for pat, cat, term, weight in _MULTI:
        for m in pat.finditer(low):
            hits.append(Highlight(m.start(), m.end(), cat, term, weight))
            if (cat, term) not in seen_terms:
                seen_terms.add((cat, term))
                scores[cat] = scores.get(cat, 0) + weight
    cats = [c for c in CATEGORIES[:-1] if scores.get(c, 0) >= THRESHOLD]
    if not cats:
        cats = ["other"]
    decided = set(cats)
    hits = sorted((h for h in hits if h.category in decided), key=lambda h: (h.start, h.end))
    return Classification(cats, scores, hits, detect_language(text) if language else None)


def highlight_spans(text: str, result: Classification) -> list[tuple[str, str | None]]:
    """``text`` cut into (piece, category or None) for a page to mark the deciding words."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    for h in result.highlights:
        if h.start < pos:
            continue
        if h.start > pos:
            out.append((text[pos : h.start], None))
        out.append((text[h.start : h.end], h.category))
        pos = h.end
    if pos < len(text):
        out.append((text[pos:], None))
    return out
