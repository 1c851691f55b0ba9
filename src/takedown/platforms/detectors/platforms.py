"""Per-platform removal detectors: each knows its platform's "gone" pages.

A platform detector only *adds* knowledge on top of the generic rules: the
shared transport rules (errors, 5xx, 429, 401/403/451, login redirects) run
first, so no platform pattern can turn a failure into ``removed``.
Restriction patterns are checked before removal patterns, so a login wall
that happens to mention "not found" is still ``restricted``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, urlsplit

from takedown.platforms.detectors.base import Detector, Observation, Outcome, Probe, Verdict
from takedown.platforms.detectors.generic import body_restriction, transport_verdict


def _rx(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.I) for p in patterns)


@dataclass(slots=True)
class PatternDetector:
    """A detector described by the platform's own page texts."""

    name: str
    hosts: tuple[str, ...]
    removed: tuple[re.Pattern[str], ...] = ()
    restricted: tuple[re.Pattern[str], ...] = ()
    removed_status: frozenset[int] = frozenset({404, 410})
    online_marker: re.Pattern[str] | None = None  # must be present for "online" when set
    notes: dict[str, str] = field(default_factory=dict)

    def probe(self, url: str) -> Probe:
        return Probe(url)

    def classify(self, obs: Observation) -> Verdict:
        v = transport_verdict(obs)
        if v is not None:
            return v
        status = obs.status or 0
        body = obs.body
        for rx in self.restricted:
            if rx.search(body):
                return Verdict(Outcome.RESTRICTED, f"{self.name}: {rx.pattern}")
        if status in self.removed_status:
            return Verdict(Outcome.REMOVED, f"HTTP {status}")
        if 200 <= status < 300:
            for rx in self.removed:
                if rx.search(body):
                    return Verdict(Outcome.REMOVED, f"{self.name}: {rx.pattern}")
            generic = body_restriction(obs)
            if generic is not None:
                return generic
            if self.online_marker is not None and not self.online_marker.search(body):
                return Verdict(Outcome.UNKNOWN, f"{self.name}: page not recognised")
            return Verdict(Outcome.ONLINE, f"HTTP {status}")
        if 300 <= status < 400:
            return Verdict(Outcome.UNKNOWN, f"HTTP {status} redirect not followed")
        return Verdict(Outcome.UNKNOWN, f"HTTP {status}")


# Patterns are anchored on the platform's own markup (attribute names in quotes), which
# user text cannot produce because pages escape it: a post that *says* "Account
# suspended" must not make its account count as removed.
X = PatternDetector(
    name="x",
    hosts=("x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com"),
    removed=_rx(
        r'"empty_state_header_text">(account suspended|this account doesn.t exist)',
        r'"empty_state_header_text">hmm\.\.\.this page doesn.t exist',
        r'"empty_state_header_text">this post is from a suspended account',
        r'"empty_state_header_text">this (post|tweet) (is unavailable|was deleted)',
    ),
    restricted=_rx(
        r'"empty_state_header_text">these posts are protected',
        r"<title>log in to x",
        r'class="withheld"',
    ),
)

_YT_PLAYER = re.compile(r"ytInitialPlayerResponse\s*=\s*(\{.*?\});</script>", re.S)


class YouTubeDetector(PatternDetector):
    """Videos through the watch page's player status; oEmbed answers are understood too.

    The player status (``OK`` / ``ERROR`` / ``LOGIN_REQUIRED`` / ``UNPLAYABLE``)
    is the platform's own verdict, so descriptions cannot fool it. oEmbed says
    404 for a removed video but 200 for a geo-blocked one, so it is not the
    probe; an oEmbed URL given directly is still classified (404 = removed,
    401/403 = restricted).
    """

    def classify(self, obs: Observation) -> Verdict:
        v = transport_verdict(obs)
        if v is not None:
            return v
        m = _YT_PLAYER.search(obs.body) if obs.status == 200 else None
        if m is not None:
            try:
                ps = json.loads(m.group(1)).get("playabilityStatus", {})
            except ValueError:
                ps = {}
            status, reason = str(ps.get("status", "")), str(ps.get("reason", ""))
            if status == "OK":
                return Verdict(Outcome.ONLINE, "youtube: playable")
            if status == "ERROR":
                return Verdict(Outcome.REMOVED, f"youtube: {reason or 'video unavailable'}")
            if status in ("LOGIN_REQUIRED", "UNPLAYABLE", "AGE_CHECK_REQUIRED"):
                return Verdict(Outcome.RESTRICTED, f"youtube: {status} {reason}".strip())
            return Verdict(Outcome.UNKNOWN, f"youtube: player status {status!r}")
        return PatternDetector.classify(self, obs)


YOUTUBE = YouTubeDetector(
    name="youtube",
    hosts=("www.youtube.com", "youtube.com", "m.youtube.com", "youtu.be"),
    removed=_rx(r'class="channel-alert"><p>this account has been terminated'),
    restricted=_rx(r'class="withheld"'),
)


class TelegramDetector(PatternDetector):
    """Channels through their public preview ``t.me/s/<channel>``.

    A channel that no longer exists has no preview: Telegram redirects the
    preview to the bare ``t.me/<channel>`` page, which then carries no
    channel title. Posts use the embed view, which says "Post not found".
    """

    def probe(self, url: str) -> Probe:
        u = urlsplit(url)
        parts = [p for p in u.path.split("/") if p]
        if parts[:1] == ["s"]:
            parts = parts[1:]
        host = u.hostname or "t.me"
        if len(parts) >= 2 and parts[1].isdigit():
            return Probe(f"https://{host}/{parts[0]}/{parts[1]}?embed=1&mode=tme")
        if len(parts) == 1:
            return Probe(f"https://{host}/s/{parts[0]}")
        return Probe(url)

    def classify(self, obs: Observation) -> Verdict:
        v = PatternDetector.classify(self, obs)
        if v.outcome is not Outcome.ONLINE:
            return v
        probe_path = urlsplit(obs.probe_url).path
        moved = probe_path.startswith("/s/") and not obs.final_path.startswith("/s/")
        if moved and "tgme_page_title" not in obs.body and "tgme_channel_info" not in obs.body:
            return Verdict(Outcome.REMOVED, "telegram: no preview and no channel page")
        return v


TELEGRAM = TelegramDetector(
    name="telegram",
    hosts=("t.me", "telegram.me", "www.t.me"),
    removed=_rx(
        r'class="tgme_widget_message_error"',
        r'"tgme_page_description">this channel can\S{1,6}t be displayed because it violated '
        r"telegram\S{1,6}s terms",
    ),
    restricted=_rx(
        r'"tgme_page_description">this channel can\S{1,6}t be displayed because it violated local',
        r'class="withheld"',
    ),
)


class RocketChatDetector(PatternDetector):
    """Self-hosted Rocket.Chat: the REST API says whether a room or a message exists.

    Rooms through ``channels.info`` / ``groups.info``; a message through its
    room's ``history`` (there is no public single-message lookup), counted as
    gone only when the room answered with its *complete* history and the
    message is not in it. Without credentials the server answers 401, which
    is ``restricted``. A missing room is HTTP 400 with
    ``"errorType": "error-room-not-found"``.
    """

    HISTORY_COUNT = 1000

    def __init__(
        self,
        name: str = "rocketchat",
        hosts: tuple[str, ...] = (),
        auth: dict[str, str] | None = None,
    ) -> None:
        PatternDetector.__init__(self, name=name, hosts=hosts)
        self.auth = dict(auth or {})  # {"X-Auth-Token": ..., "X-User-Id": ...}

    def probe(self, url: str) -> Probe:
        u = urlsplit(url)
        parts = [p for p in u.path.split("/") if p]
        base = f"{u.scheme}://{u.netloc}"
        if len(parts) == 2 and parts[0] in ("channel", "group"):
            kind = "groups" if parts[0] == "group" else "channels"
            room = quote(parts[1], safe="")
            if "msg" in parse_qs(u.query):
                return Probe(
                    f"{base}/api/v1/{kind}.history?roomName={room}&count={self.HISTORY_COUNT}",
                    dict(self.auth),
                )
            return Probe(f"{base}/api/v1/{kind}.info?roomName={room}", dict(self.auth))
        return Probe(url, dict(self.auth))

    def classify(self, obs: Observation) -> Verdict:
        v = transport_verdict(obs)
        if v is not None:
            return v
        try:
            data = json.loads(obs.body) if obs.body else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return PatternDetector.classify(self, obs)
        if data.get("errorType") == "error-room-not-found":
            return Verdict(Outcome.REMOVED, "rocketchat: room not found")
        if data.get("success") is not True or obs.status != 200:
            return Verdict(
                Outcome.UNKNOWN, f"rocketchat: HTTP {obs.status} {data.get('error', '')}"
            )
        msg = parse_qs(urlsplit(obs.url).query).get("msg", [None])[0]
        if msg is None:
            return Verdict(Outcome.ONLINE, "rocketchat: room exists")
        messages = data.get("messages") or []
        if any(isinstance(m, dict) and m.get("_id") == msg for m in messages):
            return Verdict(Outcome.ONLINE, "rocketchat: message in history")
        total = data.get("total")
        if isinstance(total, int) and total <= len(messages):
            return Verdict(Outcome.REMOVED, "rocketchat: message not in the room's full history")
        return Verdict(Outcome.UNKNOWN, "rocketchat: message not in the first history page")


FILEHOST = PatternDetector(
    name="filehost",
    hosts=("mega.nz", "www.dropbox.com", "drive.google.com", "archive.org"),
    removed=_rx(
        r"file (has been|was) (removed|deleted)",
        r"file not found",
        r"this file is no longer available",
        r"removed for violating",
    ),
)

PASTE = PatternDetector(
    name="paste",
    hosts=("pastebin.com", "justpaste.it", "paste.example"),
    removed=_rx(
        r"this (paste|page) (has been|was) (removed|deleted)",
        r"paste not found",
        r"not found \(#404\)",
        r"removed for violating",
    ),
)

ONION = PatternDetector(
    name="onion",
    hosts=("*.onion",),
    removed=_rx(
        r"thread (not found|has been deleted|was removed)", r"post (not found|was removed)"
    ),
)

ROCKETCHAT = RocketChatDetector("rocketchat", ("open.rocket.chat",))

ALL: tuple[Detector, ...] = (X, YOUTUBE, TELEGRAM, ROCKETCHAT, FILEHOST, PASTE, ONION)


#: Which built-in detector serves a platform of each kind (platform records, the testbed).
BY_KIND: dict[str, str] = {
    "microblog": "x",
    "video": "youtube",
    "telegram": "telegram",
    "rocketchat": "rocketchat",
    "filehost": "filehost",
    "paste": "paste",
    "website": "generic",
    "onion_forum": "onion",
    "onion": "onion",
    # takedown.platforms.models.PlatformKind
    "chat_server": "rocketchat",
    "file_host": "filehost",
    "blog": "generic",
    "archive": "generic",
}
#: Platform records whose slug names a built-in detector directly (kinds are too broad:
#: "social" covers X and Facebook alike).
BY_SLUG: dict[str, str] = {"x": "x", "twitter": "x", "youtube": "youtube", "telegram": "telegram"}
