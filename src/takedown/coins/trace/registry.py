"""Named chain-API implementations (entry points ``takedown.plugins``: ``coins.chains.<name>``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from takedown.coins.trace.base import ChainApi, ChainConfig
from takedown.config import Settings
from takedown.kit.registry import NamedRegistry

ChainFactory = Callable[[ChainConfig], ChainApi]


def _check(impl: object) -> ChainFactory:
    if not callable(impl):
        raise TypeError("a chain API must be a factory: ChainConfig -> ChainApi")
    return impl


CHAINS: NamedRegistry[ChainFactory] = NamedRegistry("coins.chains", check=_check)


def _builtins() -> None:
    from takedown.coins.trace.esplora import make_esplora

    if "esplora" not in CHAINS._items:
        CHAINS.register("esplora", make_esplora, origin="takedown.coins.trace.esplora")


_builtins()


def chain_api(name: str, config: ChainConfig) -> ChainApi:
    api = CHAINS.get(name)(config)
    if not isinstance(api, ChainApi):
        raise TypeError(f"chain API {name!r} does not implement ChainApi")
    return api


def api_for_settings(settings: Settings, *, name: str = "esplora") -> ChainApi:
    """The configured chain API, through the guarded HTTP client (composition root helper)."""
    from takedown.kit.errors import InvalidInput
    from takedown.kit.http import make_sync_client

    if not settings.coins_esplora_url:
        raise InvalidInput(
            "no chain API configured: set TAKEDOWN_COINS_ESPLORA_URL "
            "(a self-hosted Esplora or electrs, or one reached through Tor)"
        )
    client = make_sync_client(**settings.http_client_options(), timeout=60.0, http2=False)
    return chain_api(
        name,
        ChainConfig(
            base_url=settings.coins_esplora_url, client=client, rate=settings.coins_esplora_rate
        ),
    )


@contextmanager
def open_chain(settings: Settings, *, name: str = "esplora") -> Iterator[ChainApi]:
    """The configured chain API for the duration of a block, its connections then closed."""
    api = api_for_settings(settings, name=name)
    try:
        yield api
    finally:
        api.close()
