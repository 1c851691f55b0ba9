"""``takedown sim`` serving: prints the resolver map and answers until terminated."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

SCRIPT = (
    "import typer\n"
    "from takedown.sim.cli import register\n"
    "app = typer.Typer()\n"
    "register(app)\n"
    "app.callback()(lambda: None)\n"
    "app()\n"
)


def test_sim_command_serves_and_prints_addresses(tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-c",
        SCRIPT,
        "sim",
        "small",
        "--port",
        "0",
        "--control-port",
        "0",
        "--socks-port",
        "0",
        "--smtp-port",
        "0",
        "--ca-dir",
        str(tmp_path),
        "--json",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert info["TAKEDOWN_RESOLVE"].count("=127.0.0.1:") >= 10
        assert info["TAKEDOWN_TOR_PROXY"].startswith("socks5://127.0.0.1:")
        assert Path(info["ca_path"]).parent == tmp_path
        assert info["authority_email"] == "tco-ie@authority.example"  # Art. 4(1) copies
        health = httpx.get(info["control_url"] + "/health", trust_env=False).json()
        assert health == {"ok": True, "scenario": "small", "seed": 7}
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
