"""Language suggestion with py3langid (its model ships in the wheel; nothing downloads).

Short Arabic-script texts are ambiguous (Pashto, Urdu, Persian, Arabic), so we
keep the top guesses for the analyst instead of one answer.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_identifier: Any = None
MIN_CHARS = 3


def _get() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def suggest_language(text: str | None, top: int = 3) -> list[tuple[str, float]]:
    """The ``top`` most likely ISO 639-1 codes with normalised scores; [] for no usable text."""
    if not text or len(text.strip()) < MIN_CHARS:
        return []
    ranked = _get().rank(text.strip())
    return [(str(lang), round(float(score), 4)) for lang, score in ranked[:top]]
