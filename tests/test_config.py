"""The one Settings: environment parsing of the testbed's resolver map and allow-list."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from takedown.config import Settings


def test_resolve_and_allow_list_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAKEDOWN_RESOLVE", "X.com=127.0.0.1:8800, *.example=127.0.0.1:9")
    monkeypatch.setenv("TAKEDOWN_SSRF_ALLOW", "127.0.0.1, 10.0.0.0/8")
    s = Settings()
    assert s.resolve == {"x.com": "127.0.0.1:8800", "*.example": "127.0.0.1:9"}
    assert s.ssrf_allow == ["127.0.0.1", "10.0.0.0/8"]


def test_a_bad_resolver_entry_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAKEDOWN_RESOLVE", "garbage")
    with pytest.raises(ValidationError, match="not host=ip:port"):
        Settings()


def test_sqlite_is_the_default_database(tmp_path: object) -> None:
    s = Settings(data_dir=tmp_path)  # type: ignore[arg-type]
    assert s.effective_database_url.startswith("sqlite:///")
    assert s.effective_database_url.endswith("takedown.sqlite3")


def test_http_client_options_carry_every_network_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    from takedown.kit.http import make_sync_client

    assert Settings().http_client_options()["verify"] is True  # the system's CAs by default
    monkeypatch.setenv("TAKEDOWN_RESOLVE", "x.com=127.0.0.1:8800")
    monkeypatch.setenv("TAKEDOWN_SSRF_ALLOW", "127.0.0.1")
    monkeypatch.setenv("TAKEDOWN_HTTP_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("TAKEDOWN_TOR_PROXY", "socks5://127.0.0.1:9050")
    monkeypatch.setenv("TAKEDOWN_CA_BUNDLE", certifi.where())
    opts = Settings().http_client_options()
    assert opts == {
        "resolve": {"x.com": "127.0.0.1:8800"},
        "ssrf_allow": ["127.0.0.1"],
        "proxy": "http://127.0.0.1:3128",
        "tor_proxy": "socks5://127.0.0.1:9050",
        "verify": certifi.where(),
        "host_budget": None,  # no TAKEDOWN_HOST_RATE: no deployment-wide budget
    }
    make_sync_client(**opts, timeout=5.0).close()  # every key is one the client takes
