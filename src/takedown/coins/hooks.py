"""Where coins listens to the texts that pass through: new items, captured evidence text and
crawled posts (monitoring).

``install`` registers both listeners once (``bootstrap.wire_hooks`` calls it), so
coins imports neither capability's internals and they never import coins.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from takedown.coins import service

_installed: list[bool] = []


def items_created(session: Session, item_ids: Sequence[int]) -> None:
    service.observe_item_ids(session, item_ids)


def evidence_text(session: Session, cap: object, row: object, text: str) -> None:
    from takedown.evidence.models import EvidenceCapture, EvidenceFile

    assert isinstance(cap, EvidenceCapture) and isinstance(row, EvidenceFile)
    service.observe_evidence_text(
        session,
        agency_id=cap.agency_id,
        item_id=cap.item_id,
        capture_id=cap.id,
        manifest_sha256=cap.manifest_sha256,
        file_sha256=row.sha256,
        url=cap.final_url or cap.url_canonical or cap.url_reported,
        text=text,
    )
    from takedown.coins import listings

    listings.observe(
        session,
        [cap.agency_id],
        text,
        f"evidence:{cap.id}:{row.sha256}",
        item_id=cap.item_id,
        dark_web=".onion" in (cap.url_canonical or cap.url_reported or ""),
    )


def post_recorded(session: Session, agency_id: int, item: object, url: str, text: str) -> None:
    """A crawled post, thread or listing (monitoring): its full text, not only its title."""
    from takedown.coins import listings
    from takedown.coins.models import SightingSource
    from takedown.items.models import Item

    assert isinstance(item, Item)
    if not text:
        return
    src = service.Source(
        SightingSource.POST,
        f"post:{item.id}",
        item_id=item.id,
        post_url=url,
        attribution=service.attribution_of(session, agency_id, item.id),
    )
    service.observe_text(session, agency_id, text, src)
    dark = ".onion" in url or item.kind in listings.LISTING_KINDS
    listings.observe(
        session,
        [agency_id],
        f"{item.title or ''}\n{text}",
        f"item:{item.id}",
        item_id=item.id,
        dark_web=dark,
    )


def install() -> None:
    """Register the listeners (idempotent)."""
    if _installed:
        return
    from takedown.evidence.capturing import on_text_captured
    from takedown.items.hooks import register_on_items_created
    from takedown.monitoring.record import on_post_recorded

    register_on_items_created(items_created)
    if evidence_text not in on_text_captured:
        on_text_captured.append(evidence_text)
    if post_recorded not in on_post_recorded:
        on_post_recorded.append(post_recorded)
    _installed.append(True)


def uninstall() -> None:
    from takedown.evidence.capturing import on_text_captured
    from takedown.items.hooks import unregister_on_items_created
    from takedown.monitoring.record import on_post_recorded

    unregister_on_items_created(items_created)
    if evidence_text in on_text_captured:
        on_text_captured.remove(evidence_text)
    if post_recorded in on_post_recorded:
        on_post_recorded.remove(post_recorded)
    _installed.clear()
