"""Synthetic market listings and forum posts for the testbed's ``.onion`` sites.

Every listing is invented: generic phrases in six languages (ar, en, fr, de, ru, tr),
no real vendor, product or instruction. Each carries its ground truth (categories,
language, the addresses it posts and how they were written), so the listing
classifier and address extraction can be scored on listings they never saw.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from takedown.sim.wallets import FORMS, make_address, write_as

CATEGORIES = ("documents", "weapons", "explosives", "fundraising", "propaganda", "other")
LANGS = ("ar", "en", "fr", "de", "ru", "tr")

# Phrases per category and language. Generic on purpose: enough for a classifier to
# learn the vocabulary, nothing that describes how to make or obtain anything.
PHRASES: dict[str, dict[str, list[str]]] = {
    "documents": {
        "en": [
            "passports of any country",
            "forged ID cards",
            "driving licence with hologram",
            "residence permit",
            "fake passport with stamps",
            "identity documents, scanned",
        ],
        "fr": [
            "faux passeports",
            "carte d'identité falsifiée",
            "permis de conduire",
            "titre de séjour",
            "passeport biométrique",
            "documents d'identité",
        ],
        "de": [
            "gefälschte Reisepässe",
            "Personalausweis",
            "Führerschein mit Hologramm",
            "Aufenthaltstitel",
            "falscher Reisepass",
            "Ausweisdokumente",
        ],
        "ru": [
            "поддельные паспорта",
            "удостоверение личности",
            "водительские права",
            "вид на жительство",
            "загранпаспорт",
            "документы любой страны",
        ],
        "tr": [
            "sahte pasaport",
            "kimlik kartı",
            "ehliyet hologramlı",
            "oturma izni",
            "pasaport her ülke",
            "kimlik belgeleri",
        ],
        "ar": ["جوازات سفر مزورة", "بطاقة هوية", "رخصة قيادة", "إقامة", "جواز سفر", "وثائق هوية"],
    },
    "weapons": {
        "en": [
            "pistols and rifles",
            "ammunition in bulk",
            "assault rifle, clean",
            "handgun with spare magazine",
            "firearms shipped discreetly",
            "sniper rifle",
        ],
        "fr": [
            "pistolets et fusils",
            "munitions",
            "fusil d'assaut",
            "arme de poing",
            "armes à feu",
            "chargeurs",
        ],
        "de": [
            "Pistolen und Gewehre",
            "Munition",
            "Sturmgewehr",
            "Handfeuerwaffe",
            "Schusswaffen",
            "Magazine",
        ],
        "ru": [
            "пистолеты и винтовки",
            "патроны",
            "автомат",
            "огнестрельное оружие",
            "оружие",
            "магазины",
        ],
        "tr": [
            "tabanca ve tüfek",
            "mühimmat",
            "silah",
            "piyade tüfeği",
            "ateşli silahlar",
            "şarjör",
        ],
        "ar": ["مسدسات وبنادق", "ذخيرة", "بندقية هجومية", "سلاح", "أسلحة نارية", "مخازن"],
    },
    "explosives": {
        "en": [
            "explosives, industrial grade",
            "detonators",
            "precursor chemicals",
            "blasting caps",
            "plastic explosive",
            "oxidiser precursors",
        ],
        "fr": [
            "explosifs",
            "détonateurs",
            "précurseurs chimiques",
            "amorces",
            "explosif plastique",
            "produits précurseurs",
        ],
        "de": [
            "Sprengstoff",
            "Zünder",
            "Ausgangsstoffe",
            "Sprengkapseln",
            "plastischer Sprengstoff",
            "Grundstoffe für Sprengstoff",
        ],
        "ru": [
            "взрывчатка",
            "детонаторы",
            "прекурсоры",
            "капсюли",
            "пластит",
            "взрывчатые вещества",
        ],
        "tr": [
            "patlayıcı",
            "fünye",
            "öncül kimyasallar",
            "kapsül",
            "plastik patlayıcı",
            "patlayıcı madde",
        ],
        "ar": [
            "متفجرات",
            "صواعق",
            "سلائف كيميائية",
            "كبسولات تفجير",
            "متفجرات بلاستيكية",
            "مواد متفجرة",
        ],
    },
    "fundraising": {
        "en": [
            "donate to support the brothers",
            "zakat for the cause",
            "fundraising campaign",
            "your donation equips a fighter",
            "support our mujahideen",
            "send your sadaqah",
        ],
        "fr": [
            "faites un don pour les frères",
            "zakat pour la cause",
            "campagne de dons",
            "soutenez nos combattants",
            "votre don compte",
            "collecte de fonds",
        ],
        "de": [
            "spendet für die Brüder",
            "Zakat für die Sache",
            "Spendenkampagne",
            "unterstützt unsere Kämpfer",
            "eure Spende zählt",
            "Spendenaufruf",
        ],
        "ru": [
            "пожертвуйте братьям",
            "закят на дело",
            "сбор средств",
            "поддержите бойцов",
            "ваше пожертвование",
            "садака",
        ],
        "tr": [
            "kardeşlere bağış yapın",
            "zekat davamız için",
            "bağış kampanyası",
            "mücahitlere destek",
            "bağışınız",
            "sadaka gönderin",
        ],
        "ar": ["تبرعوا لدعم الإخوة", "زكاة", "حملة تبرعات", "ادعموا المجاهدين", "تبرعكم", "صدقة"],
    },
    "propaganda": {
        "en": [
            "new release from the media office",
            "official statement",
            "nashid, full HD",
            "new issue of the magazine",
            "watch and share the video",
            "martyrdom video",
        ],
        "fr": [
            "nouvelle publication du bureau médiatique",
            "communiqué officiel",
            "nouveau numéro du magazine",
            "partagez la vidéo",
            "anachid",
            "vidéo officielle",
        ],
        "de": [
            "neue Veröffentlichung des Medienbüros",
            "offizielle Erklärung",
            "neue Ausgabe des Magazins",
            "teilt das Video",
            "Naschid",
            "Video der Brüder",
        ],
        "ru": [
            "новый выпуск медиа-офиса",
            "официальное заявление",
            "новый номер журнала",
            "смотрите и распространяйте видео",
            "нашид",
            "видеообращение",
        ],
        "tr": [
            "medya ofisinden yeni yayın",
            "resmi açıklama",
            "derginin yeni sayısı",
            "videoyu izleyin ve paylaşın",
            "neşid",
            "yeni video",
        ],
        "ar": [
            "إصدار جديد من المكتب الإعلامي",
            "بيان رسمي",
            "العدد الجديد من المجلة",
            "شاهدوا وانشروا الإصدار",
            "نشيد",
            "إصدار مرئي",
        ],
    },
    "other": {
        "en": [
            "VPN accounts, lifetime",
            "e-books bundle",
            "gift cards at half price",
            "hosting and domains",
            "tutorial collection",
            "streaming accounts",
        ],
        "fr": [
            "comptes VPN",
            "lot de livres numériques",
            "cartes cadeaux",
            "hébergement web",
            "collection de tutoriels",
            "comptes de streaming",
        ],
        "de": [
            "VPN-Zugänge",
            "E-Book-Paket",
            "Geschenkkarten",
            "Webhosting",
            "Anleitungssammlung",
            "Streaming-Konten",
        ],
        "ru": [
            "VPN аккаунты",
            "электронные книги",
            "подарочные карты",
            "хостинг",
            "сборник уроков",
            "аккаунты стриминга",
        ],
        "tr": [
            "VPN hesapları",
            "e-kitap paketi",
            "hediye kartları",
            "web barındırma",
            "eğitim koleksiyonu",
            "yayın hesapları",
        ],
        "ar": [
            "حسابات VPN",
            "كتب إلكترونية",
            "بطاقات هدايا",
            "استضافة مواقع",
            "مجموعة دروس",
            "حسابات بث",
        ],
    },
}

# Market filler shared by every listing (price, escrow, shipping): must not decide.
FILLER: dict[str, list[str]] = {
    "en": [
        "Escrow accepted.",
        "Ships worldwide.",
        "PGP only.",
        "Fast replies.",
        "Price:",
        "Trusted vendor since 2019.",
        "Read my terms first.",
    ],
    "fr": [
        "Escrow accepté.",
        "Livraison partout.",
        "PGP uniquement.",
        "Prix :",
        "Vendeur de confiance.",
        "Réponse rapide.",
    ],
    "de": [
        "Treuhand möglich.",
        "Versand weltweit.",
        "Nur PGP.",
        "Preis:",
        "Vertrauenswürdiger Verkäufer.",
        "Schnelle Antwort.",
    ],
    "ru": [
        "Гарант принимается.",
        "Доставка по миру.",
        "Только PGP.",
        "Цена:",
        "Надёжный продавец.",
        "Быстрый ответ.",
    ],
    "tr": [
        "Emanet kabul.",
        "Dünyaya gönderim.",
        "Sadece PGP.",
        "Fiyat:",
        "Güvenilir satıcı.",
        "Hızlı yanıt.",
    ],
    "ar": ["نقبل الوسيط.", "شحن لكل الدول.", "PGP فقط.", "السعر:", "بائع موثوق.", "رد سريع."],
}

PAY: dict[str, str] = {
    "en": "Pay to",
    "fr": "Paiement à",
    "de": "Zahlung an",
    "ru": "Оплата на",
    "tr": "Ödeme adresi",
    "ar": "الدفع إلى",
}
DONATE_ASSETS = (
    ("btc", "p2wpkh"),
    ("btc", "p2pkh"),
    ("btc", "p2tr"),
    ("xmr", "standard"),
    ("tron", "base58check"),
    ("evm", "eip55"),
    ("ltc", "p2wpkh"),
)


@dataclass
class Listing:
    id: str
    kind: str  # listing | thread | post | vendor
    lang: str
    title: str
    text: str
    categories: list[str]
    addresses: list[dict[str, str]] = field(default_factory=list)

    def truth(self) -> dict[str, Any]:
        return {
            "type": "listing",
            "id": self.id,
            "kind": self.kind,
            "lang": self.lang,
            "categories": self.categories,
            "addresses": self.addresses,
        }


def make_listing(rng: random.Random, n: int, *, seed: int = 1) -> Listing:
    """One listing: a main category (fundraising posts often carry propaganda too)."""
    lang = rng.choice(LANGS)
    cat = rng.choice(CATEGORIES)
    cats = [cat]
    if cat == "fundraising" and rng.random() < 0.3:
        cats.append("propaganda")
    parts: list[str] = []
    for c in cats:
        parts.extend(rng.sample(PHRASES[c][lang], k=2))
    parts.extend(rng.sample(FILLER[lang], k=2))
    rng.shuffle(parts)
    kind = "listing" if cat in ("documents", "weapons", "explosives", "other") else "post"
    addresses: list[dict[str, str]] = []
    pay_count = 1 if cat != "fundraising" else rng.choice((1, 1, 2))
    if cat == "propaganda" and len(cats) == 1 and rng.random() < 0.6:
        pay_count = 0
    for k in range(pay_count):
        kind_, script = rng.choice(DONATE_ASSETS)
        addr = make_address(kind_, script, f"listing:{seed}:{n}:{k}")
        form = rng.choice(FORMS)
        written = write_as(addr, form, rng.randint(0, 40))
        canon = addr.lower() if addr.lower().startswith(("bc1", "ltc1")) else addr
        addresses.append({"kind": kind_, "address": canon, "form": form})
        usdt = " USDT TRC20" if kind_ == "tron" else ""
        parts.append(f"{PAY[lang]}{usdt}: {written}")
    title = PHRASES[cat][lang][rng.randrange(len(PHRASES[cat][lang]))].capitalize()
    text = " ".join(parts)
    return Listing(f"L{seed}-{n}", kind, lang, title, text, cats, addresses)


def make_listings(count: int, seed: int = 1) -> list[Listing]:
    rng = random.Random(f"listings:{seed}")
    return [make_listing(rng, n, seed=seed) for n in range(count)]


def add_to_world(world: Any, platform: Any, rng: random.Random, count: int) -> None:
    """Market threads on an ``.onion`` forum, one per category, holding ``count`` listings."""
    made = make_listings(count, seed=world.seed)
    window = max(3600, int(platform.content.spread_hours * 3600))
    owners: dict[str, Any] = {}
    for listing in made:
        main = listing.categories[0]
        owner = owners.get(main)
        if owner is None:
            owner = owners[main] = world.make_owner(rng, platform, world.start - window)
        t = rng.randint(owner.appeared_at + 60, world.start - 60)
        child = world.make_child(rng, platform, owner, t, text=listing.text)
        child.title = listing.title
        child.lang = listing.lang
        child.media.clear()
        world.listings[child.id] = listing.truth()


def posted_addresses(world: Any, kind: str = "btc") -> list[str]:
    """The ``kind`` addresses posted in fundraising listings (the chain funds them)."""
    out: list[str] = []
    for truth in world.listings.values():
        if "fundraising" not in truth["categories"]:
            continue
        out.extend(a["address"] for a in truth["addresses"] if a["kind"] == kind)
    return list(dict.fromkeys(out))
