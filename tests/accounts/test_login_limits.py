"""Login limits (#19.10): by account and by address separately, and a client address taken
from X-Forwarded-For only when the connection comes from a configured proxy."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from takedown.accounts import service
from takedown.kit.errors import RateLimited, Unauthorized
from tests.factories import PASSWORD, make_agency, make_user

OFFICE = "198.51.100.7"  # one NAT address for a whole office
LIMITS: dict[str, Any] = {
    "max_attempts": 5,
    "max_attempts_per_address": 12,
    "window_seconds": 300,
    "max_age_seconds": 3600,
}


def _fail(session: Session, email: str, ip: str = OFFICE) -> None:
    with pytest.raises(Unauthorized):
        service.login(
            session, email=email, password="wrong password", totp_code=None, client_ip=ip, **LIMITS
        )


def _login(session: Session, email: str, ip: str = OFFICE) -> service.LoginResult:
    return service.login(
        session, email=email, password=PASSWORD, totp_code=None, client_ip=ip, **LIMITS
    )


def test_one_user_locks_their_account_not_the_office(db_session: Session) -> None:
    agency = make_agency(db_session)
    clumsy, colleague = make_user(db_session, agency), make_user(db_session, agency)
    for _ in range(5):
        _fail(db_session, clumsy.email)
    with pytest.raises(RateLimited):
        _login(db_session, clumsy.email)  # their account waits out the window
    assert _login(db_session, colleague.email).principal.user_id == colleague.id


def test_an_address_guessing_many_accounts_is_stopped(db_session: Session) -> None:
    agency = make_agency(db_session)
    victim = make_user(db_session, agency)
    for n in range(12):  # two tries each at six accounts, from one address
        _fail(db_session, f"guess{n // 2}@example.invalid")
    with pytest.raises(RateLimited):
        _login(db_session, victim.email)
    assert _login(db_session, victim.email, ip="203.0.113.20").principal.user_id == victim.id


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    client = scope.get("client") or ("none", 0)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": client[0].encode()})


def _seen_address(serve_kwargs: dict[str, Any]) -> str:
    """The client address an app sees behind uvicorn configured as ``serve`` configures it,
    for a connection from 127.0.0.1 carrying a forged X-Forwarded-For."""
    opts = {k: v for k, v in serve_kwargs.items() if k not in {"host", "port", "log_level"}}
    config = uvicorn.Config(_echo, **opts)
    config.load()

    async def go() -> str:
        transport = httpx.ASGITransport(app=config.loaded_app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/", headers={"X-Forwarded-For": "203.0.113.99"})
            return r.text

    return asyncio.run(go())


def _serve_kwargs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxies: str) -> dict[str, Any]:
    from takedown.cli import app
    from takedown.config import get_settings

    get_settings.cache_clear()  # read this test's environment
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: captured.update(kw))
    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TAKEDOWN_TRUSTED_PROXIES", proxies)
    r = CliRunner().invoke(app, ["serve"])
    assert r.exit_code == 0, r.output
    get_settings.cache_clear()
    return captured


def test_forwarded_headers_are_ignored_unless_from_a_trusted_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kwargs = _serve_kwargs(tmp_path, monkeypatch, "")
    assert _seen_address(kwargs) == "127.0.0.1"  # rotating the header changes nothing
    kwargs = _serve_kwargs(tmp_path, monkeypatch, "127.0.0.1,10.0.0.0/8")
    assert _seen_address(kwargs) == "203.0.113.99"
