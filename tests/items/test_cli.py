"""``takedown import``, ``items list`` and ``assess`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Registers the items commands if the composition root does not (yet).
MAIN = """
import sys
from takedown.cli import app, main
from takedown.items.cli import register
names = {c.name for c in app.registered_commands}
if "import" not in names:
    register(app)
sys.argv = ["takedown", *sys.argv[1:]]
main()
"""


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    env.update(TAKEDOWN_DATA_DIR=str(data), COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    r = run(
        tmp_path, "agency", "add", "Synthetic IRU", "--country", "NL", "--contact", "c@x.invalid"
    )
    assert r.returncode == 0, r.stderr
    r = run(
        tmp_path,
        "user",
        "add",
        "ana@example.invalid",
        "--agency",
        "Synthetic IRU",
        "--password",
        "a-long-enough-password",
    )
    assert r.returncode == 0, r.stderr
    return tmp_path


def test_import_list_assess(data: Path) -> None:
    f = data / "day.csv"
    f.write_text(
        "url,note\r\n"
        "https://twitter.com/syn_cli/status/1,first\r\n"
        "not a url,\r\n"
        "https://x.com/syn_cli/status/1?s=20,again\r\n"
        "https://t.me/s/syn_cli_chan,\r\n"
        "https://x.com/,X's home page names no content\r\n",
        encoding="utf-8",
    )
    r = run(data, "import", str(f), "--agency", "Synthetic IRU")
    assert r.returncode == 0, r.stderr
    assert "bad rows" in r.stdout and "invalid URL" in r.stdout and "not an item" in r.stdout
    assert " 3 " in r.stdout and " 6 " in r.stdout  # the bad rows' line numbers, in the table
    r = run(data, "import", str(f), "--user", "ana@example.invalid", "--json")
    job = json.loads(r.stdout)
    assert (job["ok"], job["bad"], job["items_created"], job["duplicates_folded"]) == (3, 2, 0, 3)
    assert [e["line"] for e in job["errors"]] == [3, 6]

    r = run(data, "items", "list", "--format", "json")
    rows = json.loads(r.stdout)
    assert {x["platform"] for x in rows} == {"x", "telegram"} and len(rows) == 2
    r = run(data, "items", "list", "--platform", "telegram", "--format", "json")
    (chan,) = json.loads(r.stdout)
    r = run(
        data,
        "items",
        "list",
        "--user",
        "ana@example.invalid",
        "--since",
        "2000-01-01",
        "--format",
        "json",
    )
    assert len(json.loads(r.stdout)) == 2

    r = run(
        data,
        "assess",
        str(chan["id"]),
        "--verdict",
        "terrorist_content",
        "--category",
        "a",
        "--category",
        "instruction",
        "--group",
        "Synthetic Group",
        "--user",
        "ana@example.invalid",
    )
    assert r.returncode == 0, r.stderr
    assert "is assessed" in r.stdout
    r = run(data, "items", "list", "--status", "assessed", "--format", "json")
    assert [x["id"] for x in json.loads(r.stdout)] == [chan["id"]]
    assert run(data, "audit", "verify").returncode == 0


def test_cli_errors_are_one_line(data: Path) -> None:
    r = run(data, "import", str(data / "missing.csv"), "--agency", "Synthetic IRU")
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [
        f"error: {data / 'missing.csv'} is not a file"
    ]
    f = data / "l.txt"
    f.write_text("https://x.com/a\n")
    r = run(data, "import", str(f))
    assert r.returncode == 1 and "--agency" in r.stderr
    r = run(data, "import", str(f), "--agency", "Nope")
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = run(data, "assess", "999", "--verdict", "needs_review", "--agency", "Synthetic IRU")
    assert r.returncode == 1 and "item 999 does not exist" in r.stderr
