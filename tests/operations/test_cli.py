"""``takedown operation ...`` as an operator runs it (a subprocess on a fresh data dir)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Until the composition root registers the sub-app, register it here (no-op once it does).
RUNNER = (
    "import takedown.cli as c\n"
    "from takedown.operations.cli import register\n"
    "if not any(g.name == 'operation' for g in c.app.registered_groups):\n"
    "    register(c.app)\n"
    "c.main()\n"
)


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    env.update(TAKEDOWN_DATA_DIR=str(data), COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, env=env, timeout=180
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    for name, country in (("IRU NL", "NL"), ("IRU BE", "BE"), ("Authority NL", "NL")):
        r = run(tmp_path, "agency", "add", name, "--country", country)
        assert r.returncode == 0, r.stderr
    return tmp_path


def test_create_import_report(data: Path, tmp_path: Path) -> None:
    r = run(
        data,
        "operation",
        "create",
        "Synthetic day",
        "--lead",
        "IRU NL",
        "--participant",
        "IRU BE",
        "--starts",
        "2026-11-21T06:00:00Z",
        "--platform",
        "telegram",
    )
    assert r.returncode == 0, r.stderr
    assert "operation 1 created" in r.stdout
    urls = tmp_path / "be.txt"
    urls.write_text("https://t.me/synthetic_cli_a\nhttps://t.me/s/synthetic_cli_a\nnot a url\n")
    r = run(data, "operation", "import", "1", str(urls), "--agency", "IRU BE")
    assert r.returncode == 0, r.stderr
    assert "1 items credited" in r.stdout and "1 bad" in r.stdout
    r = run(data, "operation", "report", "1")
    rep = json.loads(r.stdout)
    assert rep["report"] == "preliminary" and rep["figures"]["items"] == 1
    r = run(
        data, "operation", "report", "1", "--final", "--format", "csv", "--table", "contributions"
    )
    assert r.stdout.splitlines()[0].startswith("agency,country,items")
    out = tmp_path / "r.html"
    assert run(data, "operation", "report", "1", "--format", "html", "-o", str(out)).returncode == 0
    assert "Preliminary results as of" in out.read_text()
    r = run(data, "operation", "report", "1", "--format", "csv", "--table", "nope")
    assert r.returncode == 1 and "no table 'nope'" in r.stderr
    r = run(data, "operation", "report", "99")
    assert r.returncode == 1 and "operation 99 does not exist" in r.stderr
    r = run(data, "operation", "status", "1", "closed")
    assert r.returncode == 1 and "planned -> running -> closed" in r.stderr
    r = run(data, "operation", "list", "--format", "json")
    assert json.loads(r.stdout)[0]["name"] == "Synthetic day"
    r = run(data, "operation", "transparency", "2026", "--agency", "Authority NL")
    assert json.loads(r.stdout)["figures"]["orders_issued"] == 0


@pytest.mark.browser
def test_pdf(data: Path, tmp_path: Path) -> None:
    if not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("chromium is required under CI=true")
        pytest.skip("no /usr/bin/chromium")
    assert run(data, "operation", "create", "PDF day", "--lead", "IRU NL").returncode == 0
    out = tmp_path / "r.pdf"
    r = run(data, "operation", "report", "1", "--final", "--format", "pdf", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes().startswith(b"%PDF-")
