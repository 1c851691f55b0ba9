"""Bounded types for the API edge.

Database ids are 32-bit on PostgreSQL's INTEGER and 64-bit on SQLite; an
unbounded int from a URL or a body would crash the driver instead of
answering 404 or 422. Use these for every id the API accepts.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import Path, Query
from pydantic import BeforeValidator, Field

MAX_ID = 2**31 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID)]

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def _rfc3339(value: object) -> object:
    """Only what the schema promises (``format: date-time``, RFC 3339): pydantic alone also
    takes ``0`` (a Unix time), ``2026-05-01`` (a date) or a time without its offset."""
    if isinstance(value, str) and not _RFC3339.match(value.strip()):
        raise ValueError(
            "expected an RFC 3339 date-time with its offset, e.g. 2026-05-01T12:00:00Z"
        )
    if not isinstance(value, str | dt.datetime):
        raise ValueError("expected an RFC 3339 date-time string")
    return value


#: A date-time at the API edge (query strings and bodies): RFC 3339, offset required.
DateTime = Annotated[dt.datetime, BeforeValidator(_rfc3339)]
