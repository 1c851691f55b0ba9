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
    assert {h["signal_type"] for h in hashes} == {"sha256", "md5", "pdq"}
    r = runner.invoke(cli, ["match", str(poster), "--format", "json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert report["matches"][0]["variant"] == "mirror"
    # A miss says so and exits 1, as grep does (#13.13).
    r = runner.invoke(cli, ["match", "md5:" + "0" * 32, "--format", "json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["matches"] == []
    r = runner.invoke(cli, ["match", "md5:" + "0" * 32])
    assert r.exit_code == 1 and "no match" in r.output
    r = runner.invoke(cli, ["match", "not-a-hash"])
    assert r.exit_code == 1
    r = runner.invoke(cli, ["bank", "export", "1", "--format", "csv"])
    assert r.exit_code == 0 and r.stdout.startswith("signal_type,value,")
    assert len(r.stdout.strip().splitlines()) == 4


def test_hash_output_imports_as_it_is_and_matches_show_their_source(
    cli: typer.Typer, tmp_path: Path
) -> None:
    """``hash --format json`` writes what ``bank import`` reads (#13.10); the match table
    names the matched signal's source and external id (#13.13)."""
    runner = CliRunner()
    assert runner.invoke(cli, ["bank", "create", "own", "--agency", "1"]).exit_code == 0
    poster = tmp_path / "p.png"
    poster.write_bytes(media.poster(31))
    hashed = runner.invoke(cli, ["hash", str(poster), "--format", "json"])
    (tmp_path / "h.json").write_text(hashed.stdout)
    r = runner.invoke(cli, ["bank", "import", "1", str(tmp_path / "h.json"), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert f"added {len(json.loads(hashed.stdout))}" in r.output and "errors 0" in r.output
    sha = next(h["value"] for h in json.loads(hashed.stdout) if h["signal_type"] == "sha256")
    csv_file = tmp_path / "s.csv"
    csv_file.write_text(f"signal_type,value,source,external_id\nsha256,{'ab' * 32},tat,TAT-9\n")
    assert (
        runner.invoke(cli, ["bank", "import", "1", str(csv_file), "--no-progress"]).exit_code == 0
    )
    r = runner.invoke(cli, ["match", "sha256:" + "ab" * 32])
    assert r.exit_code == 0 and "TAT-9" in r.output and "tat" in r.output
    r = runner.invoke(cli, ["match", "sha256:" + sha, "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["matches"][0]["signal_type"] == "sha256"


def test_a_bare_64_hex_value_is_ambiguous(cli: typer.Typer) -> None:
    """64 hex digits may be PDQ or SHA-256: the command asks instead of guessing (#13.12)."""
    runner = CliRunner()
    r = runner.invoke(cli, ["match", "ab" * 32])
    assert r.exit_code == 1 and "pdq:<hex> or sha256:<hex>" in r.output
    assert runner.invoke(cli, ["match", "ab" * 32, "--type", "sha256"]).exit_code == 1  # a miss
    r = runner.invoke(cli, ["match", "ab" * 32, "--type", "sha256"])
    assert "no match" in r.output


def test_bank_import_fails_when_nothing_went_in(cli: typer.Typer, tmp_path: Path) -> None:
    """Every row refused, or an empty file: a non-zero exit saying why (#13.11)."""
    runner = CliRunner()
    assert runner.invoke(cli, ["bank", "create", "own", "--agency", "1"]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,value\nmd5,nothex\npdq,12\n")
    r = runner.invoke(cli, ["bank", "import", "1", str(bad), "--no-progress"])
    assert r.exit_code == 1 and "nothing was imported: all 2 row(s) failed" in r.output
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    r = runner.invoke(cli, ["bank", "import", "1", str(empty), "--no-progress"])
    assert r.exit_code == 1 and "holds no signals" in r.output


def test_bank_add_hashes_files_and_reports_the_bad_one(cli: typer.Typer, tmp_path: Path) -> None:
    """``takedown bank add`` (#13.9): a picture's every hash goes in, with its labels; an
    unreadable file is reported beside it; all files unreadable exits non-zero."""
    runner = CliRunner()
    assert runner.invoke(cli, ["bank", "create", "own", "--agency", "1"]).exit_code == 0
    good, bad = tmp_path / "good.jpg", tmp_path / "bad.jpg"
    good.write_bytes(media.poster(41))
    bad.write_bytes(media.truncated_jpeg(2))
    r = runner.invoke(
        cli,
        ["bank", "add", "1", str(good), str(bad), "--label", "group=Example Front",
         "--no-progress", "--format", "json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = {row["file"]: row for row in json.loads(r.stdout)}
    assert rows["good.jpg"]["signals"] >= 3 and rows["good.jpg"]["error"] == ""
    assert rows["bad.jpg"]["signals"] == 0 and rows["bad.jpg"]["error"]
    mirror = tmp_path / "m.jpg"
    mirror.write_bytes(media.poster(41, "mirror"))
    r = runner.invoke(cli, ["match", str(mirror), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["matches"][0]["labels"]["group"] == (
        "Example Front"
    )
    r = runner.invoke(cli, ["bank", "add", "1", str(bad), "--no-progress"])
    assert r.exit_code == 1 and "nothing was added" in r.output
    r = runner.invoke(cli, ["bank", "add", "1", str(good), "--label", "oops", "--no-progress"])
    assert r.exit_code == 1 and "key=value" in r.output


def test_bank_list_counts_stale_signals_and_bank_add_renews_them(
    cli: typer.Typer, tmp_path: Path
) -> None:
    from takedown.matching.models import STALE_VARIANT, Signal

    runner = CliRunner()
    assert runner.invoke(cli, ["bank", "create", "posters", "--agency", "1"]).exit_code == 0
    poster = tmp_path / "p.jpg"
    poster.write_bytes(media.poster(23))
    r = runner.invoke(cli, ["bank", "add", "1", str(poster), "--no-progress"])
    assert r.exit_code == 0, r.output
    with kit_cli.unit_of_work() as session:
        inner = session.query(Signal).filter_by(signal_type="pdq_inner").one()
        inner.value = inner.digest = "0f" * 32
        inner.variant = STALE_VARIANT

    def stale() -> int:
        r = runner.invoke(cli, ["bank", "list", "--format", "json"])
        return int(json.loads(r.stdout)[0]["stale"])

    assert stale() == 1
    r = runner.invoke(cli, ["bank", "add", "1", str(poster), "--no-progress"])
    assert r.exit_code == 0, r.output
    assert stale() == 0
