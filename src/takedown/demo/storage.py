"""Where a demo keeps its database and files, and how it starts over.

Why a directory of its own with a marker file: the demo must never mix with an
instance's real data, and ``--reset`` deletes things. It only ever deletes what a
demo made, inside a directory a demo marked as its own; a directory without the
marker is refused, so ``--dir .`` or a typo cannot wipe anything. A database named
by ``--database-url`` is never dropped or emptied: the demo asks for an empty one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from takedown.kit.errors import Conflict

MARKER = ".takedown-demo"
DB_NAME = "takedown.sqlite3"
#: What a demo run writes into its directory; ``reset`` deletes exactly these.
OWNED_FILES = (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal")
OWNED_DIRS = ("agency-files", "reports", "evidence", "exports", "sim")


@dataclass(frozen=True, slots=True)
class DemoStorage:
    directory: Path
    database_url: str
    #: True when the database is the directory's own SQLite file (``reset`` replaces it).
    own_database: bool

    @property
    def agency_files(self) -> Path:
        return self.directory / "agency-files"

    @property
    def reports(self) -> Path:
        return self.directory / "reports"

    @property
    def sim(self) -> Path:
        return self.directory / "sim"


def prepare(directory: Path, database_url: str | None = None, *, reset: bool = True) -> DemoStorage:
    """Make ``directory`` ready for a fresh demo (deleting an earlier demo's files if
    ``reset``); refuse a directory that is not a demo's, or an earlier demo without ``reset``."""
    directory = directory.expanduser().resolve()
    marked = (directory / MARKER).is_file()
    if directory.exists() and not directory.is_dir():
        raise Conflict(f"{directory} is a file, not a directory; choose another --dir")
    if directory.exists() and any(directory.iterdir()) and not marked:
        raise Conflict(
            f"{directory} is not empty and is not a demo directory (no {MARKER} file); "
            "choose another --dir"
        )
    own = database_url is None
    earlier = [directory / n for n in OWNED_FILES if (directory / n).exists()]
    earlier += [directory / n for n in OWNED_DIRS if (directory / n).exists()]
    if earlier and not reset:
        raise Conflict(
            f"an earlier demo is in {directory}; run with --reset (the default) to replace it"
        )
    for path in earlier:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text(
        "This directory belongs to `takedown demo`; `takedown demo --reset` deletes its "
        "contents.\n",
        encoding="utf-8",
    )
    url = database_url or f"sqlite:///{directory / DB_NAME}"
    return DemoStorage(directory, url, own)


def display_url(url: str) -> str:
    """A database URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: say nothing about it
        return "<database URL>"
