"""What a platform's trust-and-safety desk does with a referral.

Why per platform and seeded per item: published figures show platforms
differ (most comply within hours, some ignore referrals, some refuse, some
act on part of what they get), and scoring needs the same decision for the
same item on every run. The JSON API and SMTP inbox that receive referrals
live in ``app.py``; this module only decides and schedules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from takedown.sim.world import Item, World


@dataclass(slots=True)
class ReferralOutcome:
    url: str
    item_id: str | None
    status: str  # accepted | refused | not_found | already_removed | received | not_actioned
    reason: str | None = None


@dataclass(slots=True)
class Referral:
    ack: str
    platform: str
    channel: str  # api | email
    kind: str  # tos | removal_order
    received_at: int
    reference: str
    agency: str
    outcomes: list[ReferralOutcome]


def refer(
    world: World,
    platform_id: str,
    items: Sequence[tuple[str, Item | None]],
    t: int,
    channel: str,
    kind: str,
    reference: str,
    agency: str,
) -> Referral:
    from takedown.sim.world import draw

    comp = world.platforms[platform_id].compliance
    outcomes: list[ReferralOutcome] = []
    for url, it in items:
        if it is None:
            outcomes.append(ReferralOutcome(url, None, "not_found"))
            continue
        if it.removed_at is not None and it.removed_at <= t:
            outcomes.append(ReferralOutcome(url, it.id, "already_removed"))
            continue
        rng = world.rng("referral", it.id)
        if comp.mode == "ignore":
            outcomes.append(ReferralOutcome(url, it.id, "received"))
            continue
        if comp.mode == "refuse":
            reason = "content does not violate our terms of service"
            outcomes.append(ReferralOutcome(url, it.id, "refused", reason))
            continue
        if comp.mode == "partial" and rng.random() >= comp.partial_fraction:
            outcomes.append(ReferralOutcome(url, it.id, "not_actioned"))
            continue
        if rng.random() < comp.rate:
            d = comp.removal_order_delay_minutes if kind == "removal_order" else comp.delay_minutes
            world.schedule(t + draw(rng, d, 60), "remove:referral", it.id)
        outcomes.append(ReferralOutcome(url, it.id, "accepted"))
    ack = f"ACK-{platform_id.upper()}-{len(world.referrals) + 1:06d}"
    ref = Referral(ack, platform_id, channel, kind, t, reference, agency, outcomes)
    world.referrals.append(ref)
    world.referral_by_ack[ack] = ref
    return ref
