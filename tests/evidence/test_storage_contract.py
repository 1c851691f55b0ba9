"""One contract for every evidence storage backend: local files and S3 (moto's local server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from takedown.config import Settings
from takedown.evidence.storage import EvidenceStore, get_store, register_backend, sha256_hex
from takedown.evidence.storage.base import ObjectMissing
from takedown.evidence.storage.local import LocalStore
from takedown.evidence.storage.s3 import S3Store
from takedown.kit.errors import Conflict, InvalidInput


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    import moto.server as moto_server  # a dev dependency: never skipped

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _s3(endpoint: str, bucket: str) -> S3Store:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=bucket)
    return S3Store(bucket=bucket, client=client)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "local":
        return LocalStore(tmp_path / "evidence")
    endpoint = request.getfixturevalue("s3_endpoint")
    return _s3(endpoint, f"ev-{abs(hash(str(tmp_path))) % 10**8}")


def test_put_names_objects_by_sha256_and_reads_back(store: EvidenceStore) -> None:
    data = b"synthetic evidence bytes"
    obj = store.put(data)
    assert obj.sha256 == sha256_hex(data) and obj.size == len(data) and obj.created
    assert store.exists(obj.sha256)
    assert store.get(obj.sha256) == data
    assert obj.sha256 in store.locate(obj.sha256)


def test_put_is_write_once_and_idempotent(store: EvidenceStore) -> None:
    first = store.put(b"original")
    again = store.put(b"original")
    assert again.sha256 == first.sha256 and not again.created
    copy = store.put(b"original, redacted")  # a working copy is a new object
    assert copy.sha256 != first.sha256
    assert store.get(first.sha256) == b"original"


def test_missing_object_raises_typed_error(store: EvidenceStore) -> None:
    with pytest.raises(ObjectMissing):
        store.get("0" * 64)
    assert not store.exists("0" * 64)
    assert store.delete("0" * 64) is False


def test_keys_and_delete(store: EvidenceStore) -> None:
    a = store.put(b"a").sha256
    b = store.put(b"b").sha256
    assert {a, b} <= set(store.keys())
    assert store.delete(a) is True
    assert not store.exists(a) and store.exists(b)
    assert a not in set(store.keys())


@pytest.mark.parametrize("key", ["../../etc/passwd", "ABC", "g" * 64, ""])
def test_keys_that_are_not_digests_are_refused(store: EvidenceStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.get(key)


def test_local_objects_are_read_only_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    sha = store.put(b"x").sha256
    mode = Path(store.locate(sha)).stat().st_mode & 0o777
    assert mode == 0o444


def test_registry_builds_configured_backends_and_refuses_duplicates(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert isinstance(get_store("local", settings), LocalStore)
    with pytest.raises(InvalidInput):
        get_store("nope", settings)
    with pytest.raises(InvalidInput):
        get_store("s3", settings)  # no bucket configured
    with pytest.raises(Conflict):
        register_backend("local", lambda s: LocalStore(s.evidence_dir))


def test_batch_writes_are_readable_inside_and_after(store: EvidenceStore) -> None:
    with store.batch():
        a = store.put(b"batched one")
        assert store.get(a.sha256) == b"batched one"
        with store.batch():
            b = store.put(b"batched two")
    assert store.exists(a.sha256) and store.exists(b.sha256)


def test_entries_list_every_object_with_its_size_and_last_write(store: EvidenceStore) -> None:
    """What orphan collection judges an object's age by (local mtime, S3 LastModified)."""
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    a = store.put(b"listed with its age")
    b = store.put(b"and another one, longer")
    again = store.put(b"listed with its age")  # already stored: nothing written
    assert not again.created
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    entries = {e.sha256: e for e in store.entries()}
    assert set(entries) == {a.sha256, b.sha256} == set(store.keys())
    assert entries[a.sha256].size == a.size and entries[b.sha256].size == b.size
    for e in entries.values():
        assert e.modified.tzinfo is not None and before <= e.modified <= after


def test_finished_writes_leave_no_temporaries(store: EvidenceStore) -> None:
    """Every ``put`` that returned cleans up after itself: nothing for orphan collection's
    ``drop_temporaries`` to find, and the objects stay."""
    a = store.put(b"a finished write")
    with store.batch():
        b = store.put(b"a batched write")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert store.drop_temporaries(later, dry_run=True) == 0
    assert store.drop_temporaries(later) == 0
    assert store.exists(a.sha256) and store.exists(b.sha256)
