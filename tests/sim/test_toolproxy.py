"""Tools without a resolver map (wget, LinkChecker) reach the testbed through ConnectProxy."""

from __future__ import annotations

import ssl

import httpx

from takedown.sim.harness import SimHandle
from takedown.sim.toolproxy import ConnectProxy


def test_connect_proxy_reaches_the_platform_named_in_the_url(shared_sim: SimHandle) -> None:
    proxy = ConnectProxy(shared_sim.port)
    assert proxy.port > 0
    try:
        _fetch(shared_sim, proxy)
    finally:
        proxy.close()


def _fetch(shared_sim: SimHandle, proxy: ConnectProxy) -> None:
    item = shared_sim.items("x", "account", True)[0]
    with httpx.Client(
        proxy=f"http://127.0.0.1:{proxy.port}",
        verify=ssl.create_default_context(cafile=shared_sim.ca_path),
        timeout=10,
    ) as c:
        r = c.get(item["url"])
    assert r.status_code == 200
    assert "x.com" in str(r.url)
