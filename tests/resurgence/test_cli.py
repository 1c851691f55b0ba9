"""``takedown resurgence ...`` on a fresh SQLite data dir (Typer's runner, in process)."""

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
from takedown.resurgence.cli import register

runner = CliRunner()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    from takedown.bootstrap import prepare_database
    from takedown.db import make_engine

    monkeypatch.setenv("TAKEDOWN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TAKEDOWN_DATABASE_URL", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    get_settings.cache_clear()
    monkeypatch.setattr(kit_cli, "_factory", None)
    engine = make_engine(get_settings().effective_database_url)
    prepare_database(engine)
    engine.dispose()
    app = typer.Typer()
    register(app)
    yield app
    get_settings.cache_clear()


def test_link_handles_json(cli: typer.Typer, tmp_path: Path) -> None:
    removed = tmp_path / "removed.txt"
    seen = tmp_path / "seen.txt"
    removed.write_text("# removed on the action day\nabumedia\nhttps://t.me/qaswarat\n")
    seen.write_text("abumedia2\n@qaswarat_back\nbad handle\nnothing_alike\n")
    r = runner.invoke(cli, ["resurgence", "link-handles", str(removed), str(seen),
                            "--platform", "telegram", "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"{seen} line 3: 'bad handle' is not a handle" in r.stderr
    out = {x["seen"]: x for x in json.loads(r.stdout)}
    assert set(out) == {"abumedia2", "qaswarat_back", "nothing_alike"}
    assert out["abumedia2"]["predecessor"] == "abumedia"
    assert out["abumedia2"]["verdict"] == "successor"
    assert out["abumedia2"]["score"] >= 0.6
    assert {r["signal"] for r in out["qaswarat_back"]["reasons"]} == {
        "handle_pattern", "created_after",
    }  # fmt: skip
    assert out["nothing_alike"]["verdict"] != "successor"


def test_link_handles_missing_file_is_one_clear_line(cli: typer.Typer, tmp_path: Path) -> None:
    r = runner.invoke(cli, ["resurgence", "link-handles", str(tmp_path / "nope.txt"),
                            str(tmp_path / "nope2.txt"), "--platform", "x"])  # fmt: skip
    assert r.exit_code == 1
    assert "removed file" in r.output and "nope.txt" in r.output


def test_list_confirm_reject(cli: typer.Typer) -> None:
    from takedown.accounts import service as accounts
    from takedown.resurgence import service
    from tests.factories import make_actor
    from tests.resurgence.factories import removed_account, seen_account

    with kit_cli.unit_of_work() as s:
        a = make_actor(s)
        email = a.user.email
        removed_account(s, a, "https://x.com/abumedia", title="Abu Media")
        n1 = seen_account(s, a, "https://x.com/abumedia2", title="Abu Media")
        n2 = seen_account(s, a, "https://x.com/abumedia_new", title="Abu Media")
        service.scan(s, seen_ids=[n1.id, n2.id])
        assert accounts  # the agency exists
    r = runner.invoke(cli, ["resurgence", "list", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert len(rows) == 2 and all(x["status"] == "proposed" for x in rows)
    first, second = rows[0]["id"], rows[1]["id"]
    r = runner.invoke(cli, ["resurgence", "confirm", str(first), "--refer", "--user", email])
    assert r.exit_code == 0, r.output
    assert "confirmed" in r.stdout and "referral" in r.stdout
    r = runner.invoke(cli, ["resurgence", "reject", str(second), "--user", email,
                            "--note", "a fan page"])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["resurgence", "reject", str(second), "--user", email])
    assert r.exit_code == 1 and "already rejected" in r.output
    r = runner.invoke(cli, ["resurgence", "list", "--status", "confirmed", "--status",
                            "rejected", "--format", "json"])  # fmt: skip
    assert {x["status"] for x in json.loads(r.stdout)} == {"confirmed", "rejected"}
