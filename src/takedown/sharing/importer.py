"""Importing inbox objects into items, banks and holds (filled in with the TAXII client)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from takedown.sharing.models import InboxObject


def import_rows(
    session: Session, rows: Sequence[InboxObject], *, decided_by: int | None, now: dt.datetime
) -> None:
    """Objects stay pending until the importer exists."""
