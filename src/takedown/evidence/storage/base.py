"""The storage interface every evidence backend implements.

Objects are named by the SHA-256 of their bytes. That makes originals
write-once by construction: writing different bytes yields a different name,
so nothing can be overwritten, and a working copy is simply a new object.
``put`` of bytes already stored is a no-op that reports ``created=False``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from takedown.kit.errors import InvalidInput, NotFound

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_key(name: str) -> bool:
    """Whether a stored name is one of ours (a lowercase hex SHA-256)."""
    return bool(_SHA256.match(name))


def check_key(sha256: str) -> str:
    """Refuse anything but a lowercase hex SHA-256 (keys become paths and object names)."""
    if not _SHA256.match(sha256):
        raise InvalidInput(f"{sha256!r} is not a SHA-256 hex digest")
    return sha256


class ObjectMissing(NotFound):
    type_slug = "evidence-object-missing"
    title = "Evidence object missing"


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    size: int
    created: bool


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    """One stored object as a listing sees it: name, size, and when it was last written."""

    sha256: str
    size: int
    #: Last write (UTC, aware): local file mtime, S3 ``LastModified``. ``put`` of bytes
    #: already stored does not change it.
    modified: dt.datetime


@runtime_checkable
class EvidenceStore(Protocol):
    """A content-addressed, write-once object store."""

    #: Registry name of the backend ("local", "s3"...), recorded on each capture.
    name: str

    def put(self, data: bytes) -> StoredObject:
        """Store ``data`` under its SHA-256; never replaces an existing object."""
        ...

    def get(self, sha256: str) -> bytes:
        """The object's bytes; raises ``ObjectMissing`` when absent."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> bool:
        """Remove the object (retention purge only); False when it was not there."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored object's SHA-256 (order unspecified)."""
        ...

    def entries(self) -> Iterator[ObjectEntry]:
        """Every stored object with its size and last write (order unspecified).

        What orphan collection needs to judge an object's age without one request per
        object; names that are not a SHA-256 (temporaries, foreign files) are skipped.
        """
        ...

    def drop_temporaries(self, before: dt.datetime, *, dry_run: bool = False) -> int:
        """Remove partial writes (a process killed in the middle of ``put``) last written
        before ``before``; how many there were. A store whose writes are atomic has none."""
        ...

    def locate(self, sha256: str) -> str:
        """A human-readable storage location for the manifest (path or s3:// URL)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """Group writes: objects put inside are durable when the block exits.

        Lets a backend pay for durability once per batch (one fsync barrier)
        instead of once per object; outside a batch every ``put`` is durable
        on return.
        """
        ...
