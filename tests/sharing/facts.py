"""Plain facts for the mapping tests (no database)."""

from __future__ import annotations

import datetime as dt

from takedown.sharing.facts import (
    AssessmentFact,
    ItemFact,
    MediaFact,
    OperationFact,
    Producer,
    SightingFact,
    SignalFact,
)
from takedown.sharing.tlp import Tlp

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC)
PRODUCER = Producer("IRU Example", "FR", "iru@example.invalid")


def post(n: int = 1, *, tlp: Tlp = Tlp.AMBER, **kw: object) -> ItemFact:
    base: dict[str, object] = dict(
        identity=f"x:status/{n}",
        platform="x",
        kind="post",
        key=f"status/{n}",
        canonical_url=f"https://x.com/synthetic_{n}/status/{n}",
        first_seen_at=T0,
        last_seen_at=T0 + dt.timedelta(hours=1),
        status="removed",
        status_changed_at=T0 + dt.timedelta(hours=5),
        tlp=tlp,
        parent_identity=f"x:account/synthetic_{n}",
        first_referred_at=T0 + dt.timedelta(hours=2),
        sightings=(SightingFact(10 * n, T0), SightingFact(10 * n + 1, T0 + dt.timedelta(hours=1))),
        assessment=AssessmentFact(
            "terrorist_content", ("a", "c"), "Synthetic Group", "Synthetic Outlet", "ar", T0
        ),
    )
    base.update(kw)
    return ItemFact(**base)  # type: ignore[arg-type]


def channel(name: str = "synthchan", *, tlp: Tlp = Tlp.GREEN) -> ItemFact:
    return ItemFact(
        identity=f"telegram:channel/{name}",
        platform="telegram",
        kind="channel",
        key=f"channel/{name}",
        canonical_url=f"https://t.me/{name}",
        first_seen_at=T0,
        last_seen_at=T0,
        status="new",
        status_changed_at=T0,
        tlp=tlp,
        title="Synthetic channel",
        sightings=(SightingFact(99, T0),),
    )


def media(*, tlp: Tlp = Tlp.GREEN, with_pdq: bool = True) -> MediaFact:
    sigs = [SignalFact("sha256", "a" * 64), SignalFact("md5", "b" * 32)]
    if with_pdq:
        sigs += [SignalFact("pdq", "c" * 64), SignalFact("pdq", "d" * 64, "band")]
    return MediaFact(
        "m1", "known-media", tuple(sigs), tlp, {"group": "Synthetic Group", "tier": 3}, "seed"
    )


def operation(tlp: Tlp = Tlp.GREEN) -> OperationFact:
    return OperationFact(
        7,
        "Synthetic Day",
        T0,
        T0 + dt.timedelta(days=2),
        "closed",
        {"items": 3, "platforms": 1, "referred": 2, "removed": 1, "removed_share": 0.5},
        ("x:status/1",),
        tlp,
        T0 + dt.timedelta(days=3),
    )
