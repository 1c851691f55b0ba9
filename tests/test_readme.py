"""Every command README.md shows runs as written (#13.2).

The commands are read from README itself: the lines of its ``sh`` blocks and every inline
code span that starts with ``make``, ``takedown`` or ``.venv/bin/takedown``. Each one is
either run here, in order, on a fresh data directory (as a new user would type it, with
the README's own arguments), or listed in ``NOT_RUN`` with the reason; a command added to
README that is in neither fails this test until someone decides.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.pdfcheck import need_chromium
from tests.test_cli import BIN

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PREFIXES = ("make ", ".venv/bin/takedown ", "takedown ")

NOT_RUN = {
    "make run": "serves until stopped; the browser tests start the same app themselves",
    "make test": "the whole suite: what CI runs",
    "make demo": "serves the demo until stopped; its batch form is `takedown demo --no-serve`",
    ".venv/bin/takedown demo --no-serve --format json": (
        "plays a whole action day (about a minute): tests/demo runs the same code"
    ),
    ".venv/bin/takedown sim small --speed 60": (
        "serves the testbed until stopped; tests start it with sim.harness.running_sim"
    ),
    "takedown sim": "the capability's name in the table (served: see the line above)",
    "takedown import FILE": "a template in the table (FILE); intake's CLI tests run it",
    r"takedown watch add\|list\|remove\|crawl": (
        "a synopsis in the table (one of add, list, remove, crawl); monitoring's CLI tests"
    ),
    "takedown resurgence link-handles": (
        "a command name in the table (it takes two files); resurgence's CLI tests run it"
    ),
}


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    found: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        found += [ln.strip() for ln in block.splitlines() if ln.strip() and ln[0] != "#"]
    found += [span for span in re.findall(r"`([^`\n]+)`", text) if span.startswith(PREFIXES)]
    return list(dict.fromkeys(found))


def _run(cwd: Path, command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    if argv[0] in (".venv/bin/takedown", "takedown"):
        argv[0] = str(BIN)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
    env.update(TAKEDOWN_DATA_DIR=str(cwd / "var"), COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, env=env, input=stdin, timeout=300
    )


def test_every_readme_command_is_run_or_has_a_reason() -> None:
    commands = readme_commands()
    assert ".venv/bin/takedown operation report 1 --final --format pdf" in commands
    stale = set(NOT_RUN) - set(commands)
    assert not stale, f"NOT_RUN names commands README no longer shows: {sorted(stale)}"


@pytest.mark.browser  # the PDF is printed by chromium
def test_readme_commands_run_as_written(tmp_path: Path) -> None:
    need_chromium()
    setup = _run(tmp_path, "takedown db upgrade")
    assert setup.returncode == 0, setup.stderr
    ran: list[str] = []
    for command in readme_commands():
        if command in NOT_RUN:
            continue
        if " operation report " in command:
            # The walkthrough creates the operation in the browser; here the CLI does.
            r = _run(tmp_path, 'takedown operation create "README day" --lead "IRU Example"')
            assert r.returncode == 0, r.stderr
        r = _run(tmp_path, command, stdin="a readme passphrase\n" * 2)
        assert r.returncode == 0, f"{command}\n{r.stdout}\n{r.stderr}"
        ran.append(command)
    assert len(ran) >= 6, ran
    assert sorted(p.name for p in (tmp_path / "var" / "reports").glob("*-report.csv"))
    pdf = tmp_path / "operation-1-final.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    shown = _run(tmp_path, "takedown platform show x")
    assert '"tco_contact_point": "tco-referrals@x.com"' in shown.stdout
    assert '"delivery_channel": "email"' in shown.stdout
