"""kit.aio.run_sync: a coroutine run from sync code, with or without a loop in the thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from takedown.kit.aio import run_sync


async def _where() -> str:
    await asyncio.sleep(0)
    return threading.current_thread().name


def test_without_a_running_loop_it_runs_in_this_thread() -> None:
    assert run_sync(_where) == threading.current_thread().name


def test_inside_a_running_loop_it_runs_on_a_thread_of_its_own() -> None:
    async def caller() -> str:
        return run_sync(_where, name="aio-test")  # sync code called from async code

    assert asyncio.run(caller()) == "aio-test"


def test_errors_reach_the_caller_in_both_cases() -> None:
    async def boom() -> None:
        raise LookupError("nope")

    with pytest.raises(LookupError, match="nope"):
        run_sync(boom)

    async def caller() -> None:
        run_sync(boom)

    with pytest.raises(LookupError, match="nope"):
        asyncio.run(caller())
