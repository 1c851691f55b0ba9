import pytest
from tests.isolation import Case, Probe
from tests.evidence.isolation_probes import register_evidence_probes
from tests.evidence.test_api_views import ev_client  # noqa: F401
from tests.factories import make_actor, make_agency
from tests.test_tenant_isolation import _fill

MINE = {}
def probe(method, path, *, role="analyst", kind="tenant"):
    def deco(fn):
        MINE[(method, path)] = Probe(fn, role=role, kind=kind); return fn
    return deco
register_evidence_probes(probe, Case)

@pytest.mark.parametrize("key", sorted(MINE), ids=lambda k: f"{k[0]} {k[1]}")
def test_probe(key, ev_client, db_session):
    client = ev_client
    method, path = key
    pr = MINE[key]
    owner = make_actor(db_session, make_agency(db_session), role=pr.role)
    intruder = make_actor(db_session, make_agency(db_session), role=pr.role)
    case = pr.setup(db_session, owner)
    db_session.flush()
    url = _fill(path, case.params)
    kwargs = {"params": case.query}
    if case.body is not None:
        kwargs["json"] = case.body
    r = client.request(method, url, headers=intruder.headers, **kwargs)
    assert r.status_code < 500, f"{method} {url}: {r.status_code} {r.text[:300]}"
    if case.params and pr.kind == "tenant":
        assert r.status_code in (403, 404), (r.status_code, r.text[:200])
    if case.marker is not None:
        assert case.marker not in r.text
    if case.owner_ok and case.params and pr.kind == "tenant":
        r2 = client.request(method, url, headers=owner.headers, **kwargs)
        assert r2.status_code not in (403, 404), (r2.status_code, r2.text[:200])
    if case.marker is not None:
        r3 = client.get(url, headers=owner.headers, params=case.query) if method == "GET" else None
        if r3 is not None:
            assert case.marker in r3.text
    r4 = client.request(method, _fill(path, {}))
    assert r4.status_code in (401, 403), (r4.status_code, r4.headers.get("location"))
