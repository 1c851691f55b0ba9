"""The adversary: a removed account or channel comes back.

Why modelled explicitly: measuring resurgence (how fast the network returns,
under which names, with which re-uploads) is part of the users' job, and the
monitoring capability must be scored against known successors. After a
removal the adversary may, after a delay drawn from the scenario, re-create
the account or channel under a mutated handle, re-upload variants of its
media, and announce the new address in a channel that survived; a Telegram
channel may come back on another platform (``returns.successor_platform``).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from takedown.sim import content, returns
from takedown.sim.media import VARIANTS

if TYPE_CHECKING:
    from takedown.sim.world import Item, World

RECREATABLE = {"account", "channel"}


def on_removal(world: World, it: Item, t: int) -> None:
    """Decide (deterministically per item) whether and when ``it`` comes back."""
    adv = world.sc.adversary
    if not adv.enabled or it.kind not in RECREATABLE or it.generation >= adv.max_generations:
        return
    rng = world.rng("adversary", it.id)
    if rng.random() < adv.recreate_probability:
        from takedown.sim.world import draw

        world.schedule(t + draw(rng, adv.delay_minutes, 60), "recreate", it.id)


def recreate(world: World, old: Item, t: int) -> Item:
    p = returns.successor_platform(world, old)
    rng = world.rng("recreate", old.id)
    max_len = 15 if p.type == "microblog" else 30
    base, mutation = content.mutate_handle(rng, old.handle or old.key, max_len)
    base, mutation = returns.successor_handle(world, old, max_len, base, mutation)
    handle = world.unique_handle(rng, p, base)
    new = world.make_owner(rng, p, t, handle=handle)
    new.successor_of, new.mutation, new.generation = old.id, mutation, old.generation + 1
    new.title, new.lang = old.title, old.lang
    # Only what the old one had posted by its removal can be re-posted (the generated
    # history may date posts of an organically removed owner after its removal).
    gone = old.removed_at if old.removed_at is not None else t
    media_children = [
        world.items[c]
        for c in old.children
        if world.items[c].media and world.items[c].appeared_at <= gone
    ]
    lo, hi = world.sc.adversary.reposts
    for i, src in enumerate(media_children[: rng.randint(lo, hi)]):
        m = world.media[src.media[0]]
        orig = world.media[m.original] if m.original else m
        variant = rng.choice(sorted(VARIANTS))
        vm = world.new_media(orig.kind, orig.seed, orig.id, variant)
        world.make_child(rng, p, new, t + 60 * (i + 1), text=src.text, media=vm.id)
    if returns.announced(world, old):
        announce(world, rng, new, t)
    return new


def announce(world: World, rng: random.Random, new: Item, t: int) -> Item | None:
    """Post the successor's URL in a public channel still alive at ``t``."""
    channels = [
        it
        for it in (world.items[c] for c in world.channels)
        if it.alive(t) and it.access == "public" and it.id != new.id
    ]
    if not channels:
        return None
    ch = rng.choice(channels)
    p = world.platforms[ch.platform]
    text = f"{content.sentence(rng, ch.lang, 3, 6)} {new.url}"
    post = world.make_child(rng, p, ch, t + 30, text=text)
    post.links.append(new.url)
    post.announces = new.id
    return post
