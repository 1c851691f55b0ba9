"""Running a coroutine from synchronous code (jobs, CLI commands, request handlers in a
worker thread), also when the calling thread already runs an event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(factory: Callable[[], Coroutine[Any, Any, T]], *, name: str = "run-sync") -> T:
    """Run the coroutine ``factory()`` to completion and return its value (or raise).

    Without a running loop in this thread, ``asyncio.run`` is enough. With one (a caller
    inside async code that calls sync code), the coroutine runs on its own loop in a
    short-lived thread named ``name``, and this thread waits for it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(factory())
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=target, name=name)
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value
