from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    if not len(codes) or not len(q):
        return set()
    w = np.ascontiguousarray(codes).view(np.uint64)
    d = np.bitwise_count(np.ascontiguousarray(q).view(np.uint64)[:, None, :] ^ w[None]).sum(axis=2)
    qi, j = np.nonzero(d <= thr)
    return set(zip(qi.tolist(), ids[j].tolist(), d[qi, j].tolist(), strict=True))


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


# ---- exactness: the index returns exactly the brute-force set ----------------------------


def _dataset(seed: int, n: int, clustered: bool) -> np.ndarray:
    """Random codes, or (clustered) near-copies of a few centres, so buckets get crowded."""
    rng = np.random.default_rng(seed)
    if not clustered:
        return rng.integers(0, 256, (n, 32), dtype=np.uint8)
    centres = rng.integers(0, 256, (4, 32), dtype=np.uint8)
    bits = np.unpackbits(centres[rng.integers(0, 4, n)], axis=1)
    bits ^= (rng.random(bits.shape) < 0.03).astype(np.uint8)
    return np.packbits(bits, axis=1)


def _planted(codes: np.ndarray, seed: int, k: int) -> np.ndarray:
    """Queries: stored codes with 0-45 bits flipped, plus random codes."""
    rng = np.random.default_rng(seed + 1)
    picks = rng.integers(0, len(codes), k)
    bits = np.unpackbits(codes[picks], axis=1)
    for row, nflip in zip(bits, rng.integers(0, 46, k), strict=True):
        row[rng.choice(256, int(nflip), replace=False)] ^= 1
    return np.concatenate([np.packbits(bits, axis=1), _random(k // 4, seed + 2)])


def _assert_exact(idx: BinaryIndex, live: dict[int, np.ndarray], q: np.ndarray) -> None:
    ids = np.fromiter(live, dtype=np.int64, count=len(live))
    codes = np.stack([live[i] for i in ids.tolist()]) if live else np.empty((0, 32), np.uint8)
    for thr in (0, 7, 31, 40):
        qi, got_ids, dist = idx.search_arrays(q, thr)
        got = list(zip(qi.tolist(), got_ids.tolist(), dist.tolist(), strict=True))
        assert len(got) == len(set(got)), "duplicate hits"
        assert set(got) == _brute(codes, ids, q, thr), f"threshold {thr}"


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(0, 3000),
    clustered=st.booleans(),
    chunk_bits=st.sampled_from([16, 19, 21]),
    compact=st.booleans(),
)
def test_index_equals_brute_force_through_adds_and_removals(
    seed: int, n: int, clustered: bool, chunk_bits: int, compact: bool
) -> None:
    from takedown.matching import index as index_mod

    rel_max = index_mod._Mih.REL_MAX
    # Tiny block offsets force the uint32 fallback (crowded buckets) as well as small blocks.
    index_mod._Mih.REL_MAX = 0xFFFF if compact else 3
    try:
        rng = np.random.default_rng(seed)
        codes = _dataset(seed, n + 400, clustered)
        idx = BinaryIndex(
            mih_min_size=1, chunk_bits=chunk_bits, delta_max=150, background_merge=False
        )
        idx.build(np.arange(n), codes[:n])
        live = {i: codes[i] for i in range(n)}
        q = _planted(codes, seed, 60)
        _assert_exact(idx, live, q)
        # Incremental adds (delta, and a merge once it passes delta_max), removals in both.
        for lo in (n, n + 100, n + 300):
            batch = range(lo, lo + 100)
            idx.add(np.fromiter(batch, np.int64), codes[lo : lo + 100])
            live.update({i: codes[i] for i in batch})
            gone = rng.choice(np.fromiter(live, np.int64), min(len(live), 40), replace=False)
            assert idx.remove(gone) == len(gone)
            for g in gone.tolist():
                del live[g]
            _assert_exact(idx, live, q)
        idx.merge(wait=True)
        assert idx.kind == "mih" or not live
        _assert_exact(idx, live, q)
    finally:
        index_mod._Mih.REL_MAX = rel_max


def test_23_bit_chunks_with_mixed_radii_equal_brute_force() -> None:
    # The 10M layout: 11 chunks of 23 bits, ten probed at radius 2 and one at radius 1.
    codes = _dataset(3, 3000, clustered=False)
    idx = BinaryIndex(mih_min_size=1, chunk_bits=23)
    idx.build(np.arange(3000), codes)
    _assert_exact(idx, {i: codes[i] for i in range(3000)}, _planted(codes, 3, 200))


def test_chunk_radii_cover_the_threshold() -> None:
    from takedown.matching.index import chunk_radii

    assert chunk_radii(31, 11) == [2] * 10 + [1]
    assert chunk_radii(31, 16) == [1] * 16
    assert chunk_radii(0, 11) == [0] + [-1] * 10
    for t in range(0, 64):
        for m in (8, 11, 12, 16):
            r = chunk_radii(t, m)
            assert sum(r) >= t - m + 1 and max(r) - min(r) <= 1


def test_ids_beyond_int32_still_work() -> None:
    codes = _random(30_000, 4)
    big = np.arange(30_000, dtype=np.int64) + 2**40
    idx = BinaryIndex()
    idx.build(big, codes)
    assert idx.kind == "mih"
    assert [h.id for h in idx.search(codes[5:6], 0)[0]] == [2**40 + 5]
    small = BinaryIndex()
    small.build(np.arange(30_000), codes)
    assert small.remove([2**40, 7]) == 1 and small.search(codes[7:8], 0) == [[]]
    assert small.search_arrays(codes[8:9], 0)[1].dtype == np.int64


def test_a_merge_between_the_base_and_the_delta_search_neither_loses_nor_doubles_hits() -> None:
    """A search reads the base without the lock, then the delta under it. If a merge
    installs a new base (holding the delta's entries) and empties the delta in between,
    the search must not return the old base's hits plus an empty delta (hits lost), nor
    the new base plus the old delta (hits doubled): it searches again."""
    codes = _random(300, seed=5)
    idx = BinaryIndex(mih_min_size=100, background_merge=False)
    idx.add(np.arange(200), codes[:200])
    idx.merge()
    idx.add(np.arange(200, 300), codes[200:])  # in the delta
    old_base = idx._snap[0]
    real = old_base.search
    merged: list[bool] = []

    def search_then_merge(q: np.ndarray, threshold: int):  # type: ignore[no-untyped-def]
        out = real(q, threshold)
        if not merged:
            merged.append(True)
            idx._merge()  # the merge thread runs now, between base and delta
        return out

    old_base.search = search_then_merge  # type: ignore[method-assign]
    hits = idx.search(codes[195:205], 0)
    assert merged == [True] and idx._snap[0] is not old_base
    assert [[h.id for h in row] for row in hits] == [[i] for i in range(195, 205)]
