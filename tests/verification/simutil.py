"""Wiring the verification engine to a running testbed (shared by tests and the bench)."""

from __future__ import annotations

from typing import Any

from takedown.platforms.detectors.registry import DetectorRegistry
from takedown.sim.harness import SimHandle


def sim_registry(sim: SimHandle) -> DetectorRegistry:
    return sim.detector_registry()


def expected(truth: dict[str, Any]) -> str:
    """What a perfect detector says about a ground-truth item right now."""
    if truth["removed_at"]:
        return "removed"
    if truth["access"] in ("geo_blocked", "login_required"):
        return "restricted"
    return "online"
