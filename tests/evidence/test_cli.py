"""The CLI end to end in subprocesses: capture, verify, tamper, export, offline check."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.evidence.cliproc import LAUNCH
from tests.evidence.hostile import HOST

SETUP = (
    "from takedown.config import get_settings\n"
    "from takedown.db import make_engine, make_sessionmaker, session_scope\n"
    "from takedown.migrate import upgrade\n"
    "from takedown.items.service import report_url\n"
    "from tests.factories import make_actor\n"
    "s = get_settings(); s.ensure_dirs()\n"
    "engine = make_engine(s.effective_database_url); upgrade(engine)\n"
    "with session_scope(make_sessionmaker(engine)) as db:\n"
    "    a = make_actor(db)\n"
    "    item, _ = report_url(db, a.principal, 'http://{host}/page')\n"
    "    print(a.user.email, item.id)\n"
)


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args], env=env, cwd=cwd, capture_output=True, text=True,
        timeout=180, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_cli_capture_verify_tamper_export(tmp_path: Path, hostile_port: int) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "TAKEDOWN_DATA_DIR": str(tmp_path / "var"),
        "TAKEDOWN_RESOLVE": f"{HOST}=127.0.0.1:{hostile_port}",
        "PYTHONPATH": f"{root}:{root / 'src'}",
    }
    env.pop("TAKEDOWN_DATABASE_URL", None)
    setup = subprocess.run(
        [sys.executable, "-c", SETUP.format(host=HOST)], env=env, cwd=root, capture_output=True,
        text=True, timeout=120, check=True,
    )  # fmt: skip
    email, item_id = setup.stdout.split()[-2:]

    r = _run(["evidence", "capture", item_id, "--user", email, "--format", "json"], env, root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"status": "complete"' in r.stdout

    r = _run(["evidence", "verify"], env, root)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "evidence intact" in r.stdout

    objects = sorted((tmp_path / "var" / "evidence" / "objects").glob("*/*/*"))
    [warc] = [p for p in objects if p.read_bytes()[:2] == b"\x1f\x8b"]  # the gzip'ed WARC
    os.chmod(warc, 0o644)
    data = bytearray(warc.read_bytes())
    data[-10] ^= 0xFF
    warc.write_bytes(bytes(data))
    r = _run(["evidence", "verify"], env, root)
    assert r.returncode == 1
    assert "does not match" in r.stdout + r.stderr and "fail verification" in r.stderr

    bundle = tmp_path / "bundle.zip"
    r = _run(["evidence", "export", item_id, "-o", str(bundle), "--user", email], env, root)
    assert r.returncode == 1 and "fails its hash check" in r.stderr  # never exports a tampered file
    data[-10] ^= 0xFF
    warc.write_bytes(bytes(data))
    r = _run(["evidence", "export", item_id, "-o", str(bundle), "--user", email], env, root)
    assert r.returncode == 0, r.stdout + r.stderr
    with zipfile.ZipFile(bundle) as zf:
        (tmp_path / "verify_bundle.py").write_bytes(zf.read("verify_bundle.py"))
    ok = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "verify_bundle.py"), str(bundle)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stdout

    r = _run(["evidence", "purge", "--dry-run"], env, root)
    assert r.returncode == 0 and "would purge 0 captures" in r.stdout
