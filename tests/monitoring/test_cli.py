"""``takedown watch add|list|remove|crawl`` as an operator runs them, crawling the testbed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from takedown.sim.harness import SimHandle

MAIN = """
import sys
from takedown.cli import main
sys.argv = ["takedown", *sys.argv[1:]]
main()
"""


def run(
    data: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    e.update(
        TAKEDOWN_DATA_DIR=str(data),
        TAKEDOWN_SECRET_KEY="cli-test-secret",
        COLUMNS="250",
        NO_COLOR="1",
        **(env or {}),
    )
    return subprocess.run(
        [sys.executable, "-c", MAIN, *args], capture_output=True, text=True, env=e, timeout=120
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    r = run(
        tmp_path, "agency", "add", "Synthetic IRU", "--country", "NL", "--contact", "c@x.invalid"
    )
    assert r.returncode == 0, r.stderr
    return tmp_path


def test_add_list_remove_and_crawl(data: Path, sim: SimHandle) -> None:
    ch = next(
        i
        for i in sim.items(platform="telegram", kind="channel", alive=True)
        if i["access"] == "public"
    )
    f = data / "watch.txt"
    f.write_text(
        f"# after the action day\n{ch['url']}\nnot a source\nhttps://x.com/synth_cli\n",
        encoding="utf-8",
    )
    r = run(data, "watch", "add", "--file", str(f), "--agency", "Synthetic IRU")
    assert r.returncode == 0, r.stderr
    assert "watch.txt:3" in r.stderr and "not a source" in r.stderr
    r = run(data, "watch", "list", "--agency", "Synthetic IRU", "--format", "json")
    rows = json.loads(r.stdout)
    assert {row["kind"] for row in rows} == {"telegram", "account"}
    tg = next(row for row in rows if row["kind"] == "telegram")
    x = next(row for row in rows if row["kind"] == "account")

    r = run(data, "watch", "remove", str(x["id"]), "--agency", "Synthetic IRU")
    assert r.returncode == 0 and "removed" in r.stdout

    env = {
        "TAKEDOWN_RESOLVE": ",".join(f"{h}={a}" for h, a in sim.resolve.items()),
        "TAKEDOWN_TOR_PROXY": sim.tor_proxy,
        "TAKEDOWN_CA_BUNDLE": sim.ca_path or "",
    }
    r = run(data, "watch", "crawl", "--per-host-rate", "0", "--format", "json", env=env)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)[0]
    assert rep["sources"] == 1 and rep["results"] == {"ok": 1} and rep["new_items"] > 0
    r = run(data, "watch", "list", "--agency", "Synthetic IRU", "--format", "json")
    (row,) = json.loads(r.stdout)
    assert row["id"] == tg["id"] and row["last_result"] == "ok" and row["new_total"] > 0


def test_bad_input_is_one_clear_line(data: Path) -> None:
    r = run(data, "watch", "add", "https://t.me/synthchan/5", "--agency", "Synthetic IRU")
    assert r.returncode != 0 and "not a channel" in r.stderr.replace("\n", " ")
    r = run(data, "watch", "add", "--agency", "Synthetic IRU")
    assert r.returncode != 0 and "--file" in r.stderr
