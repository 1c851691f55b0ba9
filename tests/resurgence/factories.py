"""Rows for resurgence tests: a removed account with an assessment, a newly seen one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from takedown.items import service as items
from takedown.items.models import Item, ItemStatus
from tests.factories import Actor

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def removed_account(
    session: Session,
    actor: Actor,
    url: str,
    *,
    title: str | None = None,
    removed_at: dt.datetime = T0,
    assess: bool = True,
    source: str = "test",
) -> Item:
    """An account first seen before ``removed_at``, assessed, and removed at ``removed_at``."""
    item, _ = items.report_url(session, actor.principal, url, title=title, source=source)
    if assess:
        items.assess(
            session,
            actor.principal,
            item.id,
            "terrorist_content",
            ["a", "c"],
            group="Synthetic Group",
            outlet="Synthetic Outlet",
        )
    item.first_seen_at = removed_at - dt.timedelta(days=20)
    item.status = ItemStatus.REMOVED.value
    item.status_changed_at = removed_at
    session.flush()
    return item


def seen_account(
    session: Session,
    actor: Actor,
    url: str,
    *,
    title: str | None = None,
    first_seen_at: dt.datetime = T0 + dt.timedelta(hours=3),
    source: str = "test",
) -> Item:
    item, _ = items.report_url(session, actor.principal, url, title=title, source=source)
    item.first_seen_at = first_seen_at
    session.flush()
    return item
