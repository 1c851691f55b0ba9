"""Jobs meeting SQLite's lock are run again; other errors are not (#12.2)."""

from __future__ import annotations

import sqlite3

import pytest

from takedown.kit.jobs import InProcessDispatcher, job, registered_jobs, run_retrying


def test_a_locked_database_is_retried_and_other_errors_are_not() -> None:
    calls: list[int] = []
    pauses: list[float] = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")

    run_retrying("flaky", flaky, {}, sleep=pauses.append)
    assert len(calls) == 3 and pauses == [0.2, 0.4]

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug")

    calls.clear()
    with pytest.raises(ValueError):
        run_retrying("broken", broken, {}, sleep=pauses.append)
    assert len(calls) == 1


def test_the_in_process_pool_counts_done_and_failed_jobs() -> None:
    @job("test.retry.ok")
    def ok() -> None:
        pass

    @job("test.retry.bad")
    def bad() -> None:
        raise RuntimeError("nope")

    pool = InProcessDispatcher(workers=1, max_attempts=2, backoff=0.01)
    try:
        pool.enqueue("test.retry.ok")
        pool.enqueue("test.retry.bad")
        pool.drain(timeout=30)
    finally:
        pool.close()
        from takedown.kit import jobs

        for name in ("test.retry.ok", "test.retry.bad"):
            jobs._JOBS.pop(name, None)
    assert pool.done == 1 and pool.failed == [("test.retry.bad", "RuntimeError: nope")]
    assert "test.retry.ok" not in registered_jobs()
