"""Alerts against the testbed chain's ground truth, and their FATF names."""

from __future__ import annotations

import dataclasses
import datetime as dt

from takedown.coins import alerts
from takedown.coins.trace.base import ChainTx
from takedown.coins.trace.tracer import trace
from tests.coins.chainhelp import chain, labels
from tests.coins.fakes import InProcessChain


def test_every_rule_names_its_red_flag() -> None:
    assert set(alerts.RULES) == {
        "watched-address-funded",
        "crowdfunding-small-deposits",
        "mixer-exposure",
        "exchange-exposure",
    }
    assert all("FATF" in alerts.RED_FLAGS[r] for r in alerts.RULES)


def test_rules_match_the_ground_truth_on_campaigns_and_decoys() -> None:
    c = chain()
    api = InProcessChain(c)
    lab = labels(c)
    for address, role in c.roles.items():
        res = trace(api, address, hops=1)
        got = {d.rule for d in alerts.evaluate(address, res.txs, lab)}
        assert got == c.expected[address], (role, got, c.expected[address])


def _tx(n: int, t: dt.datetime, to: str, value: int, sender: str) -> ChainTx:
    return ChainTx(f"{n:064x}", t, ((sender, value + 1000),), ((to, value),))


def test_crowdfunding_needs_many_small_deposits_from_distinct_senders_in_the_window() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    a = "bc1-campaign"
    many = [_tx(i, t0 + dt.timedelta(hours=i), a, 50_000, f"donor{i}") for i in range(12)]
    assert [d.rule for d in alerts.crowdfunding(a, many)] == ["crowdfunding-small-deposits"]
    one_sender = [dataclasses.replace(t, inputs=(("same", 51_000),)) for t in many]
    assert alerts.crowdfunding(a, one_sender) == []
    big = [_tx(i, t0 + dt.timedelta(hours=i), a, 5_000_000, f"d{i}") for i in range(12)]
    assert alerts.crowdfunding(a, big) == []
    slow = [_tx(i, t0 + dt.timedelta(days=7 * i), a, 50_000, f"d{i}") for i in range(12)]
    assert alerts.crowdfunding(a, slow) == []
    tight = alerts.CrowdParams(window=dt.timedelta(hours=5), min_deposits=5, min_senders=5)
    assert alerts.crowdfunding(a, many, tight)[0].detail["deposits"] == 6


def test_funded_alert_only_for_deposits_not_seen_before() -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    a = "bc1-watched"
    txs = [_tx(i, t0 + dt.timedelta(hours=i), a, 10_000, f"s{i}") for i in range(3)]
    [d] = alerts.funded(a, txs, set())
    assert d.detail["new_deposits"] == 3
    assert alerts.funded(a, txs, {t.txid for t in txs}) == []
    later = [*txs, _tx(3, t0 + dt.timedelta(days=1), a, 20_000, "s3")]
    [d2] = alerts.funded(a, later, {t.txid for t in txs})
    assert d2.detail["new_deposits"] == 1 and d2.detail["amount"] == 20_000
    assert d2.key != d.key
