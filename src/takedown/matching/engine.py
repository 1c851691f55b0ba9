"""The per-process matching engine: one binary index per signal type, kept in sync with the DB.

The database is the source of truth; the engine is a cache of the enabled
signals, organised for search. It never rebuilds to take a change: ``sync``
reads the signals whose ``updated_at`` moved since it last looked and adds
or tombstones just those. Every process (API workers, job workers) has its
own engine and catches up on its own, so a signal added through one process
is matchable from all of them on their next lookup (syncs are throttled to
``sync_interval``, 0.2 s by default).

At start the engine loads a snapshot from ``<data_dir>/matching/index`` when
one exists, then syncs the difference, so start-up does not re-read millions
of rows.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from takedown.matching import repository as repo
from takedown.matching.hashers.video import decode_frames
from takedown.matching.index import BinaryIndex, Hit, release_free_memory

#: Signal types that live in a binary index, with their code width in bits.
INDEXED_TYPES: dict[str, int] = {
    "pdq": 256,
    "pdq_inner": 256,
    "video_pdq": 256,
    "video_pdq_inner": 256,
    "text_simhash": 64,
}
#: Signal types whose base is the lean approximate one (``BinaryIndex(approx=True)``, about
#: 37 B per code against about 90 B exact at 1M): only searched with a query image's 1,282
#: window hashes, which are redundant (the windows around a true match all land near it), and
#: every candidate is still verified on the full 256 bits, so it cannot add a false positive.
APPROX_TYPES = frozenset({"pdq_inner"})
#: Rows whose updated_at is this close to the watermark are re-checked (commit-order slack).
SLACK = dt.timedelta(seconds=5)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def codes_for(signal_type: str, value: str) -> npt.NDArray[np.uint8]:
    """The binary codes a stored signal contributes to the index (a video gives one per frame)."""
    if signal_type in ("video_pdq", "video_pdq_inner"):
        hexes = [h for _, h in decode_frames(value)]
    else:
        hexes = [value]
    return np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=np.uint8).reshape(
        len(hexes), -1
    )


@dataclass(frozen=True, slots=True)
class _State:
    watermark: dt.datetime
    loaded: bool


class MatchingEngine:
    """Thread-safe; share one per process (see ``get_engine``)."""

    def __init__(
        self,
        index_dir: Path | None = None,
        *,
        sync_interval: float = 0.2,
        mih_min_size: int | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.sync_interval = sync_interval
        self._mih_min_size = mih_min_size
        self.indexes: dict[str, BinaryIndex] = {t: self._new_index(t) for t in INDEXED_TYPES}
        self._lock = threading.Lock()
        self._watermark = _EPOCH
        self._loaded = False
        self._last_sync = 0.0
        # Rows inside the slack window already applied: id -> updated_at.
        self._recent: dict[int, dt.datetime] = {}

    def _new_index(self, signal_type: str) -> BinaryIndex:
        bits, approx = INDEXED_TYPES[signal_type], signal_type in APPROX_TYPES
        if self._mih_min_size is None:
            return BinaryIndex(bits, approx=approx)
        return BinaryIndex(bits, mih_min_size=self._mih_min_size, approx=approx)

    # ---- loading and syncing -----------------------------------------

    def _load_snapshot(self) -> bool:
        if self.index_dir is None or not (self.index_dir / "engine.json").exists():
            return False
        try:
            meta = json.loads((self.index_dir / "engine.json").read_text())
            loaded = {
                t: BinaryIndex.load(self.index_dir / t, mih_min_size=self._mih_min_size)
                for t in INDEXED_TYPES
            }
        except (OSError, ValueError, KeyError):
            return False  # a damaged or older snapshot is rebuilt from the database
        if any(idx.approx != (t in APPROX_TYPES) for t, idx in loaded.items()):
            return False  # saved with another choice of exact and approximate bases
        self.indexes = loaded
        self._watermark = dt.datetime.fromisoformat(meta["watermark"])
        return True

    def _full_load(self, session: Session) -> None:
        for t in INDEXED_TYPES:
            self.indexes[t] = self._load_type(session, t)
            # The rows' ids and codes (Python lists and the arrays handed to ``build``) are
            # freed only once ``_load_type`` returned, after the build's own trim: glibc keeps
            # them in the heap (at 1M codes, 8 B per code of ids alone) unless trimmed again.
            release_free_memory()
        self._watermark = repo.max_signal_updated_at(session) or _EPOCH

    def _load_type(self, session: Session, signal_type: str) -> BinaryIndex:
        """A new index of every enabled signal of this type, built in one go."""
        ids: list[int] = []
        codes: list[npt.NDArray[np.uint8]] = []
        for sid, value in repo.enabled_signal_values(session, signal_type):
            try:
                c = codes_for(signal_type, value)
            except ValueError:
                continue
            ids.extend([sid] * len(c))
            codes.append(c)
        idx = self._new_index(signal_type)
        if ids:
            idx.build(np.asarray(ids, dtype=np.int64), np.concatenate(codes))
        return idx

    def sync(self, session: Session, *, force: bool = False) -> None:
        """Apply every signal change since the last sync (throttled unless ``force``)."""
        now = time.monotonic()
        with self._lock:
            if not force and self._loaded and now - self._last_sync < self.sync_interval:
                return
            if not self._loaded:
                if not self._load_snapshot():
                    self._full_load(session)
                self._loaded = True
            self._apply(repo.signals_changed_since(session, self._watermark - SLACK))
            self._last_sync = now

    def _apply(self, rows: Iterable[repo.ChangedSignal]) -> None:
        newest = self._watermark
        for row in rows:
            if self._recent.get(row.id) == row.updated_at:
                continue
            self._recent[row.id] = row.updated_at
            newest = max(newest, row.updated_at)
            self.apply_one(row.id, row.signal_type, row.value, row.enabled)
        self._watermark = newest
        cutoff = newest - SLACK
        self._recent = {k: v for k, v in self._recent.items() if v >= cutoff}

    def apply_one(self, signal_id: int, signal_type: str, value: str, enabled: bool) -> None:
        """Make one signal's current state searchable now (used by sync and by the writer)."""
        idx = self.indexes.get(signal_type)
        if idx is None:
            return
        idx.remove([signal_id])
        if enabled:
            try:
                c = codes_for(signal_type, value)
            except ValueError:
                return
            idx.add(np.full(len(c), signal_id, dtype=np.int64), c)

    def save(self) -> None:
        if self.index_dir is None:
            return
        with self._lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            for t, idx in self.indexes.items():
                idx.save(self.index_dir / t)
            (self.index_dir / "engine.json").write_text(
                json.dumps({"watermark": self._watermark.isoformat()})
            )

    # ---- search -------------------------------------------------------

    def search(
        self, signal_type: str, codes: npt.NDArray[np.uint8], threshold: int
    ) -> list[list[Hit]]:
        idx = self.indexes.get(signal_type)
        if idx is None or len(codes) == 0:
            return [[] for _ in range(len(codes))]
        return idx.search(codes, threshold)

    def size(self) -> dict[str, int]:
        return {t: len(i) for t, i in self.indexes.items()}


_engines: dict[str, MatchingEngine] = {}
_engines_lock = threading.Lock()


def get_engine(data_dir: Path | None = None) -> MatchingEngine:
    """The process-wide engine for a data directory (``None``: in memory, no snapshot)."""
    key = str(data_dir.resolve()) if data_dir is not None else ""
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = MatchingEngine(data_dir / "matching" / "index" if data_dir else None)
            _engines[key] = engine
        return engine


def engines() -> list[MatchingEngine]:
    """Every process-wide engine made so far (the runtime syncs them when told to)."""
    with _engines_lock:
        return list(_engines.values())


def reset_engines() -> None:
    """Forget every process-wide engine (tests, and after a restore)."""
    with _engines_lock:
        _engines.clear()
