"""Long histories for monitoring: grow a channel, room or account by many posts at once.

Why a separate module: the scenario generator makes small owners (a handful of
posts each), while monitoring must be exercised on previews paged with
``?before=`` and Rocket.Chat rooms with long histories. ``grow`` adds posts
to an existing owner through the world's own ``make_child`` (same URL shapes,
same media variants), so every site renders them unchanged.
"""

from __future__ import annotations

from takedown.sim.world import Item, World


def grow(
    world: World,
    owner_id: str,
    count: int,
    *,
    start: int,
    every: int = 60,
    text: str | None = None,
    links: list[str] | None = None,
) -> list[Item]:
    """Add ``count`` posts to ``owner_id``, the first at ``start``, one every ``every`` s."""
    owner = world.items[owner_id]
    p = world.platforms[owner.platform]
    rng = world.rng("history", owner_id, start, count)
    out: list[Item] = []
    for i in range(count):
        it = world.make_child(rng, p, owner, start + i * every, text=text)
        for link in links or ():
            it.links.append(link)
            it.text = f"{it.text} {link}"
        out.append(it)
    world.version += 1
    return out
