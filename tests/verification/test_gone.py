"""What counts as gone before a referral (``verification.gone``), decided once."""

from __future__ import annotations

import pytest

from takedown.platforms.detectors.base import Observation
from takedown.platforms.detectors.generic import GenericDetector
from takedown.platforms.detectors.platforms import TELEGRAM, X
from takedown.verification.gone import Gone, gone


@pytest.mark.parametrize(
    ("outcome", "reason", "status", "want"),
    [
        ("removed", "HTTP 404", 404, Gone.REMOVED),
        ("removed", "x: this post is from a suspended account", 200, Gone.REMOVED),
        ("restricted", "HTTP 451 unavailable for legal reasons", 451, Gone.WITHHELD),
        ("restricted", 'x: class="withheld"', 200, Gone.WITHHELD),
        ("restricted", "geo-blocked", 200, Gone.WITHHELD),
        ("restricted", "youtube: UNPLAYABLE not made this video available in your country",
         200, Gone.WITHHELD),
        ("restricted", "login wall", 200, None),
        ("restricted", "HTTP 403 access denied", 403, None),
        ("restricted", "age gate", 200, None),
        ("restricted", "x: these posts are protected", 200, None),
        ("unreachable", "timeout", None, None),
        ("unreachable", "HTTP 503", 503, None),
        ("unknown", "HTTP 302 redirect not followed", 302, None),
        ("online", "HTTP 200", 200, None),
    ],
)  # fmt: skip
def test_gone_rules(outcome: str, reason: str, status: int | None, want: Gone | None) -> None:
    assert gone(outcome, reason, status) is want


def _obs(url: str, status: int, body: str) -> Observation:
    return Observation(url, url, status=status, final_url=url, body=body)


def test_the_detectors_verdicts_are_read_as_meant() -> None:
    """The detectors' own reasons, end to end: a suspension is gone, a login wall is not."""
    post = "https://x.com/someone/status/1"
    suspended = '<div data-testid="empty_state_header_text">This Post is from a suspended account.'
    v = X.classify(_obs(post, 200, suspended))
    assert gone(v.outcome.value, v.reason, 200) is Gone.REMOVED
    v = X.classify(_obs(post, 200, '<div class="withheld">This Post is withheld</div>'))
    assert gone(v.outcome.value, v.reason, 200) is Gone.WITHHELD
    v = GenericDetector().classify(_obs("https://site.example/", 451, "blocked"))
    assert gone(v.outcome.value, v.reason, 451) is Gone.WITHHELD
    v = GenericDetector().classify(_obs("https://site.example/", 200, "Log in to continue"))
    assert gone(v.outcome.value, v.reason, 200) is None
    chan = "https://t.me/s/somechannel"
    local = (
        '<div class="tgme_page_description">This channel can\u2019t be displayed because it '
        "violated local laws.</div>"
    )
    v = TELEGRAM.classify(_obs(chan, 200, local))
    assert gone(v.outcome.value, v.reason, 200) is Gone.WITHHELD
