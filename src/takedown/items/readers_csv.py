"""CSV records from physical lines, recovering from a quote that never closes.

A quoted cell may span lines (a note with line breaks, as Excel writes it). A
quote that never closes (``"unterminated quote,...`` on line 9) used to make the
CSV reader swallow every following line into one cell: the file reported "8
rows read" of 11 and lines 10-12 vanished without a word. Here records are
assembled line by line:

- a line whose quotes balance is one record (the common case: one C-level parse);
- a line that ends inside a quoted cell takes the following lines until the quote
  closes, at most ``MAX_RECORD_LINES`` lines and ``MAX_RECORD_CHARS`` characters;
- if the quote does not close by then (or the file ends first), or the record it
  makes cannot be a row (a line break inside its url cell, more cells than the
  header), the first line is refused with the reason, and the lines it took are
  read again, each on its own: nothing is lost, and each line gets its own answer.

The quote state is tracked as Python's ``csv`` module reads it (a quote opens a
quoted cell only at the start of a cell; ``""`` inside one is a literal quote;
characters after a closing quote are kept, as the non-strict reader does).
"""

from __future__ import annotations

import csv
import operator
from collections import deque
from collections.abc import Callable, Iterator

from takedown.items.readers import (
    BLANK,
    COLUMN_ALIASES,
    CONTINUED,
    HEADER,
    BadRow,
    Line,
    RawRow,
    ReadState,
    delimiter_of,
    split_header,
)
from takedown.kit.errors import InvalidInput

MAX_RECORD_LINES = 32
MAX_RECORD_CHARS = 64 * 1024

_FIELDS = ("url", "reported_at", "note", "kind", "source", "title")


def ends_in_quote(text: str, delim: str, inside: bool = False) -> bool:
    """Whether a CSV reader is inside a quoted cell at the end of ``text``.

    ``inside``: it already was at the start of ``text`` (a continuation line).
    """
    i, n = 0, len(text)
    while True:
        if inside:
            j = text.find('"', i)
            if j < 0:
                return True
            if j + 1 < n and text[j + 1] == '"':  # "" is a literal quote
                i = j + 2
                continue
            inside = False
            k = text.find(delim, j + 1)  # what follows the closing quote stays in the cell
            if k < 0:
                return False
            i = k + 1
        elif i < n and text[i] == '"':
            inside, i = True, i + 1
        else:
            k = text.find(delim, i)
            if k < 0:
                return False
            i = k + 1


def _parse(text: str, delim: str) -> list[str] | str:
    """The cells of one record's text, or why it cannot be read."""
    try:
        return next(csv.reader([text], delimiter=delim), [])
    except csv.Error as exc:
        return f"malformed CSV: {exc}"


def csv_rows(
    first: Line | None, lines: Iterator[Line], bad: list[BadRow], state: ReadState
) -> Iterator[RawRow | BadRow]:
    yield from bad
    if first is None or first.text is None:
        return
    state.account(first.no, HEADER)
    delim = delimiter_of(first.text)
    header = [h.strip().lower() for h in split_header(first.text)]
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
    url_col = columns["url"]
    # The RawRow fields of a record padded to width + 1 cells: a field the file has no
    # column for reads the last cell, always None, as does a cell missing from a short row.
    get = operator.itemgetter(*[columns.get(f, width) for f in _FIELDS])
    pad: list[str | None] = [None] * (width + 1)

    replay: deque[Line] = deque()  # lines taken by a record that failed, to read again

    def next_line() -> Line | None:
        if replay:
            return replay.popleft()
        return next(lines, None)

    while (line := next_line()) is not None:
        no, text = line.no, line.text
        if text is None:
            yield BadRow(no, line.error or "unreadable line")
            continue
        taken: list[Line] = []
        if '"' in text and ends_in_quote(text, delim):
            taken, why = _take_quoted(line, next_line, delim)
            if why is None:
                record = _parse("\n".join(t.text or "" for t in [line, *taken]), delim)
                if isinstance(record, list) and url_col < len(record):
                    if "\n" in record[url_col]:
                        why = "a line break inside its url cell"
                    elif len(record) > width:
                        why = f"{len(record)} cells but the header has {width}"
            if why is not None:
                replay.extendleft(reversed(taken))
                after = f"; the {_lines(len(taken))} after it were read on their own"
                yield BadRow(
                    no,
                    f"unterminated quote: the quoted cell that starts on this line {why}"
                    + (after if taken else ""),
                )
                continue
        else:
            record = _parse(text, delim) if '"' in text or delim in text else [text]
        for t in taken:
            state.account(t.no, CONTINUED)
        if isinstance(record, str):
            yield BadRow(no, record)
            continue
        n = len(record)
        if n == 0 or not any(c.strip() for c in record):
            state.account(no, BLANK)
            continue
        if n > width:
            yield BadRow(no, f"{n} fields but the header has {width}")
            continue
        url, at, note, kind, source, title = get(record + pad[n:])
        yield RawRow(no, url or "", at, note, kind, source, title)


def _lines(n: int) -> str:
    return "line" if n == 1 else f"{n} lines"


def _take_quoted(
    first: Line, next_line: Callable[[], Line | None], delim: str
) -> tuple[list[Line], str | None]:
    """The lines after ``first`` up to the one that closes its quoted cell, and None; or
    the lines taken and why the quote does not close."""
    taken: list[Line] = []
    size = len(first.text or "")
    while True:
        if len(taken) + 1 >= MAX_RECORD_LINES or size > MAX_RECORD_CHARS:
            return taken, f"is still open {MAX_RECORD_LINES} lines or 64 KiB later"
        nxt: Line | None = next_line()
        if nxt is None:
            return taken, "never closes before the end of the file"
        taken.append(nxt)
        if nxt.text is None:
            return taken, f"runs into an unreadable line ({nxt.no})"
        size += len(nxt.text) + 1
        if not ends_in_quote(nxt.text, delim, inside=True):
            return taken, None
