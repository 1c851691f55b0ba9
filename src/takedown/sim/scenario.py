"""Scenario files: what the simulated internet contains and how each platform behaves.

A scenario is YAML validated by these pydantic models; every number has a
default so a small scenario stays short. See docs/testbed.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PlatformType = Literal[
    "microblog", "video", "telegram", "rocketchat", "filehost", "paste", "website", "onion_forum"
]


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Dist(_M):
    """A log-normal duration: ``median`` (in the given unit) and ``sigma``; sigma 0 = fixed."""

    median: float = 0.0
    sigma: float = 0.0


class Behaviour(_M):
    latency_ms: Dist = Field(default_factory=Dist)
    error_rate: dict[int, float] = Field(default_factory=dict)  # e.g. {500: 0.01, 503: 0.02}
    drop_rate: float = 0.0  # fraction of requests whose connection is dropped
    slow_rate: float = 0.0
    slow_ms: float = 3000.0
    rate_limit_per_second: float = 0.0  # 0 = unlimited; beyond it: 429 with Retry-After
    retry_after: int = 5


class Access(_M):
    geo_blocked: float = 0.0  # fraction of items answering 451
    login_wall: float = 0.0  # fraction of items behind a login wall
    private: float = 0.0  # rocketchat: fraction of private rooms (groups.history)


class Compliance(_M):
    """What the platform does with referrals."""

    mode: Literal["comply", "ignore", "refuse", "partial"] = "comply"
    rate: float = 0.85  # probability that a referred item is removed
    delay_minutes: Dist = Field(default_factory=lambda: Dist(median=60, sigma=1.0))
    partial_fraction: float = 0.5  # mode=partial: share of each referral acted upon
    removal_order_delay_minutes: Dist = Field(default_factory=lambda: Dist(median=30, sigma=0.5))


class Organic(_M):
    """Removals the platform makes on its own (e.g. suspensions of new accounts)."""

    rate: float = 0.0
    within_hours: float = 48.0


class Content(_M):
    owners: int = 10  # accounts / channels / rooms / sites / threads
    children: tuple[int, int] = (2, 6)  # posts per owner
    media_rate: float = 0.5  # share of children with an image
    video_rate: float = 0.1  # share of children with a video
    link_rate: float = 0.15  # share of children linking to another platform's item
    spread_hours: float = 72.0  # appearance times spread over this window before start
    # onion_forum only: market listings and donation posts with wallet addresses (sim.listings)
    listings: int = 0


class Tns(_M):
    host: str = ""  # JSON intake host (defaults to tns.<first host>)
    email: str = ""  # SMTP inbox recipient (defaults to abuse@<first host>)


class RocketAuth(_M):
    user: str = "analyst"
    password: str = "sim-password"
    user_id: str = "SimUserId000001"
    token: str = "sim-auth-token-0001"


class Platform(_M):
    id: str
    type: PlatformType
    name: str = ""
    hosts: list[str] = Field(default_factory=list)
    media_hosts: list[str] = Field(default_factory=list)
    tns: Tns = Field(default_factory=Tns)
    content: Content = Field(default_factory=Content)
    access: Access = Field(default_factory=Access)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    compliance: Compliance = Field(default_factory=Compliance)
    organic: Organic = Field(default_factory=Organic)
    auth: RocketAuth = Field(default_factory=RocketAuth)
    languages: list[str] = Field(default_factory=list)


class Adversary(_M):
    enabled: bool = True
    recreate_probability: float = 0.6
    delay_minutes: Dist = Field(default_factory=lambda: Dist(median=120, sigma=0.8))
    max_generations: int = 3
    reposts: tuple[int, int] = (1, 3)
    announce: bool = True  # False: every return is silent (no announcement)
    silent_rate: float = 0.0  # share of returns that are not announced
    unrelated_rate: float = 0.0  # share of successors under a handle unrelated to the old one
    # share of Telegram channels that come back on another platform (a Rocket.Chat room)
    cross_platform_rate: float = 0.0
    cross_platform_to: str | None = None  # that platform's id (default: the first rocketchat one)


class Reports(_M):
    agencies: int = 3
    coverage: float = 0.9  # share of items reported by at least one agency
    overlap: float = 0.2  # share of reported items reported by a second agency
    messy_duplicates: float = 0.05
    malformed_lines: int = 3
    window_hours: float = 48.0


class Scenario(_M):
    name: str = "scenario"
    seed: int = 1
    start: dt.datetime = dt.datetime(2019, 11, 21, 6, 0, tzinfo=dt.UTC)
    speed: float = 0.0  # simulated seconds per real second; 0 = only moves when advanced
    languages: list[str] = Field(default_factory=lambda: ["ar", "en", "fr", "de", "nl", "ru", "tr"])
    platforms: list[Platform]
    adversary: Adversary = Field(default_factory=Adversary)
    reports: Reports = Field(default_factory=Reports)

    @model_validator(mode="after")
    def _cross_platform_target(self) -> Scenario:
        to = self.adversary.cross_platform_to
        if to is not None and to not in {p.id for p in self.platforms}:
            raise ValueError(f"adversary.cross_platform_to: no platform {to!r}")
        return self


def load_scenario(path: str | Path, seed: int | None = None) -> Scenario:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    sc = Scenario.model_validate(data)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    if sc.start.tzinfo is None:
        sc = sc.model_copy(update={"start": sc.start.replace(tzinfo=dt.UTC)})
    return sc


def scenarios_dir() -> Path:
    """The repository's ``scenarios/`` folder (for ``small`` / ``action-day`` by name)."""
    return Path(__file__).resolve().parents[3] / "scenarios"


def resolve_scenario_path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.exists():
        return p
    cand = scenarios_dir() / f"{name_or_path}.yaml"
    if cand.exists():
        return cand
    raise FileNotFoundError(f"scenario {name_or_path!r} not found")
