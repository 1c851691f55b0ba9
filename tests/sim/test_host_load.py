"""The testbed counts, per host, requests that arrive while another is still in flight."""

from __future__ import annotations

from takedown.sim.app import HostLoad
from takedown.sim.harness import running_sim


def test_overlapping_arrivals_are_counted() -> None:
    load = HostLoad()
    load.arrive(10.0, 0.1)
    load.arrive(10.05, 0.1)  # the first is still in flight
    load.arrive(10.5, 0.1)  # both answered
    assert load.requests == 3 and load.concurrent == 1 and load.max_in_flight == 2
    assert load.min_gap is not None and abs(load.min_gap - 0.05) < 1e-9


def test_stats_report_each_host() -> None:
    with running_sim("small") as sim, sim.sync_client() as client:
        client.get("https://t.me/s/does_not_exist_synth", follow_redirects=False)
        hosts = sim.host_load()
        assert hosts["t.me"]["requests"] == 1 and hosts["t.me"]["concurrent"] == 0
        with sim.control() as ctl:
            assert ctl.get("/stats").json()["hosts"]["t.me"]["requests"] == 1
