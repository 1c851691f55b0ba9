"""The console script, end to end, as an operator runs it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / "takedown"


def run(data: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    env.update(TAKEDOWN_DATA_DIR=str(data), COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=env, input=input, timeout=120
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    r = run(tmp_path, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    return tmp_path


def test_agency_user_token_and_audit(data: Path) -> None:
    r = run(data, "agency", "add", "Unité de test", "--country", "fr", "--contact", "x@y.invalid")
    assert r.returncode == 0, r.stderr
    r = run(data, "agency", "list", "--format", "json")
    rows = json.loads(r.stdout)
    assert rows[0]["name"] == "Unité de test" and rows[0]["country"] == "FR"
    r = run(
        data,
        "user",
        "add",
        "ana@example.invalid",
        "--agency",
        "Unité de test",
        "--role",
        "analyst",
        "--password",
        "a-long-enough-password",
    )
    assert r.returncode == 0, r.stderr
    r = run(data, "user", "list", "--format", "json")
    assert json.loads(r.stdout)[0]["email"] == "ana@example.invalid"
    r = run(data, "token", "create", "ana@example.invalid", "--scope", "items:read")
    assert r.returncode == 0 and r.stdout.strip().startswith("tdk_")
    r = run(data, "audit", "verify")
    assert r.returncode == 0 and "intact" in r.stdout


def test_errors_are_one_clear_line(data: Path) -> None:
    r = run(data, "agency", "add", "X", "--country", "France")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "error: country 'FRANCE' is not an ISO 3166-1 alpha-2 code"
    ]
    r = run(data, "user", "add", "a@b.invalid", "--agency", "nope", "--password", "x" * 20)
    assert r.returncode == 1 and "agency 'nope' does not exist" in r.stderr


def test_audit_verify_catches_tampering(data: Path) -> None:
    for name in ("A", "B", "C"):
        assert run(data, "agency", "add", f"Agency {name}", "--country", "DE").returncode == 0
    db = sqlite3.connect(data / "takedown.sqlite3")
    db.execute('UPDATE audit_events SET details = \'{"name":"forged"}\' WHERE id = 2')
    db.commit()
    db.close()
    r = run(data, "audit", "verify")
    assert r.returncode == 1 and "broken at event 2" in r.stderr


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    """A brand-new data directory is created and migrated, and says so (#13.21); the
    second run has nothing to do."""
    first = run(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "applied" in first.stderr and "up to date" not in first.stderr
    assert "accounts_0001" in first.stderr and str(tmp_path) in first.stderr
    second = run(tmp_path, "db", "upgrade")
    assert second.returncode == 0 and "database is up to date" in second.stderr
