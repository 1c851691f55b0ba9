"""Done when: a crawl of the testbed's .onion market yields classified listings and valid
addresses with where they were seen (monitoring crawls; coins reads every post)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.coins import listings, service
from takedown.kit.politeness import HostBudget
from takedown.monitoring import service as monitoring
from takedown.monitoring.base import Limits
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from takedown.sim.harness import SimHandle, running_sim
from tests.factories import make_actor
from tests.monitoring.factories import SECRET


@pytest.fixture
def market() -> Iterator[SimHandle]:
    with running_sim("market") as handle:
        yield handle


def test_crawling_the_onion_market(
    market: SimHandle,
    db_session: Session,
    session_factory: sessionmaker[Session],
    coins_hooks: None,
) -> None:
    actor = make_actor(db_session)
    db_session.commit()
    truth = [x for x in market.ground_truth() if x.get("type") == "listing"]
    assert truth
    thread = next(
        i
        for i in market.items(platform="forum", kind="thread", alive=True)
        if i["access"] == "public"
    )
    root = str(thread["url"]).split("/thread/")[0] + "/"
    src, _ = monitoring.add_source(db_session, actor.principal, root)
    db_session.commit()
    config = CrawlConfig(
        limits=Limits(first_pages=10, site_pages=60), workers=2, secret_key=SECRET, match=False
    )
    with market.sync_client() as tor:
        crawl_due(session_factory, tor, source_ids=[src.id], config=config, budget=HostBudget(0.0))
    db_session.expire_all()
    posted = {(a["kind"], a["address"]) for x in truth for a in x["addresses"]}
    rows, _ = service.list_addresses(db_session, actor.principal, limit=500)
    found = {(r.kind, r.address) for r in rows}
    assert found and found <= posted  # every address found is one the market posted
    assert len(found) >= 0.9 * len(posted)
    row = rows[0]
    sightings, _ = service.sightings_of(db_session, actor.principal, row.id)
    assert sightings[0].source == "post" and ".onion" in (sightings[0].post_url or "")
    classes = listings.recent(db_session, actor.principal, limit=500)
    cats = {c for x in classes for c in x.categories}
    assert {"documents", "weapons", "explosives", "fundraising"} <= cats
