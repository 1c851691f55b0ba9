"""``takedown audit head|verify --anchor|checkpoint|keygen``, as an operator runs them."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "takedown"


def _run(data: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    env.update(
        TAKEDOWN_DATA_DIR=str(data), TAKEDOWN_SECRET_KEY="cli-test-secret", COLUMNS="200",
        NO_COLOR="1", **extra,
    )  # fmt: skip
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env, timeout=120)


def test_exported_head_catches_what_the_machine_alone_cannot(tmp_path: Path) -> None:
    data = tmp_path / "var"
    assert _run(data, "db", "upgrade").returncode == 0
    for name in ("Unit one", "Unit two", "Unit three"):
        r = _run(data, "agency", "add", name, "--country", "fr")
        assert r.returncode == 0, r.stderr
    r = _run(data, "audit", "checkpoint")
    assert r.returncode == 0 and r.stdout.startswith("checkpoint 1:"), r.stdout + r.stderr
    head = tmp_path / "offsite" / "head.json"
    head.parent.mkdir()
    r = _run(data, "audit", "head", "--output", str(head), "--note", "monthly, to the DPO")
    assert r.returncode == 0, r.stderr
    doc = json.loads(head.read_text())
    assert doc["kind"] == "takedown-audit-checkpoint" and doc["hmac"] and doc["seq"] == 2
    assert len((data / "audit-checkpoints.jsonl").read_text().splitlines()) == 2
    r = _run(data, "audit", "verify", "--anchor", str(head))
    assert r.returncode == 0 and "held to 2 anchor(s)" in r.stdout, r.stdout + r.stderr

    # Someone with the database and the data dir drops the last events, every checkpoint
    # and the anchor file: on the machine, nothing is left to disagree...
    with sqlite3.connect(data / "takedown.sqlite3") as db:
        db.execute("DELETE FROM audit_events WHERE id > (SELECT MAX(id) - 2 FROM audit_events)")
        db.execute("DELETE FROM audit_checkpoints")
    (data / "audit-checkpoints.jsonl").unlink()
    r = _run(data, "audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    # ...but the head that left the machine does.
    r = _run(data, "audit", "verify", "--anchor", str(head))
    assert r.returncode == 1 and "deleted from its end" in r.stderr, r.stdout + r.stderr


def test_keygen_then_ed25519_signed_checkpoints(tmp_path: Path) -> None:
    data = tmp_path / "var"
    key = tmp_path / "audit-ed25519.pem"
    r = _run(data, "audit", "keygen", "--output", str(key))
    assert r.returncode == 0, r.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "audit-ed25519.pem.pub").read_text().startswith("-----BEGIN PUBLIC KEY")
    assert _run(data, "audit", "keygen", "--output", str(key)).returncode == 1  # never overwrite
    assert _run(data, "db", "upgrade").returncode == 0
    assert _run(data, "agency", "add", "Unit", "--country", "de").returncode == 0
    head = tmp_path / "head.json"
    r = _run(data, "audit", "head", "-o", str(head), TAKEDOWN_AUDIT_SIGNING_KEY=str(key))
    assert r.returncode == 0, r.stderr
    doc = json.loads(head.read_text())
    assert doc["ed25519"] and doc["public_key_pem"].startswith("-----BEGIN PUBLIC KEY")
    r = _run(data, "audit", "verify", "--anchor", str(head), TAKEDOWN_AUDIT_SIGNING_KEY=str(key))
    assert r.returncode == 0, r.stdout + r.stderr
    doc["event_hash"] = "0" * 64
    head.write_text(json.dumps(doc))
    r = _run(data, "audit", "verify", "--anchor", str(head), TAKEDOWN_AUDIT_SIGNING_KEY=str(key))
    assert r.returncode == 1 and "does not match" in r.stderr, r.stdout + r.stderr
