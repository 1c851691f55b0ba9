"""Media are matched as they are seen: a re-upload of removed content is found at once;
links to channels of a watched kind are proposed as sources."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.kit.politeness import HostBudget
from takedown.matching.engine import reset_engines
from takedown.matching.models import MatchResult
from takedown.matching.service import add_removed_media
from takedown.monitoring import service
from takedown.monitoring.base import Limits
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from takedown.monitoring.models import Observation, Proposal, Source
from takedown.sim.harness import SimHandle
from takedown.sim.history import grow
from tests.factories import make_actor
from tests.items.factories import make_item


@pytest.fixture
def fresh_engines() -> Iterator[None]:
    reset_engines()
    yield
    reset_engines()


def test_a_reupload_of_removed_media_is_matched_when_seen(
    sim: SimHandle,
    sim_client: httpx.Client,
    db_session: Session,
    session_factory: sessionmaker[Session],
    fresh_engines: None,
) -> None:
    actor = make_actor(db_session)
    ch = next(
        i
        for i in sim.items(platform="telegram", kind="channel", alive=True)
        if i["access"] == "public"
    )

    def plant() -> tuple[str, str]:
        w = sim.world
        orig = next(m for m in w.media.values() if m.kind == "image" and m.original is None)
        variant = w.new_media("image", orig.seed, orig.id, "resize")
        owner = w.items[str(ch["id"])]
        p = w.platforms[owner.platform]
        host = p.media_hosts[0] if p.media_hosts else p.hosts[0]
        t = int(sim.now().timestamp()) - 120
        w.make_child(w.rng("plant"), p, owner, t, text="synthetic re-upload", media=variant.id)
        w.version += 1
        return f"https://{host}/file/{orig.token}.{orig.filename.rsplit('.', 1)[-1]}", orig.id

    orig_url, _ = sim.call(plant)
    original = sim_client.get(orig_url)
    assert original.status_code == 200 and original.content
    removed = make_item(db_session, actor, url="https://t.me/synthremovedorig/7")
    add_removed_media(db_session, removed.id, original.content, agency_id=actor.agency.id)
    src, _ = service.add_source(db_session, actor.principal, str(ch["url"]))
    db_session.commit()

    config = CrawlConfig(limits=Limits(first_pages=3), workers=2, match=True)
    rep = crawl_due(
        session_factory, sim_client, source_ids=[src.id], config=config, budget=HostBudget()
    )
    assert rep.matches >= 1
    media = db_session.scalars(
        select(Observation).where(Observation.source_id == src.id, Observation.kind == "media")
    ).all()
    assert any(o.matches for o in media) and all(o.sha256 for o in media)
    matched_item = next(o.item_id for o in media if o.matches)
    assert db_session.scalars(select(MatchResult).where(MatchResult.item_id == matched_item)).all()


def test_an_announced_channel_is_proposed_once_and_not_when_watched(
    sim: SimHandle,
    sim_client: httpx.Client,
    db_session: Session,
    session_factory: sessionmaker[Session],
    crawl_config: CrawlConfig,
) -> None:
    actor = make_actor(db_session)
    chans = [
        i
        for i in sim.items(platform="telegram", kind="channel", alive=True)
        if i["access"] == "public"
    ]
    watched, other = chans[0], chans[1]
    start = int(sim.now().timestamp()) - 3600
    sim.call(
        lambda: grow(
            sim.world,
            str(watched["id"]),
            2,
            start=start,
            links=["https://t.me/synthsuccessor_new", str(other["url"])],
        )
    )
    src, _ = service.add_source(db_session, actor.principal, str(watched["url"]))
    service.add_source(db_session, actor.principal, str(other["url"]))  # already watched
    db_session.commit()
    crawl_due(
        session_factory, sim_client, source_ids=[src.id], config=crawl_config, budget=HostBudget()
    )
    props = db_session.scalars(select(Proposal).where(Proposal.agency_id == actor.agency.id)).all()
    by_identity = {p.identity: p for p in props}
    assert "telegram:channel/synthsuccessor_new" in by_identity
    assert f"telegram:channel/{str(other['url']).rsplit('/', 1)[-1].lower()}" not in by_identity
    p = by_identity["telegram:channel/synthsuccessor_new"]
    assert p.depth == 1 and p.found_in_source_id == src.id and p.seen == 2 and p.kind == "telegram"
    outlinks = db_session.scalars(
        select(Observation).where(Observation.source_id == src.id, Observation.kind == "outlink")
    ).all()
    assert outlinks and all(o.parent_item_id for o in outlinks)
    assert db_session.get(Source, src.id) is not None
