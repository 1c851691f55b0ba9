"""Bulk intake: CSV, JSON lines and URL lists become items and sightings.

Why it is shaped like this:
- The file is streamed (``readers``) and processed in chunks of ``CHUNK_ROWS``;
  each chunk costs one identity lookup, one multi-row insert of new items, one
  executemany of sightings. Memory stays flat whatever the file's size.
- Everything happens in the caller's transaction. A crash anywhere rolls back
  the job row, items and sightings together: nothing is ever half-imported.
- Bad rows never stop good ones; each is reported with its line number.
- Reports of one identity, in one file or many, by one agency or several,
  fold into sightings of one item (``duplicates_folded`` counts the rows that
  did not create an item).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.hooks import fire_items_created
from takedown.items.models import MAX_IDENTITY, ImportFormat, ImportJob, ItemStatus
from takedown.items.readers import BadRow, RawRow, ReadState, iter_rows, read_lines
from takedown.items.service import _require_agency_user
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput
from takedown.kit.progress import NullProgress, ProgressSink
from takedown.platforms.identity import InvalidURL, ItemIdentity, ItemKind, canonicalize

CHUNK_ROWS = 5000
ERRORS_KEPT = 1000
MAX_NOTE = 4000
MAX_TITLE = 2000
FUTURE_SLACK = dt.timedelta(days=1)
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_DAY_FIRST = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
_KINDS = {k.value for k in ItemKind}


@dataclass(frozen=True, slots=True)
class GoodRow:
    line: int
    key: str  # the identity string, "platform:key"
    identity: ItemIdentity
    reported_url: str
    reported_at: dt.datetime
    note: str
    source: str
    title: str | None


def parse_when(raw: Any, now: dt.datetime) -> dt.datetime:
    """ISO 8601, epoch seconds (or ms), or day-first dd/mm/yyyy; naive times are UTC."""
    if isinstance(raw, bool):
        raise ValueError("not a date")
    value: dt.datetime | None = None
    if isinstance(raw, int | float) or (isinstance(raw, str) and raw.strip().isdigit()):
        n = float(raw)
        if n > 1e11:
            n /= 1000.0
        value = dt.datetime.fromtimestamp(n, dt.UTC)
    elif isinstance(raw, str):
        s = raw.strip()
        if s.endswith(("Z", "z")):
            s = s[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(s)
        except ValueError:
            for fmt in _DAY_FIRST:
                try:
                    value = dt.datetime.strptime(s, fmt)
                    break
                except ValueError:
                    continue
    if value is None:
        raise ValueError("not a date")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    if value < EARLIEST or value > now + FUTURE_SLACK:
        raise ValueError("out of range")
    return value


def _text(value: Any, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    text = value.strip()
    if "\x00" in text:
        raise InvalidInput(f"{what} contains NUL bytes")
    if len(text) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters")
    return text


def validate(row: RawRow, *, now: dt.datetime, default_source: str) -> GoodRow | BadRow:
    """Check one raw row; the reason of a bad row is what the analyst reads."""
    if not isinstance(row.url, str):
        return BadRow(row.line, "url must be text")
    url = row.url.strip()
    if not url:
        return BadRow(row.line, "empty url")
    if "\x00" in url:
        return BadRow(row.line, "url contains NUL bytes")
    try:
        ident = canonicalize(url)
    except InvalidURL as exc:
        return BadRow(row.line, f"invalid URL: {exc.detail}")
    if len(ident.identity) > MAX_IDENTITY or len(ident.key) > MAX_IDENTITY:
        return BadRow(row.line, "URL too long to identify an item")
    reported_at = now
    if row.reported_at not in (None, ""):
        try:
            reported_at = parse_when(row.reported_at, now)
        except (ValueError, OverflowError, OSError):
            return BadRow(
                row.line,
                f"bad date {str(row.reported_at)[:40]!r} in reported_at "
                "(use ISO 8601, e.g. 2026-03-01T10:00:00Z, or dd/mm/yyyy)",
            )
    if row.kind not in (None, ""):
        kind = str(row.kind).strip().lower()
        if kind not in _KINDS:
            return BadRow(row.line, f"kind {row.kind!r} is not one of {', '.join(sorted(_KINDS))}")
    try:
        note = _text(row.note, "note", MAX_NOTE)
        source = _text(row.source, "source", 255) or default_source
        title = _text(row.title, "title", MAX_TITLE) or None
    except InvalidInput as exc:
        return BadRow(row.line, exc.detail)
    return GoodRow(row.line, ident.identity, ident, url, reported_at, note, source, title)


def _size_of(stream: IO[bytes]) -> int | None:
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, 2)
        stream.seek(here)
        return end - here
    except (OSError, ValueError):
        return None


class _Counts:
    def __init__(self) -> None:
        self.total = self.ok = self.bad = self.created = self.folded = 0
        self.errors: list[dict[str, Any]] = []

    def bad_row(self, b: BadRow) -> None:
        self.total += 1
        self.bad += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append({"line": b.line, "reason": b.reason})


def import_stream(
    session: Session,
    principal: Principal,
    stream: IO[bytes],
    *,
    filename: str,
    format: ImportFormat | str | None = None,
    progress: ProgressSink | None = None,
    clock: Clock | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportJob:
    """Import a file of reported URLs for the principal's agency, in the caller's transaction.

    ``progress`` advances in bytes of the file (its total is set when the stream
    can seek). Raises InvalidInput only for a file that cannot be read at all
    (a CSV without a url column, a JSON array); bad rows go into the job.
    """
    _require_agency_user(principal, "import items")
    try:
        fmt = ImportFormat(format) if format else None
    except ValueError:
        raise InvalidInput(f"format {format!r} is not one of csv, jsonl, urls") from None
    now = (clock or SystemClock()).now()
    sink = progress or NullProgress()
    sink.set_total(_size_of(stream))
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    state = ReadState()
    chosen, rows = iter_rows(read_lines(stream, state), fmt, name)
    job = ImportJob(
        agency_id=principal.agency_id,
        user_id=principal.user_id if principal.user_id > 0 else None,
        filename=name,
        format=chosen.value,
        status="completed",
        created_at=now,
    )
    repository.add(session, job)
    counts = _Counts()
    writer = repository.BulkWriter(session)
    reported = 0
    for chunk in _chunks(rows, chunk_rows):
        good: list[GoodRow] = []
        for r in chunk:
            v = r if isinstance(r, BadRow) else validate(r, now=now, default_source=name)
            if isinstance(v, BadRow):
                counts.bad_row(v)
            else:
                good.append(v)
        _store_chunk(session, principal, job, good, counts, now, writer)
        sink.advance(state.bytes_read - reported)
        reported = state.bytes_read
    counts.errors.sort(key=lambda e: int(e["line"]))
    job.encoding = (
        "cp1252" if state.fallback_lines and state.encoding == "utf-8" else state.encoding
    )
    job.rows_total, job.rows_ok, job.rows_bad = counts.total, counts.ok, counts.bad
    job.items_created, job.duplicates_folded = counts.created, counts.folded
    job.errors = counts.errors
    job.warnings = list(state.warnings)
    if counts.bad > ERRORS_KEPT:
        job.warnings.append(f"only the first {ERRORS_KEPT} of {counts.bad} bad rows are listed")
    job.finished_at = (clock or SystemClock()).now()
    session.flush()
    record(
        session,
        principal,
        "import.complete",
        "import_job",
        job.id,
        {
            "filename": name,
            "format": chosen.value,
            "rows_ok": counts.ok,
            "rows_bad": counts.bad,
            "items_created": counts.created,
            "duplicates_folded": counts.folded,
        },
        clock=clock,
    )
    return job


def _chunks(rows: Iterator[RawRow | BadRow], n: int) -> Iterator[list[RawRow | BadRow]]:
    while True:
        chunk = list(islice(rows, n))
        if not chunk:
            return
        yield chunk


def _store_chunk(
    session: Session,
    principal: Principal,
    job: ImportJob,
    good: list[GoodRow],
    counts: _Counts,
    now: dt.datetime,
    writer: repository.BulkWriter,
) -> None:
    if not good:
        return
    # Per identity in this chunk: the row that describes the item, and the seen-range.
    firsts: dict[str, GoodRow] = {}
    span: dict[str, tuple[dt.datetime, dt.datetime]] = {}
    for g in good:
        key = g.key
        if key not in firsts:
            firsts[key] = g
            span[key] = (g.reported_at, g.reported_at)
        else:
            lo, hi = span[key]
            span[key] = (min(lo, g.reported_at), max(hi, g.reported_at))
            if g.title and not firsts[key].title:
                firsts[key] = g
    memo: dict[dt.datetime, Any] = {}

    def conv(when: dt.datetime) -> Any:
        # Most rows' times appear twice (item's first/last seen, the sighting): convert once.
        out = memo.get(when)
        if out is None:
            out = memo[when] = writer.dt(when)
        return out

    now_db = conv(now)
    new_status = ItemStatus.NEW.value
    candidates = []
    for key, g in firsts.items():
        lo, hi = span[key]
        i = g.identity
        candidates.append(
            (
                key,
                i.platform,
                i.kind.value,
                i.key,
                i.canonical_url,
                i.fetch_url,
                i.parent_identity,
                new_status,
                g.title,
                None,
                conv(lo),
                conv(hi),
                now_db,
                now_db,
                None,
            )
        )
    # Insert-or-skip first: on a fresh day almost every identity is new, so one statement
    # per 2,000 rows does the work a lookup plus an insert would.
    ids = writer.insert_items(candidates)
    created_ids = list(ids.values())
    stored = writer.lookup([c[0] for c in candidates if c[0] not in ids])
    widen = []
    for key, (item_id, first_db, last_db) in stored.items():
        lo, hi = span[key]
        # Stored and converted values share one representation, so they compare exactly.
        lo_db, hi_db = conv(lo), conv(hi)
        if lo_db < first_db or hi_db > last_db:
            widen.append((lo_db, hi_db, item_id))
        ids[key] = item_id
    writer.widen_seen(widen)
    user_id = principal.user_id if principal.user_id > 0 else None
    agency_id, job_id = principal.agency_id, job.id
    writer.insert_sightings(
        [
            (
                ids[g.key],
                agency_id,
                job_id,
                g.reported_url,
                conv(g.reported_at),
                user_id,
                g.source,
                g.line,
                g.note,
            )
            for g in good
        ]
    )
    counts.total += len(good)
    counts.ok += len(good)
    counts.created += len(created_ids)
    counts.folded += len(good) - len(created_ids)
    fire_items_created(session, created_ids)
