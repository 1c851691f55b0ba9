"""Invented names and neutral texts for the testbed.

Why: posts, channel names and handles must look like real traffic (several
scripts, handles with digits and suffixes) without being real. Texts are
neutral word salad about weather, markets and towns in seven languages, so
language identification and text matching get realistic input and nothing
instructs or incites anyone. Handle mutations mimic how re-created accounts
are named after a suspension.
"""

from __future__ import annotations

import random

LANGUAGES = ("ar", "en", "fr", "de", "nl", "ru", "tr")

_WORDS: dict[str, list[str]] = {
    "en": [
        "the",
        "river",
        "market",
        "morning",
        "weather",
        "city",
        "bridge",
        "garden",
        "station",
        "road",
        "village",
        "harbor",
        "people",
        "today",
        "news",
        "evening",
        "rain",
        "sun",
        "train",
        "school",
        "library",
        "bakery",
        "festival",
        "music",
        "field",
        "mountain",
        "coast",
        "island",
        "bread",
        "tea",
        "coffee",
        "family",
        "friends",
        "week",
        "report",
        "local",
        "council",
    ],
    "fr": [
        "le",
        "la",
        "marché",
        "matin",
        "temps",
        "ville",
        "pont",
        "jardin",
        "gare",
        "route",
        "village",
        "port",
        "gens",
        "aujourd'hui",
        "nouvelles",
        "soir",
        "pluie",
        "soleil",
        "train",
        "école",
        "bibliothèque",
        "boulangerie",
        "fête",
        "musique",
        "champ",
        "montagne",
        "côte",
        "île",
        "pain",
        "thé",
        "café",
        "famille",
        "amis",
        "semaine",
        "rapport",
        "conseil",
    ],
    "de": [
        "der",
        "die",
        "das",
        "Markt",
        "Morgen",
        "Wetter",
        "Stadt",
        "Brücke",
        "Garten",
        "Bahnhof",
        "Straße",
        "Dorf",
        "Hafen",
        "Leute",
        "heute",
        "Nachrichten",
        "Abend",
        "Regen",
        "Sonne",
        "Zug",
        "Schule",
        "Bibliothek",
        "Bäckerei",
        "Fest",
        "Musik",
        "Feld",
        "Berg",
        "Küste",
        "Insel",
        "Brot",
        "Tee",
        "Kaffee",
        "Familie",
        "Freunde",
        "Woche",
        "Bericht",
        "Rat",
    ],
    "nl": [
        "de",
        "het",
        "markt",
        "ochtend",
        "weer",
        "stad",
        "brug",
        "tuin",
        "station",
        "weg",
        "dorp",
        "haven",
        "mensen",
        "vandaag",
        "nieuws",
        "avond",
        "regen",
        "zon",
        "trein",
        "school",
        "bibliotheek",
        "bakkerij",
        "feest",
        "muziek",
        "veld",
        "berg",
        "kust",
        "eiland",
        "brood",
        "thee",
        "koffie",
        "familie",
        "vrienden",
        "week",
        "verslag",
        "gemeente",
    ],
    "ru": [
        "рынок",
        "утро",
        "погода",
        "город",
        "мост",
        "сад",
        "вокзал",
        "дорога",
        "деревня",
        "гавань",
        "люди",
        "сегодня",
        "новости",
        "вечер",
        "дождь",
        "солнце",
        "поезд",
        "школа",
        "библиотека",
        "пекарня",
        "праздник",
        "музыка",
        "поле",
        "гора",
        "берег",
        "остров",
        "хлеб",
        "чай",
        "кофе",
        "семья",
        "друзья",
        "неделя",
        "отчёт",
        "совет",
    ],
    "tr": [
        "pazar",
        "sabah",
        "hava",
        "şehir",
        "köprü",
        "bahçe",
        "istasyon",
        "yol",
        "köy",
        "liman",
        "insanlar",
        "bugün",
        "haberler",
        "akşam",
        "yağmur",
        "güneş",
        "tren",
        "okul",
        "kütüphane",
        "fırın",
        "bayram",
        "müzik",
        "tarla",
        "dağ",
        "sahil",
        "ada",
        "ekmek",
        "çay",
        "kahve",
        "aile",
        "arkadaşlar",
        "hafta",
        "rapor",
        "meclis",
    ],
    "ar": [
        "السوق",
        "الصباح",
        "الطقس",
        "المدينة",
        "الجسر",
        "الحديقة",
        "المحطة",
        "الطريق",
        "القرية",
        "الميناء",
        "الناس",
        "اليوم",
        "الأخبار",
        "المساء",
        "المطر",
        "الشمس",
        "القطار",
        "المدرسة",
        "المكتبة",
        "المخبز",
        "المهرجان",
        "الموسيقى",
        "الحقل",
        "الجبل",
        "الساحل",
        "الجزيرة",
        "الخبز",
        "الشاي",
        "القهوة",
        "العائلة",
        "الأصدقاء",
        "الأسبوع",
        "التقرير",
    ],
}

_SYL = [
    "ka",
    "lo",
    "mi",
    "ra",
    "su",
    "te",
    "vo",
    "na",
    "di",
    "ze",
    "ba",
    "ri",
    "xo",
    "ul",
    "an",
    "em",
    "or",
    "ib",
    "qa",
    "yo",
    "ha",
    "ne",
    "si",
    "to",
    "fa",
    "ju",
    "ly",
    "ve",
]
_SUFFIXES = ["media", "news", "info", "daily", "archive", "voice", "world", "press", "post"]
_HOMOGLYPHS = {"o": "0", "l": "1", "i": "l", "e": "3", "a": "4", "s": "5", "m": "rn", "b": "6"}


def sentence(rng: random.Random, lang: str, n_min: int = 6, n_max: int = 14) -> str:
    words = [rng.choice(_WORDS[lang]) for _ in range(rng.randint(n_min, n_max))]
    s = " ".join(words)
    if lang == "ar":
        return s + "."
    return s[0].upper() + s[1:] + "."


def paragraph(rng: random.Random, lang: str, sentences: tuple[int, int] = (1, 3)) -> str:
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(*sentences)))


def title(rng: random.Random, lang: str) -> str:
    s = " ".join(rng.choice(_WORDS[lang]) for _ in range(rng.randint(3, 6)))
    return s if lang == "ar" else s[0].upper() + s[1:]


def word(rng: random.Random, syllables: tuple[int, int] = (2, 4)) -> str:
    return "".join(rng.choice(_SYL) for _ in range(rng.randint(*syllables)))


def handle(rng: random.Random, max_len: int = 15) -> str:
    """An invented handle: letters first, then maybe underscore+suffix and digits."""
    h = word(rng)
    r = rng.random()
    if r < 0.35:
        h += "_" + rng.choice(_SUFFIXES)
    elif r < 0.6:
        h += str(rng.randint(1, 99))
    elif r < 0.75:
        h += "_" + word(rng, (1, 2))
    return h[:max_len]


def display_name(rng: random.Random) -> str:
    return " ".join(word(rng, (2, 3)).capitalize() for _ in range(rng.randint(1, 2)))


def onion_host(rng: random.Random) -> str:
    """A well-formed v3 onion address (random key, real checksum), like Tor's own."""
    import base64
    import hashlib

    pubkey = bytes(rng.getrandbits(8) for _ in range(32))
    checksum = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    return base64.b32encode(pubkey + checksum + b"\x03").decode("ascii").lower() + ".onion"


def mutate_handle(rng: random.Random, h: str, max_len: int = 15) -> tuple[str, str]:
    """A successor handle after a suspension. Returns (new_handle, mutation_name)."""
    kinds = ["digit", "swap", "homoglyph", "suffix"]
    rng.shuffle(kinds)
    for kind in kinds:
        new = _mutate(rng, h, kind)
        if new and new != h and new[0].isalpha():
            return new[:max_len], kind
    return (h[: max_len - 2] + str(rng.randint(10, 99))), "digit"


def _mutate(rng: random.Random, h: str, kind: str) -> str | None:
    if kind == "digit":
        i = len(h) - 1
        while i >= 0 and h[i].isdigit():
            i -= 1
        num = h[i + 1 :]
        return h[: i + 1] + (str(int(num) + 1) if num else "1")
    if kind == "swap":
        idx = [i for i in range(1, len(h) - 1) if h[i].isalpha() and h[i + 1].isalpha()]
        idx = [i for i in idx if h[i] != h[i + 1]]
        if not idx:
            return None
        i = rng.choice(idx)
        return h[:i] + h[i + 1] + h[i] + h[i + 2 :]
    if kind == "homoglyph":
        idx = [i for i in range(1, len(h)) if h[i] in _HOMOGLYPHS]
        if not idx:
            return None
        i = rng.choice(idx)
        return h[:i] + _HOMOGLYPHS[h[i]] + h[i + 1 :]
    suffix = rng.choice(["_", "_new", "_back", "2", "_official", "_" + rng.choice(_SUFFIXES)])
    return h + suffix
