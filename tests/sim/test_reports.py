"""The agencies' report files: formats, mess, and the truth linking lines to items."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from takedown.sim.cli import register
from takedown.sim.reports import export_reports
from takedown.sim.scenario import Scenario
from takedown.sim.urls import locate
from takedown.sim.world import World


def test_export_reports(tmp_path: Path, small_scenario: Scenario) -> None:
    world = World(small_scenario.model_copy(deep=True))
    counts = export_reports(world, tmp_path)
    assert len(counts) == 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {n.rsplit(".", 1)[1] for n in names} == {"csv", "jsonl", "txt"}
    truth = [
        json.loads(x) for x in (tmp_path / "ground-truth-reports.jsonl").read_text().splitlines()
    ]
    assert sum(counts.values()) == len(truth)
    raw = {n: (tmp_path / n).read_bytes() for n in names}
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values())  # a BOM
    assert any(b"\r\n" in b for b in raw.values())  # CRLF
    malformed = [t for t in truth if t["item_id"] is None]
    assert len(malformed) == 3 * small_scenario.reports.malformed_lines
    resolved = other_form = 0
    for t in truth:
        if t["item_id"] is None:
            continue
        it = world.items[t["item_id"]]
        url = t["url"] if "://" in t["url"] else "https://" + t["url"]
        assert locate(world, url)[1] is it, t
        resolved += 1
        other_form += t["url"] != it.url
    assert resolved and other_form  # duplicates in other URL forms resolve to the same item
    csv_name = next(n for n in names if n.endswith(".csv"))
    text = raw[csv_name].decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["url", "reported_at", "agency", "note", "kind"]
    line = next(t for t in truth if t["file"] == csv_name and t["line"] == 2)
    assert rows[0]["url"] == line["url"]


def test_cli_export_reports(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:  # a group, so "sim" is a sub-command as in the real CLI
        pass

    result = CliRunner().invoke(app, ["sim", "small", "--export-reports", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ground-truth-reports.jsonl").exists()
    assert "lines in 3 files" in result.output
    bad = CliRunner().invoke(app, ["sim", "no-such-scenario", "--export-reports", str(tmp_path)])
    assert bad.exit_code == 2
