"""What a demo run tells its caller: progress while it runs, and a summary at the end.

The runner reports progress through :class:`Observer` so it knows nothing of Rich;
the CLI draws the bars. The summary's figures are the final report's own (the
report is built from the rows), never counted a second time here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from takedown.kit.progress import NullProgress, ProgressSink


class Observer(Protocol):
    """Told about each long phase (a bar) and anything worth a line."""

    def phase(
        self, description: str, total: int | None = None, *, bytes_mode: bool = False
    ) -> AbstractContextManager[ProgressSink]: ...

    def note(self, message: str) -> None: ...


class QuietObserver:
    """Progress nobody watches (tests, ``--format json`` without a terminal)."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    @contextmanager
    def _phase(self) -> Iterator[ProgressSink]:
        yield NullProgress()

    def phase(
        self, description: str, total: int | None = None, *, bytes_mode: bool = False
    ) -> AbstractContextManager[ProgressSink]:
        return self._phase()

    def note(self, message: str) -> None:
        self.notes.append(message)


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    password: str  # random per run, shown once
    role: str
    agency: str


@dataclass(frozen=True, slots=True)
class ImportedFile:
    agency: str
    file: Path
    rows_ok: int
    rows_bad: int
    items_created: int
    credited: int  # items this file credited to the operation


@dataclass(frozen=True, slots=True)
class SentReferral:
    reference: str
    platform: str
    kind: str
    channel: str
    items: int  # sent
    acknowledgement: str | None
    already_gone: int = 0  # kept out: removed or withheld before sending


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class DemoResult:
    scenario: str
    seed: int
    database: str  # the database URL, without any password
    directory: Path
    operation_id: int
    operation_name: str
    operation_status: str
    simulated_from: dt.datetime
    simulated_to: dt.datetime
    imports: list[ImportedFile]
    referrals: list[SentReferral]
    figures: dict[str, Any]  # the final report's figures
    by_platform: list[dict[str, Any]]  # its "time to removal by platform" rows
    reports: dict[str, Path | None]
    logins: list[Login]
    verification_rounds: int = 0
    checks: int = 0
    removal_times_stated: int = 0  # removal times the platforms' status APIs gave
    #: Per platform, by the testbed's ground truth: the items put in a batch, those already
    #: gone when the batches went out, those referred, and of those the ones it removed.
    ground_truth: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The final report's "items by platform and state" rows.
    by_platform_state: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _before(self, platform: str) -> int:
        return sum(
            int(r["items"])
            for r in self.by_platform_state
            if r["platform"] == platform and r["state"] == "removed_before_referral"
        )

    @property
    def dashboard_path(self) -> str:
        return f"/operations/{self.operation_id}/live"

    def to_json(self, base_url: str | None = None) -> dict[str, Any]:
        f = self.figures
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "database": self.database,
            "directory": str(self.directory),
            "operation": {
                "id": self.operation_id,
                "name": self.operation_name,
                "status": self.operation_status,
                "dashboard": (base_url or "") + self.dashboard_path,
            },
            "simulated": {
                "from": _iso(self.simulated_from),
                "to": _iso(self.simulated_to),
                "hours": round((self.simulated_to - self.simulated_from).total_seconds() / 3600, 2),
            },
            "imports": [
                {
                    "agency": i.agency,
                    "file": str(i.file),
                    "rows_ok": i.rows_ok,
                    "rows_bad": i.rows_bad,
                    "items_created": i.items_created,
                    "credited": i.credited,
                }
                for i in self.imports
            ],
            "rows_imported": sum(i.rows_ok for i in self.imports),
            "rows_refused": sum(i.rows_bad for i in self.imports),
            "items": f["items"],
            "duplicates_folded": f["duplicates_folded"],
            "referred": f["referred"],
            "removed_before_referral": f["removed_before_referral"],
            "claimed_removed": f["claimed_removed"],
            "confirmed_removed": f["confirmed_removed"],
            "removed_share": f["removed_share"],
            "median_time_to_removal_seconds": f["median_observed_seconds"],
            "platforms": [
                {
                    "platform": r["platform"],
                    "removed_before_referral": self._before(r["platform"]),
                    "referred": r["referred"],
                    "claimed_removed": r["claimed_removed"],
                    "confirmed_removed": r["confirmed_removed"],
                    "removed_share": r.get("removed_share"),
                    "median_time_to_removal_seconds": r.get("median_observed_seconds"),
                }
                for r in self.by_platform
            ],
            "referrals": [
                {
                    "reference": r.reference,
                    "platform": r.platform,
                    "kind": r.kind,
                    "channel": r.channel,
                    "items": r.items,
                    "acknowledgement": r.acknowledgement,
                    "already_gone": r.already_gone,
                }
                for r in self.referrals
            ],
            "ground_truth": {
                **{
                    key: sum(v[key] for v in self.ground_truth.values())
                    for key in ("batched", "removed_before_referral", "referred", "removed")
                },
                "by_platform": {k: dict(v) for k, v in self.ground_truth.items()},
            },
            "verification": {
                "rounds": self.verification_rounds,
                "checks": self.checks,
                "removal_times_stated_by_platforms": self.removal_times_stated,
            },
            "figures": dict(f),
            "reports": {k: None if v is None else str(v) for k, v in self.reports.items()},
            "logins": [
                {"email": u.email, "password": u.password, "role": u.role, "agency": u.agency}
                for u in self.logins
            ],
            "timings_seconds": {k: round(v, 2) for k, v in self.timings.items()},
            "notes": list(self.notes),
        }
