"""Reading import files as a stream: encodings, lines, and the three formats.

Nothing here holds more than one chunk of the file (64 KiB) plus one line
(at most ``MAX_LINE`` bytes) in memory (a CSV record spanning lines holds at
most ``readers_csv.MAX_RECORD_LINES`` of them). Each physical line keeps its
number, so every problem can be reported as "line N: why".

Every physical line is accounted for exactly once (``ReadState.account``): it is
the first line of a row (read, or refused with its reason), a line inside a
quoted CSV cell that spans lines, or skipped as a header, blank or comment line.
A line ends at LF, CRLF or a lone CR (classic Mac files, pasted text), as in
Python's universal newlines; a file whose lines end in lone CRs says so in a
warning.

Encodings: a BOM decides (UTF-8, UTF-16 LE/BE); UTF-16 without a BOM is
recognised by its zero bytes. Otherwise each line is tried as UTF-8 and, if
that fails, read as Windows-1252 (cp1252) with a warning: Excel on Windows
still writes such files.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from takedown.items.models import ImportFormat
from takedown.kit.errors import InvalidInput

MAX_LINE = 8 * 1024
CHUNK = 64 * 1024
MAX_WARNINGS = 20
# Zero bytes in the first chunk of a file that is not UTF-16: not a text file. A few are
# tolerated (one stray NUL is refused on its own line, the rest of the file is read).
BINARY_ZEROS = 8

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


# What a physical line was: the first line of a row, a line inside a multi-line CSV record,
# or skipped (a header, blank or comment line).
ROW, CONTINUED, HEADER, BLANK, COMMENT = "row", "continued", "header", "blank", "comment"


@dataclass
class ReadState:
    """What the reader learnt while streaming: bytes consumed, encoding, warnings, and
    what each physical line became (``lines == rows + continued + skipped``)."""

    encoding: str = "utf-8"
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)
    fallback_lines: int = 0
    lines: int = 0  # physical lines read
    rows: int = 0  # lines that start a row (read or refused)
    continued: int = 0  # lines inside a quoted CSV cell that spans lines
    skipped: int = 0  # header, blank and comment lines
    lone_cr: int = 0  # line endings that were a lone CR
    # (line, what) for every physical line, when a caller asks (tests); None in production.
    ledger: list[tuple[int, str]] | None = None

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)

    def account(self, line: int, what: str) -> None:
        if what == ROW:
            self.rows += 1
        elif what == CONTINUED:
            self.continued += 1
        else:
            self.skipped += 1
        if self.ledger is not None:
            self.ledger.append((line, what))


# --- lines ------------------------------------------------------------------------------------


def _read(stream: IO[bytes], state: ReadState) -> bytes:
    chunk = stream.read(CHUNK)
    state.bytes_read += len(chunk)
    return chunk


_EOL_BYTES = re.compile(rb"\r\n|\r|\n")
_EOL_TEXT = re.compile(r"\r\n|\r|\n")


def _split(
    first: bytes, stream: IO[bytes], state: ReadState, decoder: codecs.IncrementalDecoder | None
) -> Iterator[bytes | str | None]:
    """Yield lines without their endings (``None`` for a line over ``MAX_LINE``).

    A line ends at LF, CRLF or a lone CR. Works on bytes for 8-bit encodings and on
    text (decoded incrementally) for UTF-16, whose code units contain zero and
    newline bytes.
    """
    eol: Any = _EOL_TEXT if decoder else _EOL_BYTES
    cr: Any = "\r" if decoder else b"\r"
    empty: Any = "" if decoder else b""
    buf: Any = decoder.decode(first) if decoder else first
    skipping = False
    eof = False
    while True:
        start = 0
        # A CR at the end of the buffer may be the first half of a CRLF: wait for more.
        end = len(buf) - 1 if (not eof and buf.endswith(cr)) else len(buf)
        for m in eol.finditer(buf, 0, end):
            line = buf[start : m.start()]
            start = m.end()
            if m.end() - m.start() == 1 and m.group() == cr:
                state.lone_cr += 1
            if skipping:
                skipping = False
                yield None
            elif len(line) > MAX_LINE:
                yield None
            else:
                yield line
        buf = buf[start:]
        if len(buf) > MAX_LINE:
            skipping, buf = True, (cr if buf.endswith(cr) else empty)
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
    """Decode ``stream`` line by line, detecting the encoding from its first bytes.

    Raises ``InvalidInput`` for a file that is not text at all (zero bytes that are not
    UTF-16): one message for the file rather than one per line of a binary.
    """
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
        elif first.count(b"\x00") > BINARY_ZEROS:
            raise InvalidInput(
                "this is not a text file (it holds zero bytes, as images, archives and "
                "spreadsheets do): export it as CSV (UTF-8), JSON lines or a list of URLs"
            )
    if state.encoding.startswith("utf-16"):
        decoder = codecs.getincrementaldecoder(state.encoding)(errors="replace")
    no = 0
    for raw in _split(first, stream, state, decoder):
        no += 1
        state.lines = no
        if raw is None:
            yield Line(no, None, f"line is longer than {MAX_LINE // 1024} KiB")
            continue
        if isinstance(raw, bytes):
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
            text = raw
        if no == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if "\x00" in text:
            yield Line(no, None, "line contains NUL bytes (a binary file, or UTF-16 without BOM?)")
            continue
        yield Line(no, text)
    if state.lone_cr:
        state.warn(
            f"{state.lone_cr} line endings were a lone CR (classic Mac OS line endings, or "
            "pasted text): each was read as a line break"
        )


# --- formats ----------------------------------------------------------------------------------


def _first_content(lines: Iterator[Line], bad: list[BadRow], state: ReadState) -> Line | None:
    """The first non-empty readable line; unreadable lines before it become bad rows."""
    for line in lines:
        if line.text is None:
            bad.append(BadRow(line.no, line.error or "unreadable line"))
            continue
        if line.text.strip():
            return line
        state.account(line.no, BLANK)
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
        header = [h.strip().strip('"').lower() for h in split_header(text)]
        if any(h in URL_COLUMNS for h in header):
            return ImportFormat.CSV
    return ImportFormat.URLS


def delimiter_of(header: str) -> str:
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_header(header: str) -> list[str]:
    try:
        return next(csv.reader([header], delimiter=delimiter_of(header)), [])
    except csv.Error:
        return []


def iter_rows(
    lines: Iterator[Line],
    fmt: ImportFormat | None,
    filename: str,
    state: ReadState | None = None,
) -> tuple[ImportFormat, Iterator[RawRow | BadRow]]:
    """Pick the format (if not given) and return an iterator of raw or bad rows.

    Each row is accounted for on ``state`` as it is yielded (the format readers account
    for the lines they skip), so once the iterator is exhausted every physical line
    read is in ``state.rows``, ``state.continued`` or ``state.skipped``.
    """
    from takedown.items.readers_csv import csv_rows

    st = state if state is not None else ReadState()
    pre_bad: list[BadRow] = []
    first = _first_content(lines, pre_bad, st)
    chosen = fmt or detect_format(filename, first.text if first else None)
    if chosen is ImportFormat.CSV:
        body = csv_rows(first, lines, pre_bad, st)
    elif chosen is ImportFormat.JSONL:
        body = _jsonl_rows(first, lines, pre_bad, st)
    else:
        body = _url_rows(first, lines, pre_bad, st)
    return chosen, _accounted(body, st)


def _accounted(rows: Iterator[RawRow | BadRow], state: ReadState) -> Iterator[RawRow | BadRow]:
    account = state.account
    for r in rows:
        account(r.line, ROW)
        yield r


def chain(first: Line, lines: Iterator[Line]) -> Iterator[Line]:
    yield first
    yield from lines


def _url_rows(
    first: Line | None, lines: Iterator[Line], bad: list[BadRow], state: ReadState
) -> Iterator[RawRow | BadRow]:
    yield from bad
    if first is None:
        return
    for line in chain(first, lines):
        if line.text is None:
            yield BadRow(line.no, line.error or "unreadable line")
            continue
        text = line.text.strip()
        if not text:
            state.account(line.no, BLANK)
            continue
        if text.startswith("#"):
            state.account(line.no, COMMENT)
            continue
        # "url  # comment": a '#' after whitespace starts a comment; one inside a URL is a fragment.
        for sep in (" #", "\t#"):
            if sep in text:
                text = text.split(sep, 1)[0].rstrip()
        yield RawRow(line.no, text)


def _jsonl_rows(
    first: Line | None, lines: Iterator[Line], bad: list[BadRow], state: ReadState
) -> Iterator[RawRow | BadRow]:
    yield from bad
    if first is None:
        return
    if first.text is not None and first.text.lstrip().startswith("["):
        raise InvalidInput(
            f"line {first.no}: this is a JSON array, not JSON lines; write one object per line"
        )
    for line in chain(first, lines):
        if line.text is None:
            yield BadRow(line.no, line.error or "unreadable line")
            continue
        if not line.text.strip():
            state.account(line.no, BLANK)
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
