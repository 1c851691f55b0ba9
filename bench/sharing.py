"""Benchmark sharing: the TAXII server's export, a taxii2-client pull, and PSI deconfliction.

    .venv/bin/python bench/sharing.py            # 100k objects; PSI 1k/100k and 10k/1M
    .venv/bin/python bench/sharing.py --quick    # 10k objects; PSI 1k/100k only

Figures:
- TAXII export: 100k STIX objects (25k items as url + indicator + observed-data + one
  sighting) published into a collection (SQLite), then read by plain HTTP GETs of 1,000
  per page through a served app: objects/s, and the ratio to serialising the same 100k
  objects with ``stix2`` alone (``obj.serialize()``), measured in the same run;
- a pull of the same collection by OASIS's ``taxii2-client`` (``as_pages``, 1,000 per
  page): objects/s;
- PSI (openmined-psi): an asker of N elements against an answerer of M, with a cold
  answerer (its blinded set computed, in parallel shards) and a warm one (set cached, as
  between two changes of a day), median of 3; bytes on the wire (question, answer and
  the blinded set). Target for 1k against 100k: under 5 s cold and under 2 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _facts(n: int):  # type: ignore[no-untyped-def]
    from takedown.sharing.facts import ItemFact, SightingFact
    from takedown.sharing.tlp import Tlp

    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for i in range(n):
        yield ItemFact(
            identity=f"x:status/{10_000_000 + i}", platform="x", kind="post",
            key=f"status/{10_000_000 + i}",
            canonical_url=f"https://x.com/syn{i % 977}/status/{10_000_000 + i}",
            first_seen_at=t0, last_seen_at=t0, status="new", status_changed_at=t0, tlp=Tlp.GREEN,
            sightings=(SightingFact(i, t0 + dt.timedelta(seconds=i)),),
        )  # fmt: skip


def bench_taxii(n_objects: int) -> dict[str, object]:
    from taxii2client.v21 import Collection, as_pages

    from takedown.accounts import service as accounts
    from takedown.accounts.service import SYSTEM
    from takedown.app import create_app
    from takedown.bootstrap import prepare_database
    from takedown.config import Settings
    from takedown.db import make_engine, make_sessionmaker, session_scope
    from takedown.sharing import collections, publish, stixmap
    from takedown.sharing.facts import Producer

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tests.sharing.live import BearerAuth, serve

    tmp = Path(tempfile.mkdtemp(prefix="bench-sharing-"))
    engine = make_engine(f"sqlite:///{tmp / 'bench.sqlite3'}")
    prepare_database(engine)
    factory = make_sessionmaker(engine)
    producer = Producer("IRU Bench", "FR", "bench@example.invalid")
    objs = [o for f in _facts(n_objects // 4) for o in stixmap.item_objects(f, producer)]
    t = time.perf_counter()
    for o in objs:
        o.serialize()
    stix2_s = time.perf_counter() - t
    with session_scope(factory) as s:
        ag = accounts.create_agency(s, SYSTEM, name="IRU Bench", country="FR", kind="national_iru")
        reader_ag = accounts.create_agency(
            s, SYSTEM, name="Reader", country="DE", kind="national_iru"
        )
        user = accounts.create_user(s, SYSTEM, agency_id=reader_ag.id, email="r@bench.invalid",
                                    role="analyst", password="x" * 16)  # fmt: skip
        token = accounts.create_token(s, SYSTEM, user_id=user.id, name="b").token
        coll = collections.create_collection(s, SYSTEM, title="bench", audience="community",
                                             owner_agency_id=ag.id)  # fmt: skip
        collections.grant(s, SYSTEM, coll.id, reader_ag.id, read=True)
        uuid = coll.uuid
        t = time.perf_counter()
        publish.store(s, coll, [(o, o_tlp) for o, o_tlp in ((o, _tlp()) for o in objs)],
                      now=dt.datetime.now(dt.UTC))  # fmt: skip
        publish_s = time.perf_counter() - t
    settings = Settings(data_dir=tmp, secret_key="bench")  # noqa: S106
    app = create_app(settings, engine=engine)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/taxii+json;version=2.1"}
    with serve(app) as base:
        url = f"{base}/taxii2/api/collections/{uuid}/objects/"
        exports_s, pulls_s = [], []
        for _ in range(3):
            t = time.perf_counter()
            got = 0
            params: dict[str, object] = {"limit": 1000}
            with httpx.Client(timeout=120) as c:
                while True:
                    body = c.get(url, headers=headers, params=params).json()
                    got += len(body.get("objects", []))
                    if not body.get("more"):
                        break
                    params = {"limit": 1000, "next": body["next"]}
            exports_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            pulled = 0
            coll_ep = Collection(url.removesuffix("objects/"), auth=BearerAuth(token))
            for env in as_pages(coll_ep.get_objects, per_request=1000):
                pulled += len(env.get("objects", []))
            pulls_s.append(time.perf_counter() - t)
        export_s, pull_s = statistics.median(exports_s), statistics.median(pulls_s)
    engine.dispose()
    n = len(objs)
    assert got == n and pulled == n, (got, pulled, n)
    return {
        "objects": n,
        "stix2_serialize_per_s": round(n / stix2_s),
        "publish_per_s": round(n / publish_s),
        "export_per_s": round(n / export_s),
        "export_vs_stix2": round((n / export_s) / (n / stix2_s), 2),
        "taxii2_client_pull_per_s": round(n / pull_s),
    }


def _tlp():  # type: ignore[no-untyped-def]
    from takedown.sharing.tlp import Tlp

    return Tlp.GREEN


def bench_psi(asks: int, answers: int, runs: int) -> dict[str, object]:
    from takedown.sharing import psi

    key = psi.epoch_key("bench", dt.date(2026, 3, 1))
    theirs = [f"url:x:account/member{i}" for i in range(answers)]
    mine = [f"url:x:account/member{i * 7}" for i in range(asks // 2)] + [
        f"url:x:account/other{i}" for i in range(asks - asks // 2)
    ]
    expected = {e for e in mine if "member" in e and int(e.rsplit("member", 1)[-1]) < answers}
    cold, warm = [], []
    wire = 0
    for _ in range(runs):
        cache = psi.SetupCache()
        t = time.perf_counter()
        q = psi.Question(mine)
        a = psi.answer(q.request, theirs, key, cache)
        hits = q.hits(a.response, a.setups)
        cold.append(time.perf_counter() - t)
        assert hits == expected, (len(hits), len(expected))
        wire = len(q.request) + len(a.response) + sum(len(s) for s in a.setups)
        t = time.perf_counter()
        q = psi.Question(mine)
        a = psi.answer(q.request, theirs, key, cache)
        q.hits(a.response, a.setups)
        warm.append(time.perf_counter() - t)
    return {
        "asks": asks,
        "answers": answers,
        "cold_s": round(statistics.median(cold), 3),
        "warm_s": round(statistics.median(warm), 3),
        "bytes": wire,
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    taxii = bench_taxii(10_000 if args.quick else 100_000)
    psi_small = bench_psi(1000, 100_000, 3)
    psi_big = None if args.quick else bench_psi(10_000, 1_000_000, 1)
    print("TAXII                          objects/s")
    print(f"  stix2 serialize alone        {taxii['stix2_serialize_per_s']:>10}")
    print(f"  publish (map + store)        {taxii['publish_per_s']:>10}")
    ratio = taxii["export_vs_stix2"]
    print(f"  export over HTTP (GET pages) {taxii['export_per_s']:>10}  x{ratio} stix2")
    print(f"  taxii2-client pull           {taxii['taxii2_client_pull_per_s']:>10}")
    print("PSI                 cold s   warm s    bytes")
    for p in (psi_small, psi_big):
        if p:
            line = f"  {p['asks']:>7} vs {p['answers']:>8} {p['cold_s']:>7} {p['warm_s']:>8}"
            print(f"{line} {p['bytes']:>9}")
    targets = {"psi_1k_100k_s": 5.0, "psi_1k_100k_bytes": 2_000_000}
    met = {
        "psi_1k_100k_s": psi_small["cold_s"] < targets["psi_1k_100k_s"],  # type: ignore[operator]
        "psi_1k_100k_bytes": psi_small["bytes"] < targets["psi_1k_100k_bytes"],  # type: ignore[operator]
    }
    print(
        json.dumps(
            {
                "bench": "sharing",
                "quick": args.quick,
                "taxii": taxii,
                "psi": [p for p in (psi_small, psi_big) if p],
                "targets": targets,
                "targets_detail": met,
                "targets_met": all(met.values()),
            }
        )
    )


if __name__ == "__main__":
    main()
