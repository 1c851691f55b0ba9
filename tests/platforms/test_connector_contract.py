"""The contract every platform connector keeps, and the connector registry.

Each registered connector (built-in or plug-in) runs through the same checks;
``ReferenceConnector`` is the in-test implementation that keeps the suite
meaningful before the first real connector lands.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint

import httpx
import pytest

from takedown.kit.registry import PLUGIN_GROUP, NamedRegistry, RegistryError
from takedown.platforms import registry as reg_mod
from takedown.platforms.base import Connector, ConnectorFactory
from takedown.platforms.identity import ItemIdentity, canonicalize
from takedown.platforms.seed import SEED
from tests.platforms.test_identity import CASES

SLUGS = {s.slug for s in SEED}
SAMPLES = [canonicalize(c[0]) for c in CASES]


class ReferenceConnector:
    name = "reference"
    platforms = frozenset({"telegram", "rocketchat"})

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def supports(self, identity: ItemIdentity) -> bool:
        return identity.platform in self.platforms


class Misnamed(ReferenceConnector):
    name = "something-else"


def _client() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda req: httpx.Response(204)))


def _registry() -> NamedRegistry[ConnectorFactory]:
    r: NamedRegistry[ConnectorFactory] = NamedRegistry(
        "platforms.connectors", check=reg_mod._check_factory, entry_point_source=list
    )
    r.register("reference", ReferenceConnector)
    for name in reg_mod.connectors.names():  # every real connector joins the suite
        r.register(name, reg_mod.connectors.get(name), origin="installed")
    return r


REGISTRY = _registry()


@pytest.mark.parametrize("name", REGISTRY.names())
def test_connector_contract(name: str) -> None:
    with _client() as client:
        conn = reg_mod.build(name, client, REGISTRY)
        assert isinstance(conn, Connector)
        assert conn.name == name
        assert conn.platforms and conn.platforms <= SLUGS, "serves only known platform slugs"
        for ident in SAMPLES:
            ok = conn.supports(ident)
            assert isinstance(ok, bool)
            if ok:
                assert ident.platform in conn.platforms


def test_connectors_for_picks_by_platform() -> None:
    with _client() as client:
        tg = canonicalize("https://t.me/somechannel/5")
        yt = canonicalize("https://youtu.be/dQw4w9WgXcQ")
        assert [c.name for c in reg_mod.connectors_for(tg, client, REGISTRY)][:1] == ["reference"]
        assert "reference" not in [c.name for c in reg_mod.connectors_for(yt, client, REGISTRY)]


def test_build_refuses_a_connector_that_lies_about_its_name() -> None:
    r: NamedRegistry[ConnectorFactory] = NamedRegistry(
        "platforms.connectors", check=reg_mod._check_factory, entry_point_source=list
    )
    r.register("misnamed", Misnamed)
    with _client() as client, pytest.raises(RegistryError, match="calls itself"):
        reg_mod.build("misnamed", client, r)


def test_build_refuses_a_factory_returning_a_non_connector() -> None:
    r: NamedRegistry[ConnectorFactory] = NamedRegistry(
        "platforms.connectors", check=reg_mod._check_factory, entry_point_source=list
    )
    r.register("broken", lambda client: object())
    with _client() as client, pytest.raises(RegistryError, match="does not implement"):
        reg_mod.build("broken", client, r)


def test_non_callable_plugins_are_refused() -> None:
    ep = EntryPoint(name="platforms.connectors.bad", value=f"{__name__}:SLUGS", group=PLUGIN_GROUP)
    r: NamedRegistry[ConnectorFactory] = NamedRegistry(
        "platforms.connectors", check=reg_mod._check_factory, entry_point_source=lambda: [ep]
    )
    with pytest.raises(RegistryError, match="not a connector factory"):
        r.names()
