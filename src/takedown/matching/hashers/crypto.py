"""SHA-256 and MD5 of any file, read in chunks so a large video never sits in memory twice."""

from __future__ import annotations

import hashlib
from pathlib import Path

from takedown.matching.base import HashResult, MediaError, MediaInput

CHUNK = 1 << 20


def digest(data: MediaInput, algorithm: str) -> str:
    h = (
        hashlib.new(algorithm, usedforsecurity=False)
        if algorithm == "md5"
        else hashlib.new(algorithm)
    )
    if isinstance(data, Path):
        try:
            with data.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    h.update(chunk)
        except OSError as exc:
            raise MediaError(f"cannot read {data.name}: {exc.strerror}") from exc
    else:
        h.update(data)
    return h.hexdigest()


class DigestHasher:
    """Exact-match hashes. MD5 is kept because shared hash lists (GIFCT, TCAP) carry it."""

    def __init__(self, algorithm: str) -> None:
        if algorithm not in ("sha256", "md5"):
            raise ValueError(f"unsupported digest {algorithm}")
        self.name = algorithm
        self.signal_type = algorithm

    def accepts(self, media_type: str) -> bool:
        return True

    def hash(self, data: MediaInput) -> list[HashResult]:
        return [HashResult(self.signal_type, digest(data, self.name))]
