"""The default backend: files under ``settings.evidence_dir``, named by SHA-256.

Layout ``objects/ab/cd/abcd…`` keeps directories small. A write goes to a
temporary file in the same directory, is fsync'ed, made read-only and then
linked into place with ``os.link``, which fails if the name exists: two
writers of the same bytes cannot clobber each other, and a crash never
leaves a half-written object under a real name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from takedown.evidence.storage.base import (
    ObjectEntry,
    ObjectMissing,
    StoredObject,
    check_key,
    is_key,
    sha256_hex,
)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStore:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self._pending: list[Path] | None = None  # inside batch(): paths still to fsync

    def _path(self, sha256: str) -> Path:
        check_key(sha256)
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> StoredObject:
        digest = sha256_hex(data)
        path = self._path(digest)
        if path.exists():
            return StoredObject(digest, len(data), False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                if self._pending is None:
                    os.fsync(fh.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, path)
                created = True
            except FileExistsError:
                created = False
            if created and self._pending is not None:
                self._pending.append(path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return StoredObject(digest, len(data), created)

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(f"evidence object {sha256} is missing from the store") from None

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        path = self._path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self) -> Iterator[str]:
        if not self.objects.is_dir():
            return
        for path in self.objects.glob("*/*/*"):
            if path.is_file() and not path.name.startswith(".tmp-"):
                yield path.name

    def entries(self) -> Iterator[ObjectEntry]:
        if not self.objects.is_dir():
            return
        for path in self.objects.glob("*/*/*"):
            if not is_key(path.name):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:  # deleted while listing
                continue
            yield ObjectEntry(
                path.name, st.st_size, dt.datetime.fromtimestamp(st.st_mtime, tz=dt.UTC)
            )

    def drop_temporaries(self, before: dt.datetime, *, dry_run: bool = False) -> int:
        """``.tmp-*`` files ``put`` left when killed between writing and linking (a ``put``
        takes milliseconds: one older than ``before`` belongs to no write under way)."""
        if not self.objects.is_dir():
            return 0
        n = 0
        for path in self.objects.glob("*/*/.tmp-*"):
            try:
                modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
                if modified >= before:
                    continue
                if not dry_run:
                    path.unlink()
            except FileNotFoundError:  # finished or removed meanwhile
                continue
            n += 1
        return n

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Write without per-file fsync, then fsync every new file (in parallel) at the end."""
        if self._pending is not None:  # nested: the outer batch syncs
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            pending, self._pending = self._pending, None
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(_fsync_path, pending))
                list(pool.map(_fsync_path, sorted({p.parent for p in pending})))

    def locate(self, sha256: str) -> str:
        return str(self._path(sha256).resolve())
