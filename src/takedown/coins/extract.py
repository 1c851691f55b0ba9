"""Find cryptocurrency addresses in any text, and keep only those whose checksum passes.

Why this shape: texts that reach the platform are hostile (propaganda that defangs
and splits its donation addresses, pages stuffed with look-alikes). One regular
expression per family finds *candidates*, which may run across the separators a
poster inserts (spaces, line breaks, ``[.]``, zero-width characters); the candidate
is then cut at its pieces' boundaries and each cut of a plausible length is checked
by bip-utils (base58check, bech32/bech32m with BIP-350's rules, EIP-55, Monero's
Keccak checksum). Nothing here implements base58 or bech32 itself.

Bounded time: every pattern is possessive (no backtracking inside a piece), a
candidate spans at most a fixed number of pieces, and a failed candidate resumes
the search at its second piece, so the work is linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bip_utils import (
    Base58XmrDecoder,
    EthAddrDecoder,
    P2PKHAddrDecoder,
    P2SHAddrDecoder,
    SegwitBech32Decoder,
    TrxAddrDecoder,
    XmrAddrDecoder,
    XmrIntegratedAddrDecoder,
)

__all__ = ["KINDS", "Found", "extract", "extract_addresses", "validate"]

#: Address kinds (the chain whose address format it is), in the order the docs list them.
KINDS = ("btc", "evm", "tron", "ltc", "xmr", "zec", "dash")

_B58 = "1-9A-HJ-NP-Za-km-z"
_BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7lQPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"
_HEX = "0-9a-fA-F"
# Separators a poster puts inside an address. After a line break, a defang mark or an
# invisible character any piece may follow; after plain spaces too (groups of four leave
# a last group of one).
_DEFANG = r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)"
_SEP_HARD = rf"(?:[ \t]*\r?\n[ \t>]*|[ \t]?(?:{_DEFANG})[ \t]?|[\u00ad\u200b-\u200d\u2060\ufeff])"
_SEP_SPACE = r"[ \t]{1,3}"
_END = r"(?![A-Za-z0-9])"
_PIECE = re.compile(rf"({_DEFANG})|([A-Za-z0-9]+)")
_DEFANG_RE = re.compile(_DEFANG)


def _family(first: str, chars: str, max_pieces: int) -> re.Pattern[str]:
    """``first`` matches the address's first piece (its prefix and a few characters)."""
    return re.compile(
        rf"(?<![A-Za-z0-9])(?:{first}){_END}"
        rf"(?:(?:{_SEP_HARD}[{chars}]++|{_SEP_SPACE}[{chars}]++){_END}){{0,{max_pieces}}}"
    )


@dataclass(frozen=True, slots=True)
class Found:
    """One address in a text: its canonical form, where it was, and how it was written."""

    kind: str
    address: str
    network: str
    script: str
    start: int
    end: int
    form: str  # "plain", "split" (spaces or line breaks inside) or "defanged" ([.] and kin)
    asset: str | None = None  # "USDT-TRC20", "USDT-ERC20", "USDT-Omni" when the text says so


_Check = tuple[str, str, str, str]  # kind, canonical address, network, script


def _b58check(s: str) -> _Check | None:
    first = s[0]
    try:
        if first == "1":
            P2PKHAddrDecoder.DecodeAddr(s, net_ver=b"\x00")
            return ("btc", s, "mainnet", "p2pkh")
        if first == "3":
            P2SHAddrDecoder.DecodeAddr(s, net_ver=b"\x05")
            return ("btc", s, "mainnet", "p2sh")
        if first == "L":
            P2PKHAddrDecoder.DecodeAddr(s, net_ver=b"\x30")
            return ("ltc", s, "mainnet", "p2pkh")
        if first == "M":
            P2SHAddrDecoder.DecodeAddr(s, net_ver=b"\x32")
            return ("ltc", s, "mainnet", "p2sh")
        if first == "T":
            TrxAddrDecoder.DecodeAddr(s)
            return ("tron", s, "mainnet", "base58check")
        if first == "X":
            P2PKHAddrDecoder.DecodeAddr(s, net_ver=b"\x4c")
            return ("dash", s, "mainnet", "p2pkh")
        if first == "7":
            P2SHAddrDecoder.DecodeAddr(s, net_ver=b"\x10")
            return ("dash", s, "mainnet", "p2sh")
        if s.startswith("t1"):
            P2PKHAddrDecoder.DecodeAddr(s, net_ver=b"\x1c\xb8")
            return ("zec", s, "mainnet", "p2pkh")
        if s.startswith("t3"):
            P2SHAddrDecoder.DecodeAddr(s, net_ver=b"\x1c\xbd")
            return ("zec", s, "mainnet", "p2sh")
    except Exception:  # bip-utils raises ValueError and its own checksum errors
        return None
    return None


_XMR_NET = {b"\x12": "standard", b"\x13": "integrated", b"\x2a": "subaddress"}


def _xmr(s: str) -> _Check | None:
    try:
        raw = Base58XmrDecoder.Decode(s)
        net = raw[:1]
        script = _XMR_NET.get(net)
        if script is None:
            return None
        # An integrated address carries its own 8-byte payment id before the checksum;
        # hand it back so bip-utils checks everything else (checksum, keys on the curve).
        if script == "integrated":
            XmrIntegratedAddrDecoder.DecodeAddr(s, net_ver=net, payment_id=raw[65:73])
        else:
            XmrAddrDecoder.DecodeAddr(s, net_ver=net)
    except Exception:  # bip-utils raises ValueError and its own checksum errors
        return None
    return ("xmr", s, "mainnet", script)


_HRP = {"bc": ("btc", "mainnet"), "tb": ("btc", "testnet"), "ltc": ("ltc", "mainnet")}


def _bech32(s: str) -> _Check | None:
    low = s.lower()
    if s != low and s != s.upper():
        return None  # BIP-173: mixed case is invalid
    hrp = low[: low.rfind("1")]
    meta = _HRP.get(hrp)
    if meta is None:
        return None
    try:
        ver, prog = SegwitBech32Decoder.Decode(hrp, low)
    except Exception:  # bip-utils raises ValueError and its own checksum errors
        return None
    if ver == 0:
        script = "p2wpkh" if len(prog) == 20 else "p2wsh"
    elif ver == 1 and len(prog) == 32:
        script = "p2tr"
    else:
        script = f"segwit-v{ver}"
    return (meta[0], low, meta[1], script)


def _evm(s: str) -> _Check | None:
    try:
        EthAddrDecoder.DecodeAddr(s)  # EIP-55: the exact mixed-case checksum encoding
    except Exception:  # bip-utils raises ValueError and its own checksum errors
        return None
    return ("evm", s, "mainnet", "eip55")


@dataclass(frozen=True)
class _Family:
    pattern: re.Pattern[str]
    first: re.Pattern[str]  # what a piece must be to start a candidate
    lengths: frozenset[int]
    check: Callable[[str], _Check | None]
    max_len: int


def _make(
    first: str,
    chars: str,
    max_pieces: int,
    lengths: Iterable[int],
    check: Callable[[str], _Check | None],
) -> _Family:
    lens = frozenset(lengths)
    return _Family(_family(first, chars, max_pieces), re.compile(first), lens, check, max(lens))


_FAMILIES = (
    _make(f"(?:[bB][cC]|[tT][bB]|[lL][tT][cC])1[{_BECH}]*+", _BECH, 24, range(14, 91), _bech32),
    _make(f"0x[{_HEX}]{{2,}}+", _HEX, 24, (42,), _evm),
    # A first piece of at least four characters keeps short words ("The", "Mit") out.
    _make(f"[13LMTX7][{_B58}]{{3,}}+|t[13][{_B58}]{{2,}}+", _B58, 16, range(25, 36), _b58check),
    _make(f"[48][{_B58}]{{3,}}+", _B58, 40, (95, 106), _xmr),
)

_USDT = re.compile(r"(?i)usdt|tether|usd\u20ae")
_CHAIN_HINT = re.compile(r"(?i)\b(trc|erc|bep|omni)[- ]?(20)?\b")
_CACHE_MAX = 8192


def _asset(text: str, kind: str, start: int, end: int) -> str | None:
    window = text[max(0, start - 80) : end + 80]
    if not _USDT.search(window):
        return None
    hint = _CHAIN_HINT.search(window)
    tag = hint.group(1).upper() if hint else ""
    if kind == "tron":
        return "USDT-TRC20"
    if kind == "evm":
        return "USDT-BEP20" if tag == "BEP" else "USDT-ERC20"
    if kind == "btc":
        return "USDT-Omni"
    return None


class _Cache:
    """Results of checks already made: hostile texts repeat the same near-address."""

    def __init__(self) -> None:
        self.seen: dict[str, _Check | None] = {}

    def check(self, fam: _Family, s: str) -> _Check | None:
        if s in self.seen:
            return self.seen[s]
        if len(self.seen) >= _CACHE_MAX:
            self.seen.clear()
        res = self.seen[s] = fam.check(s)
        return res


def _scan_family(text: str, fam: _Family, cache: _Cache) -> Iterator[Found]:
    pos = 0
    search = fam.pattern.search
    while True:
        m = search(text, pos)
        if m is None:
            return
        base = m.start()
        span = m.group()
        pieces: list[tuple[int, int]] = []
        defanged_before: list[bool] = []
        chunks: list[str] = []
        cum: list[int] = []
        defang = False
        total = 0
        for pm in _PIECE.finditer(span):
            if pm.group(1) is not None:
                defang = True
                continue
            a, b = pm.span(2)
            pieces.append((a, b))
            chunks.append(span[a:b])
            defanged_before.append(defang)
            defang = False
            total += b - a
            cum.append(total)
            if total >= fam.max_len:  # later pieces cannot belong to this address
                break
        hit: tuple[int, _Check] | None = None
        for k in range(len(chunks), 0, -1):
            if cum[k - 1] not in fam.lengths:
                continue
            res = cache.check(fam, "".join(chunks[:k]))
            if res is not None:
                hit = (k, res)
                break
        if hit is None:
            # Resume at the next piece that could start an address: one may begin inside
            # this candidate ("Tomorrow send 1Boat..."); the others cannot.
            nxt = next(
                (pieces[j][0] for j in range(1, len(chunks)) if fam.first.fullmatch(chunks[j])),
                None,
            )
            pos = base + (nxt if nxt is not None else pieces[-1][1])
            continue
        k, (kind, addr, network, script) = hit
        start, end = base + pieces[0][0], base + pieces[k - 1][1]
        form = "plain"
        if k > 1:
            form = "defanged" if any(defanged_before[1:k]) else "split"
        yield Found(kind, addr, network, script, start, end, form, _asset(text, kind, start, end))
        pos = end


def extract(text: str) -> list[Found]:
    """Every address in ``text`` whose checksum passes, in the order they appear."""
    if not text:
        return []
    cache = _Cache()
    out: list[Found] = []
    for fam in _FAMILIES:
        out.extend(_scan_family(text, fam, cache))
    out.sort(key=lambda f: (f.start, f.end))
    # Families never overlap on a valid address, but keep the first if they ever did.
    kept: list[Found] = []
    last_end = -1
    for f in out:
        if f.start >= last_end:
            kept.append(f)
            last_end = f.end
    return kept


def extract_addresses(text: str) -> set[tuple[str, str]]:
    """The distinct ``(kind, address)`` pairs in ``text``."""
    return {(f.kind, f.address) for f in extract(text)}


def validate(address: str) -> Found | None:
    """Check one address typed by an analyst (no separators); None when it is not valid."""
    s = address.strip()
    found = [f for f in extract(s) if f.start == 0 and f.end == len(s)]
    return found[0] if found else None
