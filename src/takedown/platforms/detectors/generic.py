"""The generic fallback detector, and the shared rules every detector builds on.

The rules are conservative on purpose: only an explicit "gone" answer
(404/410) is ``removed``. Errors, 5xx and 429 are ``unreachable``; 401, 403,
451 and login walls are ``restricted``; anything odd is ``unknown``. A
platform detector adds the platform's own removal pages on top, and falls
back to these rules for the rest.
"""

from __future__ import annotations

import re

from takedown.platforms.detectors.base import FetchError, Observation, Outcome, Probe, Verdict

LOGIN_PATHS = re.compile(
    r"/(login|log-in|signin|sign-in|accounts/login|i/flow/login|auth)(/|$)", re.I
)
LOGIN_TEXT = re.compile(
    r"(log ?in to (continue|see|view)|sign in to (continue|see|view|confirm)|"
    r"you must (log|sign) in|login required|members only)",
    re.I,
)
AGE_TEXT = re.compile(r"(age[- ]restricted|confirm your age|sensitive content warning)", re.I)
# Shared-hosting suspension pages (cPanel and friends) answer 200.
HOSTING_SUSPENDED = re.compile(r"<title>\s*account suspended\s*</title>", re.I)
GEO_TEXT = re.compile(
    r"(not available in your (country|region)|withheld in|unavailable for legal reasons)", re.I
)


def transport_verdict(obs: Observation) -> Verdict | None:
    """The part every detector shares: no answer, 5xx, 429, 451, 401/403."""
    if obs.error is not None:
        if obs.error is FetchError.BLOCKED:
            return Verdict(Outcome.UNKNOWN, f"destination refused: {obs.error_detail}")
        if obs.error is FetchError.TOO_LARGE:
            return Verdict(Outcome.ONLINE, "served a body larger than the read limit")
        return Verdict(Outcome.UNREACHABLE, f"{obs.error.value}: {obs.error_detail}".rstrip(": "))
    status = obs.status
    if status is None:
        return Verdict(Outcome.UNKNOWN, "no status")
    if status >= 500:
        return Verdict(Outcome.UNREACHABLE, f"HTTP {status}")
    if status == 429:
        return Verdict(Outcome.UNREACHABLE, "HTTP 429 rate limited")
    if status == 451:
        return Verdict(Outcome.RESTRICTED, "HTTP 451 unavailable for legal reasons")
    if status in (401, 403, 407):
        return Verdict(Outcome.RESTRICTED, f"HTTP {status} access denied")
    if obs.final_url and LOGIN_PATHS.search(obs.final_path):
        return Verdict(Outcome.RESTRICTED, "redirected to a login page")
    return None


def body_restriction(obs: Observation) -> Verdict | None:
    if LOGIN_TEXT.search(obs.body):
        return Verdict(Outcome.RESTRICTED, "login wall")
    if GEO_TEXT.search(obs.body):
        return Verdict(Outcome.RESTRICTED, "geo-blocked")
    if AGE_TEXT.search(obs.body):
        return Verdict(Outcome.RESTRICTED, "age gate")
    return None


def generic_classify(obs: Observation) -> Verdict:
    v = transport_verdict(obs)
    if v is not None:
        return v
    status = obs.status or 0
    if status in (404, 410):
        return Verdict(Outcome.REMOVED, f"HTTP {status}")
    if 200 <= status < 300:
        if HOSTING_SUSPENDED.search(obs.body):
            return Verdict(Outcome.REMOVED, "hosting account suspended")
        return body_restriction(obs) or Verdict(Outcome.ONLINE, f"HTTP {status}")
    if 300 <= status < 400:
        return Verdict(Outcome.UNKNOWN, f"HTTP {status} redirect not followed")
    return Verdict(Outcome.UNKNOWN, f"HTTP {status}")


class GenericDetector:
    """For websites and any host no platform detector claims."""

    name = "generic"
    hosts: tuple[str, ...] = ()

    def probe(self, url: str) -> Probe:
        return Probe(url)

    def classify(self, obs: Observation) -> Verdict:
        return generic_classify(obs)
