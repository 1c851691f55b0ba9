"""Near-duplicate text: normalisation, character shingles and a 64-bit SimHash.

Reposted statements differ by whitespace, punctuation, diacritics, the
spelling variants of Arabic-script letters, and small edits. Normalisation
folds all of those away; SimHash over character 4-gram shingles then moves
only a few bits for a small edit, while unrelated texts sit near 32 bits
apart. Matching uses the same binary index as PDQ (64-bit codes).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np

from takedown.matching.base import HashResult, MediaError, MediaInput, read_input

SIGNAL_TYPE = "text_simhash"
SHINGLE = 4
#: Fewer normalised characters than this cannot be fingerprinted reliably.
MIN_CHARS = 24
#: Default distance threshold (of 64 bits) for "the same text".
DEFAULT_THRESHOLD = 10

_ARABIC_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ک": "ك",  # Persian keheh -> Arabic kaf
        "ی": "ي",  # Persian yeh -> Arabic yeh
        "ې": "ي",
        "ھ": "ه",
        "ہ": "ه",
        "ۀ": "ه",
        "ـ": None,  # tatweel
        "\u200c": None,  # ZWNJ
        "\u200d": None,  # ZWJ
        "\u200f": None,  # RLM
        "\u200e": None,  # LRM
    }
)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Fold case, diacritics (incl. Arabic harakat), letter variants, digits and punctuation."""
    t = unicodedata.normalize("NFKD", text)
    # Mn covers Latin combining accents and Arabic harakat, shadda, sukun, superscript alef.
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Mn")
    t = unicodedata.normalize("NFC", t).translate(_ARABIC_FOLD).translate(_DIGITS).casefold()
    t = _NON_WORD.sub(" ", t)
    return " ".join(t.split())


def shingles(norm: str, k: int = SHINGLE) -> list[str]:
    if len(norm) <= k:
        return [norm] if norm else []
    return [norm[i : i + k] for i in range(len(norm) - k + 1)]


def _hash64(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=np.uint64)
    for i, s in enumerate(items):
        out[i] = int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
    return out


def simhash(norm: str) -> int:
    """64-bit SimHash of a normalised text (each distinct shingle counted once per occurrence)."""
    grams = shingles(norm)
    if not grams:
        return 0
    hashes = _hash64(grams)
    bits = ((hashes[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).astype(np.int32)
    votes = bits.sum(axis=0) * 2 - len(grams)
    value = 0
    for i in np.flatnonzero(votes > 0):
        value |= 1 << int(i)
    return value


def simhash_hex(text: str) -> tuple[str, bool, int]:
    """(16-hex SimHash, usable, normalised length)."""
    norm = normalise(text)
    return f"{simhash(norm):016x}", len(norm) >= MIN_CHARS, len(norm)


def hamming64(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


class TextSimHasher:
    name = "text_simhash"
    signal_type = SIGNAL_TYPE

    def accepts(self, media_type: str) -> bool:
        return media_type == "text"

    def hash(self, data: MediaInput) -> list[HashResult]:
        raw = read_input(data, max_bytes=16 * 1024 * 1024)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MediaError("text must be UTF-8") from exc
        return [self.hash_text(text)]

    def hash_text(self, text: str) -> HashResult:
        value, usable, n = simhash_hex(text)
        return HashResult(SIGNAL_TYPE, value, usable=usable, extra={"chars": n})
