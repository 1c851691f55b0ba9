"""Imports started from the intake page that run after the response is sent.

Why: a large upload would otherwise hold the browser (and a server thread) until
the last row is in. The page spools the upload to a temporary file and answers
at once with a progress page; the import then runs on a worker thread with its
own session and commits once (``intake.import_stream`` is one transaction, so
a failure leaves nothing behind). Progress lives in this process's memory:
it is a convenience for the page that polls it, never the record. The record
is the ``ImportJob`` row, which exists only once the import has committed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.items import intake
from takedown.kit.errors import NotFound, TakedownError

log = logging.getLogger("takedown.items.intake")

KEEP_SECONDS = 3600  # finished runs are forgotten after an hour
MAX_RUNS = 1000

#: ``after(session, principal, job_id)``: e.g. credit the import to an operation; same transaction.
AfterImport = Callable[[Session, Principal, int], None]


@dataclass
class Run:
    token: str
    agency_id: int
    user_id: int
    filename: str
    total: int | None = None
    done: int = 0
    finished: bool = False
    job_id: int | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished_at: float | None = None


class _Sink:
    """A ``ProgressSink`` that writes into the run (bytes of the file read)."""

    def __init__(self, run: Run) -> None:
        self._run = run

    def advance(self, n: int = 1) -> None:
        self._run.done += n

    def set_total(self, total: int | None) -> None:
        self._run.total = total


_lock = threading.Lock()
_runs: dict[str, Run] = {}


def _prune(now: float) -> None:
    for token, run in list(_runs.items()):
        if run.finished_at is not None and now - run.finished_at > KEEP_SECONDS:
            del _runs[token]
    while len(_runs) >= MAX_RUNS:
        oldest = min(_runs.values(), key=lambda r: r.started)
        del _runs[oldest.token]


def register(principal: Principal, filename: str, size: int | None) -> Run:
    """A new run for this user, before its work starts (so the progress page finds it)."""
    run = Run(
        token=secrets.token_urlsafe(16),
        agency_id=principal.agency_id,
        user_id=principal.user_id,
        filename=filename,
        total=size,
    )
    with _lock:
        _prune(time.monotonic())
        _runs[run.token] = run
    return run


def get_run(principal: Principal, token: str) -> Run:
    """The run if this user started it; NotFound otherwise (tokens are not shared)."""
    with _lock:
        run = _runs.get(token)
    if run is None or run.user_id != principal.user_id or run.agency_id != principal.agency_id:
        raise NotFound("this import is not running here (it may have finished long ago)")
    return run


def execute(
    run: Run,
    make_session: Callable[[], Session],
    principal: Principal,
    path: str,
    *,
    format: str | None,
    after: AfterImport | None = None,
) -> None:
    """Run the import in its own session and commit it; always removes the spooled file."""
    try:
        with make_session() as session:
            try:
                with open(path, "rb") as stream:
                    job = intake.import_stream(
                        session,
                        principal,
                        stream,
                        filename=run.filename,
                        format=format,
                        progress=_Sink(run),
                    )
                if after is not None:
                    after(session, principal, job.id)
                session.commit()
                run.job_id = job.id
            except TakedownError as exc:
                session.rollback()
                run.error = exc.detail
            except Exception:
                session.rollback()
                log.exception("import %s failed", run.filename)
                run.error = "the import failed; nothing was imported"
    finally:
        run.finished = True
        run.finished_at = time.monotonic()
        with contextlib.suppress(OSError):
            os.unlink(path)
