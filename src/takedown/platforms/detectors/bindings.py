"""Build a detector registry for the platforms an instance knows at run time.

Platform records (and the testbed's scenario) name their hosts and their
kind; each host is bound to the built-in detector for that kind. A
self-hosted Rocket.Chat server gets its own detector instance carrying that
server's API credentials.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from takedown.platforms.detectors.platforms import BY_KIND, BY_SLUG, RocketChatDetector
from takedown.platforms.detectors.registry import (
    DetectorRegistry,
    builtin_detectors,
    plugin_detectors,
)


@dataclass(frozen=True, slots=True)
class HostBinding:
    kind: str
    hosts: tuple[str, ...]
    # Rocket.Chat: {"X-Auth-Token": ..., "X-User-Id": ...}
    auth: Mapping[str, str] = field(default_factory=dict)
    slug: str = ""


def registry_for(bindings: Iterable[HostBinding]) -> DetectorRegistry:
    reg = DetectorRegistry([*builtin_detectors(), *plugin_detectors()])
    for b in bindings:
        name = BY_SLUG.get(b.slug) or BY_KIND.get(b.kind)
        if name is None:
            continue
        if name == "rocketchat" and b.auth:
            for host in b.hosts:
                reg.register(RocketChatDetector(f"rocketchat:{host}", (host,), dict(b.auth)))
            continue
        for host in b.hosts:
            reg.bind(host, name)
    return reg
