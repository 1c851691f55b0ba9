from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session

from takedown.config import Settings
from takedown.evidence import capturing
from takedown.evidence.capture.fetch import Limits
from tests.evidence.hostile import HOST, hostile_server

TEST_LIMITS = Limits(
    max_body_bytes=2 * 1024 * 1024,
    max_decoded_bytes=4 * 1024 * 1024,
    max_redirects=5,
    page_deadline=3.0,
    read_timeout=2.0,
)


@pytest.fixture(scope="session")
def hostile_port() -> Iterator[int]:
    with hostile_server() as port:
        yield port


@pytest.fixture
def ev_settings(settings: Settings, hostile_port: int) -> Settings:
    return settings.model_copy(update={"resolve": {HOST: f"127.0.0.1:{hostile_port}"}})


@pytest.fixture(autouse=True)
def _no_matching_hook() -> Iterator[None]:
    """Capture tests do not exercise matching unless they ask (test_matching_hook does)."""
    saved = list(capturing.on_media_captured)
    capturing.on_media_captured.clear()
    yield
    capturing.on_media_captured[:] = saved


def make_item(session: Session, principal: object, url: str) -> int:
    from takedown.items.service import report_url

    item, _ = report_url(session, principal, url)  # type: ignore[arg-type]
    session.flush()
    return item.id


def capture_one(
    db_session: Session,
    session_factory: object,
    settings: Settings,
    principal: object,
    path: str = "/page",
    *,
    url: str | None = None,
) -> tuple[int, int]:
    """Capture one hostile-server page for ``principal``; (item_id, capture_id)."""
    from takedown.evidence.capturing import capture_items

    item_id = make_item(db_session, principal, url or f"http://{HOST}{path}")
    db_session.commit()
    [summary] = capture_items(
        session_factory,  # type: ignore[arg-type]
        principal,  # type: ignore[arg-type]
        [item_id],
        settings=settings,
        limits=TEST_LIMITS,
    )
    assert summary.capture_id is not None, summary
    db_session.expire_all()
    return item_id, summary.capture_id


def make_raw_item(session: Session, principal: Any, url: str, platform: str) -> int:
    """An item row plus a sighting, bypassing canonicalisation (for URLs it rejects).

    The testbed's generated .onion names fail the v3 checksum that
    platforms' canonicaliser checks (reported to the lead); capture itself
    does not care.
    """
    import datetime as dt

    from takedown.items.models import Item, Sighting

    now = dt.datetime.now(dt.UTC)
    item = Item(
        identity=f"{platform}:{url}",
        platform=platform,
        kind="page",
        key=url,
        canonical_url=url,
        fetch_url=url,
        first_seen_at=now,
        last_seen_at=now,
    )
    session.add(item)
    session.flush()
    session.add(
        Sighting(item_id=item.id, agency_id=principal.agency_id, reported_url=url, reported_at=now)
    )
    session.flush()
    return item.id
