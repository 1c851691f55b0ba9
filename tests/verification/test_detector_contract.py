"""The contract every removal detector passes: failures and walls are never ``removed``."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from takedown.platforms.detectors.base import Detector, FetchError, Observation, Outcome, Probe
from takedown.platforms.detectors.generic import GenericDetector
from takedown.platforms.detectors.platforms import ALL, RocketChatDetector
from takedown.platforms.detectors.registry import DetectorRegistry, default_registry

DETECTORS: list[Detector] = [*ALL, GenericDetector(), RocketChatDetector("rc:test", ("chat.test",))]
SAMPLE_URL = {
    "x": "https://x.com/someone/status/123",
    "youtube": "https://www.youtube.com/watch?v=abcdefghijk",
    "telegram": "https://t.me/somechannel/5",
    "rocketchat": "https://open.rocket.chat/channel/general?msg=abc",
    "rc:test": "https://chat.test/channel/general",
    "filehost": "https://mega.nz/file/abc",
    "paste": "https://pastebin.com/abcd",
    "onion": "http://abc.onion/thread/1",
    "generic": "https://example.org/page",
}
# Texts that look like removal pages, in the markup the detectors look for.
SCARY = [
    '<div data-testid="empty_state_header_text">Account suspended</div>',
    '<div class="tgme_widget_message_error">Post not found</div>',
    '<script>var ytInitialPlayerResponse = {"playabilityStatus": {"status": "ERROR"}};</script>',
    '{"success": false, "errorType": "error-room-not-found"}',
    "<title>Account Suspended</title> This file has been removed",
]
ids = [d.name for d in DETECTORS]


@pytest.mark.parametrize("det", DETECTORS, ids=ids)
def test_probe_is_a_url_on_a_known_scheme(det: Detector) -> None:
    p = det.probe(SAMPLE_URL[det.name])
    assert isinstance(p, Probe) and p.url.startswith(("http://", "https://"))


@pytest.mark.parametrize("det", DETECTORS, ids=ids)
@settings(max_examples=60, deadline=None)
@given(
    status=st.sampled_from([500, 502, 503, 504, 429, 401, 403, 451, 407]),
    body=st.one_of(st.sampled_from(SCARY), st.text(max_size=200)),
)
def test_failures_and_walls_are_never_removed(det: Detector, status: int, body: str) -> None:
    url = SAMPLE_URL[det.name]
    obs = Observation(url, det.probe(url).url, status=status, final_url=url, body=body)
    assert det.classify(obs).outcome is not Outcome.REMOVED


@pytest.mark.parametrize("det", DETECTORS, ids=ids)
@pytest.mark.parametrize("error", list(FetchError))
def test_no_answer_is_never_removed(det: Detector, error: FetchError) -> None:
    url = SAMPLE_URL[det.name]
    for body in SCARY:
        obs = Observation(url, det.probe(url).url, error=error, body=body)
        assert det.classify(obs).outcome is not Outcome.REMOVED


@pytest.mark.parametrize("det", DETECTORS, ids=ids)
def test_login_redirect_is_restricted(det: Detector) -> None:
    url = SAMPLE_URL[det.name]
    obs = Observation(
        url,
        det.probe(url).url,
        status=200,
        final_url="https://idp.example/login?next=x",
        body=SCARY[0],
    )
    assert det.classify(obs).outcome is Outcome.RESTRICTED


@pytest.mark.parametrize("det", DETECTORS, ids=ids)
def test_a_gone_answer_is_removed(det: Detector) -> None:
    url = SAMPLE_URL[det.name]
    obs = Observation(url, det.probe(url).url, status=404, final_url=url, body="Not Found")
    assert det.classify(obs).outcome is Outcome.REMOVED


def test_registry_refuses_duplicate_names_and_falls_back() -> None:
    reg = DetectorRegistry(ALL)
    with pytest.raises(ValueError, match="already registered"):
        reg.register(ALL[0])
    assert reg.for_url("https://unknown.example/x").name == "generic"
    assert reg.for_url("https://twitter.com/a").name == "x"
    assert reg.for_url("http://abcdef.onion/thread/1").name == "onion"
    reg.bind("chat.mine.example", "rocketchat")
    assert reg.for_url("https://chat.mine.example/channel/a").name == "rocketchat"
    assert set(default_registry().names()) >= {d.name for d in ALL}
