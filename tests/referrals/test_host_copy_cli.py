"""``takedown refer show`` says where the Art. 4(1) copy stands; ``refer send-copy`` sends it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import takedown.cli  # noqa: F401  (the root installs the settings provider)
import takedown.kit.cli as kit_cli
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.migrate import upgrade
from takedown.platforms import authorities
from takedown.referrals import delivery
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.cli import register
from tests.factories import make_actor
from tests.referrals.factories import make_team
from tests.referrals.test_host_copy import AUTHORITY, FakeChannel, _order, _settings


@pytest.fixture
def factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    upgrade(engine)
    made: sessionmaker[Session] = make_sessionmaker(engine)
    monkeypatch.setattr(kit_cli, "session_factory", lambda: made)
    yield made
    engine.dispose()


def invoke(*args: str) -> tuple[int, str]:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # keeps "refer" a sub-command
    register(app)
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "300", "NO_COLOR": "1"})
    return result.exit_code, " ".join(result.output.split())


def test_show_and_send_copy(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(factory) as s:
        team = make_team(s, country="FR")
        admin = make_actor(s, role="admin", operator=True)
        authorities.update(s, admin.principal, "IE", {"name": "IE TCO", "contact_point": None})
        rid = _order(s, team).id
        user = team.analyst.user.email
    portal, mail = FakeChannel("portal"), FakeChannel("email")
    reg = ChannelRegistry([portal, mail])
    delivery.deliver_due(factory, _settings(), reg)
    code, out = invoke("refer", "show", str(rid), "--user", user)
    assert code == 0, out
    assert "delivery: portal, delivered after 1 attempt(s)" in out
    assert (
        "Copy to host state (Art. 4): not sent — no confirmed contact point for IE TCO (IE)" in out
    )
    monkeypatch.setattr(delivery, "default_channels", lambda *a, **k: reg)
    code, out = invoke("refer", "send-copy", str(rid), "--user", user)
    assert code == 1 and "no confirmed contact point" in out and mail.sent == []
    with session_scope(factory) as s:
        authorities.update(
            s, admin.principal, "IE", {"contact_point": AUTHORITY, "confirmed": True}
        )
    code, out = invoke("refer", "send-copy", str(rid), "--user", user)
    assert code == 0 and "sent at" in out and AUTHORITY in out, out
    assert [e.copy_to for e in mail.sent] == [AUTHORITY]
    code, out = invoke("refer", "send-copy", str(rid), "--user", user)
    assert code == 1 and len(mail.sent) == 1
