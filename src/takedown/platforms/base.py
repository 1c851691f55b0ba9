"""The interface every per-platform connector implements.

A connector knows one platform family's behaviour: how a removal looks
(verification), how a referral is delivered, how a source is watched
(monitoring). Those capabilities add their own Protocols on top of
``Connector``; this base fixes what every connector shares: a unique name,
the platform slugs it serves, and the HTTP client it is given (never one it
builds itself), so tests pass ``httpx.MockTransport`` and the testbed points
it at loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import httpx

from takedown.platforms.identity import ItemIdentity


@runtime_checkable
class Connector(Protocol):
    name: str
    platforms: frozenset[str]

    def supports(self, identity: ItemIdentity) -> bool:
        """True if this connector can handle the item (usually: its platform is served)."""
        ...


# What the registry holds: a factory that receives the injected HTTP client.
ConnectorFactory = Callable[[httpx.Client], Connector]
