"""The hasher interface and the value types every hasher returns.

A hasher turns bytes (or a file) into zero or more ``HashResult``s. Several
results per file are normal: PDQ returns the original hash plus mirrored,
rotated and border-trimmed variants, so that a match can say *which* variant
matched. A result that is not usable (PDQ quality below 50, a text too short
to fingerprint) is still returned, flagged ``usable=False``, because "we
looked and could not hash it" is an answer the analyst needs; it never
matches anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from takedown.kit.errors import InvalidInput, PayloadTooLarge

#: Variant of a hash computed from the unaltered media.
ORIGINAL = "original"


class MediaError(InvalidInput):
    """The file cannot be hashed by this hasher (wrong format, truncated, empty)."""

    type_slug = "unhashable-media"
    title = "Media cannot be hashed"


class DecompressionBomb(PayloadTooLarge):
    """An image that would expand to more pixels than we allow."""

    type_slug = "decompression-bomb"
    title = "Image too large when decoded"


@dataclass(frozen=True, slots=True)
class HashResult:
    """One signal computed from a piece of media.

    ``value`` is the canonical text form (hex for binary hashes); ``variant``
    names the transform applied before hashing (``original``, ``mirror``,
    ``rot90``, ``trimmed``...). ``extra`` carries hasher-specific facts such as
    a video frame's timestamp.
    """

    signal_type: str
    value: str
    variant: str = ORIGINAL
    quality: int | None = None
    usable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


MediaInput = bytes | Path


def read_input(data: MediaInput, *, max_bytes: int | None = None) -> bytes:
    """Bytes of ``data`` (a path is read); refuses files above ``max_bytes``."""
    if isinstance(data, Path):
        try:
            size = data.stat().st_size
        except OSError as exc:
            raise MediaError(f"cannot read {data.name}: {exc.strerror}") from exc
        if max_bytes is not None and size > max_bytes:
            raise PayloadTooLarge(f"{data.name} is {size} bytes; the limit is {max_bytes}")
        return data.read_bytes()
    if max_bytes is not None and len(data) > max_bytes:
        raise PayloadTooLarge(f"{len(data)} bytes; the limit is {max_bytes}")
    return data


@runtime_checkable
class Hasher(Protocol):
    """What every hasher, built-in or plug-in, provides."""

    #: Unique registry name, e.g. ``"pdq"``.
    name: str
    #: The signal type of the results it produces (``"pdq"``, ``"sha256"``...).
    signal_type: str

    def accepts(self, media_type: str) -> bool:
        """Whether this hasher applies to a kind of media: image, video, text or file."""
        ...

    def hash(self, data: MediaInput) -> list[HashResult]:
        """Hash the media; raises ``MediaError`` (or a subclass) for media it cannot read."""
        ...
