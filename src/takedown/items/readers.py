"""Reading import files as a stream: encodings, lines, and the three formats.

Nothing here holds more than one chunk of the file (64 KiB) plus one line
(at most ``MAX_LINE`` bytes) in memory. Each physical line keeps its number,
so every problem can be reported as "line N: why".

Encodings: a BOM decides (UTF-8, UTF-16 LE/BE); UTF-16 without a BOM is
recognised by its zero bytes. Otherwise each line is tried as UTF-8 and, if
that fails, read as Windows-1252 (cp1252) with a warning: Excel on Windows
still writes such files.
"""

from __future__ import annotations

import codecs
import csv
import json
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from takedown.items.models import ImportFormat
from takedown.kit.errors import InvalidInput

MAX_LINE = 8 * 1024
CHUNK = 64 * 1024
MAX_WARNINGS = 20

URL_COLUMNS = ("url", "link", "uri", "reported_url", "address")
COLUMN_ALIASES: dict[str, str] = {
    **{c: "url" for c in URL_COLUMNS},
    "reported_at": "reported_at",
    "date": "reported_at",
    "timestamp": "reported_at",
    "seen_at": "reported_at",
    "note": "note",
    "notes": "note",
    "comment": "note",
    "kind": "kind",
    "source": "source",
    "title": "title",
    "text": "title",
}
DELIMITERS = (",", ";", "\t", "|")


# Line, RawRow and BadRow are made once per line of a file of up to millions: plain slotted
# classes, built about four times faster than frozen dataclasses (whose __init__ goes through
# object.__setattr__ per field). Nothing mutates them after construction.
@dataclass(slots=True)
class Line:
    """One physical line: its text, or why it cannot be read."""

    no: int
    text: str | None
    error: str | None = None


@dataclass(slots=True)
class RawRow:
    """A record as found in the file, not yet validated."""

    line: int
    url: Any
    reported_at: Any = None
    note: Any = None
    kind: Any = None
    source: Any = None
    title: Any = None


@dataclass(slots=True)
class BadRow:
    line: int
    reason: str


@dataclass
class ReadState:
    """What the reader learnt while streaming: bytes consumed, encoding, warnings."""

    encoding: str = "utf-8"
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)
    fallback_lines: int = 0

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)


# --- lines ------------------------------------------------------------------------------------


def _read(stream: IO[bytes], state: ReadState) -> bytes:
    chunk = stream.read(CHUNK)
    state.bytes_read += len(chunk)
    return chunk


def _split(
    first: bytes, stream: IO[bytes], state: ReadState, decoder: codecs.IncrementalDecoder | None
) -> Iterator[bytes | str | None]:
    """Yield lines without their endings (``None`` for a line over ``MAX_LINE``).

    Works on bytes for 8-bit encodings and on text (decoded incrementally) for
    UTF-16, whose code units contain zero and newline bytes.
    """
    nl: Any = "\n" if decoder else b"\n"
    empty: Any = "" if decoder else b""
    buf: Any = decoder.decode(first) if decoder else first
    skipping = False
    eof = False
    while True:
        start = 0
        while True:
            pos = buf.find(nl, start)
            if pos < 0:
                break
            line = buf[start:pos]
            start = pos + 1
            if skipping:
                skipping = False
                yield None
            elif len(line) > MAX_LINE:
                yield None
            else:
                yield line
        buf = buf[start:]
        if len(buf) > MAX_LINE:
            skipping, buf = True, empty
        if eof:
            if skipping:
                yield None
            elif buf:
                yield buf
            return
        raw = _read(stream, state)
        if not raw:
            eof = True
            if decoder:
                buf += decoder.decode(b"", final=True)
        else:
            buf += decoder.decode(raw) if decoder else raw


def _utf16_without_bom(head: bytes) -> str | None:
    if len(head) >= 4 and head[0] and not head[1] and head[2] and not head[3]:
        return "utf-16-le"
    if len(head) >= 4 and not head[0] and head[1] and not head[2] and head[3]:
        return "utf-16-be"
    return None


def read_lines(stream: IO[bytes], state: ReadState) -> Iterator[Line]:
    """Decode ``stream`` line by line, detecting the encoding from its first bytes."""
    first = _read(stream, state)
    decoder: codecs.IncrementalDecoder | None = None
    if first.startswith(codecs.BOM_UTF8):
        state.encoding, first = "utf-8-sig", first[3:]
    elif first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        state.encoding = "utf-16-le" if first.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        first = first[2:]
    else:
        guessed = _utf16_without_bom(first)
        if guessed:
            state.encoding = guessed
            state.warn(f"no byte-order mark; read as {guessed.upper()} (zero bytes between ASCII)")
    if state.encoding.startswith("utf-16"):
        decoder = codecs.getincrementaldecoder(state.encoding)(errors="replace")
    no = 0
    for raw in _split(first, stream, state, decoder):
        no += 1
        if raw is None:
            yield Line(no, None, f"line is longer than {MAX_LINE // 1024} KiB")
            continue
        if isinstance(raw, bytes):
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
                state.fallback_lines += 1
                if state.fallback_lines == 1:
                    state.warn(
                        f"line {no} is not valid UTF-8; lines like it were read as "
                        "Windows-1252 (cp1252)"
                    )
        else:
            text = raw[:-1] if raw.endswith("\r") else raw
        if "\r" in text:  # a stray CR (old Mac endings, pasted text) would break CSV parsing
            text = text.replace("\r", "")
        if no == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if "\x00" in text:
            yield Line(no, None, "line contains NUL bytes (a binary file, or UTF-16 without BOM?)")
            continue
        yield Line(no, text)


# --- formats ----------------------------------------------------------------------------------


def _first_content(lines: Iterator[Line], bad: list[BadRow]) -> Line | None:
    """The first non-empty readable line; unreadable lines before it become bad rows."""
    for line in lines:
        if line.text is None:
            bad.append(BadRow(line.no, line.error or "unreadable line"))
            continue
        if line.text.strip():
            return line
    return None


def detect_format(filename: str, first_text: str | None) -> ImportFormat:
    """By extension first, then by the first line's shape."""
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".jsonlines")):
        return ImportFormat.JSONL
    if name.endswith((".csv", ".tsv")):
        return ImportFormat.CSV
    text = (first_text or "").strip()
    if text.startswith("{"):
        return ImportFormat.JSONL
    if name.endswith((".txt", ".urls", ".lst", ".list")):
        return ImportFormat.URLS
    if text and not text.startswith("#"):
        header = [h.strip().strip('"').lower() for h in _split_header(text)]
        if any(h in URL_COLUMNS for h in header):
            return ImportFormat.CSV
    return ImportFormat.URLS


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _split_header(header: str) -> list[str]:
    try:
        return next(csv.reader([header], delimiter=_delimiter(header)), [])
    except csv.Error:
        return []


def iter_rows(
    lines: Iterator[Line], fmt: ImportFormat | None, filename: str
) -> tuple[ImportFormat, Iterator[RawRow | BadRow]]:
    """Pick the format (if not given) and return an iterator of raw or bad rows."""
    pre_bad: list[BadRow] = []
    first = _first_content(lines, pre_bad)
    chosen = fmt or detect_format(filename, first.text if first else None)
    if chosen is ImportFormat.CSV:
        body = _csv_rows(first, lines, pre_bad)
    elif chosen is ImportFormat.JSONL:
        body = _jsonl_rows(first, lines, pre_bad)
    else:
        body = _url_rows(first, lines, pre_bad)
    return chosen, body


def _url_rows(
    first: Line | None, lines: Iterator[Line], bad: list[BadRow]
) -> Iterator[RawRow | BadRow]:
    yield from bad
    if first is None:
        return
    for line in _chain(first, lines):
        if line.text is None:
            yield BadRow(line.no, line.error or "unreadable line")
            continue
        text = line.text.strip()
        if not text or text.startswith("#"):
            continue
        # "url  # comment": a '#' after whitespace starts a comment; one inside a URL is a fragment.
        for sep in (" #", "\t#"):
            if sep in text:
                text = text.split(sep, 1)[0].rstrip()
        yield RawRow(line.no, text)


def _chain(first: Line, lines: Iterator[Line]) -> Iterator[Line]:
    yield first
    yield from lines


def _jsonl_rows(
    first: Line | None, lines: Iterator[Line], bad: list[BadRow]
) -> Iterator[RawRow | BadRow]:
    yield from bad
    if first is None:
        return
    if first.text is not None and first.text.lstrip().startswith("["):
        raise InvalidInput(
            f"line {first.no}: this is a JSON array, not JSON lines; write one object per line"
        )
    for line in _chain(first, lines):
        if line.text is None:
            yield BadRow(line.no, line.error or "unreadable line")
            continue
        if not line.text.strip():
            continue
        try:
            obj = json.loads(line.text)
        except json.JSONDecodeError as exc:
            yield BadRow(line.no, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield BadRow(line.no, "invalid JSON: nested too deeply")
            continue
        if not isinstance(obj, dict):
            yield BadRow(line.no, f"expected a JSON object, got {type(obj).__name__}")
            continue
        url = obj.get("url", obj.get("link"))
        if url is None:
            yield BadRow(line.no, 'the object has no "url"')
            continue
        yield RawRow(
            line.no,
            url,
            obj.get("reported_at", obj.get("date")),
            obj.get("note"),
            obj.get("kind"),
            obj.get("source"),
            obj.get("title", obj.get("text")),
        )


_FIELDS = ("url", "reported_at", "note", "kind", "source", "title")


def _csv_rows(
    first: Line | None, lines: Iterator[Line], bad: list[BadRow]
) -> Iterator[RawRow | BadRow]:
    yield from bad
    if first is None or first.text is None:
        return
    delim = _delimiter(first.text)
    header = [h.strip().lower() for h in _split_header(first.text)]
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        canon = COLUMN_ALIASES.get(name)
        if canon and canon not in columns:
            columns[canon] = i
    if "url" not in columns:
        shown = ", ".join(repr(h) for h in header[:10]) or "none"
        raise InvalidInput(
            f"line {first.no}: the CSV header has no url column (found {shown}); "
            "the first line must name the columns, one of them 'url'"
        )
    width = len(header)
    # The RawRow fields of a record padded to width + 1 cells: a field the file has no
    # column for reads the last cell, always None, as does a cell missing from a short row.
    get = operator.itemgetter(*[columns.get(f, width) for f in _FIELDS])
    pad: list[str | None] = [None] * (width + 1)
    unreadable: list[BadRow] = []

    def feed() -> Iterator[str]:
        # One string per physical line, so reader.line_num counts physical lines.
        for line in lines:
            if line.text is None:
                unreadable.append(BadRow(line.no, line.error or "unreadable line"))
                yield ""
            else:
                yield line.text

    reader = csv.reader(feed(), delimiter=delim)
    offset = first.no  # reader.line_num counts from the line after the header
    while True:
        start = offset + reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield from _drain(unreadable)
            yield BadRow(start, f"malformed CSV: {exc}")
            continue
        if unreadable:
            yield from _drain(unreadable)
        n = len(record)
        if n == 0 or (n == 1 and not record[0].strip()):
            continue
        if n > width:
            yield BadRow(start, f"{n} fields but the header has {width}")
            continue
        if not record[0].strip() and not any(c.strip() for c in record):
            continue
        url, at, note, kind, source, title = get(record + pad[n:])
        yield RawRow(start, url or "", at, note, kind, source, title)


def _drain(pending: list[BadRow]) -> Iterator[BadRow]:
    out = list(pending)
    pending.clear()
    yield from out
