from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from takedown.matching.index import BinaryIndex, expand_ranges


def _random(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32), dtype=np.uint8)


def _flip(codes: np.ndarray, nbits: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        row[rng.choice(bits.shape[1], nbits, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def _brute(
    codes: np.ndarray, ids: np.ndarray, q: np.ndarray, thr: int
) -> set[tuple[int, int, int]]:
    w = codes.view(np.uint64)
    out = set()
    for i, qq in enumerate(q.view(np.uint64)):
        d = np.bitwise_count(w ^ qq).sum(axis=1)
        for j in np.flatnonzero(d <= thr):
            out.add((i, int(ids[j]), int(d[j])))
    return out


def test_expand_ranges() -> None:
    got = expand_ranges(np.array([5, 0, 10]), np.array([2, 0, 3]))
    assert got.tolist() == [5, 6, 10, 11, 12]


@pytest.mark.parametrize("mih_min_size", [10**9, 1])
def test_search_equals_brute_force(mih_min_size: int) -> None:
    codes = _random(20_000)
    ids = np.arange(len(codes), dtype=np.int64) * 7 + 3
    rng = np.random.default_rng(5)
    picks = rng.choice(len(codes), 300)
    q = np.concatenate(
        [_flip(codes[picks[i : i + 1]], int(k), i) for i, k in enumerate(rng.integers(0, 45, 300))]
    )
    idx = BinaryIndex(mih_min_size=mih_min_size)
    idx.build(ids, codes)
    assert idx.kind == ("mih" if mih_min_size == 1 else "flat")
    for thr in (0, 31, 40):
        qi, got_ids, dist = idx.search_arrays(q, thr)
        got = set(zip(qi.tolist(), got_ids.tolist(), dist.tolist(), strict=True))
        assert got == _brute(codes, ids, q, thr)


def test_incremental_add_remove_and_merge() -> None:
    codes = _random(1000, 1)
    idx = BinaryIndex(delta_max=100, background_merge=False)
    idx.build(np.arange(1000), codes)
    new = _random(1, 99)
    assert idx.search(new, 31) == [[]]
    idx.add([5000], new)
    assert [h.id for h in idx.search(new, 31)[0]] == [5000]
    idx.remove([5000, 3])
    assert idx.search(new, 31) == [[]]
    assert idx.search(codes[3:4], 0) == [[]]
    # Crossing delta_max merges; tombstones stay dead, and the merged base still finds everything.
    more = _random(150, 2)
    idx.add(np.arange(10_000, 10_150), more)
    assert len(idx) == 1000 - 1 + 150
    assert [h.id for h in idx.search(more[7:8], 0)[0]] == [10_007]
    assert idx.search(codes[3:4], 0) == [[]]
    # Re-adding a removed id makes it live again.
    idx.add([3], codes[3:4])
    assert [h.id for h in idx.search(codes[3:4], 0)[0]] == [3]


def test_same_id_many_entries_all_removed() -> None:
    codes = _random(5, 3)
    idx = BinaryIndex()
    idx.add([42] * 5, codes)
    assert all(h and h[0].id == 42 for h in idx.search(codes, 0))
    assert idx.remove([42]) == 5
    assert all(h == [] for h in idx.search(codes, 0))


@pytest.mark.parametrize("mih_min_size", [10**9, 1])
def test_persistence_round_trip(tmp_path: Path, mih_min_size: int) -> None:
    codes = _random(3000, 4)
    idx = BinaryIndex(mih_min_size=mih_min_size)
    idx.build(np.arange(3000), codes)
    idx.add([9999], _random(1, 5))
    idx.remove([10])
    idx.save(tmp_path / "pdq")
    loaded = BinaryIndex.load(tmp_path / "pdq", mih_min_size=mih_min_size)
    assert loaded.kind == idx.kind
    assert len(loaded) == len(idx) == 3000
    q = codes[:50]
    assert [[(h.id, h.distance) for h in r] for r in loaded.search(q, 31)] == [
        [(h.id, h.distance) for h in r] for r in idx.search(q, 31)
    ]
    assert loaded.search(codes[10:11], 0) == [[]]


def test_concurrent_adds_and_searches_are_consistent() -> None:
    codes = _random(4000, 6)
    idx = BinaryIndex(delta_max=500)
    idx.build(np.arange(2000), codes[:2000])
    errors: list[str] = []

    def writer() -> None:
        for i in range(2000, 4000, 50):
            idx.add(np.arange(i, i + 50), codes[i : i + 50])

    def reader() -> None:
        for _ in range(40):
            res = idx.search(codes[:100], 0)
            if any(not r or r[0].id != k for k, r in enumerate(res)):
                errors.append("an existing entry went missing")

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=reader) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    idx.merge()
    assert not errors
    assert len(idx) == 4000
    assert [r[0].id for r in idx.search(codes[3990:4000], 0)] == list(range(3990, 4000))


def test_64_bit_codes_for_text() -> None:
    idx = BinaryIndex(64)
    codes = np.random.default_rng(1).integers(0, 256, (100, 8), dtype=np.uint8)
    idx.add(np.arange(100), codes)
    assert idx.search(codes[5:6], 0)[0][0].id == 5
    with pytest.raises(ValueError):
        idx.add([1], _random(1))


def test_search_parallel_equals_serial() -> None:
    codes = _random(5000, 8)
    idx = BinaryIndex(mih_min_size=1)
    idx.build(np.arange(5000), codes)
    q = _flip(codes[:700], 10, 1)
    a = set(zip(*(x.tolist() for x in idx.search_arrays(q, 31)), strict=True))
    b = set(
        zip(*(x.tolist() for x in idx.search_parallel(q, 31, threads=3, chunk=64)), strict=True)
    )
    assert a == b and len(a) >= 700
