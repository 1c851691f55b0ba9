"""Extension points other capabilities register with (matching, evidence, monitoring).

``on_items_created`` callbacks run inside the creating transaction, once per
chunk of newly created items (intake calls them every few thousand rows, so a
million-row import never holds every id in memory). They must be cheap: record
or enqueue work, never fetch. If one raises, the whole import rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

ItemsCreatedHook = Callable[[Session, Sequence[int]], None]

on_items_created: list[ItemsCreatedHook] = []


def register_on_items_created(hook: ItemsCreatedHook) -> None:
    """Register a callback ``hook(session, item_ids)``; registering twice is a no-op."""
    if hook not in on_items_created:
        on_items_created.append(hook)


def unregister_on_items_created(hook: ItemsCreatedHook) -> None:
    if hook in on_items_created:
        on_items_created.remove(hook)


def fire_items_created(session: Session, item_ids: Sequence[int]) -> None:
    if not item_ids:
        return
    for hook in list(on_items_created):
        hook(session, item_ids)
