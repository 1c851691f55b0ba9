from __future__ import annotations

from takedown.matching.hashers.text import TextSimHasher, hamming64, normalise, simhash_hex

EN = (
    "The river market opens at dawn. Every lantern on the harbor bridge is lit for the "
    "morning procession, and the orchard keepers bring their baskets to the valley station."
)
AR = (
    "يفتح سوق النهر عند الفجر، وتضاء كل الفوانيس على جسر الميناء لموكب الصباح، "
    "ويحمل حراس البستان سلالهم إلى محطة الوادي في الساعة السابعة."
)


def test_normalise_folds_arabic_variants_diacritics_and_tatweel() -> None:
    assert normalise("أحمد إلى آخر") == normalise("احمد الي اخر")
    assert normalise("مَدْرَسَة") == normalise("مدرسه")
    assert normalise("كـــتاب") == normalise("كتاب")
    assert normalise("کتاب یک") == normalise("كتاب يك")
    assert normalise("Café  DÉJÀ-vu!!") == "cafe deja vu"
    assert normalise("٢٠٢٦") == "2026"


def test_near_duplicates_match_and_unrelated_texts_do_not() -> None:
    h = TextSimHasher()
    base_en = h.hash_text(EN).value
    edited_en = h.hash_text(EN.upper().replace(",", " ,").replace("dawn", "dawn!!") + "  ").value
    small_edit = h.hash_text(EN.replace("baskets", "basket")).value
    assert hamming64(base_en, edited_en) <= 3
    assert hamming64(base_en, small_edit) <= 10
    base_ar = h.hash_text(AR).value
    variant_ar = h.hash_text(
        AR.replace("ا", "أ", 3).replace("ه", "ة", 1).replace("سوق", "ســوق") + " ؟"
    ).value
    harakat = h.hash_text(AR.replace("سوق", "سُوق").replace("النهر", "النَّهر")).value
    assert hamming64(base_ar, variant_ar) <= 10
    assert hamming64(base_ar, harakat) <= 10
    assert hamming64(base_en, base_ar) > 10
    other = h.hash_text(
        "A completely unrelated notice about tomorrow's weather in the summit archive."
    )
    assert hamming64(base_en, other.value) > 10


def test_short_text_is_not_usable() -> None:
    value, usable, n = simhash_hex("ok!")
    assert not usable and n == 2 and len(value) == 16
    assert TextSimHasher().hash(b"hi")[0].usable is False
