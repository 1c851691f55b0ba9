"""Tenant-isolation probes for monitoring (see tests/isolation.py): sources, the feed,
proposals and Rocket.Chat servers are agency A's; agency B gets 404s and sees no marker."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from takedown.monitoring import service
from takedown.monitoring.models import Observation, Proposal
from tests.factories import Actor
from tests.isolation import Case, probe

_seq = itertools.count(1)


def a_source(s: Session, a: Actor) -> tuple[int, str]:
    src, _ = service.add_source(s, a.principal, f"https://t.me/synthprobe{next(_seq)}")
    return src.id, src.url


def a_proposal(s: Session, a: Actor) -> int:
    return a_proposal_url(s, a)[0]


def a_proposal_url(s: Session, a: Actor) -> tuple[int, str]:
    sid, _ = a_source(s, a)
    n = next(_seq)
    p = Proposal(
        agency_id=a.agency.id,
        identity=f"telegram:channel/synthprop{n}",
        url=f"https://t.me/synthprop{n}",
        kind="telegram",
        found_in_source_id=sid,
    )
    s.add(p)
    s.flush()
    return p.id, p.url


def an_observation(s: Session, a: Actor) -> str:
    sid, url = a_source(s, a)
    src = service.get_source(s, a.principal, sid)
    assert src.item_id is not None
    s.add(
        Observation(
            source_id=sid,
            agency_id=a.agency.id,
            item_id=src.item_id,
            kind="message",
            url=url,
            text="synthprobe-feed-marker",
            seen_at=src.created_at,
        )
    )
    s.flush()
    return "synthprobe-feed-marker"


API = "/api/v1/monitoring"
probe("GET", f"{API}/sources")(lambda s, a: Case(marker=a_source(s, a)[1]))
probe("POST", f"{API}/sources")(lambda s, a: Case(body={"url": "https://t.me/synthprobenew"}))
probe("POST", f"{API}/sources/bulk")(lambda s, a: Case(body={"urls": ["https://t.me/synthbulk"]}))
probe("POST", f"{API}/sources/from-operation/{{operation_id}}")(
    lambda s, a: Case(params={"operation_id": 999_999}, owner_ok=False)
)
probe("GET", f"{API}/sources/{{source_id}}")(
    lambda s, a: Case(params={"source_id": a_source(s, a)[0]})
)
probe("DELETE", f"{API}/sources/{{source_id}}")(
    lambda s, a: Case(params={"source_id": a_source(s, a)[0]})
)
probe("POST", f"{API}/sources/{{source_id}}/crawl")(
    lambda s, a: Case(params={"source_id": a_source(s, a)[0]})
)
probe("GET", f"{API}/feed")(lambda s, a: Case(marker=an_observation(s, a)))
probe("GET", f"{API}/proposals")(lambda s, a: Case(marker=a_proposal_url(s, a)[1]))
probe("POST", f"{API}/proposals/{{proposal_id}}/accept")(
    lambda s, a: Case(params={"proposal_id": a_proposal(s, a)})
)
probe("POST", f"{API}/proposals/{{proposal_id}}/reject")(
    lambda s, a: Case(params={"proposal_id": a_proposal(s, a)})
)


def a_server(s: Session, a: Actor) -> str:
    service.add_server(
        s,
        a.principal,
        "https://chat-probe.synthetic.example",
        user_id="u",
        token="t",
        secret_key="test-secret",
    )
    return "chat-probe.synthetic.example"


probe("GET", f"{API}/servers")(lambda s, a: Case(marker=a_server(s, a)))
probe("POST", f"{API}/servers")(
    lambda s, a: Case(body={"base_url": "https://chat.example.org", "user_id": "u", "token": "t"})
)

# Pages.
probe("GET", "/monitoring")(lambda s, a: Case(marker=a_source(s, a)[1]))
probe("GET", "/monitoring/feed")(lambda s, a: Case(marker=an_observation(s, a)))
probe("POST", "/monitoring/sources")(lambda s, a: Case())
probe("POST", "/monitoring/sources/{source_id}/remove")(
    lambda s, a: Case(params={"source_id": a_source(s, a)[0]})
)
probe("POST", "/monitoring/sources/{source_id}/crawl")(
    lambda s, a: Case(params={"source_id": a_source(s, a)[0]})
)
probe("POST", "/monitoring/proposals/{proposal_id}/{decision}")(
    lambda s, a: Case(params={"proposal_id": a_proposal(s, a), "decision": "accept"})
)
