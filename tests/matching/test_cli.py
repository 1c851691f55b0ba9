from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import takedown.cli  # noqa: F401  (the root installs the settings provider)
import takedown.kit.cli as kit_cli
from takedown.config import get_settings
from takedown.matching.cli import register
from takedown.matching.engine import reset_engines
from tests.matching import media

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    from takedown.accounts import service as accounts
    from takedown.bootstrap import prepare_database
    from takedown.db import make_engine

    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TAKEDOWN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    monkeypatch.setattr(kit_cli, "_factory", None)
    engine = make_engine(get_settings().effective_database_url)
    prepare_database(engine)
    engine.dispose()
    with kit_cli.unit_of_work() as session:
        accounts.create_agency(
            session, accounts.SYSTEM, name="Test IRU", country="FR", kind="national_iru"
        )
    app = typer.Typer()
    register(app)
    yield app
    reset_engines()
    get_settings.cache_clear()


def test_bank_import_list_match_export(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["bank", "create", "tat list", "--agency", "1", "--tlp", "GREEN"])
    assert r.exit_code == 0, r.output
    fixture = str(FIXTURES / "tat_hash_list.json")
    r = runner.invoke(cli, ["bank", "import", "1", fixture, "--format", "tat", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert "added 3" in r.output and "errors 2" in r.output
    r = runner.invoke(cli, ["bank", "list", "--format", "json"])
    rows = json.loads(r.stdout)
    assert rows[0]["name"] == "tat list" and rows[0]["signals"] == 3
    poster = tmp_path / "p.jpg"
    poster.write_bytes(media.poster(21, "mirror"))
    r = runner.invoke(cli, ["hash", str(poster), "--format", "json"])
    assert r.exit_code == 0, r.output
    hashes = json.loads(r.stdout)
    assert {h["type"] for h in hashes} == {"sha256", "md5", "pdq"}
    r = runner.invoke(cli, ["match", str(poster), "--format", "json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["matches"][0]["variant"] == "mirror"
    r = runner.invoke(cli, ["match", "md5:" + "0" * 32, "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["matches"] == []
    r = runner.invoke(cli, ["match", "not-a-hash"])
    assert r.exit_code == 1
    r = runner.invoke(cli, ["bank", "export", "1", "--format", "csv"])
    assert r.exit_code == 0 and r.stdout.startswith("signal_type,value,")
    assert len(r.stdout.strip().splitlines()) == 4
