"""Control API, faults, trust & safety intake (API and SMTP), and time passing over HTTP."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage

import httpx
import pytest

from takedown.sim.harness import SimHandle, running_sim


def test_clock_read_and_advance(sim: SimHandle) -> None:
    with sim.control() as ctl:
        c = ctl.get("/clock").json()
        assert c["now"] == "2019-11-21T06:00:00Z" and c["speed"] == 0
        c = ctl.post("/clock/advance", json={"hours": 2}).json()
        assert c["now"] == "2019-11-21T08:00:00Z"
        c = ctl.post("/clock/set", json={"now": "2019-11-22T00:00:00Z"}).json()
        assert c["now"] == "2019-11-22T00:00:00Z"
        assert ctl.post("/clock/set", json={"now": "2019-11-21T00:00:00Z"}).status_code == 400
    assert sim.now().isoformat() == "2019-11-22T00:00:00+00:00"


def test_control_api_is_not_on_the_platform_port(sim: SimHandle) -> None:
    r = httpx.get(
        f"http://127.0.0.1:{sim.port}/_sim/clock", headers={"Host": "x.com"}, trust_env=False
    )
    assert r.status_code == 200 and "/_sim" not in r.text and '"speed"' not in r.text


def test_ground_truth_export_is_reproducible() -> None:
    lines = []
    for _ in range(2):
        with running_sim("small") as s, s.control() as ctl:
            ctl.post("/clock/advance", json={"hours": 30})
            lines.append(ctl.get("/ground-truth").content)
    assert lines[0] == lines[1]
    rows = [json.loads(x) for x in lines[0].splitlines()]
    kinds = {r["type"] for r in rows}
    assert kinds == {"item", "media"}
    item = next(r for r in rows if r["type"] == "item")
    assert set(item) >= {
        "id",
        "platform",
        "kind",
        "url",
        "appeared_at",
        "removed_at",
        "successor_of",
    }
    media = [r for r in rows if r["type"] == "media" and r["variant"]]
    assert media and all(m["original"] for m in media)


def test_scripted_faults(sim: SimHandle) -> None:
    url = sim.items("x", "account", True)[0]["url"]
    with sim.control() as ctl, sim.sync_client() as c:
        ctl.post("/faults", json={"platform": "x", "status": 429, "retry_after": 7})
        r = c.get(url)
        assert r.status_code == 429 and r.headers["retry-after"] == "7"
        ctl.post("/faults", json={"platform": "x", "status": 503, "count": 2})
        assert [c.get(url).status_code for _ in range(3)] == [503, 503, 200]
        ctl.post("/faults", json={"platform": "x", "drop": True})
        with pytest.raises(httpx.TransportError):
            c.get(url)
        assert c.get(url).status_code == 200


def test_rate_limit_from_scenario(small_scenario) -> None:  # type: ignore[no-untyped-def]
    sc = small_scenario.model_copy(deep=True)
    x = next(p for p in sc.platforms if p.id == "x")
    x.behaviour.rate_limit_per_second = 0.001  # one request, then one per 1000 s
    x.behaviour.retry_after = 9
    with running_sim(sc, inject=True) as s, s.sync_client() as c:
        url = s.items("x", "account", True)[0]["url"]
        first, second = c.get(url), c.get(url)
        assert first.status_code == 200
        assert second.status_code == 429 and second.headers["retry-after"] == "9"


def test_referral_api_then_removal_after_delay(sim: SimHandle) -> None:
    acc = next(i for i in sim.items("x", "account", True) if i["access"] == "public")
    with sim.control() as ctl, sim.sync_client() as c:
        r = c.post(
            "https://legal.x.com/api/v1/referrals",
            json={
                "urls": [acc["url"], "https://x.com/nobody_zz"],
                "kind": "tos",
                "agency": "IRU-BE",
            },
        )
        assert r.status_code == 202
        ack = r.json()
        assert ack["acknowledgement_id"].startswith("ACK-X-")
        assert [i["status"] for i in ack["items"]] == ["accepted", "not_found"]
        assert "Account suspended" not in c.get(acc["url"]).text
        ctl.post("/clock/advance", json={"hours": 24})
        assert "Account suspended" in c.get(acc["url"]).text
        status = c.get(f"https://legal.x.com/api/v1/referrals/{ack['acknowledgement_id']}").json()
        assert status["items"][0]["status"] == "removed" and status["items"][0]["removed_at"]
        # the adversary came back under a mutated handle
        ctl.post("/clock/advance", json={"hours": 48})
        truth = [json.loads(x) for x in ctl.get("/ground-truth").text.splitlines()]
        succ = [t for t in truth if t["type"] == "item" and t["successor_of"] == acc["id"]]
        assert len(succ) == 1
        assert c.get(succ[0]["url"]).status_code == 200
        assert "Account suspended" not in c.get(succ[0]["url"]).text


def test_referral_by_email(sim: SimHandle) -> None:
    post = next(i for i in sim.items("telegram", "post", True) if i["access"] == "public")
    msg = EmailMessage()
    msg["From"] = "iru@police.example"
    msg["To"] = "abuse@telegram.org"
    msg["Subject"] = "Referral 2019/123"
    msg.set_content(f"Dear Telegram,\nplease review:\n{post['url']}\n\nRegards")
    with smtplib.SMTP("127.0.0.1", sim.smtp_port) as smtp:
        smtp.send_message(msg)
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("iru@police.example", ["nobody@nowhere.example"], b"Subject: x\r\n\r\nhi")
    with sim.control() as ctl:
        inbox = ctl.get("/inbox").json()
    assert (
        len(inbox) == 1
        and inbox[0]["urls"] == [post["url"]]
        and inbox[0]["acks"][0].startswith("ACK-TELEGRAM-")
    )


def test_refusing_platform_answers_refused(sim: SimHandle) -> None:
    paste = sim.items("textbin", "paste", True)[0]
    with sim.sync_client() as c:
        r = c.post(
            "https://tns.paste.textbin.example/api/v1/referrals", json={"urls": [paste["url"]]}
        )
    assert r.json()["items"][0]["status"] == "refused"


def test_force_remove_and_telegram_blocked_page(sim: SimHandle) -> None:
    ch = next(i for i in sim.items("telegram", "channel", True) if i["access"] == "public")
    with sim.control() as ctl, sim.sync_client() as c:
        assert ctl.post("/remove", json={"url": ch["url"]}).status_code == 200
        name = ch["url"].rsplit("/", 1)[1]
        r = c.get(f"https://t.me/s/{name}")
        assert (
            "This channel can’t be displayed because it violated Telegram's Terms of Service."
            in r.text
        )


def test_removed_video_oembed_404_and_page_text(sim: SimHandle) -> None:
    v = next(i for i in sim.items("youtube", "video", True) if i["access"] == "public")
    with sim.control() as ctl, sim.sync_client() as c:
        ctl.post("/remove", json={"item_id": v["id"], "reason": "referral"})
        assert c.get("https://www.youtube.com/oembed", params={"url": v["url"]}).status_code == 404
        assert "removed for violating YouTube's Terms of Service" in c.get(v["url"]).text
