"""/docs and /redoc: served by the app from its own static files, no CDN; ReDoc's page
gets a style nonce of its own, and nothing else in the policy changes."""

from __future__ import annotations

import re

from takedown.web.assets import ASSETS, STATIC
from takedown.web.security import CSP


def _local_refs(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_swagger_ui_page_loads_only_local_assets(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/docs")
    assert r.status_code == 200
    refs = _local_refs(r.text)
    assert "/static/vendor/swagger-ui-bundle.js" in refs
    assert all(ref.startswith("/") for ref in refs), refs
    assert r.headers["content-security-policy"] == CSP


def test_redoc_page_has_a_fresh_style_nonce_and_the_same_policy(client) -> None:  # type: ignore[no-untyped-def]
    first, second = client.get("/redoc"), client.get("/redoc")
    assert first.status_code == second.status_code == 200
    assert all(ref.startswith("/") for ref in _local_refs(first.text))
    nonce = re.search(r'data-nonce="([^"]+)"', first.text)
    assert nonce is not None
    policy = first.headers["content-security-policy"]
    assert f"style-src 'self' 'nonce-{nonce.group(1)}';" in policy
    assert policy.replace(f" 'nonce-{nonce.group(1)}'", "") == CSP
    assert "script-src 'self';" in policy
    assert second.headers["content-security-policy"] != policy


def test_the_docs_assets_are_built() -> None:
    """``make assets`` copied every file the pages link (npm packages, never a CDN)."""
    for _, name in ASSETS:
        assert (STATIC / name).is_file(), name


def test_missing_assets_are_copied_from_node_modules_or_named(
    tmp_path, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    """A server started without ``make assets`` copies them from ./node_modules itself,
    and without node_modules it names what is missing (#13.21)."""
    from takedown.web import assets, setup

    static = tmp_path / "static"
    monkeypatch.setattr(assets, "STATIC", static)
    monkeypatch.chdir(tmp_path)
    setup._ensure_assets()
    assert "htmx.min.js" in caplog.text and "make assets" in caplog.text
    caplog.clear()
    for src, _ in ASSETS:
        (tmp_path / "node_modules" / src).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "node_modules" / src).write_text("/* asset */")
    setup._ensure_assets()
    assert caplog.text == ""
    assert all((static / name).is_file() for _, name in ASSETS)
