"""``takedown coins ...`` as an operator runs it (subprocesses on a fresh data dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from takedown.sim.chain import serve_chain
from takedown.sim.wallets import make_address, write_as
from tests.coins.chainhelp import chain


def run(
    data: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    e.update(TAKEDOWN_DATA_DIR=str(data), COLUMNS="200", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", "import takedown.cli as c; c.main()", *args],
        capture_output=True,
        text=True,
        env=e,
        timeout=180,
    )


def test_extract_a_file(tmp_path: Path) -> None:
    a = make_address("btc", "p2tr", "cli")
    x = make_address("xmr", "subaddress", "cli")
    f = tmp_path / "post.txt"
    f.write_text(f"Support: {write_as(a, 'defanged', 2)}\nXMR {x}\nnot {a[:-1]}x\n", "utf-8")
    r = run(tmp_path, "coins", "extract", str(f), "--format", "json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [(g["address"], g["form"]) for g in got] == [(a, "defanged"), (x, "plain")]
    r = run(tmp_path, "coins", "extract", str(tmp_path / "missing.txt"))
    assert r.returncode != 0 and "missing.txt" in (r.stderr + r.stdout)


def test_watch_and_trace_against_the_testbed_chain(tmp_path: Path) -> None:
    c = chain()
    assert run(tmp_path, "db", "upgrade").returncode == 0
    assert run(tmp_path, "agency", "add", "IRU Coins", "--country", "NL").returncode == 0
    labels = tmp_path / "labels.csv"
    rows = ["address,category,name"] + [
        f"{lab['address']},{lab['category']},{lab['name']}" for lab in c.labels
    ]
    labels.write_text("\n".join([*rows, "nonsense,mixer,bad row"]) + "\n", "utf-8")
    r = run(tmp_path, "coins", "labels", "import", str(labels))
    assert r.returncode == 0 and "7 label(s) imported, 1 row(s) refused" in r.stdout, r.stderr
    assert "labels.csv:9" in r.stderr
    r = run(tmp_path, "coins", "watch", "create", "Posted", "--agency", "IRU Coins", "--tlp", "red")
    assert r.returncode == 0, r.stderr
    camp = c.campaign_addresses[2]
    r = run(tmp_path, "coins", "watch", "add", "Posted", camp, "--agency", "IRU Coins")
    assert r.returncode == 0, r.stderr
    with serve_chain(c) as srv:
        env = {
            "TAKEDOWN_COINS_ESPLORA_URL": srv.base_url,
            "TAKEDOWN_SSRF_ALLOW": "127.0.0.1/32",
            "TAKEDOWN_COINS_ESPLORA_RATE": "100",
        }
        r = run(
            tmp_path,
            "coins",
            "watch",
            "trace",
            "--agency",
            "IRU Coins",
            "--format",
            "json",
            env=env,
        )
        assert r.returncode == 0, r.stderr
        assert {x["rule"] for x in json.loads(r.stdout)} == c.expected[camp]
        r = run(
            tmp_path, "coins", "trace", camp, "--agency", "IRU Coins", "--format", "json", env=env
        )
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["summary"]["received"] > 0
    r = run(tmp_path, "coins", "trace", camp, "--agency", "IRU Coins")
    assert r.returncode != 0 and "TAKEDOWN_COINS_ESPLORA_URL" in r.stdout + r.stderr
