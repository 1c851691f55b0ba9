"""The connector registry: built-ins and plug-ins, by unique name.

Connectors arrive as entry points ``platforms.connectors.<name>`` in the group
``takedown.plugins`` (built-ins are declared in pyproject.toml the same way),
each pointing at a factory ``(httpx.Client) -> Connector``.
"""

from __future__ import annotations

import httpx

from takedown.kit.registry import NamedRegistry, RegistryError
from takedown.platforms.base import Connector, ConnectorFactory
from takedown.platforms.identity import ItemIdentity


def _check_factory(obj: object) -> ConnectorFactory:
    if not callable(obj):
        raise TypeError(f"{type(obj).__name__} is not a connector factory (not callable)")
    return obj


connectors: NamedRegistry[ConnectorFactory] = NamedRegistry(
    "platforms.connectors", check=_check_factory
)


def build(
    name: str, client: httpx.Client, registry: NamedRegistry[ConnectorFactory] = connectors
) -> Connector:
    """Instantiate a connector with the caller's HTTP client, checking it keeps the contract."""
    connector = registry.get(name)(client)
    if not isinstance(connector, Connector):
        raise RegistryError(f"connector {name!r} does not implement the Connector interface")
    if connector.name != name:
        raise RegistryError(f"connector registered as {name!r} calls itself {connector.name!r}")
    return connector


def connectors_for(
    identity: ItemIdentity,
    client: httpx.Client,
    registry: NamedRegistry[ConnectorFactory] = connectors,
) -> list[Connector]:
    """Every registered connector that serves this item, in name order."""
    found: list[Connector] = []
    for name in registry.names():
        connector = build(name, client, registry)
        if identity.platform in connector.platforms and connector.supports(identity):
            found.append(connector)
    return found
