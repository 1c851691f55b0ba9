"""``takedown platform ...`` commands, driven through Typer's runner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

import takedown.cli  # noqa: F401  (the root installs the settings provider)
import takedown.kit.cli as kit_cli
from takedown.db import make_engine, make_sessionmaker
from takedown.migrate import upgrade
from takedown.platforms.cli import register
from takedown.platforms.seed import SEED


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    upgrade(engine)
    factory: sessionmaker[Session] = make_sessionmaker(engine)
    monkeypatch.setattr(kit_cli, "session_factory", lambda: factory)
    app = typer.Typer()
    app.command("noop")(lambda: None)  # keeps "platform" a sub-command
    register(app)
    yield app
    engine.dispose()


def invoke(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output


def test_seed_list_set_show(cli: typer.Typer) -> None:
    code, out = invoke(cli, "platform", "seed")
    assert code == 0 and "telegram" in out
    assert invoke(cli, "platform", "seed")[1].strip() == "nothing to add"
    code, out = invoke(cli, "platform", "list", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == len(SEED)
    code, out = invoke(
        cli, "platform", "set", "telegram", "--tco-contact", "tco@telegram.example.invalid",
        "--legal-rep", "Example Rep SRL, Brussels",
    )  # fmt: skip
    assert code == 0, out
    shown = json.loads(invoke(cli, "platform", "show", "telegram")[1])
    assert shown["tco_contact_point"] == "tco@telegram.example.invalid"
    assert shown["legal_representative"] == "Example Rep SRL, Brussels"
    code, out = invoke(cli, "platform", "list", "--kind", "messaging")
    assert code == 0 and "Example Rep SRL" in out and "youtube" not in out


def test_errors_are_one_line_and_non_zero(cli: typer.Typer) -> None:
    invoke(cli, "platform", "seed")
    code, out = invoke(cli, "platform", "set", "x", "--country", "Ireland")
    assert code == 1 and "ISO 3166-1 alpha-2" in out
    code, out = invoke(cli, "platform", "set", "nope", "--notes", "n")
    assert code == 1 and "no platform 'nope'" in out
    code, out = invoke(cli, "platform", "set", "x")
    assert code == 1 and "nothing to change" in out


def test_identify(cli: typer.Typer) -> None:
    code, out = invoke(
        cli, "platform", "identify", "--format", "json", "https://twitter.com/Someone/status/5"
    )
    assert code == 0
    assert json.loads(out)[0]["identity"] == "x:status/5"
    code, out = invoke(cli, "platform", "identify", "--format", "json", "ftp://example.com")
    assert code == 1 and "unsupported scheme 'ftp'" in json.loads(out)[0]["error"]
