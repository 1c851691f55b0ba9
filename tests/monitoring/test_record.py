"""Which links make proposals: channels and accounts of a watched kind, and the channel or
room a message link belongs to."""

from __future__ import annotations

import pytest

from takedown.monitoring.record import parent_source, watch_kind
from takedown.platforms.identity import canonicalize


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://t.me/synthnew", "telegram"),
        ("https://chat.synthetic.example/channel/room2", "rocketchat"),
        ("https://x.com/synth_back", "account"),
        ("https://www.youtube.com/@synthback", "account"),
        ("https://t.me/synthnew/15", None),
        ("https://x.com/synth_back/status/123456", None),
        ("https://synthetic-news.example/a.html", None),
    ],
)
def test_watch_kind(url: str, kind: str | None) -> None:
    assert watch_kind(canonicalize(url)) == kind


def test_a_message_link_proposes_its_channel_or_room() -> None:
    tg = parent_source(canonicalize("https://t.me/synthnew/15"))
    assert tg is not None and tg.identity == "telegram:channel/synthnew"
    rc = parent_source(
        canonicalize("https://chat.synthetic.example/channel/room2?msg=abcdef123456")
    )
    assert rc is not None and watch_kind(rc) == "rocketchat"
    assert parent_source(canonicalize("https://t.me/c/123456/7")) is None  # private: no preview
    assert parent_source(canonicalize("https://x.com/synth_back/status/123456")) is None
