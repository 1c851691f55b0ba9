"""Bounded types for the API edge.

Database ids are 32-bit on PostgreSQL's INTEGER and 64-bit on SQLite; an
unbounded int from a URL or a body would crash the driver instead of
answering 404 or 422. Use these for every id the API accepts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

MAX_ID = 2**31 - 1

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID)]
