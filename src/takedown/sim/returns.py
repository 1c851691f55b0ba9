"""How a re-created account or channel returns: under which handle, and whether it says so.

Why a module of its own: resurgence must be scored on the hard cases too, a
successor whose handle is unrelated to the old one (found only by its name,
its media or an announcement) and a silent return (no announcement at all).
Both draw from their own random stream, so a scenario that leaves the rates at
0 plays exactly as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from takedown.sim import content

if TYPE_CHECKING:
    from takedown.sim.world import Item, World


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
