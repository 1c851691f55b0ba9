"""Every kind of source crawls on the testbed: Telegram (paged with ``before=``), Rocket.Chat
with credentials, account pages, a website, and ``.onion`` through SOCKS only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.items.models import Item, Sighting
from takedown.kit.politeness import HostBudget
from takedown.monitoring import service
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from takedown.monitoring.models import Crawl, Observation, Source
from takedown.sim.harness import SimHandle
from takedown.sim.history import grow
from tests.factories import Actor, make_actor
from tests.monitoring.factories import make_server


def _owner(sim: SimHandle, platform: str, kind: str) -> dict[str, object]:
    items = sim.items(platform=platform, kind=kind, alive=True)
    public = [i for i in items if i["access"] == "public"]
    return public[0]


def _live_children(sim: SimHandle, owner_id: object) -> int:
    return len([i for i in sim.items(alive=True) if i["parent"] == owner_id])


def _crawl(
    factory: sessionmaker[Session],
    client: httpx.Client,
    budget: HostBudget,
    config: CrawlConfig,
    src: Source,
) -> Source:
    crawl_due(factory, client, source_ids=[src.id], config=config, budget=budget)
    s = factory()
    row = s.get(Source, src.id)
    assert row is not None
    return row


def _observed(session: Session, src: Source, kind: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Observation)
            .where(Observation.source_id == src.id, Observation.kind == kind)
        )
        or 0
    )


@pytest.fixture
def actor(db_session: Session) -> Actor:
    a = make_actor(db_session)
    db_session.commit()
    return a


def test_telegram_channel_pages_back_with_before_and_then_reads_only_what_is_new(
    sim: SimHandle,
    sim_client: httpx.Client,
    budget: HostBudget,
    crawl_config: CrawlConfig,
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
) -> None:
    ch = _owner(sim, "telegram", "channel")
    start = int(sim.now().timestamp()) - 3 * 3600
    sim.call(lambda: grow(sim.world, str(ch["id"]), 45, start=start))
    total = _live_children(sim, ch["id"])
    assert total > 40  # more than two preview pages
    src, _ = service.add_source(db_session, actor.principal, str(ch["url"]))
    db_session.commit()

    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_result == "ok", row.last_reason
    assert _observed(db_session, src, "message") == total
    assert row.cursor is not None and int(row.cursor) >= total
    assert row.checkpoint is None and row.etag
    crawl = db_session.scalars(select(Crawl).where(Crawl.source_id == src.id)).one()
    assert crawl.pages >= 3  # newest page, then ?before= twice

    # Items carry monitoring as their source and the channel as their parent.
    sightings = db_session.scalars(
        select(Sighting).where(Sighting.source == f"monitoring:{src.id}")
    ).all()
    assert len(sightings) >= total
    item = db_session.get(Item, sightings[0].item_id)
    assert item is not None and item.parent_identity == f"telegram:channel/{row.url[15:]}"

    sim.call(lambda: grow(sim.world, str(ch["id"]), 5, start=int(sim.now().timestamp()) - 600))
    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_new == 5 and row.last_result == "ok"
    latest = db_session.scalars(
        select(Crawl).where(Crawl.source_id == src.id).order_by(Crawl.id.desc())
    ).first()
    assert latest is not None and latest.pages == 1  # the cursor stopped it on the first page

    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_result == "not_modified"  # ETag honoured by the preview
    assert row.last_new == 0


def test_rocketchat_room_with_a_long_history_through_the_rest_api(
    sim: SimHandle,
    sim_client: httpx.Client,
    budget: HostBudget,
    crawl_config: CrawlConfig,
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
) -> None:
    room = _owner(sim, "rocket", "channel")
    start = int(sim.now().timestamp()) - 5 * 3600
    sim.call(lambda: grow(sim.world, str(room["id"]), 120, start=start))
    total = _live_children(sim, room["id"])
    auth = sim.call(lambda: sim.world.platforms["rocket"].auth)
    base = str(room["url"]).split("/channel/")[0]
    make_server(db_session, actor, base, user_id=auth.user_id, token=auth.token)
    src, _ = service.add_source(db_session, actor.principal, str(room["url"]))
    db_session.commit()

    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_result == "ok", row.last_reason
    assert _observed(db_session, src, "message") == total
    assert row.cursor and row.cursor.endswith("Z")

    sim.call(lambda: grow(sim.world, str(room["id"]), 3, start=int(sim.now().timestamp()) - 600))
    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_new == 3, row.last_reason


def test_rocketchat_wrong_credentials_end_with_a_reason(
    sim: SimHandle,
    sim_client: httpx.Client,
    budget: HostBudget,
    crawl_config: CrawlConfig,
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
) -> None:
    room = _owner(sim, "rocket", "channel")
    base = str(room["url"]).split("/channel/")[0]
    make_server(db_session, actor, base, user_id="nobody", token="wrong")
    src, _ = service.add_source(db_session, actor.principal, str(room["url"]))
    db_session.commit()
    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_result == "error" and "credentials" in row.last_reason


def test_account_page_lists_its_posts(
    sim: SimHandle,
    sim_client: httpx.Client,
    budget: HostBudget,
    crawl_config: CrawlConfig,
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
) -> None:
    acc = _owner(sim, "x", "account")
    total = _live_children(sim, acc["id"])
    src, _ = service.add_source(db_session, actor.principal, str(acc["url"]))
    db_session.commit()
    assert src.kind == "account"
    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_result == "ok", row.last_reason
    assert _observed(db_session, src, "post") == total > 0
    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_new == 0  # the microblog ignores conditional requests: the DB de-duplicates


def test_website_same_site_crawl(
    sim: SimHandle,
    sim_client: httpx.Client,
    budget: HostBudget,
    crawl_config: CrawlConfig,
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
) -> None:
    site = _owner(sim, "webhost", "website")
    articles = _live_children(sim, site["id"])
    src, _ = service.add_source(db_session, actor.principal, str(site["url"]))
    db_session.commit()
    assert src.kind == "website"
    row = _crawl(session_factory, sim_client, budget, crawl_config, src)
    assert row.last_result == "ok", row.last_reason
    assert _observed(db_session, src, "post") == articles + 1  # front page + articles


def test_onion_forum_through_socks_only(
    sim: SimHandle,
    budget: HostBudget,
    crawl_config: CrawlConfig,
    db_session: Session,
    session_factory: sessionmaker[Session],
    actor: Actor,
) -> None:
    thread = _owner(sim, "forum", "thread")
    onion_root = str(thread["url"]).split("/thread/")[0] + "/"
    src, _ = service.add_source(db_session, actor.principal, onion_root)
    db_session.commit()
    assert src.kind == "onion"
    # Without a Tor proxy the guarded client refuses .onion: never direct.
    with sim.sync_client(tor_proxy=None) as direct:
        row = _crawl(session_factory, direct, budget, crawl_config, src)
    assert row.last_result == "error" and "Tor" in row.last_reason
    db_session.expire_all()
    with sim.sync_client() as tor:
        crawl_due(session_factory, tor, source_ids=[src.id], config=crawl_config, budget=budget)
    row2 = session_factory().get(Source, src.id)
    assert row2 is not None and row2.last_result == "ok", row2.last_reason
    assert _observed(db_session, src, "post") >= 2  # the index and its threads
