"""URL identity: real-world URL forms, folds, non-folds, refusals, and properties.

Handles, ids and hosts below are invented stand-ins in the platforms' real URL
shapes; the one exception is Facebook's published onion address.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls as hyp_urls

from takedown.kit.errors import InvalidInput
from takedown.platforms.canon.dispatch import set_registry_hosts
from takedown.platforms.canon.parse import plain_http_host
from takedown.platforms.canon.types import NoContentURL
from takedown.platforms.identity import InvalidURL, ItemIdentity, ItemKind, canonicalize

A, P, C, M, F, PG = (
    ItemKind.ACCOUNT,
    ItemKind.POST,
    ItemKind.CHANNEL,
    ItemKind.MESSAGE,
    ItemKind.FILE,
    ItemKind.PAGE,
)

ONION = "pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd"  # a valid v3 address
ONION_FB = "facebookwkhpilnemxj7asaniu7vnjjbiltxjqhye3mhbshg7kx5tfyd"

# (url, platform, kind, key, parent_key)
CASES: list[tuple[str, str, ItemKind, str, str | None]] = [
    # --- X / Twitter
    ("https://twitter.com/Example_User/status/1234567890123456789", "x", P,
     "status/1234567890123456789", "account/example_user"),
    ("https://x.com/example_user/status/1234567890123456789?s=20&t=AbCdEf", "x", P,
     "status/1234567890123456789", "account/example_user"),
    ("mobile.twitter.com/Example_User/status/1234567890123456789/photo/1", "x", P,
     "status/1234567890123456789", "account/example_user"),
    ("https://twitter.com/#!/Example_User/status/1234567890123456789", "x", P,
     "status/1234567890123456789", "account/example_user"),
    ("https://x.com/i/web/status/1234567890123456789", "x", P, "status/1234567890123456789", None),
    ("https://twitter.com/i/status/1234567890123456789", "x", P, "status/1234567890123456789",
     None),
    ("https://twitter.com/Example_User/statuses/99", "x", P, "status/99", "account/example_user"),
    ("https://fxtwitter.com/Example_User/status/55", "x", P, "status/55", "account/example_user"),
    ("https://x.com/Example_User", "x", A, "account/example_user", None),
    ("https://twitter.com/Example_User/media", "x", A, "account/example_user", None),
    ("https://twitter.com/intent/user?screen_name=Example_User", "x", A, "account/example_user",
     None),
    ("https://x.com/i/user/783214", "x", A, "account/id:783214", None),
    ("https://t.co/AbC123xYz", "x", PG, "link/AbC123xYz", None),
    ("https://x.com/example_user/likes/extra", "x", PG, "page/x.com/example_user/likes/extra",
     None),
    # --- YouTube
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", P, "video/dQw4w9WgXcQ", None),
    ("https://youtu.be/dQw4w9WgXcQ?si=AbCdEfGh&t=42", "youtube", P, "video/dQw4w9WgXcQ", None),
    ("https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share&list=PL123", "youtube", P,
     "video/dQw4w9WgXcQ", None),
    ("https://www.youtube.com/shorts/aB3-_xYz012", "youtube", P, "video/aB3-_xYz012", None),
    ("https://www.youtube.com/embed/dQw4w9WgXcQ?start=10", "youtube", P, "video/dQw4w9WgXcQ",
     None),
    ("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", "youtube", P, "video/dQw4w9WgXcQ",
     None),
    ("https://www.youtube.com/live/dQw4w9WgXcQ?feature=shared", "youtube", P, "video/dQw4w9WgXcQ",
     None),
    ("www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", P, "video/dQw4w9WgXcQ", None),
    ("https://music.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", P, "video/dQw4w9WgXcQ", None),
    ("https://www.youtube.com/@ExampleChannel", "youtube", C, "channel/@examplechannel", None),
    ("https://www.youtube.com/@ExampleChannel/videos", "youtube", C, "channel/@examplechannel",
     None),
    ("https://www.youtube.com/channel/UCabcdefghijklmnopqrstuv", "youtube", C,
     "channel/UCabcdefghijklmnopqrstuv", None),
    ("https://www.youtube.com/c/ExampleName", "youtube", C, "c/examplename", None),
    ("https://www.youtube.com/user/ExampleName/featured", "youtube", C, "user/examplename", None),
    ("https://www.youtube.com/ExampleName", "youtube", C, "c/examplename", None),
    ("https://www.youtube.com/playlist?list=PLabc123", "youtube", PG, "playlist/PLabc123", None),
    ("https://www.youtube.com/redirect?q=https%3A%2F%2Fexample.org%2Fpage&event=video",
     "website", PG, "example.org/page", None),
    # --- Telegram
    ("https://t.me/s/Example_Channel/123", "telegram", M, "message/example_channel/123",
     "channel/example_channel"),
    ("t.me/Example_Channel/123?single", "telegram", M, "message/example_channel/123",
     "channel/example_channel"),
    ("https://t.me/Example_Channel", "telegram", C, "channel/example_channel", None),
    ("https://t.me/s/Example_Channel", "telegram", C, "channel/example_channel", None),
    ("https://telegram.me/Example_Channel/7", "telegram", M, "message/example_channel/7",
     "channel/example_channel"),
    ("https://telegram.dog/Example_Channel", "telegram", C, "channel/example_channel", None),
    ("tg://resolve?domain=Example_Channel&post=123", "telegram", M, "message/example_channel/123",
     "channel/example_channel"),
    ("tg://resolve?domain=Example_Channel", "telegram", C, "channel/example_channel", None),
    ("https://t.me/joinchat/AAAAAEkk2WdoDrB4-Q8-gg", "telegram", C,
     "invite/AAAAAEkk2WdoDrB4-Q8-gg", None),
    ("https://t.me/+AbCdEf0123456789", "telegram", C, "invite/AbCdEf0123456789", None),
    ("tg://join?invite=AbCdEf0123456789", "telegram", C, "invite/AbCdEf0123456789", None),
    ("https://t.me/c/1234567890/55", "telegram", M, "message/c/1234567890/55",
     "channel/c/1234567890"),
    ("https://t.me/Example_Group/12/345", "telegram", M, "message/example_group/345",
     "channel/example_group"),
    ("https://example_channel.t.me/", "telegram", C, "channel/example_channel", None),
    ("https://t.me/Example_Channel/123?comment=456", "telegram", M,
     "message/example_channel/123", "channel/example_channel"),
    ("HTTPS://T.ME/S/Example_Channel/0123", "telegram", M, "message/example_channel/123",
     "channel/example_channel"),
    # --- Facebook
    ("https://www.facebook.com/profile.php?id=100012345678901&sk=photos", "facebook", A,
     "account/id:100012345678901", None),
    ("https://m.facebook.com/profile.php?id=100012345678901", "facebook", A,
     "account/id:100012345678901", None),
    ("https://www.facebook.com/Example.Page/", "facebook", A, "account/example.page", None),
    ("https://facebook.com/Example.Page/posts/pfbid02AbCdEf?__cft__[0]=AZX&__tn__=%2CO%2CP-R",
     "facebook", P, "post/pfbid02AbCdEf", "account/example.page"),
    ("https://www.facebook.com/permalink.php?story_fbid=123456789&id=100012345678901",
     "facebook", P, "post/123456789", "account/id:100012345678901"),
    ("https://www.facebook.com/story.php?story_fbid=pfbid0Xyz&id=42&mibextid=abc", "facebook",
     P, "post/pfbid0Xyz", "account/id:42"),
    ("https://www.facebook.com/watch/?v=987654321", "facebook", P, "video/987654321", None),
    ("https://www.facebook.com/Example.Page/videos/some-title/987654321/", "facebook", P,
     "video/987654321", "account/example.page"),
    ("https://fb.watch/aBcD3fGh1/", "facebook", PG, "fbwatch/aBcD3fGh1", None),
    ("https://www.facebook.com/groups/examplegroup/posts/1122334455/", "facebook", P,
     "post/1122334455", "group/examplegroup"),
    ("https://mbasic.facebook.com/groups/123456", "facebook", C, "group/123456", None),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.net%2Fa%3Fb%3D1&h=AT0xyz",
     "website", PG, "example.net/a?b=1", None),
    ("https://www.facebook.com/share/p/AbCdEf123/", "facebook", PG, "share/p/AbCdEf123", None),
    (f"https://www.{ONION_FB}.onion/Example.Page", "facebook", A, "account/example.page", None),
    # --- Instagram
    ("https://www.instagram.com/p/CxYz-AbC123/?igshid=MzRlODBiNWFlZA==", "instagram", P,
     "post/CxYz-AbC123", None),
    ("https://instagram.com/reel/CxYz-AbC123/?utm_source=ig_web_copy_link", "instagram", P,
     "post/CxYz-AbC123", None),
    ("https://www.instagram.com/Example.User/p/CxYz-AbC123/", "instagram", P,
     "post/CxYz-AbC123", "account/example.user"),
    ("https://www.instagram.com/Example.User/", "instagram", A, "account/example.user", None),
    ("https://www.instagram.com/stories/example.user/3123456789012345678/", "instagram", P,
     "story/3123456789012345678", "account/example.user"),
    # --- TikTok
    ("https://www.tiktok.com/@Example.User/video/7234567890123456789?is_from_webapp=1"
     "&sender_device=pc", "tiktok", P, "post/7234567890123456789", "account/@example.user"),
    ("https://m.tiktok.com/v/7234567890123456789.html", "tiktok", P, "post/7234567890123456789",
     None),
    ("https://www.tiktok.com/embed/v2/7234567890123456789", "tiktok", P,
     "post/7234567890123456789", None),
    ("https://www.tiktok.com/@Example.User", "tiktok", A, "account/@example.user", None),
    ("https://vm.tiktok.com/ZMabCdEf1/", "tiktok", PG, "link/vm/ZMabCdEf1", None),
    ("https://www.tiktok.com/t/ZTRabcdef/", "tiktok", PG, "link/t/ZTRabcdef", None),
    # --- WhatsApp
    ("https://whatsapp.com/channel/0029VaAbCdEfGhIjKlMnOp1Q", "whatsapp", C,
     "channel/0029VaAbCdEfGhIjKlMnOp1Q", None),
    ("https://www.whatsapp.com/channel/0029VaAbCdEfGhIjKlMnOp1Q/", "whatsapp", C,
     "channel/0029VaAbCdEfGhIjKlMnOp1Q", None),
    ("https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", "whatsapp", C,
     "invite/AbCdEfGhIjKlMnOpQrStUv", None),
    ("https://wa.me/15551234567", "whatsapp", A, "account/15551234567", None),
    # --- Rocket.Chat (any host)
    ("https://chat.example.org/channel/general", "rocketchat", C,
     "chat.example.org/channel/general", None),
    ("https://chat.example.org/channel/general?msg=aBcD1234eFgH5678", "rocketchat", M,
     "chat.example.org/msg/aBcD1234eFgH5678", "chat.example.org/channel/general"),
    ("http://rc.example.net:3000/group/Private-Room", "rocketchat", C,
     "rc.example.net:3000/group/Private-Room", None),
    ("https://chat.example.org/direct/aBcD1234eFgH5678", "rocketchat", C,
     "chat.example.org/direct/aBcD1234eFgH5678", None),
    ("https://chat.example.org/channel/general/thread/ThReAd12345678", "rocketchat", M,
     "chat.example.org/msg/ThReAd12345678", "chat.example.org/channel/general"),
    # --- archive.org
    ("https://archive.org/details/example-item_2019", "archive_org", P,
     "details/example-item_2019", None),
    ("https://archive.org/download/example-item_2019/video.mp4", "archive_org", F,
     "file/example-item_2019/video.mp4", "details/example-item_2019"),
    ("https://archive.org/details/@Example_Uploader", "archive_org", A,
     "account/@example_uploader", None),
    ("https://web.archive.org/web/20190101000000/https://twitter.com/Example_User/status/55",
     "archive_org", PG, "wayback/20190101000000/https://x.com/example_user/status/55", None),
    ("https://web.archive.org/web/2019id_/http://www.example.com/a/?utm_source=x", "archive_org",
     PG, "wayback/2019/https://example.com/a", None),
    # --- Google Drive / Docs
    ("https://drive.google.com/file/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/view?usp=sharing",
     "google_drive", F, "file/1AbCdEfGhIjKlMnOpQrStUvWxYz", None),
    ("https://drive.google.com/open?id=1AbCdEfGhIjKlMnOpQrStUvWxYz", "google_drive", F,
     "file/1AbCdEfGhIjKlMnOpQrStUvWxYz", None),
    ("https://drive.google.com/uc?export=download&id=1AbCdEfGhIjKlMnOpQrStUvWxYz",
     "google_drive", F, "file/1AbCdEfGhIjKlMnOpQrStUvWxYz", None),
    ("https://drive.google.com/drive/u/0/folders/1FoLdErAbCdEfGhIjK", "google_drive", F,
     "folder/1FoLdErAbCdEfGhIjK", None),
    ("https://docs.google.com/document/d/1AbCdEfGhIjKlMnOpQrStUvWxYz/edit?usp=sharing",
     "google_drive", F, "file/1AbCdEfGhIjKlMnOpQrStUvWxYz", None),
    # --- Dropbox
    ("https://www.dropbox.com/s/abc123xyz0/report.pdf?dl=0", "dropbox", F, "s/abc123xyz0", None),
    ("https://dl.dropboxusercontent.com/s/abc123xyz0/report.pdf", "dropbox", F, "s/abc123xyz0",
     None),
    ("https://www.dropbox.com/scl/fi/q1w2e3r4t5y6/file.zip?rlkey=k9j8h7g6f5&dl=0", "dropbox", F,
     "scl/fi/q1w2e3r4t5y6", None),
    # --- Mega
    ("https://mega.nz/file/AbCd1234#KeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeY12_-", "mega", F,
     "file/AbCd1234", None),
    ("https://mega.nz/#!AbCd1234!KeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeY12_-", "mega", F,
     "file/AbCd1234", None),
    ("https://mega.co.nz/#!AbCd1234!KeYkEyKeYkEyKeYkEy", "mega", F, "file/AbCd1234", None),
    ("https://mega.nz/folder/FoLd1234#FoLdErKeYFoLdErKeY12", "mega", F, "folder/FoLd1234", None),
    ("https://mega.nz/#F!FoLd1234!FoLdErKeYFoLdErKeY12", "mega", F, "folder/FoLd1234", None),
    ("https://mega.nz/folder/FoLd1234#FoLdErKeYFoLdErKeY12/file/FiLe5678", "mega", F,
     "folder/FoLd1234/file/FiLe5678", "folder/FoLd1234"),
    # --- paste sites, blogs, video
    ("https://justpaste.it/a1b2c", "justpaste", P, "paste/a1b2c", None),
    ("https://jpst.it/a1b2c", "justpaste", P, "paste/a1b2c", None),
    ("https://pastebin.com/AbCd1234", "pastebin", P, "paste/AbCd1234", None),
    ("https://pastebin.com/raw/AbCd1234", "pastebin", P, "paste/AbCd1234", None),
    ("https://pastebin.com/u/Example_User", "pastebin", A, "account/example_user", None),
    ("https://medium.com/@Example.Writer/my-post-title-1a2b3c4d5e6f", "medium", P,
     "post/1a2b3c4d5e6f", "account/@example.writer"),
    ("https://example-writer.medium.com/my-post-title-1a2b3c4d5e6f?source=rss", "medium", P,
     "post/1a2b3c4d5e6f", "account/@example-writer"),
    ("https://medium.com/@Example.Writer", "medium", A, "account/@example.writer", None),
    ("https://medium.com/example-publication/a-story-0123456789ab", "medium", P,
     "post/0123456789ab", "publication/example-publication"),
    ("https://odysee.com/@ExampleChannel:a/Example-Video:b", "odysee", P,
     "claim/example-video:b", "channel/@examplechannel:a"),
    ("https://odysee.com/@ExampleChannel:a", "odysee", C, "channel/@examplechannel:a", None),
    ("https://lbry.tv/@ExampleChannel:A/Example-Video:B", "odysee", P,
     "claim/example-video:b", "channel/@examplechannel:a"),
    # --- onion and websites
    (f"http://{ONION}.onion/forum/thread?id=12", "onion", PG,
     f"{ONION}.onion/forum/thread?id=12", None),
    (f"{ONION.upper()}.ONION/", "onion", PG, f"{ONION}.onion", None),
    ("http://www.Example.com:80/a/./b/../c/?utm_source=x&b=2&a=1#frag", "website", PG,
     "example.com/a/c?a=1&b=2", None),
    ("  <https://example.com/news/article-1>  ", "website", PG, "example.com/news/article-1",
     None),
    ('"example.com/%7Euser/caf%c3%a9?q=a%2fb"', "website", PG,
     "example.com/~user/caf%C3%A9?q=a%2Fb", None),
    ("https://bücher.example/straße", "website", PG, "xn--bcher-kva.example/stra%C3%9Fe", None),
    ("https://example.com:8443/x", "website", PG, "example.com:8443/x", None),
    ("hxxps://bad-site[.]example/payload", "website", PG, "bad-site.example/payload", None),
    ("https://user:secret@example.com/private", "website", PG, "example.com/private", None),
    ("https://www.google.com/url?q=https://example.com/landing&sa=D&usg=AOv", "website", PG,
     "example.com/landing", None),
    ("https://[2001:DB8::1]:8080/x", "website", PG, "[2001:db8::1]:8080/x", None),
    ("https://example.com/search?s=term&ref=nav", "website", PG, "example.com/search?s=term",
     None),
]  # fmt: skip


def test_at_least_eighty_forms() -> None:
    assert len(CASES) >= 80
    assert len({c[0] for c in CASES}) == len(CASES)


def _scheme_ok(url: str) -> bool:
    """https://, but for .onion and IP hosts, which keep the plain http:// they are given."""
    if url.startswith("https://"):
        return True
    host = urlsplit(url).hostname or ""
    return url.startswith("http://") and (":" in host or plain_http_host(host))


@pytest.mark.parametrize(("url", "platform", "kind", "key", "parent"), CASES)
def test_url_forms(url: str, platform: str, kind: ItemKind, key: str, parent: str | None) -> None:
    got = canonicalize(url)
    assert (got.platform, got.kind, got.key, got.parent_key) == (platform, kind, key, parent)
    assert got.identity == f"{platform}:{key}"
    assert (got.parent_kind is None) == (parent is None)
    assert "#" not in got.canonical_url
    assert _scheme_ok(got.canonical_url)


@pytest.mark.parametrize(("url", "platform", "kind", "key", "parent"), CASES)
def test_canonical_url_is_a_fixed_point(
    url: str, platform: str, kind: ItemKind, key: str, parent: str | None
) -> None:
    first = canonicalize(url)
    again = canonicalize(first.canonical_url)
    assert (again.identity, again.canonical_url) == (first.identity, first.canonical_url)
    assert canonicalize(first.fetch_url).identity == first.identity


FOLD = [
    ("https://twitter.com/SomeOne/status/42", "x.com/someone/status/42?s=46&t=zzz"),
    ("https://twitter.com/SomeOne/status/42", "https://x.com/other_name/status/42"),
    ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube.com/shorts/dQw4w9WgXcQ"),
    ("https://youtu.be/dQw4w9WgXcQ", "http://youtube.com/watch?feature=x&v=dQw4w9WgXcQ#t=3"),
    ("https://t.me/s/SomeChan/5", "tg://resolve?domain=somechan&post=5"),
    ("https://t.me/joinchat/AbCdEf0123456789", "https://t.me/+AbCdEf0123456789"),
    ("https://www.instagram.com/p/CxYz-AbC123/", "https://instagram.com/reel/CxYz-AbC123"),
    ("https://www.facebook.com/100012345", "https://facebook.com/profile.php?id=100012345"),
    ("https://docs.google.com/document/d/1AbCdEfGhIjKlM/edit",
     "drive.google.com/open?id=1AbCdEfGhIjKlM"),
    ("https://mega.nz/file/AbCd1234#KeYkEyKeYkEyKeYkEy",
     "https://mega.nz/#!AbCd1234!OtherKeyOtherKeyOther"),
    ("https://www.dropbox.com/s/abc123xyz0/a.pdf?dl=0",
     "https://www.dropbox.com/s/abc123xyz0/a.pdf?dl=1"),
    ("https://pastebin.com/AbCd1234", "https://pastebin.com/dl/AbCd1234"),
    ("https://example.com/a/", "HTTP://EXAMPLE.com/a?utm_campaign=x#top"),
    ("https://example.com/a?b=1&a=2", "https://www.example.com/a?a=2&b=1&fbclid=IwAR0"),
    ("https://example.com/a", "https://example.com/a?=&&"),
    ("https://example.com/%7Ea", "https://example.com/~a"),
    ("https://example.com/a%2fb", "https://example.com/a%2Fb"),
    ("http://example.com:80/", "https://example.com:443"),
    ("https://ドメイン.example/", "https://xn--eckwd4c7c.example/"),
    ("https://\uff58.com/Someone", "https://x.com/someone"),
    ("https://medium.com/@writer/title-1a2b3c4d5e6f", "https://writer.medium.com/title-1a2b3c4d5e6f"),
]  # fmt: skip

NO_FOLD = [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dqw4w9wgxcq"),
    ("https://pastebin.com/AbCd1234", "https://pastebin.com/abcd1234"),
    ("https://mega.nz/file/AbCd1234", "https://mega.nz/file/abcd1234"),
    ("https://t.me/somechan/5", "https://t.me/somechan/6"),
    ("https://t.me/somechan", "https://t.me/somechan/6"),
    ("https://x.com/someone", "https://x.com/someone/status/1"),
    ("https://example.com/A", "https://example.com/a"),
    ("https://example.com/a?id=1", "https://example.com/a?id=2"),
    ("https://example.com/a?s=term", "https://example.com/a"),
    ("https://a.chat.example/channel/general", "https://b.chat.example/channel/general"),
    ("https://chat.example/channel/general", "https://chat.example/group/general"),
    ("https://example.com:8080/a", "https://example.com/a"),
    ("https://sub.example.com/a", "https://example.com/a"),
    ("https://twitter.com/someone", "https://www.facebook.com/someone"),
    ("https://www.youtube.com/@name", "https://www.youtube.com/c/name"),
    ("https://www.facebook.com/permalink.php?story_fbid=1&id=2",
     "https://www.facebook.com/permalink.php?story_fbid=3&id=2"),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b"), FOLD)
def test_folds_to_same_identity(a: str, b: str) -> None:
    assert canonicalize(a).identity == canonicalize(b).identity


@pytest.mark.parametrize(("a", "b"), NO_FOLD)
def test_distinct_items_stay_distinct(a: str, b: str) -> None:
    assert canonicalize(a).identity != canonicalize(b).identity


def test_secrets_stay_in_fetch_url_only() -> None:
    key = "KeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeYkEyKeY12_-"
    got = canonicalize(f"https://mega.nz/file/AbCd1234#{key}")
    assert key not in got.canonical_url and key not in got.key
    assert got.fetch_url == f"https://mega.nz/file/AbCd1234#{key}"
    legacy = canonicalize(f"https://mega.nz/#!AbCd1234!{key}")
    assert legacy.fetch_url == got.fetch_url
    box = canonicalize("https://www.dropbox.com/scl/fi/q1w2e3r4t5y6/f.zip?rlkey=k9j8h7g6f5&dl=0")
    assert box.fetch_url.endswith("?rlkey=k9j8h7g6f5") and "rlkey" not in box.canonical_url
    drive = canonicalize(
        "https://drive.google.com/file/d/1AbCdEfGhIjKlM/view?resourcekey=0-AbCdEfGhIj"
    )
    assert drive.fetch_url.endswith("resourcekey=0-AbCdEfGhIj")
    assert "resourcekey" not in drive.canonical_url


def test_fetch_url_keeps_scheme_and_host_for_websites_and_onions() -> None:
    site = canonicalize("http://www.example.com/a?utm_source=x")
    assert site.canonical_url == "https://example.com/a"
    assert site.fetch_url == "http://www.example.com/a"
    hidden = canonicalize(f"{ONION}.onion/board")
    assert hidden.fetch_url == f"http://{ONION}.onion/board"
    assert hidden.canonical_url == f"http://{ONION}.onion/board"


@pytest.mark.parametrize(
    ("url", "canonical", "key"),
    [
        # .onion and IP hosts are usually plain HTTP: http:// is never rewritten to https://
        (f"http://{ONION}.onion/board", f"http://{ONION}.onion/board", f"{ONION}.onion/board"),
        (f"{ONION}.onion/board", f"http://{ONION}.onion/board", f"{ONION}.onion/board"),
        (f"https://{ONION}.onion/board", f"https://{ONION}.onion/board", f"{ONION}.onion/board"),
        ("http://203.0.113.7/files/a.zip", "http://203.0.113.7/files/a.zip",
         "203.0.113.7/files/a.zip"),
        ("203.0.113.7/files/a.zip", "http://203.0.113.7/files/a.zip", "203.0.113.7/files/a.zip"),
        ("https://203.0.113.7/files/a.zip", "https://203.0.113.7/files/a.zip",
         "203.0.113.7/files/a.zip"),
        ("http://203.0.113.7:80/x", "http://203.0.113.7/x", "203.0.113.7/x"),
        ("http://203.0.113.7:8080/x", "http://203.0.113.7:8080/x", "203.0.113.7:8080/x"),
        ("http://203.0.113.7:443/x", "http://203.0.113.7:443/x", "203.0.113.7:443/x"),
        ("https://203.0.113.7:443/x", "https://203.0.113.7/x", "203.0.113.7/x"),
        ("http://[2001:DB8::1]/x", "http://[2001:db8::1]/x", "[2001:db8::1]/x"),
        ("hxxp://203.0.113[.]7/x", "http://203.0.113.7/x", "203.0.113.7/x"),
        # names are still folded into https://
        ("http://www.example.com/a", "https://example.com/a", "example.com/a"),
        ("http://example.com:443/a", "https://example.com/a", "example.com/a"),
    ],
)  # fmt: skip
def test_onion_and_ip_hosts_keep_http(url: str, canonical: str, key: str) -> None:
    got = canonicalize(url)
    assert got.canonical_url == canonical
    assert got.key == key
    if canonical.startswith("http://"):
        assert got.fetch_url == canonical
    again = canonicalize(got.canonical_url)  # idempotent, one item whatever the scheme
    assert (again.canonical_url, again.identity) == (canonical, got.identity)


def test_http_and_https_of_an_ip_page_are_one_item() -> None:
    plain = canonicalize("http://203.0.113.7/x")
    secure = canonicalize("https://203.0.113.7/x")
    assert plain.identity == secure.identity
    assert (plain.canonical_url, secure.canonical_url) == (
        "http://203.0.113.7/x",
        "https://203.0.113.7/x",
    )


def test_platform_specific_fetch_urls() -> None:
    assert (
        canonicalize("https://pastebin.com/AbCd1234").fetch_url
        == "https://pastebin.com/raw/AbCd1234"
    )
    assert canonicalize("https://t.me/SomeChan").fetch_url == "https://t.me/s/somechan"
    assert canonicalize("twitter.com/Someone").canonical_url == "https://x.com/someone"


INVALID = [
    ("", "empty"),
    ("   ", "empty"),
    ("ftp://example.com/file", "unsupported scheme 'ftp'"),
    ("mailto:someone@example.com", "unsupported scheme 'mailto'"),
    ("javascript:alert(1)", "unsupported scheme 'javascript'"),
    ("https://", "no host"),
    ("https:///path", "no host"),
    ("hello", "not a domain name"),
    ("https://exa mple.com/", "contains a space"),
    ("https://example.com/a b", "contains a space"),
    ("https://y_.4jb", ".4jb is not a top-level domain"),  # issue 19.5's fuzzed item
    ("https://example.zz9/", "not a top-level domain"),
    ("https://y_.com/", "'y_' is not a domain name"),
    ("https://-site.org/a", "is not a domain name"),
    ("https://co.uk/", "public suffix"),
    ("https://1.2.3/", "invalid IPv4"),
    ("https://300.1.1.1/", "invalid IPv4"),
    ("https://example.invalid/", "not a top-level domain"),
    ("E.tJ?vS]d", "characters a URL cannot hold"),
    ("h!}@dgw.bv/x", "invalid user name"),
    ("https://example.com:99999/", "invalid port"),
    ("https://example.com:8o/", "invalid port"),
    ("https://[::zz]/", "invalid IPv6"),
    ("http://expyuzz4wqqyqhjn.onion/", "v2 onion"),
    (f"http://{ONION[:-1]}a.onion/", "checksum"),
    ("http://abc.onion/", "not a v3 onion"),
    ("https://example.com/\x00", "control character"),
    ("tg://settings", "unsupported tg:// link"),
    ("tg://resolve?post=3", "without a valid domain"),
    ("https://web.archive.org/web/2020/ftp://example.com", "Wayback Machine link"),
    ("https://" + "a" * 9000 + ".com", "longer than"),
    ("https://xn--.example/", "invalid"),
]


@pytest.mark.parametrize(("text", "reason"), INVALID)
def test_invalid_inputs_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidURL) as info:
        canonicalize(text)
    assert reason in info.value.detail
    assert isinstance(info.value, InvalidInput) and info.value.status == 422


# A known platform's URL that names no content (issue 12.4): refused, with the reason.
NO_CONTENT = [
    ("https://x.com", "x", "X's home page"),
    ("x.com/", "x", "X's home page"),
    ("https://twitter.com/?lang=en", "x", "X's home page"),
    ("https://www.youtube.com/", "youtube", "YouTube's home page"),
    ("https://youtu.be/", "youtube", "YouTube's home page"),
    ("https://t.me/", "telegram", "Telegram's home page"),
    ("t.me/s/", "telegram", "'s' page"),
    ("https://www.facebook.com", "facebook", "Facebook's home page"),
    ("https://www.instagram.com/", "instagram", "Instagram's home page"),
    ("https://www.tiktok.com/foryou", "tiktok", "'foryou' page"),
    ("https://x.com/login", "x", "'login' page"),
    ("https://x.com/i/flow/login", "x", "'i' page"),
    ("https://x.com/explore/tabs/trending", "x", "'explore' page"),
    ("https://x.com/search?q=foo&src=typed_query", "x", "'search' page"),
    ("https://x.com/hashtag/Example?src=hash", "x", "'hashtag' page"),
    ("https://x.com/settings/account", "x", "'settings' page"),
    ("https://www.youtube.com/results?search_query=foo", "youtube", "'results' page"),
    ("https://www.youtube.com/feed/trending", "youtube", "'feed' page"),
    ("https://www.facebook.com/help/1234", "facebook", "'help' page"),
    ("https://www.facebook.com/login.php", "facebook", "'login.php' page"),
    ("https://www.instagram.com/explore/tags/example/", "instagram", "'explore' page"),
    ("https://www.instagram.com/accounts/login/", "instagram", "'accounts' page"),
    ("https://web.archive.org/", "archive_org", "home page"),
    ("https://archive.org/search?query=x", "archive_org", "'search' page"),
    ("https://drive.google.com/drive/my-drive", "google_drive", "'drive' page"),
    ("https://mega.nz/", "mega", "home page"),
    ("https://pastebin.com/archive", "pastebin", "'archive' page"),
    ("https://medium.com/tag/example", "medium", "'tag' page"),
    ("https://help.medium.com/hc/en-us", "medium", "own help site"),
    ("https://odysee.com/$/settings", "odysee", "'$' page"),
    ("https://web.archive.org/web/2020/https://x.com/", "x", "Wayback Machine link"),
    ("https://l.facebook.com/l.php?u=https%3A%2F%2Ft.me%2F", "telegram", "home page"),
]


@pytest.mark.parametrize(("text", "platform", "reason"), NO_CONTENT)
def test_urls_that_name_no_content_are_refused(text: str, platform: str, reason: str) -> None:
    with pytest.raises(NoContentURL) as info:
        canonicalize(text)
    assert reason in info.value.detail
    assert "names no content" in info.value.detail or "home page" in info.value.detail
    assert info.value.platform == platform
    assert isinstance(info.value, InvalidURL) and info.value.status == 422


def test_content_under_navigation_words_stays_content() -> None:
    # The rules decide first: a Telegram channel called "help" is a channel, an X account
    # called "helpdesk" an account; only the fallback consults the navigation pages.
    assert canonicalize("https://t.me/help").identity == "telegram:channel/help"
    assert canonicalize("https://x.com/helpdesk").identity == "x:account/helpdesk"
    assert canonicalize("https://www.youtube.com/@search").kind is C
    # A website's home page, and its search or about page, are the website's content.
    assert canonicalize("https://example.com/").identity == "website:example.com"
    assert canonicalize("https://example.com/about").identity == "website:example.com/about"
    assert canonicalize(f"http://{ONION}.onion/").identity == f"onion:{ONION}.onion"


def test_registry_platforms_home_pages_by_kind() -> None:
    """A registered social network's home page names no content; a registered website's
    does; a built-in platform's sub-site reached through the registry never does."""
    try:
        set_registry_hosts(
            {"social.example": "gab_like", "site.example": "a_site", "x.com": "x"},
            sites=["a_site"],
        )
        with pytest.raises(NoContentURL, match="home page"):
            canonicalize("https://social.example/")
        with pytest.raises(NoContentURL, match="'login' page"):
            canonicalize("https://social.example/login")
        assert canonicalize("https://social.example/someone").identity == (
            "gab_like:social.example/someone"
        )
        assert canonicalize("https://site.example/").identity == "a_site:site.example"
        assert canonicalize("https://site.example/login").identity == "a_site:site.example/login"
        with pytest.raises(NoContentURL, match="own help site"):
            canonicalize("https://help.x.com/en/rules")
        # Without kinds (older callers), registered platforms keep their home pages.
        set_registry_hosts({"social.example": "gab_like"})
        assert canonicalize("https://social.example/").identity == "gab_like:social.example"
    finally:
        set_registry_hosts({})


def test_non_text_is_refused() -> None:
    with pytest.raises(InvalidURL, match="expected text"):
        canonicalize(None)  # type: ignore[arg-type]


def test_identity_value_object() -> None:
    got = canonicalize("https://t.me/SomeChan/5")
    assert isinstance(got, ItemIdentity)
    assert got.identity == "telegram:message/somechan/5"
    assert got.parent_identity == "telegram:channel/somechan"
    with pytest.raises(AttributeError):
        got.key = "other"  # type: ignore[misc]
    assert str(ItemKind.MESSAGE) == "message"


# --- properties ------------------------------------------------------------

_SEG = st.text(alphabet=st.sampled_from("abcXYZ019_-.~%:@!$&'()*+,;=/?#[] é€\u00a0"), max_size=12)
_HOSTS = st.sampled_from(
    [
        "x.com", "twitter.com", "t.co", "youtube.com", "youtu.be", "t.me", "facebook.com",
        "fb.watch", "instagram.com", "tiktok.com", "vm.tiktok.com", "whatsapp.com", "wa.me",
        "chat.whatsapp.com", "archive.org", "web.archive.org", "drive.google.com",
        "docs.google.com", "dropbox.com", "mega.nz", "justpaste.it", "pastebin.com",
        "medium.com", "someone.medium.com", "odysee.com", "chat.example.org",
        f"{ONION}.onion", "example.com", "bücher.example", "www.google.com", "l.facebook.com",
        "name.t.me",
    ]
)  # fmt: skip
_PREFIX = st.sampled_from(["", "https://", "http://", "HTTPS://www.", "//", "m.", "mobile."])
_PATH_WORDS = st.sampled_from(
    [
        "status", "i", "web", "watch", "shorts", "embed", "live", "s", "c", "joinchat",
        "+Ab12Cd34Ef",
        "profile.php", "permalink.php", "posts", "videos", "groups", "p", "reel", "@user",
        "video", "channel", "group", "direct", "thread", "details", "download", "file", "d",
        "folder", "folders", "drive", "scl", "fi", "raw", "u", "@chan:a", "claim:b", "123",
        "1234567890123", "dQw4w9WgXcQ", "AbCd1234", "UCabcdefghijklmnopqrstuv", "..", ".",
        "20200101000000", "https:", "x.com", "url", "l.php", "open", "uc", "",
    ]
)  # fmt: skip
_PARAMS = st.lists(
    st.tuples(
        st.sampled_from(["v", "id", "msg", "q", "u", "story_fbid", "fbid", "utm_source", "s",
                         "list", "rlkey", "resourcekey", "domain", "post", "fbclid", "si", "x"]),
        st.one_of(st.sampled_from(["dQw4w9WgXcQ", "123", "aBcD1234eFgH5678",
                                   "https%3A%2F%2Fx.com%2Fa%2Fstatus%2F1", "https://t.me/abc/1"]),
                  _SEG),
    ),
    max_size=3,
)  # fmt: skip


@st.composite
def platformish_urls(draw: st.DrawFn) -> str:
    segs = draw(st.lists(st.one_of(_PATH_WORDS, _SEG), max_size=5))
    params = draw(_PARAMS)
    url = draw(_PREFIX) + draw(_HOSTS) + "/" + "/".join(segs)
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params)
    if draw(st.booleans()):
        url += "#" + draw(st.one_of(_SEG, st.just("!AbCd1234!KeYkEyKeYkEyKeYkEy")))
    return url


ANY_INPUT = st.one_of(
    st.text(max_size=200),
    hyp_urls(),
    platformish_urls(),
    st.builds(lambda a, b: a + b, hyp_urls(), st.text(max_size=30)),
)


def _canon_or_none(text: str) -> ItemIdentity | None:
    try:
        return canonicalize(text)
    except InvalidURL:
        return None


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_INPUT)
def test_never_raises_anything_but_invalid_url(text: str) -> None:
    got = _canon_or_none(text)
    if got is not None:
        assert got.key and got.platform
        assert _scheme_ok(got.canonical_url)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(hyp_urls(), platformish_urls()))
def test_canonicalisation_is_idempotent(text: str) -> None:
    first = _canon_or_none(text)
    if first is None:
        return
    again = canonicalize(first.canonical_url)
    assert again.identity == first.identity
    assert again.canonical_url == first.canonical_url
    assert again.kind == first.kind and again.parent_key == first.parent_key
    assert canonicalize(first.fetch_url).identity == first.identity


def test_host_cache_gives_what_a_cold_parse_gives() -> None:
    """parse() keeps normalised hosts by (scheme, authority); warm or cold, same identities,
    and a bad host raises every time (failures are never kept)."""
    from takedown.platforms.canon import parse as parse_mod

    urls = [
        "https://WWW.X.com:443/syn_a/status/1",
        "http://x.com:80/syn_a/status/1",
        "x.com:80/syn_a/status/1",
        "HTTPS://m.YouTube.com/watch?v=abcdefghijk",
        "https://user:pw@t.me/s/synchan/5",
        "hxxps://example[.]com/a",
        "http://xn--bcher-kva.example/a",
        "https://bücher.example:8080/a",
    ]
    parse_mod._authorities.clear()
    cold = [canonicalize(u) for u in urls]
    warm = [canonicalize(u) for u in urls]
    assert warm == cold and len(parse_mod._authorities) > 0
    parse_mod._authorities.clear()
    assert [canonicalize(u) for u in reversed(urls)] == list(reversed(cold))
    for _ in range(2):
        with pytest.raises(InvalidURL):
            canonicalize("https://exa mple.com/a")
        with pytest.raises(InvalidURL):
            canonicalize("https://example.com:99999/a")
