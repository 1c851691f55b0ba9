"""The removal-detector interface: turn one HTTP exchange into an outcome.

Why a separate, pure step: the checker engine (``takedown.verification``)
owns the network (limits, retries, Retry-After); a detector only reads what
came back. That keeps detectors testable against stored pages and keeps the
one rule that matters in one place: a timeout, a 5xx or a login wall is
never ``removed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit


class Outcome(StrEnum):
    ONLINE = "online"
    REMOVED = "removed"
    RESTRICTED = "restricted"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"


class FetchError(StrEnum):
    """Why no HTTP answer came back (``Observation.error``)."""

    TIMEOUT = "timeout"
    CONNECT = "connect"  # refused, reset, DNS failure
    DROPPED = "dropped"  # connection closed mid-answer
    BLOCKED = "blocked"  # the SSRF guard refused the destination
    TOO_LARGE = "too_large"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Probe:
    """What to fetch to learn about ``url`` (a detector may ask for an oEmbed or API URL)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "GET"


@dataclass(frozen=True, slots=True)
class Observation:
    """One finished exchange, or the error that prevented it."""

    url: str  # the item's URL (not the probe's)
    probe_url: str
    status: int | None = None
    final_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""  # decoded text, truncated by the engine
    error: FetchError | None = None
    error_detail: str = ""

    @property
    def host(self) -> str:
        return (urlsplit(self.final_url or self.probe_url).hostname or "").lower()

    @property
    def final_path(self) -> str:
        return urlsplit(self.final_url or self.probe_url).path


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str


@runtime_checkable
class Detector(Protocol):
    """A per-platform removal detector.

    ``name`` is unique in the registry; ``hosts`` are the hostnames (a leading
    ``*.`` matches sub-domains) whose URLs it understands.
    """

    name: str
    hosts: tuple[str, ...]

    def probe(self, url: str) -> Probe: ...

    def classify(self, obs: Observation) -> Verdict: ...
