"""Wiring the verification engine to a running testbed (shared by tests and the bench)."""

from __future__ import annotations

from typing import Any

from takedown.platforms.detectors.bindings import HostBinding, registry_for
from takedown.platforms.detectors.registry import DetectorRegistry
from takedown.sim.harness import SimHandle


def sim_bindings(sim: SimHandle) -> list[HostBinding]:
    out = []
    for p in sim.world.platforms.values():
        auth: dict[str, str] = {}
        if p.type == "rocketchat":
            auth = {"X-Auth-Token": p.auth.token, "X-User-Id": p.auth.user_id}
        out.append(HostBinding(p.type, tuple(p.hosts), auth))
    return out


def sim_registry(sim: SimHandle) -> DetectorRegistry:
    return registry_for(sim_bindings(sim))


def expected(truth: dict[str, Any]) -> str:
    """What a perfect detector says about a ground-truth item right now."""
    if truth["removed_at"]:
        return "removed"
    if truth["access"] in ("geo_blocked", "login_required"):
        return "restricted"
    return "online"
