"""Alerts, each named after the FATF red flag it implements.

The rules read one trace of a watched address (its own transactions and its direct
counterparties) and the label list; each yields drafts with a stable key, so
tracing the same address again never raises the same alert twice.

Sources: FATF, *Virtual Assets Red Flag Indicators of Money Laundering and Terrorist
Financing* (September 2020), and FATF, *Crowdfunding for Terrorism Financing*
(October 2023).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from takedown.coins.trace.base import ChainTx

RULE_FUNDED = "watched-address-funded"
RULE_CROWD = "crowdfunding-small-deposits"
RULE_MIXER = "mixer-exposure"
RULE_EXCHANGE = "exchange-exposure"

RED_FLAGS: dict[str, str] = {
    RULE_FUNDED: (
        "FATF VA red flags (2020), source of funds: funds received by a virtual-asset "
        "address connected to illicit activity (here an address published in terrorist "
        "propaganda and placed on a watch list)."
    ),
    RULE_CROWD: (
        "FATF VA red flags (2020), transaction patterns: frequent transfers within a short "
        "period to the same address by more than one person; FATF Crowdfunding for "
        "Terrorism Financing (2023): a donation campaign collecting many small contributions."
    ),
    RULE_MIXER: (
        "FATF VA red flags (2020), anonymity: funds deposited to or withdrawn from an "
        "address with direct exposure to a mixing or tumbling service."
    ),
    RULE_EXCHANGE: (
        "FATF VA red flags (2020), anonymity and senders or recipients: funds moved directly "
        "to or from a virtual-asset service provider (an exchange), the cash-out or cash-in "
        "point where the provider holds its customer's identity."
    ),
}
RULES = tuple(RED_FLAGS)


@dataclass(frozen=True)
class CrowdParams:
    """The crowdfunding pattern: many small deposits from distinct senders in a short window."""

    window: dt.timedelta = dt.timedelta(hours=48)
    min_deposits: int = 10
    min_senders: int = 8
    small_max: int = 1_000_000  # 0.01 BTC in satoshis


@dataclass
class AlertDraft:
    rule: str
    key: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def red_flag(self) -> str:
        return RED_FLAGS[self.rule]


def _deposits(address: str, txs: Iterable[ChainTx]) -> list[tuple[dt.datetime, int, str, str]]:
    out = []
    for t in txs:
        got = t.received_by(address)
        if got and t.time is not None and not t.spent_by(address):
            sender = min((a for a, _ in t.inputs if a != address), default="")
            out.append((t.time, got, sender, t.txid))
    out.sort()
    return out


def funded(address: str, txs: Iterable[ChainTx], seen: set[str]) -> list[AlertDraft]:
    new = [t for t in txs if t.received_by(address) and t.txid not in seen]
    if not new:
        return []
    newest = max(new, key=lambda t: (t.time or dt.datetime.max.replace(tzinfo=dt.UTC), t.txid))
    return [
        AlertDraft(
            RULE_FUNDED,
            f"{RULE_FUNDED}:{address}:{newest.txid}",
            {
                "new_deposits": len(new),
                "amount": sum(t.received_by(address) for t in new),
                "txids": [t.txid for t in new[:20]],
            },
        )
    ]


def crowdfunding(
    address: str, txs: Iterable[ChainTx], params: CrowdParams | None = None
) -> list[AlertDraft]:
    p = params or CrowdParams()
    deps = [d for d in _deposits(address, txs) if d[1] <= p.small_max]
    best: tuple[int, int] | None = None  # (start index, end index exclusive)
    j = 0
    for i in range(len(deps)):
        if j < i:
            j = i
        while j < len(deps) and deps[j][0] - deps[i][0] <= p.window:
            j += 1
        count = j - i
        senders = len({d[2] for d in deps[i:j]})
        if (
            count >= p.min_deposits
            and senders >= p.min_senders
            and (best is None or count > best[1] - best[0])
        ):
            best = (i, j)
    if best is None:
        return []
    window = deps[best[0] : best[1]]
    start = window[0][0]
    week = start.strftime("%G-W%V")
    return [
        AlertDraft(
            RULE_CROWD,
            f"{RULE_CROWD}:{address}:{week}",
            {
                "deposits": len(window),
                "senders": len({d[2] for d in window}),
                "amount": sum(d[1] for d in window),
                "from": start.isoformat(),
                "to": window[-1][0].isoformat(),
                "largest": max(d[1] for d in window),
            },
        )
    ]


def exposure(
    address: str, txs: Iterable[ChainTx], labels: Mapping[str, tuple[str, str]]
) -> list[AlertDraft]:
    out: dict[str, AlertDraft] = {}
    for t in txs:
        incoming = t.received_by(address) > 0 and not t.spent_by(address)
        parties = (
            [a for a, _ in t.inputs if a != address]
            if incoming
            else [a for a, _ in t.outputs if a != address]
        )
        for other in parties:
            lab = labels.get(other)
            if lab is None or lab[0] not in ("mixer", "exchange"):
                continue
            rule = RULE_MIXER if lab[0] == "mixer" else RULE_EXCHANGE
            key = f"{rule}:{address}:{other}"
            if key not in out:
                out[key] = AlertDraft(
                    rule,
                    key,
                    {
                        "counterparty": other,
                        "service": lab[1],
                        "direction": "from" if incoming else "to",
                        "txid": t.txid,
                        "amount": t.received_by(address) if incoming else t.spent_by(address),
                    },
                )
    return list(out.values())


def evaluate(
    address: str,
    txs: list[ChainTx],
    labels: Mapping[str, tuple[str, str]],
    *,
    seen: set[str] | None = None,
    crowd: CrowdParams | None = None,
) -> list[AlertDraft]:
    """Every rule on one address's transactions (``seen``: txids an earlier trace saw)."""
    return [
        *funded(address, txs, seen or set()),
        *crowdfunding(address, txs, crowd),
        *exposure(address, txs, labels),
    ]
