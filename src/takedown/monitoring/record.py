"""What a crawled page becomes: items and sightings, observations, matches, proposals.

Every new post, message and outlink becomes an item (or, when the item is
known, a sighting of it) reported by the source's agency with
``monitoring:<source id>`` as its source, and an observation whose parent is
the source's item (an outlink's parent is the post it was found in). Media and
long texts are hashed and matched against the banks as they are seen, so a
re-upload of removed content is flagged on its post at once. A link to a
channel or account of a watched kind, not yet watched, is proposed as a new
source (review queue), no deeper than ``MAX_PROPOSAL_DEPTH`` from a hand-added one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.items import repository as items_repo
from takedown.items import service as items
from takedown.items.models import Item
from takedown.kit.errors import InvalidInput, TakedownError
from takedown.matching.engine import MatchingEngine
from takedown.monitoring import repository
from takedown.monitoring.base import Page, Post
from takedown.monitoring.models import Observation, ObservationKind, Proposal, Source
from takedown.platforms.identity import ItemIdentity, ItemKind, canonicalize

log = logging.getLogger("takedown.monitoring")

MAX_PROPOSAL_DEPTH = 2
MAX_OUTLINKS_PER_POST = 100
MIN_TEXT_MATCH = 80  # characters: shorter texts make no useful SimHash
#: Which item identities make a source of which kind (for proposals).
_WATCHABLE = {
    ("telegram", ItemKind.CHANNEL): "telegram",
    ("rocketchat", ItemKind.CHANNEL): "rocketchat",
}


def principal_for(source: Source) -> Principal:
    """Crawls report on behalf of the source's agency (no user: ``reported_by`` stays empty)."""
    return Principal(user_id=0, agency_id=source.agency_id, role=Role.ANALYST, via="job")


def watch_kind(ident: ItemIdentity) -> str | None:
    kind = _WATCHABLE.get((ident.platform, ident.kind))
    if kind:
        return kind
    if ident.kind in (ItemKind.ACCOUNT, ItemKind.CHANNEL) and ident.platform not in (
        "telegram",
        "rocketchat",
        "whatsapp",
        "website",
        "onion",
    ):
        return "account"
    return None


@dataclass
class PageTally:
    new_items: int = 0
    sightings: int = 0
    media: int = 0
    matches: int = 0
    proposals: int = 0
    newest_post: dt.datetime | None = None


class PageRecorder:
    def __init__(
        self,
        session: Session,
        source: Source,
        *,
        now: dt.datetime,
        engine: MatchingEngine | None = None,
        match: bool = True,
    ) -> None:
        self.session = session
        self.source = source
        self.now = now
        self.engine = engine
        self.match = match
        self.principal = principal_for(source)
        self.tag = f"monitoring:{source.id}"
        self.source_item: Item | None = (
            items_repo.item_by_id(session, source.item_id) if source.item_id else None
        )

    def record(self, page: Page, media: Mapping[str, bytes | None]) -> PageTally:
        tally = PageTally()
        for post in page.posts:
            self._post(post, media, tally)
        return tally

    # --- one post -------------------------------------------------------------------------

    def _item(
        self, url: str, parent: Item | None, kind: str, tally: PageTally, *, title: str | None
    ) -> Item | None:
        """The item for ``url``, reported once per source; None if it names no item."""
        try:
            ident = canonicalize(url)
        except InvalidInput:
            return None
        existing = items_repo.item_by_identity(self.session, ident.identity)
        if existing is not None and repository.observed_item_ids(
            self.session, self.source.id, [existing.id], kind
        ):
            return None  # this source saw it already
        try:
            with self.session.begin_nested():
                item, created = items.report_url(
                    self.session,
                    self.principal,
                    url,
                    source=self.tag,
                    note=f"seen by monitoring in {self.source.url}",
                    title=(title or None) and (title or "")[:300],
                )
        except TakedownError as exc:
            log.debug("monitoring %s: %s not recorded: %s", self.source.id, url, exc)
            return None
        if created:
            tally.new_items += 1
            if item.parent_identity is None and parent is not None:
                item.parent_identity = parent.identity
        else:
            tally.sightings += 1
        return item

    def _observe(
        self, item: Item, parent: Item | None, kind: str, url: str, post: Post | None
    ) -> Observation:
        obs = Observation(
            source_id=self.source.id,
            agency_id=self.source.agency_id,
            item_id=item.id,
            parent_item_id=parent.id if parent else None,
            kind=kind,
            url=url[:4000],
            text=(post.text[:2000] if post else ""),
            posted_at=post.posted_at if post else None,
            seen_at=self.now,
        )
        self.session.add(obs)
        return obs

    def _post(self, post: Post, media: Mapping[str, bytes | None], tally: PageTally) -> None:
        kind = (
            ObservationKind.MESSAGE.value
            if self.source.kind in ("telegram", "rocketchat")
            else ObservationKind.POST.value
        )
        title = post.title or (post.text[:200] if post.text else None)
        item = self._item(post.url, self.source_item, kind, tally, title=title)
        if item is None:
            return
        self._observe(item, self.source_item, kind, post.url, post)
        if post.posted_at and (tally.newest_post is None or post.posted_at > tally.newest_post):
            tally.newest_post = post.posted_at
        if self.match and len(post.text) >= MIN_TEXT_MATCH:
            self._match(item, post.text.encode("utf-8"), "text")
        for url in post.media:
            data = media.get(url)
            if data:
                self._media(item, url, data, tally)
        for link in post.links[:MAX_OUTLINKS_PER_POST]:
            self._outlink(link, item, tally)

    def _match(self, item: Item, data: bytes, media_type: str | None) -> int:
        from takedown.matching.service import match_item_media

        try:
            with self.session.begin_nested():
                report = match_item_media(
                    self.session,
                    item.id,
                    data,
                    agency_id=self.source.agency_id,
                    media_type=media_type,
                    engine=self.engine,
                )
        except Exception as exc:  # undecodable media must not end the crawl
            log.info(
                "monitoring %s: media not matched on item %s: %s", self.source.id, item.id, exc
            )
            return 0
        return len(report.matches)

    def _media(self, item: Item, url: str, data: bytes, tally: PageTally) -> None:
        tally.media += 1
        found = self._match(item, data, None) if self.match else 0
        tally.matches += found
        obs = self._observe(item, item, ObservationKind.MEDIA.value, url, None)
        obs.sha256 = hashlib.sha256(data).hexdigest()
        obs.matches = found

    def _outlink(self, link: str, post_item: Item, tally: PageTally) -> None:
        try:
            ident = canonicalize(link)
        except InvalidInput:
            return
        if ident.identity == post_item.identity or (
            self.source_item is not None and ident.identity == self.source_item.identity
        ):
            return
        item = self._item(link, post_item, ObservationKind.OUTLINK.value, tally, title=None)
        if item is not None:
            self._observe(item, post_item, ObservationKind.OUTLINK.value, link, None)
        self._propose(ident, link, tally)

    def _propose(self, ident: ItemIdentity, url: str, tally: PageTally) -> None:
        kind = watch_kind(ident)
        if kind is None or self.source.depth + 1 > MAX_PROPOSAL_DEPTH:
            return
        agency = self.source.agency_id
        if repository.watched_identities(self.session, agency, [ident.identity]):
            return
        prop = repository.proposal_by_identity(self.session, agency, ident.identity)
        if prop is not None:
            prop.seen += 1
            return
        self.session.add(
            Proposal(
                agency_id=agency,
                identity=ident.identity,
                url=ident.canonical_url,
                kind=kind,
                found_in_source_id=self.source.id,
                depth=self.source.depth + 1,
                created_at=self.now,
            )
        )
        self.session.flush()
        tally.proposals += 1
