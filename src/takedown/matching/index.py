"""An incremental, thread-safe Hamming-distance index for PDQ and other binary hashes.

Why not HMA's approach: HMA rebuilds its whole index on every bank change and
every matcher reloads it; its users report memory spikes and outages when all
pods reload at once. Here the index is never rebuilt to take a change:

* **base**: an immutable snapshot. Below ``mih_min_size`` entries (20k,
  measured) it is a faiss ``IndexBinaryFlat`` (exact, 32 bytes per PDQ
  hash, builds in milliseconds). From there on it is a compact multi-index
  hashing (MIH) table: the 256 bits are cut into m chunks of b bits (16x16
  below 1M, 12x21 at 1M, 11x23 from about 3M); by the generalised pigeonhole principle
  two hashes within distance 31 agree to within r_i bits on some chunk i
  when the radii add up to 31 - m + 1 (at 10M: ten chunks at radius 2, one
  at radius 1), so probing every bucket within those radii finds every
  true neighbour (recall 1.0 against brute force), and the candidates are
  verified on the full code. The codes are stored sorted by chunk 0 (whose
  buckets are then ranges of codes); every other chunk has its positions
  sorted by chunk value in 2.5 bytes each up to 2^20 hashes (3 up to 2^24),
  plus block-relative bucket offsets (1 byte per bucket when buckets are
  sparse, else 2): about 90 bytes per hash in all at 1M (code 32, positions
  27.5, offsets 26, id 4, alive 1/8), no per-entry Python objects.
* **approximate base** (``approx=True``, the engine's ``pdq_inner``): the
  codes sorted by a 20-bit key of PDQ's lowest frequencies, probed at
  radius 3; about 37 bytes per hash at 1M (code 32, id 4, offsets 1, alive
  1/8). It misses a neighbour whose key moved by 4 bits or more, so it is
  only for callers whose queries are redundant (window searches); it never
  returns anything brute force would not.
* **delta**: a small faiss ``IndexBinaryFlat`` that takes new hashes at once
  (matchable within microseconds of ``add``), merged into a new base in the
  background once it grows past ``delta_max``.
* **tombstones**: removal or disabling clears a bit (one per base entry,
  ``_Bits``) that is checked on every result, so it takes effect
  immediately; merges drop dead entries.

Searches read an immutable base without locking (faiss releases the GIL, so
threads searching different queries run in parallel); only the small delta
is searched under the lock. Parallelism is across queries, never within one:
``search`` pins faiss to one OpenMP thread for single queries.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import threading
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
#: Base ids: int32 when every id fits (half the memory: 40 MB at 10M), else int64.
Ids = npt.NDArray[np.signedinteger[Any]]

#: Size from which the base is MIH rather than exact flat search. Measured (bench/match.py,
#: CPU per query, one thread, distance 31): equal at 10k (11 vs 9 us), MIH 2x faster at 25k
#: (25 vs 12 us) and 16x at 500k (1,341 vs 85 us); an MIH base of 20k builds in ~15 ms.
MIH_MIN_SIZE = 20_000
#: Delta size that triggers a merge into a new base.
DELTA_MAX = 50_000
MIN_CHUNK_BITS = 16
MAX_CHUNK_BITS = 23
#: Entry count from which MIH positions take 4 bytes instead of 3.
POS24_LIMIT = 1 << 24
#: Entry count up to which MIH positions take 2.5 bytes (their high part a 4-bit nibble).
POS20_LIMIT = 1 << 20
#: Format 3 (#17, lean MIH): codes sorted by chunk 0, 3-byte positions, approximate bases;
#: 4: 2.5-byte positions up to ``POS20_LIMIT`` entries.
_FORMAT_VERSION = 4


def _low_frequency_bits(count: int) -> tuple[int, ...]:
    """Code bit positions (0 = most significant bit of byte 0) of PDQ's ``count``
    lowest-frequency DCT coefficients.

    PDQ's bit p is coefficient 255 - p of the 16x16 (row-major) grid, so row i,
    column j is bit 255 - 16 i - j. Low frequencies have the largest magnitudes,
    so their sign against the median moves least under crops, shifts and
    re-encodes: they make the key of the approximate (window) index.
    """
    cells = sorted(
        ((i, j) for i in range(16) for j in range(16)), key=lambda c: (c[0] + c[1], max(c), c)
    )
    return tuple(255 - 16 * i - j for i, j in cells[:count])


#: Key of the approximate index: PDQ's 20 lowest-frequency bits, probed at radius 3 (1,351
#: buckets). Radius 2 (211 buckets) searched 900 windows against 1M codes in 10 ms of CPU
#: instead of 59, but lost one poster original in four variant classes of
#: bench/match_quality.py against the exact index; radius 3 loses one in one class.
APPROX_KEY_BITS = _low_frequency_bits(20)
APPROX_RADIUS = 3


def _load_libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc only)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _load_libc()


def release_free_memory() -> bool:
    """Give freed heap memory back to the OS (glibc's ``malloc_trim``); False elsewhere.

    Building a base allocates temporaries (sort keys, columns) of a few MB
    each; glibc keeps them in the heap once freed, so without this the
    resident size after a build of 1M codes is about 12 B per code above the
    arrays that remain (measured: 147.6 against 136.4 B per code).
    """
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


@dataclass(frozen=True, slots=True)
class Hit:
    query: int
    id: int
    distance: int


def expand_ranges(starts: I64, lengths: I64) -> I64:
    """Concatenate ``range(s, s+l)`` for every pair, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(starts - (ends - lengths), lengths)
    out: I64 = np.arange(total, dtype=np.int64) + shift
    return out


def _flip_masks(bits: int, radius: int) -> npt.NDArray[np.int64]:
    """Every ``bits``-wide mask with at most ``radius`` bits set (none for radius < 0)."""
    masks = [0] if radius >= 0 else []
    for r in range(1, radius + 1):
        for chosen in combinations(range(bits), r):
            v = 0
            for b in chosen:
                v |= 1 << b
            masks.append(v)
    return np.asarray(masks, dtype=np.int64)


def chunk_radii(threshold: int, m: int) -> list[int]:
    """Per-chunk probe radii that cannot miss a code within ``threshold``.

    Generalised pigeonhole: if the m chunk distances d_i sum to at most t and
    the radii r_i sum to at least t - m + 1, some d_i <= r_i (otherwise every
    d_i >= r_i + 1 and the sum is at least t + 1). So the t + 1 "units" r_i + 1
    are spread evenly; a radius of -1 means the chunk is not probed at all.
    For t = 31 and 11 chunks that is ten radius-2 chunks and one radius-1
    chunk, one unit fewer than the plain 31 // 11 = 2 everywhere.
    """
    q, r = divmod(threshold + 1, m)
    return [q if i < r else q - 1 for i in range(m)]


def _probes(bits: int, radii: list[int]) -> tuple[I64, I64]:
    """(chunk, mask) of every bucket probe for these per-chunk radii."""
    chunks: list[I64] = []
    masks: list[I64] = []
    for j, r in enumerate(radii):
        mk = _flip_masks(bits, r)
        chunks.append(np.full(len(mk), j, dtype=np.int64))
        masks.append(mk)
    return np.concatenate(chunks), np.concatenate(masks)


def probe_cost(n: int, bits: int, threshold: int = 31) -> float:
    """Modelled search cost per query (ns) of ``bits``-bit chunks over ``n`` codes.

    Constants measured at 10M with bench/match.py's profile: about 65 ns per
    bucket probe (two offset gathers, the range expansion and the position
    gather) and 35 ns per candidate (gathering its code, xor, popcount).
    """
    m = 256 // bits
    probes = sum(len(_flip_masks(bits, r)) for r in chunk_radii(threshold, m))
    return probes * 65.0 + probes * (n / (1 << bits)) * 35.0


def _row_popcount(x: npt.NDArray[np.uint64]) -> I64:
    """Bits set per row of a (n, k) uint64 array; summing k columns beats ``sum(axis=1)``."""
    counts = np.bitwise_count(x)
    total = counts[:, 0].astype(np.int64)
    for j in range(1, x.shape[1]):
        total += counts[:, j]
    return total


def chunk_bits_for(n: int) -> int:
    """The chunk width with the lowest modelled search cost for ``n`` codes.

    Capped at 23 bits: at 10M that gives 11 chunks and about 3,300
    candidates per query at distance 31 (22 bits: about 6,100). Narrower
    chunks cost less memory (at 1M: 20 bits 77 B per code against 90 B at
    21, 19 bits 74 B) but searched 1.2x slower (batches of 64, measured
    interleaved: 126 and 129 against 105 us of CPU per query), so the
    choice stays on speed; ``BinaryIndex(chunk_bits=20)`` trades it back.
    """
    return min(range(MIN_CHUNK_BITS, MAX_CHUNK_BITS + 1), key=lambda b: probe_cost(max(n, 2), b))


def _flat_search(index: faiss.IndexBinary, q: U8, threshold: int) -> tuple[I64, I64, I64]:
    if index.ntotal == 0 or len(q) == 0:
        e = np.empty(0, dtype=np.int64)
        return e, e, e
    # faiss's radius is exclusive.
    lims, dist, pos = index.range_search(np.ascontiguousarray(q), threshold + 1)
    counts = np.diff(lims).astype(np.int64)
    qi = np.repeat(np.arange(len(q), dtype=np.int64), counts)
    return qi, np.asarray(pos, dtype=np.int64), np.asarray(dist, dtype=np.int64)


class _Flat:
    """Exact search with faiss; owns the codes."""

    kind = "flat"

    def __init__(self, codes: U8, nbits: int) -> None:
        self.index: faiss.IndexBinary = faiss.IndexBinaryFlat(nbits)
        if len(codes):
            self.index.add(np.ascontiguousarray(codes))
        self.n = int(self.index.ntotal)

    def codes(self) -> U8:
        if self.n == 0:
            return np.empty((0, self.index.code_size), dtype=np.uint8)
        return np.asarray(self.index.reconstruct_n(0, self.n), dtype=np.uint8)

    def search(self, q: U8, threshold: int) -> tuple[I64, I64, I64]:
        return _flat_search(self.index, q, threshold)

    def nbytes(self) -> int:
        return self.n * int(self.index.code_size)


_UArr = npt.NDArray[np.unsignedinteger]
#: A built MIH's arrays: positions' low 16 bits, their high bits, bucket offsets, block bases.
_Stored4 = tuple[npt.NDArray[np.uint16], _UArr, _UArr, npt.NDArray[np.int64]]
#: The same with the codes first (as stored in a snapshot).
_Stored = tuple[U8, npt.NDArray[np.uint16], _UArr, _UArr, npt.NDArray[np.int64]]


class _Mih:
    """Multi-index hashing: exact for any threshold, sized to the data.

    The code is cut into ``m`` chunks of ``b`` bits (bits left over after
    ``m*b`` are only used for verification). If two codes are within ``t``
    bits, some chunk i differs in at most ``r_i`` bits (``chunk_radii``), so
    probing every bucket within that radius of each query chunk finds every
    true neighbour; candidates are verified on the full code.

    Layout (the lean one, #17): the codes are stored physically sorted by
    chunk 0, so that chunk's buckets are ranges of the codes themselves and
    need no positions. Every other chunk has the positions sorted by its
    chunk value, kept as a uint16 array of the low bits and an array of the
    high bits (``hi_bits``: 4, two to a byte, up to 2^20 entries, so 2.5
    bytes per position at 1M; 8 up to 2^24, 16 beyond): two contiguous
    gathers (a strided 3-byte view gathers 3x slower). Bucket
    offsets are an int64 base per block of ``2**shift`` buckets plus
    ``2**shift + 1`` offsets within the block, uint8 when every block of at
    least 16 buckets holds at most 255 entries (sparse buckets: 21-bit chunks
    at 1M), else uint16, so a bucket's start and end share one base
    (uint32 offsets and one block if some block would hold more than
    ``REL_MAX`` entries).

    With ``key_bits`` the structure is the approximate one used for window
    searches (``pdq_inner``): a single "chunk" made of those bit positions,
    the codes sorted by it and no positions at all, probed at ``radius``
    whatever the threshold. It finds every code whose key differs in at most
    ``radius`` bits (so every code within ``radius`` bits in all), and misses
    true neighbours whose key moved more; callers accept that because their
    queries are redundant (many windows around one true match).
    """

    #: Largest offset within a block of buckets that the compact (uint16) offsets hold.
    REL_MAX = 0xFFFF
    #: The same for the sparse (uint8) offsets, used when blocks of at least
    #: ``2**MIN_SHIFT8`` buckets stay under it (wide chunks: 21 bits at 1M).
    REL8_MAX = 0xFF
    MIN_SHIFT8 = 4

    def __init__(
        self,
        codes: U8,
        *,
        bits: int | None = None,
        key_bits: tuple[int, ...] | None = None,
        radius: int = 2,
        stored: _Stored | None = None,
    ) -> None:
        """Build from ``codes`` (``order`` then says where each came from), or adopt ``stored``
        = (codes in stored order, positions' low 16 bits, their high bits, rel, bases)."""
        self.key_bits = key_bits
        self.radius = radius
        self.n = len(codes) if stored is None else len(stored[0])
        if key_bits is not None:
            self.b, self.m = len(key_bits), 1
            # (word, shift) of each key bit in little-endian uint64 words of the packed code.
            self._key_src = [(p // 64, (p // 8 % 8) * 8 + 7 - p % 8) for p in key_bits]
        else:
            self.b = bits or chunk_bits_for(self.n)
            self.m = codes.shape[1] * 8 // self.b
        self.kind = "approx" if key_bits is not None else "mih"
        #: Bits of a position's high part: 4 (two per byte), 8 or 16.
        self.hi_bits = 16 if self.n >= POS24_LIMIT else 4 if self.n <= POS20_LIMIT else 8
        self.order: I64 | None = None
        if stored is None:
            self.order = self._sort_by_chunk0(np.ascontiguousarray(codes))
            self.pos_lo, self.pos_hi, self.rel, self.bases = self._build()
        else:
            self._codes, self.pos_lo, self.pos_hi, self.rel, self.bases = stored
            self._words = self._codes.view(np.uint64)
        self.shift = self.b - (self.bases.shape[1].bit_length() - 1)
        self._flat_rel = self.rel.reshape(-1)
        self._flat_bases = self.bases.reshape(-1)
        self._probes: dict[int, tuple[I64, I64]] = {}

    def _key(self, words: npt.NDArray[np.uint64], j: int) -> npt.NDArray[np.uint64]:
        """Chunk ``j`` of codes given as (n, k) little-endian uint64 words."""
        if self.key_bits is not None:
            one = np.uint64(1)
            out = np.zeros(len(words), dtype=np.uint64)
            for i, (w, s) in enumerate(self._key_src):
                out |= ((words[:, w] >> np.uint64(s)) & one) << np.uint64(i)
            return out
        w, off = divmod(j * self.b, 64)
        val = words[:, w] >> np.uint64(off)
        if off + self.b > 64:
            val |= words[:, w + 1] << np.uint64(64 - off)
        val &= np.uint64((1 << self.b) - 1)
        return val

    def _keys(self, words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        """(n, m) chunk values of codes given as (n, k) little-endian uint64 words."""
        out = np.empty((len(words), self.m), dtype=np.int64)
        for j in range(self.m):
            out[:, j] = self._key(words, j)
        return out

    def _column(
        self, j: int, words: npt.NDArray[np.uint64] | None = None
    ) -> npt.NDArray[np.uint32]:
        words = self._words if words is None else words
        col = np.empty(len(words), dtype=np.uint32)
        for s in range(0, len(words), 1 << 20):
            col[s : s + (1 << 20)] = self._key(words[s : s + (1 << 20)], j)
        return col

    def _sorted_positions(self, col: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
        # Sorting (key << 32 | position) is a stable sort by key, and much faster than argsort.
        packed = col.astype(np.uint64) << np.uint64(32)
        packed |= np.arange(len(col), dtype=np.uint64)
        packed.sort()
        packed &= np.uint64(0xFFFFFFFF)
        return packed.astype(np.uint32)

    def _sort_by_chunk0(self, codes: U8) -> I64:
        order = self._sorted_positions(self._column(0, codes.view(np.uint64))).astype(np.int64)
        self._codes = np.ascontiguousarray(codes[order])
        self._words = self._codes.view(np.uint64)
        return order

    def _build(
        self,
    ) -> _Stored4:
        size = 1 << self.b
        # Positions of chunks 1.. as low 16 bits + high ``hi_bits`` (4: packed two per byte
        # below): two contiguous arrays gather much faster than a strided 3-byte view.
        hi_type = np.uint16 if self.hi_bits == 16 else np.uint8
        pos_lo = np.empty((self.m - 1) * self.n, dtype=np.uint16)
        pos_hi: _UArr = np.empty((self.m - 1) * self.n, dtype=hi_type)
        # Largest blocks of buckets whose entry counts fit a uint8 / uint16 offset within the block.
        shift8, shift16 = min(8, self.b), min(16, self.b)

        def block_max(counts: I64, shift: int) -> int:
            return int(counts.reshape(-1, 1 << shift).sum(axis=1).max())

        for j in range(self.m):
            col = self._column(j)
            counts = np.bincount(col, minlength=size)
            if j:
                sorted_pos = self._sorted_positions(col)
                del col
                dst = slice((j - 1) * self.n, j * self.n)
                pos_lo[dst] = sorted_pos & np.uint32(0xFFFF)
                pos_hi[dst] = sorted_pos >> np.uint32(16)
                del sorted_pos
            while shift8 >= 0 and block_max(counts, shift8) > self.REL8_MAX:
                shift8 -= 1
            while shift16 >= 0 and block_max(counts, shift16) > self.REL_MAX:
                shift16 -= 1
        rel_type: type[np.unsignedinteger[Any]]
        if shift8 >= self.MIN_SHIFT8:
            # Sparse buckets (fewer entries than buckets per block): 1 byte per bucket, plus
            # an 8-byte base per block of at least 16 buckets.
            shift, rel_type = shift8, np.uint8
        elif shift16 >= 0:
            shift, rel_type = shift16, np.uint16
        else:  # some bucket holds more than REL_MAX: plain uint32 offsets, one block
            shift, rel_type = self.b, np.uint32
        nblocks, width = size >> shift, 1 << shift
        rel = np.empty((self.m, nblocks, width + 1), dtype=rel_type)
        bases = np.empty((self.m, nblocks), dtype=np.int64)
        offsets = np.zeros(size + 1, dtype=np.int64)
        for j in range(self.m):
            np.cumsum(np.bincount(self._column(j), minlength=size), out=offsets[1:])
            bases[j] = offsets[:size:width]
            rel[j, :, :width] = offsets[:size].reshape(nblocks, width) - bases[j, :, None]
            rel[j, :, width] = offsets[width::width] - bases[j]
        if self.hi_bits == 4:
            # Entry i's nibble: byte i >> 1, the low nibble for even i, the high one for odd.
            packed = np.zeros((len(pos_hi) + 1) // 2, dtype=np.uint8)
            packed[:] = pos_hi[0::2]
            packed[: len(pos_hi) // 2] |= pos_hi[1::2] << np.uint8(4)
            pos_hi = packed
        return pos_lo, pos_hi, rel.reshape(self.m, -1), bases

    def codes(self) -> U8:
        return self._codes

    def hi_len(self) -> int:
        """Length of ``pos_hi``: one element per position, or one byte per two (4-bit)."""
        entries = (self.m - 1) * self.n
        return (entries + 1) // 2 if self.hi_bits == 4 else entries

    def _radii(self, threshold: int) -> list[int]:
        if self.key_bits is not None:
            return [self.radius]
        return chunk_radii(threshold, self.m)

    def search(self, q: U8, threshold: int, max_candidates: int = 150_000) -> tuple[I64, I64, I64]:
        probes = self._probes.get(threshold)
        if probes is None:
            probes = self._probes[threshold] = _probes(self.b, self._radii(threshold))
        p_chunk, p_mask = probes
        # Probes of chunk 0 (the physical order) come first: their buckets are code ranges.
        n0 = int(np.count_nonzero(p_chunk == 0))
        out_q: list[I64] = []
        out_p: list[I64] = []
        out_d: list[I64] = []
        # Expected candidates per query ~ probes * (1 + n / 2^b); size batches to fit.
        per_query = max(1, len(p_mask) * (1 + self.n // (1 << self.b)))
        step = max(1, min(len(q), max_candidates // per_query))
        qw_all = np.ascontiguousarray(q).view(np.uint64)
        rel_row = p_chunk * self.rel.shape[1]
        base_row = p_chunk * self.bases.shape[1]
        table_row = (p_chunk[n0:] - 1) * self.n
        for s in range(0, len(q), step):
            qw = qw_all[s : s + step]
            nq = len(qw)
            keys = self._keys(qw)[:, p_chunk] ^ p_mask  # (queries, probes)
            # Bucket k is [base + rel[i], base + rel[i + 1]) with i = k + (k >> shift).
            blk = keys >> self.shift
            keys += blk
            keys += rel_row
            starts = np.take(self._flat_rel, keys).astype(np.int64)
            keys += 1
            lens = np.take(self._flat_rel, keys).astype(np.int64)
            lens -= starts
            blk += base_row
            starts += np.take(self._flat_bases, blk)
            qidx = np.arange(nq, dtype=np.int64)
            l0 = lens[:, :n0]
            cand = expand_ranges(starts[:, :n0].reshape(-1), l0.reshape(-1))
            cq = np.repeat(qidx, l0.sum(axis=1))
            if n0 < len(p_chunk):
                l1 = lens[:, n0:]
                pos = expand_ranges((starts[:, n0:] + table_row).reshape(-1), l1.reshape(-1))
                lo = np.take(self.pos_lo, pos)
                if self.hi_bits == 4:  # entry i's nibble: byte i >> 1, shifted by 4 (i & 1)
                    via = np.take(self.pos_hi, pos >> 1).astype(np.int64)
                    pos &= 1
                    pos <<= 2
                    via >>= pos
                    via &= 0xF
                else:
                    via = np.take(self.pos_hi, pos).astype(np.int64)
                via <<= 16
                via |= lo
                cand = np.concatenate([cand, via])
                cq = np.concatenate([cq, np.repeat(qidx, l1.sum(axis=1))])
            x = np.take(self._words, cand, axis=0)
            x ^= np.take(qw, cq, axis=0)
            dist = _row_popcount(x)
            hit = np.flatnonzero(dist <= threshold)
            if not len(hit):
                continue
            cq, cp, cd = cq[hit], cand[hit], dist[hit]
            if self.m > 1:
                # A true neighbour can be found through several chunks: keep one of each.
                _, first = np.unique(cq * self.n + cp, return_index=True)
                cq, cp, cd = cq[first], cp[first], cd[first]
            out_q.append(cq + s)
            out_p.append(cp)
            out_d.append(cd)
        if not out_q:
            e = np.empty(0, dtype=np.int64)
            return e, e, e
        return np.concatenate(out_q), np.concatenate(out_p), np.concatenate(out_d)

    def nbytes(self) -> int:
        return int(
            self._codes.nbytes
            + self.pos_lo.nbytes
            + self.pos_hi.nbytes
            + self.rel.nbytes
            + self.bases.nbytes
        )


_Base = _Flat | _Mih


class _Bits:
    """A base's tombstones: one bit per entry (set: alive), an eighth of a bool array.

    Searches read bits without the index lock; ``clear`` (under the lock) rewrites
    whole bytes, so a reader sees every entry either alive or dead.
    """

    __slots__ = ("bits", "n")

    def __init__(self, alive: npt.NDArray[np.bool_]) -> None:
        self.n = len(alive)
        # Entry i: bit i & 7 of byte i >> 3; the padding bits of the last byte stay 0.
        self.bits = np.packbits(np.asarray(alive, dtype=bool), bitorder="little")

    def get(self, pos: I64) -> npt.NDArray[np.bool_]:
        """Whether each of these entries is alive."""
        got = np.take(self.bits, pos >> 3)
        got >>= (pos & 7).astype(np.uint8)
        got &= np.uint8(1)
        return got.view(np.bool_)

    def clear(self, pos: I64) -> int:
        """Mark these entries dead; returns how many of them were alive."""
        pos = np.unique(pos)
        pos = pos[self.get(pos)]
        if len(pos):
            keep = ~(np.uint8(1) << (pos & 7).astype(np.uint8))
            np.bitwise_and.at(self.bits, pos >> 3, keep)
        return len(pos)

    def mask(self) -> npt.NDArray[np.bool_]:
        """A bool array of the same (a copy)."""
        return np.unpackbits(self.bits, count=self.n, bitorder="little").view(np.bool_)

    def count(self) -> int:
        return int(np.bitwise_count(self.bits).sum())

    @property
    def nbytes(self) -> int:
        return int(self.bits.nbytes)


class BinaryIndex:
    """Hamming-distance index over fixed-width codes, keyed by caller-chosen int64 ids.

    The same id may be added several times (a video's frames, a poster's
    variants); ``remove`` tombstones every entry with that id.
    """

    def __init__(
        self,
        nbits: int = 256,
        *,
        mih_min_size: int = MIH_MIN_SIZE,
        delta_max: int = DELTA_MAX,
        background_merge: bool = True,
        chunk_bits: int | None = None,
        approx: bool = False,
    ) -> None:
        if nbits % 64:
            raise ValueError("nbits must be a multiple of 64")
        self.nbits = nbits
        self.code_size = nbits // 8
        self.mih_min_size = mih_min_size
        self.delta_max = delta_max
        self.background_merge = background_merge
        #: MIH chunk width; None picks it from the size (``chunk_bits_for``).
        self.chunk_bits = chunk_bits
        #: Approximate base (window searches): a key of ``APPROX_KEY_BITS`` probed at
        #: ``APPROX_RADIUS``, about 37 B per code; candidates are still verified exactly.
        self.approx = approx and nbits == 256
        self._lock = threading.RLock()
        self._empty_base()
        self._merging: threading.Thread | None = None
        self._removed_while_merging: list[int] | None = None

    # ---- construction -------------------------------------------------

    def _empty_base(self) -> None:
        self._base: _Base = _Flat(np.empty((0, self.code_size), dtype=np.uint8), self.nbits)
        self._base_ids: Ids = np.empty(0, dtype=np.int64)
        self._set_base(self._base, np.empty(0, dtype=np.int64), np.empty(0, dtype=bool), True)
        self._reset_delta()

    def _set_base(self, base: _Base, ids: Ids, alive: npt.NDArray[np.bool_], srt: bool) -> None:
        """Install a base (under the lock, or before the index is shared)."""
        bits = _Bits(alive)
        self._base, self._base_ids, self._base_alive = base, ids, bits
        # What a search reads, as one object: three attributes assigned one after the
        # other could be read half old, half new (a new base with the old ids).
        self._snap: tuple[_Base, Ids, _Bits] = (base, ids, bits)
        self._ids_sorted = srt
        self._base_id_min = int(ids.min()) if len(ids) else 0
        self._base_id_max = int(ids.max()) if len(ids) else -1

    def _reset_delta(self) -> None:
        self._delta = faiss.IndexBinaryFlat(self.nbits)
        self._delta_ids: list[int] = []
        self._delta_alive: list[bool] = []

    def _make_base(self, ids: I64, codes: U8) -> tuple[_Base, Ids, npt.NDArray[np.bool_], bool]:
        """(base, ids in base order, alive, whether the ids are sorted)."""
        if len(ids) and int(ids.min()) >= -(2**31) and int(ids.max()) < 2**31:
            ids = ids.astype(np.int32)
        base: _Base
        if len(ids) >= self.mih_min_size and self.nbits >= 128:
            # The MIH stores its codes sorted by chunk 0 (or by the approximate key): the
            # ids follow that order, and removal scans them instead of bisecting.
            if self.approx:
                mih = _Mih(codes, key_bits=APPROX_KEY_BITS, radius=APPROX_RADIUS)
            else:
                mih = _Mih(codes, bits=self.chunk_bits)
            assert mih.order is not None
            ids = np.ascontiguousarray(ids[mih.order])
            mih.order = None
            return mih, ids, np.ones(len(ids), dtype=bool), False
        order = np.argsort(ids, kind="stable")
        ids = np.ascontiguousarray(ids[order])
        base = _Flat(np.ascontiguousarray(codes[order]), self.nbits)
        return base, ids, np.ones(len(ids), dtype=bool), True

    def _check(self, ids: npt.ArrayLike, codes: npt.ArrayLike) -> tuple[I64, U8]:
        i = np.asarray(ids, dtype=np.int64).reshape(-1)
        c = np.asarray(codes, dtype=np.uint8)
        if c.ndim != 2 or c.shape[1] != self.code_size or len(c) != len(i):
            raise ValueError(f"codes must be ({len(i)}, {self.code_size}) uint8")
        return i, c

    def build(self, ids: npt.ArrayLike, codes: npt.ArrayLike) -> None:
        """Replace the contents in one go (start-up, or loading a large bank)."""
        i, c = self._check(ids, codes)
        base, bids, alive, srt = self._make_base(i, c)
        with self._lock:
            self._set_base(base, bids, alive, srt)
            self._reset_delta()
        del i, c, base, bids, alive
        release_free_memory()

    # ---- updates ------------------------------------------------------

    def add(self, ids: npt.ArrayLike, codes: npt.ArrayLike) -> None:
        """Make entries matchable now; they go to the delta, merged later in the background."""
        i, c = self._check(ids, codes)
        if not len(i):
            return
        with self._lock:
            self._delta.add(np.ascontiguousarray(c))
            self._delta_ids.extend(int(x) for x in i)
            self._delta_alive.extend([True] * len(i))
            need_merge = len(self._delta_ids) >= self.delta_max
        if need_merge:
            self.merge(wait=not self.background_merge)

    def remove(self, ids: npt.ArrayLike) -> int:
        """Tombstone every entry with these ids (effective at once); returns the entries hit."""
        want = np.unique(np.asarray(ids, dtype=np.int64).reshape(-1))
        hit = 0
        with self._lock:
            bids = self._base_ids
            # Search in the base's own dtype (mixing int32 and int64 would copy the whole array).
            info = np.iinfo(bids.dtype)
            key = want[(want >= info.min) & (want <= info.max)].astype(bids.dtype)
            if self._ids_sorted:
                lo = np.searchsorted(bids, key, side="left")
                hi = np.searchsorted(bids, key, side="right")
                for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
                    if b > a:
                        hit += self._base_alive.clear(np.arange(a, b, dtype=np.int64))
            elif len(key) and len(bids):
                # Ids in MIH order: a scan (about 1 ms per million entries). New signals,
                # the common case of ``apply_one``, are above the base's largest id and
                # skip it.
                key = key[(key >= self._base_id_min) & (key <= self._base_id_max)]
                if len(key):
                    hit += self._base_alive.clear(np.flatnonzero(np.isin(bids, key)))
            wanted = set(want.tolist())
            for k, v in enumerate(self._delta_ids):
                if v in wanted and self._delta_alive[k]:
                    self._delta_alive[k] = False
                    hit += 1
            if self._removed_while_merging is not None:
                self._removed_while_merging.extend(wanted)
        return hit

    def merge(self, *, wait: bool = True) -> None:
        """Fold the delta into a new base, dropping tombstoned entries."""
        with self._lock:
            if self._merging is not None and self._merging.is_alive():
                if not wait:
                    return
                t = self._merging
            else:
                t = threading.Thread(target=self._merge, name="pdq-index-merge", daemon=True)
                self._merging = t
                self._removed_while_merging = []
                t.start()
        if wait:
            t.join()

    def _merge(self) -> None:
        with self._lock:
            base, base_ids, base_alive = self._base, self._base_ids, self._base_alive.mask()
            k = len(self._delta_ids)
            d_codes = self._delta_codes(k)
            d_ids = np.asarray(self._delta_ids[:k], dtype=np.int64)
            d_alive = np.asarray(self._delta_alive[:k], dtype=bool)
        codes = np.concatenate([base.codes()[base_alive], d_codes[d_alive]])
        ids = np.concatenate([base_ids[base_alive], d_ids[d_alive]])
        new_base, new_ids, new_alive, srt = self._make_base(ids.astype(np.int64), codes)
        del codes, ids, d_codes  # the new base has its own copy, in its own order
        with self._lock:
            rest_codes = self._delta_codes(len(self._delta_ids))[k:]
            rest_ids = self._delta_ids[k:]
            rest_alive = self._delta_alive[k:]
            self._set_base(new_base, new_ids, new_alive, srt)
            self._reset_delta()
            if rest_ids:
                self._delta.add(np.ascontiguousarray(rest_codes))
                self._delta_ids.extend(rest_ids)
                self._delta_alive.extend(rest_alive)
            removed = self._removed_while_merging or []
            self._removed_while_merging = None
        if removed:
            self.remove(np.asarray(removed, dtype=np.int64))
        del base, base_ids, base_alive, new_base, new_ids, new_alive
        release_free_memory()

    def _delta_codes(self, k: int) -> U8:
        if k == 0:
            return np.empty((0, self.code_size), dtype=np.uint8)
        return np.asarray(self._delta.reconstruct_n(0, k), dtype=np.uint8)

    # ---- search -------------------------------------------------------

    def search(self, codes: npt.ArrayLike, threshold: int) -> list[list[Hit]]:
        """Every live entry within ``threshold`` of each query code, nearest first."""
        q = np.ascontiguousarray(np.asarray(codes, dtype=np.uint8).reshape(-1, self.code_size))
        qi, ids, dist = self.search_arrays(q, threshold)
        out: list[list[Hit]] = [[] for _ in range(len(q))]
        order = np.lexsort((ids, dist, qi))
        for a, b, c in zip(
            qi[order].tolist(), ids[order].tolist(), dist[order].tolist(), strict=True
        ):
            out[a].append(Hit(a, b, c))
        return out

    def search_arrays(self, q: U8, threshold: int) -> tuple[I64, I64, I64]:
        """(query index, id, distance) arrays for all live hits; the bulk path for benches."""
        # One OpenMP thread per search: parallelism comes from concurrent callers
        # (``search_parallel``), never from splitting one query across cores.
        faiss.omp_set_num_threads(1)
        while True:
            snap = self._snap
            base, base_ids, base_alive = snap
            bq, bp, bd = base.search(q, threshold)  # without the lock: bases are immutable
            live = base_alive.get(bp)
            parts_q, parts_d = [bq[live]], [bd[live]]
            parts_i = [base_ids[bp[live]].astype(np.int64)]
            with self._lock:
                if self._snap is not snap:
                    # A merge installed a new base and emptied the delta meanwhile: the
                    # delta now lacks what the old base lacked too. Search again.
                    continue
                if self._delta_ids:
                    dq, dp, dd = _flat_search(self._delta, q, threshold)
                    alive = np.asarray(self._delta_alive, dtype=bool)[dp]
                    ids = np.asarray(self._delta_ids, dtype=np.int64)[dp]
                    parts_q.append(dq[alive])
                    parts_i.append(ids[alive])
                    parts_d.append(dd[alive])
            return np.concatenate(parts_q), np.concatenate(parts_i), np.concatenate(parts_d)

    def search_parallel(
        self, q: U8, threshold: int, *, threads: int = 2, chunk: int = 512
    ) -> tuple[I64, I64, I64]:
        """``search_arrays`` over many queries, split across threads."""
        parts: list[tuple[I64, I64, I64]] = []
        lock = threading.Lock()
        starts = list(range(0, len(q), chunk))

        def work(mine: list[int]) -> None:
            for s in mine:
                qi, ids, dist = self.search_arrays(q[s : s + chunk], threshold)
                with lock:
                    parts.append((qi + s, ids, dist))

        pool = [threading.Thread(target=work, args=(starts[i::threads],)) for i in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if not parts:
            e = np.empty(0, dtype=np.int64)
            return e, e, e
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    # ---- facts --------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return self._base_alive.count() + sum(self._delta_alive)

    @property
    def kind(self) -> str:
        return self._base.kind

    def nbytes(self) -> int:
        """Approximate resident size of the index structures."""
        with self._lock:
            return (
                self._base.nbytes()
                + self._base_ids.nbytes
                + self._base_alive.nbytes
                + len(self._delta_ids) * (self.code_size + 16)
            )

    def ids(self) -> I64:
        """Distinct live ids."""
        with self._lock:
            live = self._base_ids[self._base_alive.mask()]
            delta = [i for i, a in zip(self._delta_ids, self._delta_alive, strict=True) if a]
        return np.unique(np.concatenate([live, np.asarray(delta, dtype=np.int64)]))

    # ---- persistence --------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write a compacted snapshot atomically (write to a temp dir, then rename)."""
        self.merge(wait=True)
        with self._lock:
            base, ids, alive = self._base, self._base_ids, self._base_alive.mask()
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(directory.name + ".tmp")
        tmp.mkdir(exist_ok=True)
        meta: dict[str, Any] = {
            "version": _FORMAT_VERSION,
            "nbits": self.nbits,
            "kind": base.kind,
            "n": len(ids),
            "approx": self.approx,
        }
        np.save(tmp / "ids.npy", ids)
        np.save(tmp / "alive.npy", alive)
        if isinstance(base, _Mih):
            np.save(tmp / "codes.npy", base.codes())
            np.save(tmp / "pos_lo.npy", base.pos_lo)
            np.save(tmp / "pos_hi.npy", base.pos_hi)
            np.save(tmp / "rel.npy", base.rel)
            np.save(tmp / "bases.npy", base.bases)
            meta["chunk_bits"] = base.b
            meta["key_bits"] = base.key_bits
            meta["radius"] = base.radius
        else:
            faiss.write_index_binary(base.index, str(tmp / "flat.faissb"))
        (tmp / "meta.json").write_text(json.dumps(meta))
        old = directory.with_name(directory.name + ".old")
        if directory.exists():
            os.replace(directory, old)
        os.replace(tmp, directory)
        if old.exists():
            for f in old.iterdir():
                f.unlink()
            old.rmdir()

    @classmethod
    def load(cls, directory: Path, *, mih_min_size: int | None = None) -> BinaryIndex:
        meta = json.loads((directory / "meta.json").read_text())
        if meta.get("version") != _FORMAT_VERSION:
            raise ValueError("unsupported index format")
        idx = cls(
            int(meta["nbits"]),
            mih_min_size=mih_min_size or MIH_MIN_SIZE,
            approx=bool(meta["approx"]),
        )
        ids = np.load(directory / "ids.npy")
        alive = np.load(directory / "alive.npy")
        base: _Base
        if meta["kind"] in ("mih", "approx"):
            codes = np.load(directory / "codes.npy")
            key_bits = meta["key_bits"]
            base = _Mih(
                codes,
                bits=int(meta["chunk_bits"]),
                key_bits=None if key_bits is None else tuple(int(b) for b in key_bits),
                radius=int(meta["radius"]),
                stored=(
                    codes,
                    np.load(directory / "pos_lo.npy"),
                    np.load(directory / "pos_hi.npy"),
                    np.load(directory / "rel.npy"),
                    np.load(directory / "bases.npy"),
                ),
            )
        else:
            flat = _Flat(np.empty((0, idx.code_size), dtype=np.uint8), idx.nbits)
            flat.index = faiss.read_index_binary(str(directory / "flat.faissb"))
            flat.n = int(flat.index.ntotal)
            base = flat
        if base.n != len(ids) or len(alive) != len(ids):
            raise ValueError("index files disagree on size")
        if isinstance(base, _Mih) and (
            len(base.pos_lo) != (base.m - 1) * base.n or len(base.pos_hi) != base.hi_len()
        ):
            raise ValueError("index positions disagree with the entry count")
        with idx._lock:
            idx._set_base(base, ids, alive, not isinstance(base, _Mih))
        return idx
