"""Two takedown instances on this machine (two processes, two databases) share a bank and
items over TAXII and deconflict by PSI: the hits are exact, and the partner's side keeps
and audits only how many elements it was asked."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from takedown.accounts import service as accounts
from takedown.accounts.service import SYSTEM
from takedown.audit.models import AuditEvent
from takedown.bootstrap import prepare_database
from takedown.db import make_engine, make_sessionmaker, session_scope
from takedown.items import repository as items_repository
from takedown.items import service as items
from takedown.matching import service as matching
from takedown.matching.models import Signal
from takedown.matching.schemas import BankCreate, Labels, SignalIn
from takedown.sharing import collections, deconfliction, partners, shares
from takedown.sharing.models import DeconflictionAnswer, DeconflictionRequest, Followup

SECRET = "two-instances-test-secret"
TAKEDOWN = Path(sys.executable).parent / "takedown"
HELD = "https://x.com/twin_held/status/5551"
FREE = "https://x.com/twin_free/status/5552"
CHANNEL_POST = "https://t.me/synthtwinchan/77"
WATCHED_HASH = "e" * 64


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Instance:
    name: str
    url: str  # database URL
    data_dir: Path
    port: int
    engine: Engine

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAKEDOWN_")}
        env.update(
            TAKEDOWN_DATA_DIR=str(self.data_dir),
            TAKEDOWN_DATABASE_URL=self.url,
            TAKEDOWN_SECRET_KEY=SECRET + self.name,
            TAKEDOWN_SSRF_ALLOW="127.0.0.1",
            TAKEDOWN_HOST="127.0.0.1",
            TAKEDOWN_PORT=str(self.port),
        )
        return env

    def session(self) -> Session:
        return make_sessionmaker(self.engine)()

    def cli(self, *args: str) -> str:
        r = subprocess.run(
            [str(TAKEDOWN), *args], env=self.env, capture_output=True, text=True, timeout=240
        )
        assert r.returncode == 0, f"takedown {' '.join(args)}: {r.stdout}\n{r.stderr}"
        return r.stdout


def _instance(tmp: Path, name: str, url: str | None) -> Instance:
    data = tmp / name
    data.mkdir(parents=True, exist_ok=True)
    db = url or f"sqlite:///{data / 'takedown.sqlite3'}"
    engine = make_engine(db)
    prepare_database(engine)
    return Instance(name, db, data, _port(), engine)


@contextmanager
def _served(inst: Instance) -> Iterator[None]:
    log = open(inst.data_dir / "serve.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(TAKEDOWN), "serve", "--no-migrate"], env=inst.env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{inst.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError((inst.data_dir / "serve.log").read_text()[-2000:])
            time.sleep(0.2)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@contextmanager
def _pg_database(tag: str) -> Iterator[str]:
    from tests.conftest import own_pg_database

    with own_pg_database(f"takedown_twin_{tag}", migrate=False) as url:
        yield url


def _setup_b(b: Instance, a_contact: str) -> dict[str, object]:
    """Instance B: an IRU that holds one item, watches a channel and a hash, and shares
    two items and a bank with A's IRU in an organisation collection."""
    with session_scope(make_sessionmaker(b.engine)) as s:
        iru = accounts.create_agency(s, SYSTEM, name="IRU B", country="DE", kind="national_iru",
                                     contact_point="desk@iru-b.invalid")  # fmt: skip
        sup = accounts.create_user(s, SYSTEM, agency_id=iru.id, email="sup@iru-b.invalid",
                                   role="supervisor", password="x" * 16)  # fmt: skip
        who = accounts.principal_for(sup, iru, via="cli")
        held, _ = items.report_url(s, who, HELD)
        items.assess(s, who, held.id, "terrorist_content", ["a"], group="Synthetic Group")
        items.place_hold(s, who, held.id, reason="synthetic investigation")
        shared, _ = items.report_url(s, who, "https://x.com/twin_shared/status/5553")
        deconfliction.add_investigation(s, who, url="https://t.me/synthtwinchan")
        deconfliction.add_investigation(s, who, sha256=WATCHED_HASH)
        bank = matching.create_bank(s, who, BankCreate(name="known synthetic", tlp="GREEN"))
        for t, v in (("sha256", "a" * 64), ("md5", "b" * 32), ("pdq", "c" * 64)):
            matching.add_signal(s, who, bank.id, SignalIn(
                signal_type=t, value=v, labels=Labels(group="Synthetic Group", tier=3),
                source="seed"))  # fmt: skip
        matching.add_signal(s, who, bank.id, SignalIn(signal_type="sha256", value="f" * 64,
                                                      tlp="RED", source="secret"))  # fmt: skip
        # A's IRU as B knows it: its agency, its service user and token, a partner record.
        rep = accounts.create_agency(s, SYSTEM, name="IRU A (partner)", country="FR",
                                     kind="national_iru", contact_point=a_contact)  # fmt: skip
        svc = accounts.create_user(s, SYSTEM, agency_id=rep.id, email="taxii@iru-a.invalid",
                                   role="analyst", password="y" * 16)  # fmt: skip
        token = accounts.create_token(s, SYSTEM, user_id=svc.id, name="IRU A",
                                      scopes=["sharing:read", "sharing:write"]).token  # fmt: skip
        partners.create_partner(s, who, partners.PartnerIn(
            name="IRU A", country="FR", contact_point=a_contact, agency_id=rep.id),
            secret_key=SECRET + "B")  # fmt: skip
        coll = collections.create_collection(s, who, title="For IRU A", audience="organisation")
        collections.grant(s, who, coll.id, rep.id, read=True, write=True)
        shares.share(s, who, coll.id, "item", held.id, tlp="AMBER")
        shares.share(s, who, coll.id, "item", shared.id, tlp="GREEN")
        shares.share(s, who, coll.id, "bank", bank.id)
        return {"token": token, "collection": coll.uuid, "rep_agency": rep.id}


def _setup_a(a: Instance, b: Instance, b_setup: dict[str, object]) -> dict[str, int]:
    with session_scope(make_sessionmaker(a.engine)) as s:
        iru = accounts.create_agency(s, SYSTEM, name="IRU A", country="FR", kind="national_iru",
                                     contact_point="desk@iru-a.invalid")  # fmt: skip
        accounts.create_user(s, SYSTEM, agency_id=iru.id, email="sup@iru-a.invalid",
                             role="supervisor", password="x" * 16)  # fmt: skip
        return {"agency": iru.id}


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_two_instances_share_and_deconflict(tmp_path: Path, engine: str) -> None:
    with _pg_database("b") if engine == "postgresql" else _nothing() as pg_url:
        a = _instance(tmp_path, "A", None)
        b = _instance(tmp_path, "B", pg_url)
        try:
            _run(a, b)
        finally:
            a.engine.dispose()
            b.engine.dispose()


def _run(a: Instance, b: Instance) -> None:
    b_setup = _setup_b(b, "desk@iru-a.invalid")
    _setup_a(a, b, b_setup)
    with _served(b):
        # A adds B as a partner (token from stdin, sealed), pulls, and asks.
        out = subprocess.run(
            [str(TAKEDOWN), "partner", "add", "IRU B", "--country", "DE",
             "--contact-point", "desk@iru-b.invalid",
             "--api-root", f"{b.base}/taxii2/api/", "--collection", str(b_setup["collection"]),
             "--token", "-", "--trust", "auto", "--tlp-ceiling", "AMBER",
             "--deconfliction-url", f"{b.base}/api/v1/deconfliction/psi",
             "--user", "sup@iru-a.invalid", "--format", "json"],
            input=f"{b_setup['token']}\n", env=a.env, capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        partner_id = json.loads(out.stdout)[0]["id"]
        pulled = json.loads(a.cli("partner", "pull", str(partner_id), "--format", "json"))
        assert pulled[0]["failed"] == 0 and pulled[0]["stored"] > 0
        again = json.loads(a.cli("partner", "pull", str(partner_id), "--format", "json"))
        assert again[0]["stored"] == 0  # nothing twice

        with a.session() as s:
            shared_item = items_repository.item_by_identity(s, "x:status/5553")
            assert shared_item is not None
            b_rep = partners.get_partner(s, SYSTEM, partner_id).agency_id
            sightings = items_repository.sightings_of(s, shared_item.id)
            assert {sg.agency_id for sg, _ in sightings} == {b_rep}
            signals = s.scalars(select(Signal).where(Signal.source == "partner:IRU B")).all()
            assert sorted(x.signal_type for x in signals) == ["md5", "pdq", "sha256"]
            assert "f" * 64 not in {x.value for x in signals}  # B's RED signal stayed home

        # A's own items: the one B holds, one nobody holds, a post in B's watched channel.
        from takedown.items.cli import acting_as

        with session_scope(make_sessionmaker(a.engine)) as s:
            who = acting_as(s, None, "sup@iru-a.invalid")
            ids = [items.report_url(s, who, u)[0].id for u in (HELD, FREE, CHANNEL_POST)]
        asked = a.cli(
            "deconflict", "ask", str(partner_id), *[f"--item={i}" for i in ids],
            f"--sha256={WATCHED_HASH}", "--sha256=" + "0" * 64,
            "--user", "sup@iru-a.invalid", "--format", "json",
        )  # fmt: skip
        hits = {h["element"] for h in json.loads(asked)}
        assert hits == {
            "url:x:status/5551",
            "url:telegram:channel/synthtwinchan",
            "sha256:" + WATCHED_HASH,
        }

    with a.session() as s:
        req = s.scalars(select(DeconflictionRequest)).one()
        # elements: held post + its account, free post + its account, the message + its
        # channel, two hashes
        assert (req.elements, req.hits, req.status) == (8, 3, "answered")
        assert req.bytes_received > 0
        held_item = items_repository.item_by_identity(s, "x:status/5551")
        assert held_item is not None
        holds = items_repository.active_holds(s, held_item.id)
        assert [h.contact_point for h in holds] == ["desk@iru-b.invalid"]
        free_item = items_repository.item_by_identity(s, "x:status/5552")
        assert free_item is not None and items_repository.active_holds(s, free_item.id) == []
        assert len(s.scalars(select(Followup)).all()) == 3
        ask_events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "deconfliction.ask")
        ).all()
        assert [json.loads(e.details)["hits"] for e in ask_events] == [3]
        held_followup = next(
            f for f in s.scalars(select(Followup)).all() if f.item_id == held_item.id
        )
    # Settled with B's desk: A closes the follow-up and releases the hold it placed.
    a.cli("deconflict", "close", str(held_followup.id), "--release", "--note", "called",
          "--user", "sup@iru-a.invalid")  # fmt: skip
    with a.session() as s:
        assert items_repository.active_holds(s, held_item.id) == []

    with b.session() as s:
        answers = s.scalars(select(DeconflictionAnswer)).all()
        assert [(x.asker_agency_id, x.elements) for x in answers] == [(b_setup["rep_agency"], 8)]
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        answered = [json.loads(e.details) for e in events if e.action == "deconfliction.answer"]
        assert answered == [{"elements": 8}]
        everything = " ".join(e.details + e.subject_id for e in events)
        for secret in ("twin_free", "5552", "0" * 64, "synthtwinchan/77"):
            assert secret not in everything, f"B's audit learnt {secret!r}"


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
