"""The one CSV writer of the app: every cell is safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or CR, which some
spreadsheets skip before reading the rest as a formula) is a formula to Excel,
LibreOffice and Google Sheets: a bank signal labelled
``=HYPERLINK("http://evil.invalid","x")`` became a live link in the export of a
bank (issue 19.7). Such a cell is written with a leading apostrophe, the
spreadsheets' own "this is text" mark (OWASP's CSV-injection advice):
``'=HYPERLINK(...)`` shows as the text ``=HYPERLINK(...)``.

Round trip. A cell that starts with an apostrophe gets one more, so the mark is
never ambiguous: ``'abc`` is written ``''abc``. ``restore`` undoes exactly
that (it drops one leading apostrophe when the next character is a trigger or
another apostrophe), so our own importers read back what was exported:
``restore(neutralise(s)) == s`` for every text. Numbers (``int``/``float``
values) are written as they are: ``-3`` stays a number.

Every CSV the app writes goes through ``writer``/``dict_writer``;
``tests/kit/test_csvfile.py`` fails for a ``csv.writer`` anywhere else in ``src``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

TRIGGERS = frozenset("=+-@\t\r")
MARK = "'"


def neutralise(value: Any) -> Any:
    """The cell as written: text that a spreadsheet would evaluate gets the text mark."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        if text and (text[0] in TRIGGERS or text[0] == MARK):
            return MARK + text
        return text
    return value


def restore(text: str) -> str:
    """A cell of a CSV we wrote, as it was before ``neutralise``."""
    if len(text) >= 2 and text[0] == MARK and (text[1] in TRIGGERS or text[1] == MARK):
        return text[1:]
    return text


class SafeWriter:
    """``csv.writer`` whose rows are neutralised cell by cell.

    A cell holding a CR or an LF is always quoted, whatever the line terminator (the
    ``csv`` module quotes only the terminator's own characters: with ``"\n"``, a bare CR
    in a cell split the row for every reader).
    """

    def __init__(self, stream: IO[str], *, lineterminator: str = "\r\n", **kwargs: Any) -> None:
        self._stream = stream
        self._end = lineterminator
        self._buf = io.StringIO()
        self._w = csv.writer(self._buf, lineterminator="\r\n", **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._w.writerow([neutralise(v) for v in row])
        line = self._buf.getvalue()
        self._buf.seek(0)
        self._buf.truncate()
        self._stream.write(line[:-2] + self._end)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose values are neutralised (the header too)."""

    def __init__(self, stream: IO[str], fieldnames: Sequence[str], **kwargs: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._w = SafeWriter(stream, **kwargs)

    def writeheader(self) -> None:
        self._w.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._w.writerow([row.get(k) for k in self.fieldnames])


def writer(stream: IO[str], **kwargs: Any) -> SafeWriter:
    return SafeWriter(stream, **kwargs)


def dict_writer(stream: IO[str], fieldnames: Sequence[str], **kwargs: Any) -> SafeDictWriter:
    return SafeDictWriter(stream, fieldnames, **kwargs)
