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
import queue
import threading
from collections.abc import Callable, Iterator
from typing import IO, Any, Final

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.audit.service import record
from takedown.items import repository
from takedown.items.core import require_agency_user
from takedown.items.hooks import fire_items_created
from takedown.items.models import MAX_IDENTITY, ImportFormat, ImportJob, ItemStatus
from takedown.items.readers import BadRow, RawRow, ReadState, iter_rows, read_lines
from takedown.kit.clock import Clock, SystemClock
from takedown.kit.errors import InvalidInput
from takedown.kit.progress import NullProgress, ProgressSink
from takedown.platforms import hosts as platform_hosts
from takedown.platforms.identity import InvalidURL, NoContentURL, canonicalize

CHUNK_ROWS = 5000
PIPELINE_DEPTH = 2  # chunks parsed ahead of the writer: memory stays a few chunks
ERRORS_KEPT = 1000
#: What "duplicates folded" means, wherever it is shown (the intake pages; an operation's
#: "duplicates folded (all)" in ``operations.figures`` is the same, over all its reports).
DUPLICATES_FOLDED = (
    "reports (imported rows) that named an item already reported, earlier in the same file, "
    "in an earlier file, or by another agency: each adds a sighting to that item instead of "
    "a new item"
)
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


# One validated row: a plain tuple of strings, a datetime and an int. Chunks of these live
# while a chunk is written; as exact tuples of untracked values the garbage collector stops
# tracking them at its first pass, so they never pile up in the old generation and trigger
# full collections (which cost more than the validation itself on a 26,000-row file).
GoodRow = tuple[
    int,  # line
    str,  # identity ("platform:key")
    str,  # platform
    str,  # kind
    str,  # key
    str,  # canonical_url
    str,  # fetch_url
    str | None,  # parent_identity
    str,  # reported_url
    dt.datetime,  # reported_at
    str,  # note
    str,  # source
    str | None,  # title
]
_LINE: Final = 0
_KEY: Final = 1
_URL: Final = 8
_AT: Final = 9
_NOTE: Final = 10
_SOURCE: Final = 11
_TITLE: Final = 12


def parse_when(raw: Any, now: dt.datetime) -> dt.datetime:
    """ISO 8601, epoch seconds (or ms), or day-first dd/mm/yyyy; naive times are UTC."""
    if isinstance(raw, bool):
        raise ValueError("not a date")
    value: dt.datetime | None = None
    if isinstance(raw, str):
        s = raw.strip()
        if s.isdigit():
            value = _from_epoch(float(s))
        else:
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
    elif isinstance(raw, int | float):
        value = _from_epoch(float(raw))
    if value is None:
        raise ValueError("not a date")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    elif value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    if value < EARLIEST or value > now + FUTURE_SLACK:
        raise ValueError("out of range")
    return value


def _from_epoch(n: float) -> dt.datetime:
    """Epoch seconds, or milliseconds when too large to be seconds."""
    return dt.datetime.fromtimestamp(n / 1000.0 if n > 1e11 else n, dt.UTC)


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
    except NoContentURL as exc:  # well-formed, but a platform's home, login, search... page
        return BadRow(row.line, f"not an item: {exc.detail}")
    except InvalidURL as exc:
        return BadRow(row.line, f"invalid URL: {exc.detail}")
    identity = ident.identity
    if len(identity) > MAX_IDENTITY or len(ident.key) > MAX_IDENTITY:
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
    # A reporter's kind column ("video", "paste", "website"...) is only a hint: the item's
    # kind comes from its URL, so an unfamiliar label never costs the row.
    # Most cells are empty or absent: those skip _text (same result: "").
    note, source, title = row.note, row.source, row.title
    try:
        note = "" if note is None or note == "" else _text(note, "note", MAX_NOTE)
        if source is None or source == "":
            source = default_source
        else:
            source = _text(source, "source", 255) or default_source
        title = None if title is None or title == "" else _text(title, "title", MAX_TITLE) or None
    except InvalidInput as exc:
        return BadRow(row.line, exc.detail)
    return (
        row.line,
        identity,
        ident.platform,
        ident.kind._value_,
        ident.key,
        ident.canonical_url,
        ident.fetch_url,
        ident.parent_identity,
        url,
        reported_at,
        note,
        source,
        title,
    )


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
    pipeline: bool = True,
) -> ImportJob:
    """Import a file of reported URLs for the principal's agency, in the caller's transaction.

    ``progress`` advances in bytes of the file (its total is set when the stream
    can seek). Raises InvalidInput only for a file that cannot be read at all
    (a CSV without a url column, a JSON array); bad rows go into the job.

    With ``pipeline`` (the default), one helper thread writes chunk N while this
    thread parses chunk N+1: the database drivers release the GIL while they
    work, so parsing overlaps SQLite's B-tree work and PostgreSQL's round trips.
    Only one thread uses the session at any time (the writer, until it is joined),
    and ``on_items_created`` hooks run on the writer thread. SQLite engines must
    allow that (``takedown.db.make_engine`` sets ``check_same_thread=False``).
    """
    require_agency_user(principal, "import items")
    platform_hosts.ensure_fresh(session)  # platforms created since (in another process)
    try:
        fmt = ImportFormat(format) if format else None
    except ValueError:
        raise InvalidInput(f"format {format!r} is not one of csv, jsonl, urls") from None
    now = (clock or SystemClock()).now()
    sink = progress or NullProgress()
    sink.set_total(_size_of(stream))
    name = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    state = ReadState()
    chosen, rows = iter_rows(read_lines(stream, state), fmt, name, state)
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

    def store(good: list[GoodRow]) -> None:
        _store_chunk(session, principal, job, good, counts, writer)

    def validated() -> Iterator[list[GoodRow]]:
        # Row by row as the file streams (no chunk of raw rows is held), a chunk of good rows
        # per ``chunk_rows`` rows read.
        reported = read = 0
        good: list[GoodRow] = []
        for r in rows:
            v = r if isinstance(r, BadRow) else validate(r, now=now, default_source=name)
            if isinstance(v, BadRow):
                counts.bad_row(v)
            else:
                good.append(v)
            read += 1
            if read == chunk_rows:
                counts.total += read
                yield good
                good, read = [], 0
                sink.advance(state.bytes_read - reported)
                reported = state.bytes_read
        if read:
            counts.total += read
            yield good
            sink.advance(state.bytes_read - reported)

    if pipeline:
        _pipelined(validated(), store)
    else:
        for good in validated():
            store(good)
    writer.widen_seen(job.id)
    counts.errors.sort(key=lambda e: int(e["line"]))
    job.encoding = (
        "cp1252" if state.fallback_lines and state.encoding == "utf-8" else state.encoding
    )
    job.rows_total, job.rows_ok, job.rows_bad = counts.total, counts.ok, counts.bad
    # Every physical line is one of: a row (counted above), a line inside a multi-line CSV
    # cell, or a skipped header/blank/comment line.
    job.lines_total, job.lines_continued = state.lines, state.continued
    job.lines_skipped = state.skipped
    job.items_created, job.duplicates_folded = counts.created, counts.folded
    job.errors = counts.errors
    job.warnings = list(state.warnings)
    if counts.total == 0:
        job.warnings.append(
            f"no rows found in {state.lines} line(s): the file is empty, or holds only "
            + ("a header" if chosen is ImportFormat.CSV else "blank and comment lines")
        )
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


def _pipelined(chunks: Iterator[list[GoodRow]], store: Callable[[list[GoodRow]], None]) -> None:
    """Run ``store`` on a writer thread, at most ``PIPELINE_DEPTH`` chunks behind.

    Whichever side fails first stops the other; the writer is always joined
    before this returns or raises, so the caller's transaction is never touched
    by two threads, and its rollback sees a quiet session.
    """
    q: queue.Queue[list[GoodRow] | None] = queue.Queue(maxsize=PIPELINE_DEPTH)
    failure: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        while True:
            good = q.get()
            if good is None:
                return
            if stop.is_set():
                continue  # keep draining so the producer never blocks
            try:
                store(good)
            except BaseException as exc:
                failure.append(exc)
                stop.set()

    thread = threading.Thread(target=writer, name="takedown-intake-writer", daemon=True)
    thread.start()
    try:
        for good in chunks:
            if stop.is_set():
                break
            q.put(good)
    except BaseException:
        stop.set()
        raise
    finally:
        q.put(None)
        thread.join()
    if failure:
        raise failure[0]


def _store_chunk(
    session: Session,
    principal: Principal,
    job: ImportJob,
    good: list[GoodRow],
    counts: _Counts,
    writer: repository.BulkWriter,
) -> None:
    if not good:
        return
    # Times in the database's representation, converted once per row. It orders like the
    # datetimes themselves (fixed-width UTC text on SQLite, timestamps on PostgreSQL), so
    # seen-ranges are computed on it directly and compare exactly with stored values.
    to_db = writer.dt
    when = [to_db(g[_AT]) for g in good]
    # Per identity in this chunk: the row that describes the item, and the seen-range.
    firsts: dict[str, GoodRow] = {}
    span: dict[str, tuple[Any, Any]] = {}
    for g, w in zip(good, when, strict=True):
        key = g[_KEY]
        seen = span.get(key)
        if seen is None:
            firsts[key] = g
            span[key] = (w, w)
        else:
            if w < seen[0]:
                span[key] = (w, seen[1])
            elif w > seen[1]:
                span[key] = (seen[0], w)
            if g[_TITLE] and not firsts[key][_TITLE]:
                firsts[key] = g
    now_db = to_db(job.created_at)
    new_status = ItemStatus.NEW.value
    candidates = [
        # identity, platform, kind, key, canonical_url, fetch_url, parent_identity
        (*g[1:8], new_status, g[_TITLE], None, *span[key], now_db, now_db, None)
        for key, g in firsts.items()
    ]
    # Insert-or-skip first: on a fresh day almost every identity is new, so one statement
    # per 2,000 rows does the work a lookup plus an insert would.
    ids = writer.insert_items(candidates)
    created_ids = list(ids.values())
    # Items stored before this chunk: their seen-range is stretched once, at the end.
    ids.update(writer.lookup([c[0] for c in candidates if c[0] not in ids]))
    user_id = principal.user_id if principal.user_id > 0 else None
    agency_id, job_id = principal.agency_id, job.id
    writer.insert_sightings(
        [
            (ids[g[_KEY]], agency_id, job_id, g[_URL], w, user_id, g[_SOURCE], g[_LINE], g[_NOTE])
            for g, w in zip(good, when, strict=True)
        ]
    )
    counts.ok += len(good)
    counts.created += len(created_ids)
    counts.folded += len(good) - len(created_ids)
    fire_items_created(session, created_ids)
