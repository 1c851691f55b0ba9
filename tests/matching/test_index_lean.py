"""The lean index layouts of #17's memory goal: exact MIH with codes sorted by chunk 0 and
3-byte positions, sparse uint8 bucket offsets, and the approximate base of ``pdq_inner``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from takedown.matching import index as index_mod
from takedown.matching import service
from takedown.matching.engine import APPROX_TYPES, INDEXED_TYPES, MatchingEngine
from takedown.matching.hashers import windows
from takedown.matching.index import APPROX_KEY_BITS, APPROX_RADIUS, BinaryIndex, _Mih
from tests.matching import media
from tests.matching.factories import make_bank, make_supervisor
from tests.matching.test_index import _brute, _dataset, _planted, _random


def _flip_bits(code: np.ndarray, positions: list[int]) -> np.ndarray:
    bits = np.unpackbits(code.reshape(1, -1), axis=1)
    bits[0, positions] ^= 1
    return np.packbits(bits, axis=1)


# ---- exact MIH layout -----------------------------------------------------------------


def test_codes_sorted_by_chunk0_and_positions_in_three_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index_mod, "POS20_LIMIT", 1000)  # 3,000 entries: past 2.5 bytes
    codes = _random(3000, 11)
    ids = np.arange(3000, dtype=np.int64)[::-1] * 5  # not in code order
    idx = BinaryIndex(mih_min_size=1, chunk_bits=16)
    idx.build(ids, codes)
    base = idx._base
    assert isinstance(base, _Mih) and base.m == 16
    keys = base._column(0)
    assert np.all(np.diff(keys.astype(np.int64)) >= 0), "codes not physically sorted by chunk 0"
    # Chunk 0 has no positions; every other chunk 2 + 1 bytes per entry.
    assert base.pos_lo.dtype == np.uint16 and base.pos_hi.dtype == np.uint8
    assert len(base.pos_lo) == len(base.pos_hi) == 15 * 3000
    # The ids followed the codes: each stored code is found under its own id.
    for k in (0, 1234, 2999):
        assert [h.id for h in idx.search(codes[k : k + 1], 0)[0]] == [int(ids[k])]
    per_code = idx.nbytes() / 3000
    # 32 (code) + 45 (positions) + 4 (id) + 1 (alive) + offsets: 16 x 2^16 uint8 over 3,000.
    assert per_code < 32 + 45 + 4 + 1 + 16 * 65_536 * 1.1 / 3000


def test_positions_take_two_and_a_half_bytes_up_to_two_to_the_20() -> None:
    # 2,001 entries (odd, so the last chunk's table starts mid-byte) with 16 chunks.
    codes = _random(2001, 17)
    ids = np.random.default_rng(4).permutation(2001).astype(np.int64) + 7
    idx = BinaryIndex(mih_min_size=1, chunk_bits=16)
    idx.build(ids, codes)
    base = idx._base
    assert isinstance(base, _Mih) and base.hi_bits == 4
    assert base.pos_lo.dtype == np.uint16 and len(base.pos_lo) == 15 * 2001
    assert base.pos_hi.dtype == np.uint8 and len(base.pos_hi) == (15 * 2001 + 1) // 2
    # Every table entry's position, rebuilt from its two parts, is that entry's own.
    i = np.arange(15 * 2001)
    hi = (base.pos_hi[i >> 1] >> ((i & 1) << 2)) & 0xF
    pos = (hi.astype(np.int64) << 16) | base.pos_lo
    for j in range(1, 16):
        table = pos[(j - 1) * 2001 : j * 2001]
        assert sorted(table.tolist()) == list(range(2001))
        keys = base._column(j)[table].astype(np.int64)
        assert np.all(np.diff(keys) >= 0), f"chunk {j} positions not sorted by its value"
    _exact(idx, codes, _planted(codes, 17, 80), ids)


def test_snapshot_with_positions_of_another_width_is_refused(tmp_path: Path) -> None:
    codes = _random(501, 20)
    idx = BinaryIndex(mih_min_size=1, chunk_bits=16)
    idx.build(np.arange(501), codes)
    idx.save(tmp_path / "pdq")
    assert len(np.load(tmp_path / "pdq" / "pos_hi.npy")) == (15 * 501 + 1) // 2
    assert BinaryIndex.load(tmp_path / "pdq", mih_min_size=1).search(codes[:1], 0)[0]
    # One byte per position, as format 3 stored it below 2^20 entries.
    np.save(tmp_path / "pdq" / "pos_hi.npy", np.zeros(15 * 501, dtype=np.uint8))
    with pytest.raises(ValueError, match="positions"):
        BinaryIndex.load(tmp_path / "pdq", mih_min_size=1)


def test_sixteen_bit_positions_need_their_high_nibble(monkeypatch: pytest.MonkeyPatch) -> None:
    # Positions past 2^16 (here from 70,000 entries): the nibble carries bit 16.
    codes = _random(70_000, 18)
    idx = BinaryIndex(mih_min_size=1, chunk_bits=19)
    idx.build(np.arange(70_000), codes)
    assert isinstance(idx._base, _Mih) and idx._base.hi_bits == 4
    q = _planted(codes, 18, 40)
    for thr in (0, 31):
        got = set(zip(*(a.tolist() for a in idx.search_arrays(q, thr)), strict=True))
        assert got == _brute(codes, np.arange(70_000), q, thr)


def test_positions_take_four_bytes_from_two_to_the_24(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_mod, "POS24_LIMIT", 100)
    codes = _random(500, 12)
    idx = BinaryIndex(mih_min_size=1, chunk_bits=16)
    idx.build(np.arange(500), codes)
    assert isinstance(idx._base, _Mih) and idx._base.pos_hi.dtype == np.uint16
    assert idx._base.hi_bits == 16
    _exact(idx, codes, _planted(codes, 12, 80))


def test_sparse_chunks_get_one_byte_bucket_offsets() -> None:
    codes = _random(3000, 13)
    idx = BinaryIndex(mih_min_size=1, chunk_bits=21)
    idx.build(np.arange(3000), codes)
    assert isinstance(idx._base, _Mih) and idx._base.rel.dtype == np.uint8
    dense = BinaryIndex(mih_min_size=1, chunk_bits=16)
    dense.build(np.arange(3000), np.repeat(codes[:3], 1000, axis=0))  # 1,000 per bucket
    assert isinstance(dense._base, _Mih) and dense._base.rel.dtype == np.uint16


def _exact(
    idx: BinaryIndex, codes: np.ndarray, q: np.ndarray, ids: np.ndarray | None = None
) -> None:
    ids = np.arange(len(codes), dtype=np.int64) if ids is None else ids
    for thr in (0, 7, 31, 40):
        got = set(zip(*(a.tolist() for a in idx.search_arrays(q, thr)), strict=True))
        assert got == _brute(codes, ids, q, thr), f"threshold {thr}"


@settings(max_examples=16, deadline=None, derandomize=True, database=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 2500),
    clustered=st.booleans(),
    chunk_bits=st.sampled_from([16, 19, 21, 23]),
    offsets=st.sampled_from(["u8", "u16", "u32"]),
    hi_bits=st.sampled_from([4, 8]),
)
def test_every_offset_width_equals_brute_force(
    seed: int, n: int, clustered: bool, chunk_bits: int, offsets: str, hi_bits: int
) -> None:
    saved = _Mih.REL8_MAX, _Mih.REL_MAX, index_mod.POS20_LIMIT
    # u16: no block fits uint8 offsets; u32: none fits uint16 either (crowded buckets).
    _Mih.REL8_MAX = 0 if offsets != "u8" else 0xFF
    _Mih.REL_MAX = 3 if offsets == "u32" else 0xFFFF
    # Positions with a 4-bit high part (two per byte) or an 8-bit one.
    index_mod.POS20_LIMIT = 1 << 20 if hi_bits == 4 else 0
    try:
        codes = _dataset(seed, n, clustered)
        ids = np.random.default_rng(seed).permutation(n).astype(np.int64) * 3 + 1
        idx = BinaryIndex(mih_min_size=1, chunk_bits=chunk_bits)
        idx.build(ids, codes)
        assert isinstance(idx._base, _Mih)
        dtype = idx._base.rel.dtype
        if offsets == "u16":
            assert dtype == np.uint16
        elif offsets == "u32":
            assert dtype in (np.uint16, np.uint32)  # uint32 only if some bucket holds > 3
        assert idx._base.hi_bits == hi_bits
        _exact(idx, codes, _planted(codes, seed, 50), ids)
    finally:
        _Mih.REL8_MAX, _Mih.REL_MAX, index_mod.POS20_LIMIT = saved


def test_removal_in_mih_order_and_fast_path_for_new_ids() -> None:
    codes = _random(2000, 14)
    ids = np.random.default_rng(3).permutation(2000).astype(np.int64) + 10
    idx = BinaryIndex(mih_min_size=1)
    idx.build(ids, codes)
    assert not idx._ids_sorted
    assert idx.remove([1_000_000, 5]) == 0  # above the largest id / below the smallest
    assert idx.remove([int(ids[7]), int(ids[8]), int(ids[7])]) == 2
    assert idx.search(codes[7:9], 0) == [[], []]
    assert idx.remove([int(ids[7])]) == 0  # already dead
    assert len(idx) == 1998


@pytest.mark.parametrize("kind", ["mih", "flat", "approx"])
def test_tombstones_take_one_bit_per_entry(tmp_path: Path, kind: str) -> None:
    n = 1001  # the last entry's bit shares a byte with padding
    codes = _random(n, 21)
    ids = np.arange(n, dtype=np.int64) * 2 + 1
    idx = BinaryIndex(mih_min_size=10**9 if kind == "flat" else 1, approx=kind == "approx")
    idx.build(ids, codes)
    assert idx.kind == kind
    base = idx._base
    assert idx.nbytes() == base.nbytes() + idx._base_ids.nbytes + (n + 7) // 8
    gone = [int(ids[0]), int(ids[500]), int(ids[999]), int(ids[1000])]
    assert idx.remove([*gone, int(ids[500])]) == 4
    assert idx.remove(gone) == 0  # already dead
    assert len(idx) == n - 4
    assert set(idx.ids().tolist()) == set(ids.tolist()) - set(gone)
    rows = [0, 500, 999, 1000, 1, 998]
    hits = idx.search(codes[rows], 0)
    assert [[h.id for h in row] for row in hits] == [[], [], [], [], [int(ids[1])], [int(ids[998])]]
    idx.save(tmp_path / "i")
    back = BinaryIndex.load(tmp_path / "i", mih_min_size=10**9 if kind == "flat" else 1)
    assert len(back) == n - 4 and back.search(codes[rows[:4]], 0) == [[], [], [], []]
    assert back.remove([int(ids[1])]) == 1 and len(back) == n - 5


def test_build_hands_freed_memory_back(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(index_mod, "release_free_memory", lambda: calls.append(1) or True)
    idx = BinaryIndex(mih_min_size=1, delta_max=10, background_merge=False)
    idx.build(np.arange(100), _random(100, 15))
    assert calls == [1]
    idx.add(np.arange(100, 110), _random(10, 16))  # crosses delta_max: a merge
    assert calls == [1, 1]


def test_release_free_memory_works_on_glibc() -> None:
    assert index_mod.release_free_memory() is (index_mod._LIBC is not None)


# ---- approximate base (pdq_inner) ----------------------------------------------------------


def test_approx_key_is_pdq_lowest_frequencies() -> None:
    # PDQ's bit order (hashers/windows.bits): coefficient (i, j) row-major, last one first.
    coef = -np.ones((1, 16, 16), dtype=np.float32)
    low = [(i, j) for i in range(16) for j in range(16) if i + j <= 4]
    for i, j in low:
        coef[0, i, j] = 100.0
    code = windows.bits(coef)[0]
    bits = np.flatnonzero(np.unpackbits(code)).tolist()
    assert len(APPROX_KEY_BITS) == 20 and len(set(APPROX_KEY_BITS)) == 20
    assert set(bits) == {255 - 16 * i - j for i, j in low}  # 15 of the key's 20 bits
    assert set(bits) < set(APPROX_KEY_BITS)


def test_approx_base_finds_neighbours_whose_key_moved_at_most_radius() -> None:
    codes = _random(5000, 17)
    idx = BinaryIndex(mih_min_size=1, approx=True)
    idx.build(np.arange(5000), codes)
    assert idx.kind == "approx"
    others = [p for p in range(256) if p not in APPROX_KEY_BITS]
    key = list(APPROX_KEY_BITS)
    # 31 bits off, none in the key: found, at its exact distance.
    q = _flip_bits(codes[42], others[:31])
    assert [(h.id, h.distance) for h in idx.search(q, 31)[0]] == [(42, 31)]
    # APPROX_RADIUS key bits and others up to 31 in all: still found.
    q = _flip_bits(codes[43], key[:APPROX_RADIUS] + others[: 31 - APPROX_RADIUS])
    assert [h.id for h in idx.search(q, 31)[0]] == [43]
    # One key bit more: the approximate base misses it (the exact one would not).
    q = _flip_bits(codes[44], key[: APPROX_RADIUS + 1])
    assert idx.search(q, 31) == [[]]
    exact = BinaryIndex(mih_min_size=1)
    exact.build(np.arange(5000), codes)
    assert [h.id for h in exact.search(q, 31)[0]] == [44]


@settings(max_examples=8, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 3000), clustered=st.booleans())
def test_approx_base_never_adds_and_is_exact_within_its_radius(
    seed: int, n: int, clustered: bool
) -> None:
    codes = _dataset(seed, n + 200, clustered)
    idx = BinaryIndex(mih_min_size=1, approx=True, delta_max=100, background_merge=False)
    idx.build(np.arange(n), codes[:n])
    idx.add(np.arange(n, n + 200), codes[n:])  # two merges into new approximate bases
    assert idx.kind == "approx"
    ids = np.arange(n + 200, dtype=np.int64)
    q = _planted(codes, seed, 60)
    for thr in (0, APPROX_RADIUS, 31, 40):
        got = set(zip(*(a.tolist() for a in idx.search_arrays(q, thr)), strict=True))
        want = _brute(codes, ids, q, thr)
        assert len(got) == len(idx.search_arrays(q, thr)[0]), "duplicate hits"
        assert got <= want, "a hit brute force does not have"
        if thr <= APPROX_RADIUS:
            assert got == want


def test_approx_snapshot_round_trip(tmp_path: Path) -> None:
    codes = _random(3000, 18)
    idx = BinaryIndex(mih_min_size=1, approx=True)
    idx.build(np.arange(3000), codes)
    idx.remove([10])
    idx.save(tmp_path / "inner")
    loaded = BinaryIndex.load(tmp_path / "inner", mih_min_size=1)
    assert loaded.approx and loaded.kind == "approx" and len(loaded) == 2999
    q = _planted(codes, 18, 100)
    assert set(zip(*(a.tolist() for a in loaded.search_arrays(q, 31)), strict=True)) == set(
        zip(*(a.tolist() for a in idx.search_arrays(q, 31)), strict=True)
    )


def test_older_snapshot_format_is_refused(tmp_path: Path) -> None:
    idx = BinaryIndex(mih_min_size=1)
    idx.build(np.arange(100), _random(100, 19))
    idx.save(tmp_path / "pdq")
    meta = json.loads((tmp_path / "pdq" / "meta.json").read_text())
    assert meta["version"] == 4
    meta["version"] = 3  # 3-byte positions below 2^20 entries: read as nibbles, they would lie
    (tmp_path / "pdq" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unsupported index format"):
        BinaryIndex.load(tmp_path / "pdq")


# ---- engine ----------------------------------------------------------------------------


def test_engine_uses_the_approximate_base_for_pdq_inner_only() -> None:
    engine = MatchingEngine(mih_min_size=1)
    assert {"pdq_inner"} == APPROX_TYPES
    assert {t for t, i in engine.indexes.items() if i.approx} == {"pdq_inner"}
    assert set(INDEXED_TYPES) >= APPROX_TYPES


def _snapshot(tmp_path: Path, session: Session) -> tuple[Any, Path]:
    sup = make_supervisor(session)
    bank = make_bank(session, sup)
    first = MatchingEngine(tmp_path / "idx", sync_interval=0.0, mih_min_size=1)
    service.add_media(session, sup.principal, bank.id, media.poster(61), engine=first)
    first.sync(session, force=True)
    first.save()
    return sup, tmp_path / "idx"


def test_engine_full_load_hands_the_rows_temporaries_back(
    sqlite_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from takedown.matching import engine as engine_mod

    sup = make_supervisor(sqlite_session)
    bank = make_bank(sqlite_session, sup)
    service.add_media(sqlite_session, sup.principal, bank.id, media.poster(62))
    engine = MatchingEngine(sync_interval=0.0, mih_min_size=1)
    installed: list[int] = []
    # Each trim comes after an index was built and installed (its inputs already freed).
    monkeypatch.setattr(
        engine_mod,
        "release_free_memory",
        lambda: installed.append(sum(len(i) > 0 for i in engine.indexes.values())) or True,
    )
    engine.sync(sqlite_session, force=True)
    assert len(installed) == len(INDEXED_TYPES)
    assert installed[-1] == sum(len(i) > 0 for i in engine.indexes.values()) >= 1


@pytest.mark.parametrize("damage", ["older version", "inner index saved exact"])
def test_engine_refuses_an_older_snapshot_and_reloads_from_the_database(
    sqlite_session: Session, tmp_path: Path, damage: str
) -> None:
    sup, snap = _snapshot(tmp_path, sqlite_session)
    meta_file = snap / "pdq_inner" / "meta.json"
    meta = json.loads(meta_file.read_text())
    if damage == "older version":
        meta["version"] = 2
    else:
        meta["approx"] = False
    meta_file.write_text(json.dumps(meta))
    second = MatchingEngine(snap, sync_interval=0.0, mih_min_size=1)
    assert not second._load_snapshot()
    # The engine then reads the database: the poster still matches, inner index approximate.
    assert service.match_media(
        sqlite_session, sup.principal, media.poster(61), engine=second
    ).matches
    assert second.indexes["pdq_inner"].approx and len(second.indexes["pdq_inner"]) >= 1
