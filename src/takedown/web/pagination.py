"""Page-numbered pagination for HTML listings: never an unbounded query.

Query parameters are read leniently (``?page=abc`` is page 1, ``?page=999`` past
the end shows the last page) because people edit URLs by hand; the API, in
contrast, validates strictly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from fastapi import Request

T = TypeVar("T")

PER_PAGE_CHOICES = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 50


def _int(raw: str | None, default: int) -> int:
    try:
        return int(raw) if raw is not None else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Pager:
    page: int
    per_page: int
    total: int
    path: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_item(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_item(self) -> int:
        return min(self.total, self.offset + self.per_page)

    def href(self, page: int) -> str:
        """The URL of ``page``, keeping the listing's filters."""
        params = [(k, v) for k, v in self.params if k not in ("page", "per_page")]
        params.append(("page", str(page)))
        if self.per_page != DEFAULT_PER_PAGE:
            params.append(("per_page", str(self.per_page)))
        return f"{self.path}?{urlencode(params)}"

    def window(self, around: int = 2) -> list[int | None]:
        """Page numbers to show, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
        keep = {1, self.pages, *range(self.page - around, self.page + around + 1)}
        out: list[int | None] = []
        prev = 0
        for n in sorted(p for p in keep if 1 <= p <= self.pages):
            if n - prev > 1:
                out.append(None)
            out.append(n)
            prev = n
        return out


Fetch = Callable[[int, int], tuple[Sequence[T], int]]


def paginate(
    request: Request, fetch: Fetch[T], *, per_page: int | None = None
) -> tuple[list[T], Pager]:
    """Call ``fetch(limit, offset) -> (rows, total)`` for the page the request asks for.

    Beyond the last page it fetches the last page instead (one extra query, only then).
    """
    q = request.query_params
    size = per_page or _int(q.get("per_page"), DEFAULT_PER_PAGE)
    if size not in PER_PAGE_CHOICES:
        size = DEFAULT_PER_PAGE
    page = max(1, min(_int(q.get("page"), 1), 1_000_000))
    rows, total = fetch(size, (page - 1) * size)
    last = max(1, -(-total // size))
    if page > last:
        page = last
        rows, total = fetch(size, (page - 1) * size)
    params = tuple((k, v) for k, v in q.multi_items() if v != "")
    return list(rows), Pager(page, size, total, request.url.path, params)
