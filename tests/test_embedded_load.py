"""The embedded default under concurrent use: no request and no job fails on SQLite's lock
(#12.2, #19.2). The 2-minute version is ``bench/load.py``."""

from __future__ import annotations

from pathlib import Path

from takedown.sim.harness import running_sim
from tests.loadutil import run_load


def test_eight_clients_and_jobs_on_sqlite_no_5xx_no_failed_job(tmp_path: Path) -> None:
    with running_sim("small") as sim:
        res = run_load(tmp_path, sim, clients=8, seconds=4.0)
    writes = sum(n for code, n in res.statuses.items() if code in (201, 202))
    assert res.requests >= 40 and writes >= 10, res.statuses
    assert not res.server_errors, res.server_errors[:5]
    assert res.jobs_done >= 3 and not res.jobs_failed, res.jobs_failed[:5]
