"""The contract every hasher (built-in or plug-in) passes."""

from __future__ import annotations

import pytest

from takedown.matching.base import Hasher, HashResult, MediaError
from takedown.matching.registry import all_hashers
from tests.matching import media

SAMPLES = {
    "image": lambda: media.poster(1),
    "video": lambda: media.video(1, seconds=2.0),
    "text": lambda: b"A synthetic statement long enough to fingerprint reliably.",
    "file": lambda: b"\x00\x01 arbitrary bytes",
}


@pytest.mark.parametrize("hasher", all_hashers(), ids=lambda h: h.name)
def test_hasher_contract(hasher: Hasher) -> None:
    assert isinstance(hasher, Hasher)
    assert hasher.name and hasher.signal_type
    kinds = [k for k in SAMPLES if hasher.accepts(k)]
    assert kinds, "a hasher accepts at least one kind of media"
    for kind in kinds:
        results = hasher.hash(SAMPLES[kind]())
        assert results and all(isinstance(r, HashResult) for r in results)
        assert {r.signal_type for r in results} == {hasher.signal_type}
        assert all(r.value == r.value.lower() and int(r.value, 16) >= 0 for r in results)
        # Deterministic: the same bytes give the same hashes.
        assert [r.value for r in hasher.hash(SAMPLES[kind]())] == [r.value for r in results]
    if kinds != list(SAMPLES):  # perceptual hashers refuse garbage with the typed error
        with pytest.raises(MediaError):
            hasher.hash(b"\xff\xfe\x00 not media")


def test_names_are_unique() -> None:
    names = [h.name for h in all_hashers()]
    assert len(names) == len(set(names))
