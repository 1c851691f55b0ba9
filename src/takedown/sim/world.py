"""The simulated world: items, media, scheduled events and the ground truth.

Why one event-driven model: every state change (an organic suspension, a
removal after a referral, the adversary re-creating an account) is an event
with a scenario timestamp in a heap, processed in time order when the clock
passes it. The same seed and the same referrals therefore give the same
history, whatever the wall-clock speed, and the ground truth is a plain
dump of the model.

Times are integer seconds since the epoch (UTC) internally.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from takedown.sim import adversary, content, tns
from takedown.sim.media import VARIANTS
from takedown.sim.scenario import Dist, Platform, Scenario
from takedown.sim.tns import Referral

OWNER_KIND = {
    "microblog": "account",
    "video": "account",
    "telegram": "channel",
    "rocketchat": "channel",
    "filehost": "account",
    "paste": "account",
    "website": "website",
    "onion_forum": "thread",
}
CHILD_KIND = {
    "microblog": "post",
    "video": "video",
    "telegram": "post",
    "rocketchat": "message",
    "filehost": "file",
    "paste": "paste",
    "website": "page",
    "onion_forum": "post",
}
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def iso(t: int | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def draw(rng: random.Random, d: Dist, unit: float) -> int:
    """Seconds drawn from a log-normal with the given median (in ``unit`` seconds)."""
    if d.median <= 0:
        return 0
    v = d.median * (math.exp(rng.gauss(0, d.sigma)) if d.sigma > 0 else 1.0)
    return max(1, int(v * unit))


@dataclass(slots=True)
class Media:
    id: str
    kind: str  # image | video | text
    seed: int
    original: str | None = None
    variant: str | None = None
    filename: str = ""
    token: str = ""


@dataclass(slots=True)
class Item:
    id: str
    platform: str
    kind: str
    key: str  # platform-local key: handle, status id, video id, paste id...
    url: str
    appeared_at: int
    parent: str | None = None
    handle: str | None = None
    title: str = ""
    text: str = ""
    lang: str = "en"
    media: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    access: str = "public"  # public | geo_blocked | login_required | private
    removed_at: int | None = None
    removal: str | None = None
    successor_of: str | None = None
    mutation: str | None = None
    generation: int = 0
    announces: str | None = None
    children: list[str] = field(default_factory=list)
    number: int = 0  # telegram post number, rocketchat message ordinal
    host: str = ""  # website / rocketchat / onion host serving it

    def alive(self, now: int) -> bool:
        return self.appeared_at <= now and (self.removed_at is None or self.removed_at > now)

    def truth(self, now: int) -> dict[str, Any]:
        removed = (
            self.removed_at if self.removed_at is not None and self.removed_at <= now else None
        )
        return {
            "type": "item",
            "id": self.id,
            "platform": self.platform,
            "kind": self.kind,
            "url": self.url,
            "appeared_at": iso(self.appeared_at),
            "removed_at": iso(removed),
            "removal": self.removal if removed is not None else None,
            "parent": self.parent,
            "handle": self.handle,
            "lang": self.lang,
            "access": self.access,
            "media": self.media,
            "links": self.links,
            "successor_of": self.successor_of,
            "mutation": self.mutation,
            "generation": self.generation,
            "announces": self.announces,
        }


class World:
    """All items of a scenario and their history. Not thread-safe: one event loop owns it."""

    def __init__(self, scenario: Scenario) -> None:
        scenario = scenario.model_copy(
            deep=True
        )  # defaults get filled in; keep the caller's intact
        self.sc = scenario
        self.seed = scenario.seed
        self.start = int(scenario.start.timestamp())
        self.platforms: dict[str, Platform] = {p.id: p for p in scenario.platforms}
        self.items: dict[str, Item] = {}
        self.media: dict[str, Media] = {}
        self.by_key: dict[tuple[str, str], Item] = {}
        self.by_token: dict[str, Media] = {}
        self.referrals: list[Referral] = []
        self.referral_by_ack: dict[str, Referral] = {}
        self._events: list[tuple[int, int, str, str]] = []
        self._seq = 0
        self._n_items = 0
        self._n_media = 0
        self._tg_counter: dict[str, int] = {}
        self.hosts: dict[str, str] = {}  # hostname -> platform id
        self.onion_hosts: set[str] = set()
        self.site_by_host: dict[str, Item] = {}
        self.channels: list[str] = []
        self.processed_until = -(2**62)
        self.version = 0  # bumped whenever what a page shows may have changed (response cache)
        self._appear: list[int] = []  # appearance times not yet reached by the clock
        self.listings: dict[str, dict[str, Any]] = {}  # item id -> listing truth (sim.listings)
        self._generate()

    # --- ids and randomness ------------------------------------------------------------

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join([str(self.seed), *map(str, parts)]))

    def _item_id(self) -> str:
        self._n_items += 1
        return f"i{self._n_items:06d}"

    def new_media(
        self, kind: str, seed: int, original: str | None = None, variant: str | None = None
    ) -> Media:
        self._n_media += 1
        mid = f"m{self._n_media:06d}"
        ext = {"image": "jpg", "video": "mp4", "text": "txt"}[kind]
        token = hashlib.sha256(f"{self.seed}:{mid}".encode()).hexdigest()[:16]
        m = Media(mid, kind, seed, original, variant, f"{kind}_{token[:8]}.{ext}", token)
        self.media[mid] = m
        self.by_token[token] = m
        return m

    def schedule(self, t: int, action: str, item_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._events, (t, self._seq, action, item_id))

    # --- generation --------------------------------------------------------------------

    def _generate(self) -> None:
        pool_rng = self.rng("pool")
        total_children = sum(
            p.content.owners * (p.content.children[0] + p.content.children[1]) // 2
            for p in self.sc.platforms
        )
        self._pool = [pool_rng.getrandbits(31) for _ in range(max(10, total_children // 5))]
        self._originals: dict[int, Media] = {}
        for p in self.sc.platforms:
            self._register_hosts(p)
            self._gen_platform(p)
        self._gen_links()

    def _register_hosts(self, p: Platform) -> None:
        if p.type == "onion_forum" and not p.hosts:
            p.hosts = [content.onion_host(self.rng("onion", p.id))]
        if not p.hosts:
            raise ValueError(f"platform {p.id} has no hosts")
        intake: list[str] = []
        if p.type != "onion_forum":  # a hidden forum has no trust & safety desk
            if not p.tns.host:
                p.tns.host = "tns." + p.hosts[0].removeprefix("www.")
            if not p.tns.email:
                p.tns.email = "abuse@" + p.hosts[0].removeprefix("www.")
            intake = [p.tns.host]
        for h in [*p.hosts, *p.media_hosts, *intake]:
            self.hosts[h.lower()] = p.id
            if h.endswith(".onion"):
                self.onion_hosts.add(h.lower())

    def _lang(self, rng: random.Random, p: Platform) -> str:
        langs = p.languages or self.sc.languages
        return rng.choice(langs)

    def _pick_media(self, rng: random.Random, kind: str) -> str:
        seed = rng.choice(self._pool)
        orig = self._originals.get(seed * 2 + (kind == "video"))
        if orig is None:
            orig = self.new_media(kind, seed)
            self._originals[seed * 2 + (kind == "video")] = orig
            return orig.id
        if rng.random() < 0.35:
            v = rng.choice(sorted(VARIANTS))
            return self.new_media(kind, seed, orig.id, v).id
        return orig.id

    def _gen_platform(self, p: Platform) -> None:
        rng = self.rng("gen", p.id)
        c = p.content
        window = int(c.spread_hours * 3600)
        every = round(1 / p.access.private) if p.access.private > 0 else 0
        for i in range(c.owners):
            appeared = self.start - rng.randint(window // 2, max(window, 1))
            owner = self.make_owner(
                rng, p, appeared, private=bool(every) and i % every == every - 1
            )
            times = sorted(
                rng.randint(owner.appeared_at, self.start - 60)
                for _ in range(rng.randint(*c.children))
            )
            for (
                t
            ) in times:  # chronological, so post numbers grow with time as on the real platforms
                self.make_child(rng, p, owner, t)
        if p.type == "onion_forum" and c.listings:
            from takedown.sim import listings

            listings.add_to_world(self, p, self.rng("listings", p.id), c.listings)

    def unique_handle(self, rng: random.Random, p: Platform, base: str | None = None) -> str:
        max_len = 15 if p.type == "microblog" else 30
        for _ in range(50):
            h = base or content.handle(rng, max_len)
            if p.type == "telegram" and len(h) < 5:
                h = h + "_tg"
            if (p.id, h.lower()) not in self.by_key:
                return h
            base = None
        return content.handle(rng, max_len) + str(rng.randint(100, 999))

    def make_owner(
        self,
        rng: random.Random,
        p: Platform,
        appeared: int,
        handle: str | None = None,
        private: bool = False,
    ) -> Item:
        kind = OWNER_KIND[p.type]
        h = handle or self.unique_handle(rng, p)
        host = p.hosts[0]
        lang = self._lang(rng, p)
        access = "public"
        if p.type == "website":
            h = h.replace("_", "-").lower()
            host = f"{h}.{p.hosts[0].rsplit('.', 1)[-1]}"  # sites live under the host's TLD
            url = f"https://{host}/"
            self.hosts[host] = p.id
        elif p.type == "microblog":
            url = f"https://{host}/{h}"
        elif p.type == "video":
            url = f"https://{host}/@{h}"
        elif p.type == "telegram":
            url = f"https://{host}/{h}"
        elif p.type == "rocketchat":
            if private:
                access = "private"
            url = f"https://{host}/{'group' if access == 'private' else 'channel'}/{h}"
        elif p.type == "onion_forum":
            h = str(rng.randint(1000, 99999))
            url = f"http://{host}/thread/{h}"
        else:
            url = f"https://{host}/u/{h}"
        it = Item(
            self._item_id(),
            p.id,
            kind,
            h.lower(),
            url,
            appeared,
            handle=h,
            title=content.display_name(rng)
            if p.type != "onion_forum"
            else content.title(rng, lang),
            text=content.sentence(rng, lang),
            lang=lang,
            access=access,
            host=host,
        )
        self._add(it)
        self._maybe_organic(p, it)
        return it

    def make_child(
        self,
        rng: random.Random,
        p: Platform,
        owner: Item,
        t: int,
        text: str | None = None,
        media: str | None = None,
    ) -> Item:
        kind = CHILD_KIND[p.type]
        lang = owner.lang if rng.random() < 0.8 else self._lang(rng, p)
        host = owner.host
        number = 0
        if p.type == "microblog":
            key = str(1_100_000_000_000_000_000 + rng.getrandbits(56))
            url = f"https://{host}/{owner.handle}/status/{key}"
        elif p.type == "video":
            key = "".join(rng.choice(_B64) for _ in range(11))
            url = f"https://{host}/watch?v={key}"
        elif p.type == "telegram":
            number = self._tg_counter.get(owner.id, 0) + 1
            self._tg_counter[owner.id] = number
            key = f"{owner.key}/{number}"
            url = f"https://{host}/{owner.handle}/{number}"
        elif p.type == "rocketchat":
            number = self._tg_counter.get(owner.id, 0) + 1
            self._tg_counter[owner.id] = number
            key = "".join(rng.choice(_B64[:62]) for _ in range(17))
            url = f"{owner.url}?msg={key}"
        elif p.type == "filehost":
            key = "".join(rng.choice(_B64[:62]) for _ in range(10))
            url = f"https://{host}/f/{key}"
        elif p.type == "paste":
            key = "".join(rng.choice(_B64[:62]) for _ in range(8))
            url = f"https://{host}/{key}"
        elif p.type == "website":
            when = dt.datetime.fromtimestamp(t, dt.UTC)
            key = f"{when:%Y/%m}/{content.word(rng)}-{content.word(rng)}"
            url = f"https://{host}/{key}.html"
        else:
            key = str(rng.randint(100000, 9999999))
            url = f"http://{host}/post/{key}"
        while (p.id, key) in self.by_key:
            # One suffix for both, so the item is served at the URL its ground truth names.
            suffix = str(rng.randint(10, 99))
            if key in url:
                url = url.replace(key, key + suffix, 1)
            key = key + suffix
        it = Item(
            self._item_id(),
            p.id,
            kind,
            key,
            url,
            t,
            parent=owner.id,
            title=content.title(rng, lang),
            text=text if text is not None else content.paragraph(rng, lang),
            lang=lang,
            host=host,
            number=number,
            access=owner.access,
        )
        r = rng.random()
        if p.access.geo_blocked and r < p.access.geo_blocked:
            it.access = "geo_blocked"
        elif p.access.login_wall and r < p.access.geo_blocked + p.access.login_wall:
            it.access = "login_required"
        if media is not None:
            it.media.append(media)
        elif p.type == "video" or (p.type == "filehost" and rng.random() < 0.3):
            it.media.append(self._pick_media(rng, "video"))
        elif p.type == "filehost":
            it.media.append(self._pick_media(rng, "image"))
        elif p.type != "paste":
            r = rng.random()
            if r < p.content.video_rate:
                it.media.append(self._pick_media(rng, "video"))
            elif r < p.content.video_rate + p.content.media_rate:
                it.media.append(self._pick_media(rng, "image"))
        owner.children.append(it.id)
        self._add(it)
        self._maybe_organic(p, it)
        return it

    def _add(self, it: Item) -> None:
        self.items[it.id] = it
        if it.kind == "channel":
            self.channels.append(it.id)
        elif it.kind == "website":
            self.site_by_host[it.host] = it
        self.by_key[(it.platform, it.key)] = it
        if it.appeared_at > self.processed_until:
            heapq.heappush(self._appear, it.appeared_at)

    def _maybe_organic(self, p: Platform, it: Item) -> None:
        rng = self.rng("organic", it.id)
        if p.organic.rate and rng.random() < p.organic.rate:
            self.schedule(
                it.appeared_at + rng.randint(60, int(p.organic.within_hours * 3600) + 60),
                "remove:organic",
                it.id,
            )

    def _gen_links(self) -> None:
        targets = [
            it for it in self.items.values() if it.kind in ("file", "paste", "video", "page")
        ]
        if not targets:
            return
        for it in list(self.items.values()):
            p = self.platforms[it.platform]
            if it.parent is None or it.kind in ("file", "video"):
                continue
            rng = self.rng("link", it.id)
            if rng.random() < p.content.link_rate:
                tgt = rng.choice(targets)
                if tgt.platform != it.platform:
                    it.links.append(tgt.url)
                    it.text += " " + tgt.url

    # --- time --------------------------------------------------------------------------

    def tick(self, now: int) -> None:
        """Process every event due at or before ``now``."""
        self.processed_until = max(self.processed_until, now)
        changed = False
        while self._events and self._events[0][0] <= now:
            t, _, action, item_id = heapq.heappop(self._events)
            it = self.items[item_id]
            changed = True
            if action.startswith("remove:"):
                self._remove(it, t, action.split(":", 1)[1])
            elif action == "recreate":
                adversary.recreate(self, it, t)
        while self._appear and self._appear[0] <= now:
            heapq.heappop(self._appear)
            changed = True
        if changed:
            self.version += 1

    def next_event_at(self) -> int | None:
        return self._events[0][0] if self._events else None

    def _remove(self, it: Item, t: int, reason: str) -> None:
        if it.removed_at is not None and it.removed_at <= t:
            return
        it.removed_at, it.removal = t, reason
        for cid in it.children:
            child = self.items[cid]
            if child.removed_at is None or child.removed_at > t:
                child.removed_at, child.removal = t, "parent_removed"
        adversary.on_removal(self, it, t)

    # --- lookup and referrals ----------------------------------------------------------

    def find(self, platform: str, key: str) -> Item | None:
        it = self.by_key.get((platform, key))
        if it is None:  # handles and channel names are case-insensitive; owner keys are lower-case
            it = self.by_key.get((platform, key.lower()))
            if it is not None and it.parent is not None:
                return None
        return it

    def refer(
        self,
        platform_id: str,
        items: Sequence[tuple[str, Item | None]],
        t: int,
        channel: str,
        kind: str = "tos",
        reference: str = "",
        agency: str = "",
    ) -> Referral:
        """Record a referral and schedule what the platform will do about each item."""
        self.tick(t)
        return tns.refer(self, platform_id, items, t, channel, kind, reference, agency)

    def remove_now(self, it: Item, t: int, reason: str = "forced") -> None:
        self.tick(t)
        self._remove(it, t, reason)
        self.version += 1

    # --- ground truth ------------------------------------------------------------------

    def ground_truth(self, now: int) -> Iterator[str]:
        """JSON lines: items that have appeared by ``now``, then the media they use."""
        used: set[str] = set()
        for it in self.items.values():
            if it.appeared_at <= now:
                used.update(it.media)
                yield json.dumps(it.truth(now), sort_keys=True, ensure_ascii=False)
        for iid, truth in self.listings.items():
            if self.items[iid].appeared_at <= now:
                line = {**truth, "item": iid, "url": self.items[iid].url}
                yield json.dumps(line, sort_keys=True, ensure_ascii=False)
        for mid in sorted(used | {m.original for m in (self.media[u] for u in used) if m.original}):
            m = self.media[mid]
            yield json.dumps(
                {
                    "type": "media",
                    "id": m.id,
                    "kind": m.kind,
                    "seed": m.seed,
                    "original": m.original,
                    "variant": m.variant,
                    "filename": m.filename,
                    "token": m.token,
                },
                sort_keys=True,
            )
        for r in self.referrals:
            yield json.dumps(
                {
                    "type": "referral",
                    "ack": r.ack,
                    "platform": r.platform,
                    "channel": r.channel,
                    "kind": r.kind,
                    "received_at": iso(r.received_at),
                    "reference": r.reference,
                    "agency": r.agency,
                    "outcomes": [
                        {"url": o.url, "item_id": o.item_id, "status": o.status, "reason": o.reason}
                        for o in r.outcomes
                    ],
                },
                sort_keys=True,
                ensure_ascii=False,
            )
