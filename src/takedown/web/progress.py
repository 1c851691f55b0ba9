"""The progress component: a long action shows a bar that htmx refreshes by polling.

The capability owns the job and its state; the page renders the macro
``progress()`` from ``_macros.html`` (or :func:`progress_fragment` from the
polling endpoint). While unfinished, the fragment re-requests itself every
``every`` seconds and replaces itself; once finished it renders without the
polling attributes, so the polling stops by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse

from takedown.web.templating import render_fragment


@dataclass(frozen=True)
class ProgressState:
    id: str  # the element id, unique on the page
    url: str  # the polling endpoint (GET), which answers with progress_fragment()
    label: str
    done: int = 0
    total: int | None = None  # None: indeterminate
    finished: bool = False
    detail: str = ""  # e.g. "3 rows rejected"; shown under the bar
    result_url: str | None = None  # a link shown when finished
    every: int = 1

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, round(100 * self.done / self.total)))


def progress_fragment(request: Request, state: ProgressState) -> HTMLResponse:
    return render_fragment(request, "web/_progress.html", {"state": state})
