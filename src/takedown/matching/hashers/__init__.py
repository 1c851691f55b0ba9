"""Built-in hashers: SHA-256/MD5, PDQ for images, frame-PDQ for video, SimHash for text."""

from __future__ import annotations

from takedown.matching.base import Hasher


def builtin_hashers() -> list[Hasher]:
    from takedown.matching.hashers.crypto import DigestHasher
    from takedown.matching.hashers.image import PdqHasher
    from takedown.matching.hashers.text import TextSimHasher
    from takedown.matching.hashers.video import VideoPdqHasher

    return [
        DigestHasher("sha256"),
        DigestHasher("md5"),
        PdqHasher(),
        VideoPdqHasher(),
        TextSimHasher(),
    ]
