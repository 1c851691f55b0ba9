"""One simulated action day, end to end, through the capabilities' own services.

The flow is the one ``tests/operations/test_end_to_end.py`` scores against the
testbed's ground truth: three agencies import their report files into an
operation led by the first (duplicates fold, every agency stays credited), the
analysts assess, the lead refers the whole operation per platform (ToS referrals
to X by API and to Telegram by e-mail, a removal order to YouTube, approved by a
supervisor who did not write it), the referrals are delivered to the simulated
platforms (each item checked just before: what a platform already removed, suspended or
geo-blocked by itself is not sent, and counts as removed before referral), and the
checker and the platforms' status APIs follow the removals while scenario time runs:
every 15 minutes for six hours, then hourly until the day ends (24 hours by default).
A preliminary report is written half-way, the final one at the end, and the operation
is closed.

Why a frozen clock moved by hand: the simulated platforms act on scenario time, so
a day plays out in well under a minute and every run of a seed gives the same
figures. The day is placed so that it ends when the run does, so the
served dashboard (which measures "still online" up to now) agrees with the report.

The analysts' eyes are the testbed's ground truth: an address that is a piece of the
scenario's synthetic propaganda is confirmed as terrorist content (Art. 2(7)(a)),
anything else in the files (a typo that still parses, a page that never existed) is
dismissed. Nothing here writes SQL; every change goes through a service, audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts import repository as accounts_repository
from takedown.bootstrap import prepare_database, wire_hooks
from takedown.config import Settings
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.demo import setup
from takedown.demo.result import (
    DemoResult,
    ImportedFile,
    Login,
    Observer,
    QuietObserver,
    SentReferral,
)
from takedown.demo.setup import Referred, Team
from takedown.demo.storage import DemoStorage, display_url
from takedown.items import intake
from takedown.items import service as items_service
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import Conflict, InvalidInput, TakedownError, Unavailable
from takedown.kit.progress import ProgressSink
from takedown.operations import report
from takedown.operations import service as operations
from takedown.platforms.detectors.registry import DetectorRegistry
from takedown.platforms.identity import InvalidURL, canonicalize
from takedown.referrals import delivery, precheck, repository, status
from takedown.referrals import service as referrals
from takedown.referrals.channels.api import ApiChannel
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import ItemState
from takedown.referrals.platforms import signing_key
from takedown.sim.harness import SimHandle, running_sim
from takedown.sim.scenario import Scenario, load_scenario, resolve_scenario_path
from takedown.verification import service as verification
from takedown.verification.engine import EngineConfig

#: The checker's first-day rhythm is every 15 minutes; the demo follows it for six hours,
#: then looks hourly (scenario time jumps an hour per round) until the day ends.
QUARTER_HOURLY_FOR = 6 * 3600
#: At the close, two last looks at every referred item, ten minutes apart, while the
#: platforms stand still: a removal seen once is confirmed by the second look.
FINAL_SWEEP: tuple[int, ...] = (600, 600)
MIN_HOURS, MAX_HOURS = 1.0, 14 * 24.0
#: The testbed answers at once and injects no faults here, so no waiting between retries.
ENGINE = EngineConfig(retries=2, backoff_base=0.0, jitter=0.0, max_retry_after=0.0)
CATEGORIES = ("a",)
JUSTIFICATION = (
    "Synthetic stand-in for official propaganda of a designated group "
    "(takedown demo; no real content)."
)
PAGE = 500


def schedule(hours: float) -> tuple[int, ...]:
    """Scenario seconds between verification rounds for a day of ``hours`` hours.

    48 hours gives the end-to-end test's rhythm: 24 quarter-hours, then 42 hours."""
    total = round(hours * 3600)
    steps: list[int] = []
    t = 0
    while t < total:
        step = min(900 if t < QUARTER_HOURLY_FOR else 3600, total - t)
        steps.append(step)
        t += step
    return tuple(steps)


@dataclass(frozen=True)
class DemoConfig:
    scenario: str | Path = "small"
    seed: int | None = None
    #: How long the action day runs, in scenario hours (the platforms act meanwhile).
    hours: float = 24.0
    #: Scenario time at which the action day starts; None places it so the day ends now.
    start: dt.datetime | None = None
    pdf: bool = True
    chromium: str = "/usr/bin/chromium"

    def __post_init__(self) -> None:
        """Refuse a bad day before anything is reset or started."""
        if not MIN_HOURS <= self.hours <= MAX_HOURS:
            raise InvalidInput(
                f"the day lasts {MIN_HOURS:g} to {MAX_HOURS:g} hours, not {self.hours:g}"
            )
        try:
            resolve_scenario_path(self.scenario)
        except FileNotFoundError as exc:
            raise InvalidInput(f"{exc} (a name under scenarios/ or a YAML file)") from None

    @property
    def schedule(self) -> tuple[int, ...]:
        return schedule(self.hours)

    @property
    def span(self) -> dt.timedelta:
        """From the day's start to the close (the final sweep included)."""
        return dt.timedelta(seconds=sum(self.schedule) + sum(FINAL_SWEEP))


def run_demo(
    config: DemoConfig,
    storage: DemoStorage,
    settings: Settings,
    observer: Observer | None = None,
) -> DemoResult:
    """Run the day into ``storage`` (prepared by ``storage.prepare``) and say what happened.

    ``settings`` are the demo's own (its data directory and database): confirmed
    removals feed the removed-content bank through them, as in a served instance.
    """
    obs = observer or QuietObserver()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    engine = make_engine(storage.database_url)
    try:
        with _timed(timings, "database"):
            prepare_database(engine)
        factory = make_sessionmaker(engine)
        with session_scope(factory) as s:
            if accounts_repository.count_users(s) > 0:
                raise Conflict(
                    f"the database {display_url(storage.database_url)} already has users; "
                    "the demo needs an empty database (or its own, without --database-url)"
                )
        wire_hooks(settings)
        sc = _scenario(config)
        with running_sim(sc, ca_dir=storage.sim) as sim:
            obs.note(
                f"testbed {sc.name!r} (seed {sc.seed}) on loopback; scenario time "
                f"{sim.now():%Y-%m-%d %H:%M}Z"
            )
            day = _Day(config, storage, factory, sim, obs, timings, settings)
            result = day.run(sc)
        timings["total"] = time.perf_counter() - t0
        result.timings = timings
        return result
    finally:
        engine.dispose()


def _scenario(config: DemoConfig) -> Scenario:
    try:
        sc = load_scenario(resolve_scenario_path(config.scenario), config.seed)
    except (FileNotFoundError, ValueError) as exc:
        raise InvalidInput(f"scenario: {exc}") from None
    start = config.start
    if start is None:
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        start = now - config.span
    return sc.model_copy(update={"start": start})


@contextmanager
def _timed(timings: dict[str, float], key: str) -> Iterator[None]:
    t = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = timings.get(key, 0.0) + time.perf_counter() - t


class _Day:
    def __init__(
        self,
        config: DemoConfig,
        storage: DemoStorage,
        factory: sessionmaker[Session],
        sim: SimHandle,
        obs: Observer,
        timings: dict[str, float],
        settings: Settings,
    ) -> None:
        # The check before sending is on (what is already gone is not sent); evidence is
        # not captured here: the demo's instance does not reach the testbed by itself.
        self.settings = settings.model_copy(
            update={"capture_before_referral": False, "check_before_referral": True}
        )
        self.sent_at: dt.datetime | None = None
        self.config = config
        self.storage = storage
        self.factory = factory
        self.sim = sim
        self.obs = obs
        self.timings = timings
        self.clock = FrozenClock(sim.now())
        self.logins: list[Login] = []
        self.notes: list[str] = []
        self.checks = 0
        self.stated = 0
        self.rounds = 0

    def note(self, message: str) -> None:
        self.notes.append(message)
        self.obs.note(message)

    def run(self, sc: Scenario) -> DemoResult:
        start = self.clock.now()
        with _timed(self.timings, "setup"):
            files = setup.export_files(self.sim, self.storage.agency_files)
            admin, teams, self.logins = setup.create_teams(self.factory, files)
            referred, notes = setup.point_platforms(self.factory, self.sim, admin, self.clock)
            for n in notes:
                self.note(n)
            name = f"Synthetic action day ({sc.name}, seed {sc.seed})"
            op_id, op_name = setup.create_operation(
                self.factory, teams, name, self.config.span, self.clock
            )
        lead = teams[0]
        with _timed(self.timings, "import"):
            imports = self._import(teams, op_id)
        truth = self._truth()
        with _timed(self.timings, "assess"):
            self._assess(teams, op_id, truth)
        with _timed(self.timings, "refer"):
            sent_ids, batched = self._refer(lead, op_id, referred)
            sent, item_ids = self._deliver(lead, sent_ids)
        reports: dict[str, Path | None] = {}
        with _timed(self.timings, "verify"):
            self._follow(lead, op_id, item_ids, reports)
        with _timed(self.timings, "report"):
            with session_scope(self.factory) as s:
                op = operations.set_status(s, lead.supervisor, op_id, "closed", clock=self.clock)
                op_status = op.status
            with session_scope(self.factory) as s:
                final = report.build(s, lead.supervisor, op_id, final=True, clock=self.clock)
            reports.update(self._write(final, op_id, pdf=self.config.pdf))
        truth_by_platform = self._score(lead, batched)
        data = final.to_json()
        return DemoResult(
            scenario=sc.name,
            seed=sc.seed,
            database=display_url(self.storage.database_url),
            directory=self.storage.directory,
            operation_id=op_id,
            operation_name=op_name,
            operation_status=op_status,
            simulated_from=start,
            simulated_to=self.clock.now(),
            imports=imports,
            referrals=sent,
            figures=data["figures"],
            by_platform=data["tables"]["time_to_removal_by_platform"],
            by_platform_state=data["tables"]["items_by_platform_state"],
            reports=reports,
            logins=[*self.logins],
            verification_rounds=self.rounds,
            checks=self.checks,
            removal_times_stated=self.stated,
            ground_truth=truth_by_platform,
            notes=self.notes,
        )

    def _score(self, lead: Team, batched: Sequence[int]) -> dict[str, dict[str, int]]:
        """What the testbed says became of every item put in a batch (the report's yardstick).

        Gone when the batches went out (removed, or geo-blocked: withheld) -> removed before
        referral; otherwise referred, and removed if the testbed removed it by the end (for
        whatever reason: our referral, the platform's own moderation, its account's removal).
        """
        assert self.sent_at is not None
        sent_at = self.sent_at.timestamp()
        with session_scope(self.factory) as s:
            items = [items_service.get_item(s, lead.analyst, i) for i in sorted(set(batched))]
            seen = [(it.platform, it.identity) for it in items]
        truth = self._truth()
        out: dict[str, dict[str, int]] = {}
        for platform, identity in seen:
            row = out.setdefault(
                platform, {"batched": 0, "removed_before_referral": 0, "referred": 0, "removed": 0}
            )
            row["batched"] += 1
            t = truth.get(identity)
            gone_at = _epoch(t["removed_at"]) if t is not None else None
            if t is not None and (
                (gone_at is not None and gone_at <= sent_at) or t["access"] == "geo_blocked"
            ):
                row["removed_before_referral"] += 1
                continue
            row["referred"] += 1
            row["removed"] += int(gone_at is not None)
        return dict(sorted(out.items()))

    # --- the day ------------------------------------------------------------------------

    def _import(self, teams: Sequence[Team], op_id: int) -> list[ImportedFile]:
        out = []
        total = sum(t.file.stat().st_size for t in teams)
        with self.obs.phase("importing the agencies' files", total, bytes_mode=True) as bar:
            for t in teams:
                with session_scope(self.factory) as s, t.file.open("rb") as fh:
                    job = intake.import_stream(
                        s, t.analyst, fh, filename=t.file.name, progress=_Advance(bar),
                        clock=self.clock,
                    )  # fmt: skip
                    res = operations.add_import(s, t.analyst, op_id, job.id, clock=self.clock)
                    out.append(
                        ImportedFile(
                            t.agency, t.file, job.rows_ok, job.rows_bad, job.items_created,
                            res.added,
                        )
                    )  # fmt: skip
        refused = sum(i.rows_bad for i in out)
        if refused:
            self.note(
                f"{refused} lines of the agencies' files were refused by intake, each with its "
                "reason (see the imports page): the files carry the mess real files have"
            )
        return out

    def _truth(self) -> dict[str, dict[str, Any]]:
        """The testbed's items keyed by our URL identity (what an analyst would see)."""
        out = {}
        for t in self.sim.ground_truth():
            if t["type"] != "item":
                continue
            try:
                out[canonicalize(t["url"]).identity] = t
            except InvalidURL:  # the testbed's .onion hosts are not real v3 addresses
                continue
        return out

    def _assess(self, teams: Sequence[Team], op_id: int, truth: dict[str, dict[str, Any]]) -> None:
        todo: list[tuple[Team, list[tuple[int, str]]]] = []
        with session_scope(self.factory) as s:
            for t in teams:
                mine = items_service.ItemFilters(agency_id=t.agency_id, operation_id=op_id)
                rows: list[tuple[int, str]] = []
                while True:
                    page, total = items_service.list_items(
                        s, t.analyst, mine, limit=PAGE, offset=len(rows)
                    )
                    rows += [(it.id, it.identity) for it in page]
                    if not page or len(rows) >= total:
                        break
                todo.append((t, rows))
        with self.obs.phase("assessing", sum(len(r) for _, r in todo)) as bar:
            for t, rows in todo:
                with session_scope(self.factory) as s:
                    for item_id, identity in rows:
                        seen = truth.get(identity)
                        if seen is None:
                            items_service.assess(
                                s, t.analyst, item_id, "not_terrorist_content", clock=self.clock
                            )
                        else:
                            lang = seen.get("lang")
                            items_service.assess(
                                s, t.analyst, item_id, "terrorist_content", list(CATEGORIES),
                                language=lang if isinstance(lang, str) else None,
                                clock=self.clock,
                            )  # fmt: skip
                        bar.advance()

    def _refer(
        self, lead: Team, op_id: int, referred: Sequence[Referred]
    ) -> tuple[dict[int, int], list[int]]:
        """The lead refers the whole operation per platform; orders get a second pair of eyes.

        Returns the batches made (id -> items included when made) and those items; the
        check just before sending may still keep some of them out (``_deliver``)."""
        sent: dict[int, int] = {}
        items: list[int] = []
        with self.obs.phase("referring", len(referred)) as bar, session_scope(self.factory) as s:
            for r in referred:
                try:
                    batches = operations.refer(
                        s, lead.analyst, op_id, kind=r.kind, platforms=[r.platform],
                        reasons=list(CATEGORIES) if r.kind == "removal_order" else [],
                        justification=JUSTIFICATION if r.kind == "removal_order" else "",
                        emergency=r.kind == "removal_order", clock=self.clock,
                    )  # fmt: skip
                except InvalidInput as exc:
                    self.note(f"{r.platform}: {exc.detail}")
                    bar.advance()
                    continue
                for res in batches:
                    if res.included == 0:
                        continue
                    referrals.submit(s, lead.analyst, res.referral.id, clock=self.clock)
                    if res.referral.kind == "removal_order":
                        # Four eyes: the supervisor approves what the analyst wrote.
                        referrals.approve(s, lead.supervisor, res.referral.id, clock=self.clock)
                    sent[res.referral.id] = res.included
                    items += [i.item_id for i in res.items if i.state == ItemState.INCLUDED.value]
                bar.advance()
        if not sent:
            raise Conflict("no referral could be made: nothing in the operation was ready")
        return sent, items

    def _deliver(self, lead: Team, sent: dict[int, int]) -> tuple[list[SentReferral], list[int]]:
        """The delivery job, as a served instance runs it: each batch's items are checked
        just before sending (what is already gone is not sent), then the batch goes out.

        Returns the batches and the items that went out."""
        secret = secrets.token_hex(16)  # the per-platform API signing keys derive from it
        sender = f"referrals@{lead.agency.lower()}.demo.invalid"
        smtp = f"smtp://127.0.0.1:{self.sim.smtp_port}?from={sender}"
        self.sent_at = self.clock.now()
        with (
            self.obs.phase("checking and delivering referrals", len(sent)) as bar,
            self.sim.sync_client() as http,
        ):
            channels = ChannelRegistry(
                [
                    ApiChannel(http, lambda slug: signing_key(secret, slug), clock=self.clock),
                    # The PDF copy stays out of the e-mail: the demo should not wait for a
                    # browser per referral (the report's PDF shows that printing works).
                    EmailChannel(smtp, attach_pdf=False),
                ]
            )
            check = precheck.engine_check(
                lambda: self.sim.client(per_host_limit=16), self.sim.detector_registry(),
                clock=self.clock, config=ENGINE,
            )  # fmt: skip
            rep = delivery.deliver_due(
                self.factory, self.settings, channels, clock=self.clock, limit=1000, check=check
            )
            bar.advance(len(sent))
        out = []
        items: list[int] = []
        unsent = 0
        with session_scope(self.factory) as s:
            for ref_id in sent:
                ref = referrals.get_referral(s, lead.analyst, ref_id)
                rows = repository.items_of(s, ref_id)
                included = [ri.item_id for ri, _ in rows if ri.state == ItemState.INCLUDED.value]
                gone = sum(1 for ri, _ in rows if ri.state == ItemState.ALREADY_GONE.value)
                unsent += not included
                items += included
                out.append(
                    SentReferral(
                        ref.reference, ref.platform, ref.kind, ref.channel, len(included),
                        ref.ack_reference, gone,
                    )
                )  # fmt: skip
                if gone:
                    self.note(
                        f"{ref.reference}: {gone} item(s) already removed or withheld on "
                        f"{ref.platform} before sending were not sent (removed before referral)"
                    )
        if rep.acknowledged != len(sent) - unsent:
            raise Unavailable(
                f"the simulated platforms acknowledged {rep.acknowledged} of "
                f"{len(sent) - unsent} referrals; see the referrals' delivery attempts in the "
                "web app"
            )
        return out, items

    def _round(self, registry: DetectorRegistry) -> None:
        rep = verification.verify_due(
            self.factory,
            lambda: self.sim.client(per_host_limit=16),
            registry=registry,
            clock=self.clock,
            engine_config=ENGINE,
        )
        self.checks += rep.checked
        with self.sim.sync_client() as http, session_scope(self.factory) as s:
            polled = status.poll(s, http, clock=self.clock)
        self.stated += polled.stated
        if polled.failed:
            self.note(f"{polled.failed} status-API questions went unanswered at {self.clock.now()}")
        self.rounds += 1

    def _follow(
        self, lead: Team, op_id: int, item_ids: Sequence[int], reports: dict[str, Path | None]
    ) -> None:
        """Let scenario time run while the platforms act; verify on the checker's rhythm."""
        registry = self.sim.detector_registry()
        steps = self.config.schedule
        halfway = self.clock.now() + dt.timedelta(seconds=sum(steps) / 2)
        prelim_done = False
        rounds = 1 + len(steps) + len(FINAL_SWEEP)
        with self.obs.phase("verifying while the platforms act", rounds) as bar:
            self._round(registry)
            bar.advance()
            for step in steps:
                self.sim.advance(step)
                self.clock.set(self.sim.now())
                self._round(registry)
                bar.advance()
                if not prelim_done and self.clock.now() >= halfway:
                    prelim_done = True
                    with session_scope(self.factory) as s:
                        prelim = report.build(s, lead.supervisor, op_id, clock=self.clock)
                    reports.update(self._write(prelim, op_id, pdf=False))
            # The books close: the platforms stand still, we look at everything twice more.
            for step in FINAL_SWEEP:
                self.clock.advance(dt.timedelta(seconds=step))
                with session_scope(self.factory) as s:
                    verification.schedule_items(s, item_ids, clock=self.clock)
                self._round(registry)
                bar.advance()

    def _write(self, rep: report.Report, op_id: int, *, pdf: bool) -> dict[str, Path | None]:
        out_dir = self.storage.reports
        out_dir.mkdir(parents=True, exist_ok=True)
        stem = out_dir / f"operation-{op_id}-{rep.kind}"
        html = report.render_html(rep)
        paths: dict[str, Path | None] = {}
        paths[f"{rep.kind}_html"] = _put(stem.with_suffix(".html"), html)
        paths[f"{rep.kind}_json"] = _put(stem.with_suffix(".json"), report.to_json_text(rep) + "\n")
        if pdf:
            try:
                data = report.render_pdf(html, executable=self.config.chromium)
            except TakedownError as exc:
                self.note(f"no PDF of the {rep.kind} report: {exc.detail}")
                paths[f"{rep.kind}_pdf"] = None
            else:
                paths[f"{rep.kind}_pdf"] = _put(stem.with_suffix(".pdf"), data)
        return paths


class _Advance:
    """One bar over several files: each file's import advances it, none resets its total."""

    def __init__(self, bar: ProgressSink) -> None:
        self._bar = bar

    def advance(self, n: int = 1) -> None:
        self._bar.advance(n)

    def set_total(self, total: int | None) -> None:
        return None


def _epoch(iso: str | None) -> float | None:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else None


def _put(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path
