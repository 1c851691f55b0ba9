"""How a re-created account or channel returns: where, under which handle, and whether it says so.

Why a module of its own: resurgence must be scored on the hard cases too, a
successor whose handle is unrelated to the old one (found only by its name,
its media or an announcement), a silent return (no announcement at all) and a
return on another platform (a Telegram channel comes back as a Rocket.Chat
room). Each draws from its own random stream, so a scenario that leaves the
rates at 0 plays exactly as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from takedown.sim import content

if TYPE_CHECKING:
    from takedown.sim.scenario import Platform
    from takedown.sim.world import Item, World

#: Platform types whose channels may return elsewhere, and the type they return as.
CROSS_PLATFORM = {"telegram": "rocketchat"}


def successor_platform(world: World, old: Item) -> Platform:
    """The platform ``old`` returns on: its own, or (``cross_platform_rate``) another one.

    A Telegram channel may come back as a Rocket.Chat room (the scenario's
    ``cross_platform_to``, or its first ``rocketchat`` platform); the ground
    truth's ``successor_of`` then links across platforms.
    """
    adv = world.sc.adversary
    p = world.platforms[old.platform]
    target_type = CROSS_PLATFORM.get(p.type)
    if adv.cross_platform_rate <= 0 or target_type is None:
        return p
    if world.rng("returns:platform", old.id).random() >= adv.cross_platform_rate:
        return p
    if adv.cross_platform_to:
        return world.platforms[adv.cross_platform_to]
    targets = [q for q in world.sc.platforms if q.type == target_type]
    return targets[0] if targets else p


def successor_handle(
    world: World, old: Item, max_len: int, base: str, mutation: str
) -> tuple[str, str]:
    """The handle ``old`` returns under: the mutated ``base``, or (``unrelated_rate``) a new one."""
    adv = world.sc.adversary
    if adv.unrelated_rate > 0:
        rng = world.rng("returns:handle", old.id)
        if rng.random() < adv.unrelated_rate:
            return content.handle(rng, max_len), "unrelated"
    return base, mutation


def announced(world: World, old: Item) -> bool:
    """Whether the successor of ``old`` is announced (``announce`` off: never)."""
    adv = world.sc.adversary
    if not adv.announce:
        return False
    if adv.silent_rate > 0:
        return world.rng("returns:silent", old.id).random() >= adv.silent_rate
    return True
