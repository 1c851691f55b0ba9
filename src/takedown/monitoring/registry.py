"""The source connector registry: built-ins and plug-ins, one per source kind.

Plug-ins arrive as entry points ``monitoring.connectors.<kind>`` in the group
``takedown.plugins``, each a zero-argument factory of a ``SourceConnector``
whose ``name`` and ``kind`` equal the registered name.
"""

from __future__ import annotations

from takedown.kit.errors import InvalidInput
from takedown.kit.registry import NamedRegistry, RegistryError
from takedown.monitoring.base import SourceConnector, SourceConnectorFactory
from takedown.monitoring.connectors.account import AccountConnector
from takedown.monitoring.connectors.rocketchat import RocketChatConnector
from takedown.monitoring.connectors.site import OnionConnector, SiteConnector
from takedown.monitoring.connectors.telegram import TelegramConnector


def _check_factory(obj: object) -> SourceConnectorFactory:
    if not callable(obj):
        raise TypeError(f"{type(obj).__name__} is not a connector factory (not callable)")
    return obj


connectors: NamedRegistry[SourceConnectorFactory] = NamedRegistry(
    "monitoring.connectors", check=_check_factory
)
for _factory in (
    TelegramConnector,
    RocketChatConnector,
    AccountConnector,
    SiteConnector,
    OnionConnector,
):
    connectors.register(_factory.name, _factory, origin="takedown.monitoring")


def build(
    kind: str, registry: NamedRegistry[SourceConnectorFactory] = connectors
) -> SourceConnector:
    """The connector for a source kind, checked against the interface."""
    if kind not in registry:
        raise InvalidInput(f"unknown source kind {kind!r} (known: {', '.join(registry.names())})")
    connector = registry.get(kind)()
    if not isinstance(connector, SourceConnector):
        raise RegistryError(f"connector {kind!r} does not implement the SourceConnector interface")
    if connector.name != kind or connector.kind != kind:
        raise RegistryError(f"connector registered as {kind!r} calls itself {connector.name!r}")
    return connector
