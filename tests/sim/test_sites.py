"""Each simulated platform's pages and APIs, fetched through kit/http over TLS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from takedown.sim.harness import SimHandle


@pytest.fixture(scope="module")
def client(shared_sim: SimHandle) -> Iterator[httpx.Client]:
    with shared_sim.sync_client(follow_redirects=False) as c:
        yield c


def _one(
    sim: SimHandle, platform: str, kind: str, access: str = "public", alive: bool = True
) -> dict[str, Any]:
    return next(i for i in sim.items(platform, kind, alive) if i["access"] == access)


def test_x_profile_and_status(shared_sim: SimHandle, client: httpx.Client) -> None:
    acc = _one(shared_sim, "x", "account")
    r = client.get(acc["url"])
    assert r.status_code == 200
    assert (
        "/ X</title>" in r.text
        and 'property="og:title"' in r.text
        and 'data-testid="UserName"' in r.text
    )
    post = next(
        p for p in shared_sim.items("x", "post", True) if p["access"] == "public" and p["media"]
    )
    r = client.get(post["url"])
    assert r.status_code == 200 and 'data-testid="tweetText"' in r.text
    assert "pbs.twimg.com/media/" in r.text or "video.twimg.com" in r.text
    # the same status through other hosts the platform answers
    alt = post["url"].replace("https://x.com/", "https://mobile.twitter.com/")
    assert client.get(alt).status_code == 200


def test_x_removed_pages(shared_sim: SimHandle, client: httpx.Client) -> None:
    r = client.get("https://x.com/nobody_here_zz")
    assert "This account doesn’t exist" in r.text
    gone = [i for i in shared_sim.items("x", "account", False)]
    assert gone, "small.yaml has organic suspensions before the start"
    r = client.get(gone[0]["url"])
    assert "Account suspended" in r.text
    r = client.get("https://x.com/nobody_here_zz/status/123")
    assert "this page doesn’t exist" in r.text


def test_x_media_is_served(shared_sim: SimHandle, client: httpx.Client) -> None:
    post = next(
        p for p in shared_sim.items("x", "post", True) if p["media"] and p["access"] == "public"
    )
    html = client.get(post["url"]).text
    start = (
        html.index("https://pbs.twimg.com/media/")
        if "pbs.twimg.com" in html
        else html.index("https://video.twimg.com/")
    )
    url = html[start : html.index('"', start)].replace("&amp;", "&")
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] in ("image/jpeg", "video/mp4")
    assert len(r.content) > 1000


def test_youtube_watch_short_link_and_oembed(shared_sim: SimHandle, client: httpx.Client) -> None:
    v = _one(shared_sim, "youtube", "video")
    vid = v["url"].split("v=")[1]
    r = client.get(v["url"])
    assert r.status_code == 200 and "- YouTube</title>" in r.text and '"status": "OK"' in r.text
    r = client.get(f"https://youtu.be/{vid}")
    assert r.status_code == 303 and r.headers["location"].startswith(
        f"https://www.youtube.com/watch?v={vid}"
    )
    r = client.get("https://www.youtube.com/oembed", params={"url": v["url"], "format": "json"})
    assert r.status_code == 200 and r.json()["provider_name"] == "YouTube"
    r = client.get(
        "https://www.youtube.com/oembed",
        params={"url": "https://www.youtube.com/watch?v=XXXXXXXXXXX"},
    )
    assert r.status_code == 404
    r = client.get("https://www.youtube.com/watch?v=XXXXXXXXXXX")
    assert "This video isn't available anymore" in r.text
    thumb = client.get(f"https://i.ytimg.com/vi/{vid}/hqdefault.jpg")
    assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    stream = client.get(f"https://www.youtube.com/videoplayback?v={vid}")
    assert stream.headers["content-type"] == "video/mp4"


def test_youtube_login_required_oembed_is_401(shared_sim: SimHandle, client: httpx.Client) -> None:
    locked = [
        i for i in shared_sim.items("youtube", "video", True) if i["access"] == "login_required"
    ]
    assert locked, "the scenario must hold a login-walled video for this test to mean anything"
    r = client.get("https://www.youtube.com/oembed", params={"url": locked[0]["url"]})
    assert r.status_code == 401


def test_telegram_preview_and_post(shared_sim: SimHandle, client: httpx.Client) -> None:
    ch = _one(shared_sim, "telegram", "channel")
    name = ch["url"].rsplit("/", 1)[1]
    r = client.get(f"https://t.me/s/{name}")
    assert (
        r.status_code == 200
        and 'class="tgme_widget_message"' in r.text
        and f'data-post="{name}/' in r.text
    )
    r = client.get(ch["url"])
    assert "tgme_page_title" in r.text and "Preview channel" in r.text
    r = client.get("https://t.me/s/no_such_channel_zz")
    assert r.status_code == 302 and r.headers["location"] == "https://t.me/no_such_channel_zz"


def test_rocketchat_api(shared_sim: SimHandle, client: httpx.Client) -> None:
    rc = shared_sim.info()["rocketchat"]["rocket"]
    base = f"https://{rc['host']}/api/v1"
    assert client.get(f"{base}/channels.history", params={"roomName": "x"}).status_code == 401
    login = client.post(
        f"{base}/login", json={"user": rc["user"], "password": rc["password"]}
    ).json()
    assert login["data"]["authToken"] == rc["token"]
    h = {"X-Auth-Token": rc["token"], "X-User-Id": rc["user_id"]}
    public = client.get(f"{base}/channels.list", headers=h).json()["channels"]
    private = client.get(f"{base}/groups.list", headers=h).json()["groups"]
    assert public and private
    hist = client.get(
        f"{base}/channels.history", params={"roomName": public[0]["name"], "count": 2}, headers=h
    ).json()
    assert hist["success"] and len(hist["messages"]) == 2 and hist["total"] >= 2
    assert hist["messages"][0]["ts"] > hist["messages"][1]["ts"]  # newest first
    r = client.get(f"{base}/channels.history", params={"roomName": private[0]["name"]}, headers=h)
    assert r.status_code == 400 and r.json()["errorType"] == "error-room-not-found"
    r = client.get(f"{base}/groups.history", params={"roomName": private[0]["name"]}, headers=h)
    assert r.status_code == 200 and r.json()["messages"]


def test_filehost_page_and_download(shared_sim: SimHandle, client: httpx.Client) -> None:
    f = _one(shared_sim, "dropvault", "file")
    r = client.get(f["url"])
    assert r.status_code == 200 and 'class="download"' in r.text
    start = r.text.index('href="', r.text.index('class="download"')) + 6
    dl = client.get(r.text[start : r.text.index('"', start)])
    assert dl.status_code == 200 and dl.headers["content-type"] in ("image/jpeg", "video/mp4")
    assert client.get("https://files.dropvault.example/f/doesnotexist").status_code == 404


def test_paste_and_raw(shared_sim: SimHandle, client: httpx.Client) -> None:
    p = _one(shared_sim, "textbin", "paste")
    r = client.get(p["url"])
    assert r.status_code == 200 and "<textarea" in r.text
    key = p["url"].rsplit("/", 1)[1]
    raw = client.get(f"https://paste.textbin.example/raw/{key}")
    assert raw.headers["content-type"].startswith("text/plain") and raw.text in r.text


def test_website_and_geo_block(shared_sim: SimHandle, client: httpx.Client) -> None:
    page = _one(shared_sim, "webhost", "page")
    r = client.get(page["url"])
    assert r.status_code == 200 and 'class="entry-title"' in r.text and "og:title" in r.text
    blocked = [i for i in shared_sim.items(alive=True) if i["access"] == "geo_blocked"]
    assert blocked
    assert client.get(blocked[0]["url"]).status_code == 451


def test_onion_forum_only_through_socks(shared_sim: SimHandle, client: httpx.Client) -> None:
    thread = _one(shared_sim, "forum", "thread")
    r = client.get(thread["url"])  # the sync client has the sim's Tor proxy
    assert r.status_code == 200 and 'class="post"' in r.text
    host = thread["url"].split("/")[2]
    direct = httpx.get(
        f"http://127.0.0.1:{shared_sim.port}/", headers={"Host": host}, trust_env=False
    )
    assert direct.status_code == 421
    with shared_sim.sync_client(tor_proxy=None) as no_tor:
        from takedown.kit.http import BlockedDestination

        with pytest.raises(BlockedDestination):
            no_tor.get(thread["url"])


def test_socks_refuses_other_names(shared_sim: SimHandle) -> None:
    import httpx_socks

    transport = httpx_socks.SyncProxyTransport.from_url(shared_sim.tor_proxy, rdns=True)
    with (
        httpx.Client(transport=transport, trust_env=False) as c,
        pytest.raises(Exception, match=r"(?i)unreachable"),
    ):
        c.get("http://x.com/")


def test_unknown_host_is_misdirected(shared_sim: SimHandle) -> None:
    r = httpx.get(
        f"http://127.0.0.1:{shared_sim.port}/", headers={"Host": "unknown.test"}, trust_env=False
    )
    assert r.status_code == 421
