"""Synthetic wallet addresses for the testbed: valid, deterministic, owned by nobody.

Each address is derived from a key made by hashing the scenario's seed and a label,
so a run is reproducible and no real person's address ever enters the repository.
bip-utils encodes them (the same library that validates them in ``takedown.coins``).
"""

from __future__ import annotations

import hashlib

from bip_utils import (
    EthAddrEncoder,
    Monero,
    P2PKHAddrEncoder,
    P2SHAddrEncoder,
    P2TRAddrEncoder,
    P2WPKHAddrEncoder,
    Secp256k1PrivateKey,
    TrxAddrEncoder,
)

__all__ = ["KINDS_MADE", "make_address"]

#: (kind, script) pairs this module can make.
KINDS_MADE = (
    ("btc", "p2pkh"),
    ("btc", "p2sh"),
    ("btc", "p2wpkh"),
    ("btc", "p2tr"),
    ("evm", "eip55"),
    ("tron", "base58check"),
    ("ltc", "p2pkh"),
    ("ltc", "p2wpkh"),
    ("xmr", "standard"),
    ("xmr", "subaddress"),
    ("xmr", "integrated"),
    ("zec", "p2pkh"),
    ("dash", "p2pkh"),
)


def _secret(seed: str) -> bytes:
    return hashlib.sha256(b"takedown-sim-wallet:" + seed.encode()).digest()


def make_address(kind: str, script: str, seed: str) -> str:
    """A valid ``kind``/``script`` address derived from ``seed`` (same seed, same address)."""
    secret = _secret(f"{kind}:{script}:{seed}")
    if kind == "xmr":
        wallet = Monero.FromSeed(secret)
        if script == "subaddress":
            return str(wallet.Subaddress(1 + secret[0] % 50))
        if script == "integrated":
            return str(wallet.IntegratedAddress(secret[:8]))
        return str(wallet.PrimaryAddress())
    pub = Secp256k1PrivateKey.FromBytes(secret).PublicKey()
    table = {
        ("btc", "p2pkh"): lambda: P2PKHAddrEncoder.EncodeKey(pub, net_ver=b"\x00"),
        ("btc", "p2sh"): lambda: P2SHAddrEncoder.EncodeKey(pub, net_ver=b"\x05"),
        ("btc", "p2wpkh"): lambda: P2WPKHAddrEncoder.EncodeKey(pub, hrp="bc", wit_ver=0),
        ("btc", "p2tr"): lambda: P2TRAddrEncoder.EncodeKey(pub, hrp="bc"),
        ("evm", "eip55"): lambda: EthAddrEncoder.EncodeKey(pub),
        ("tron", "base58check"): lambda: TrxAddrEncoder.EncodeKey(pub),
        ("ltc", "p2pkh"): lambda: P2PKHAddrEncoder.EncodeKey(pub, net_ver=b"\x30"),
        ("ltc", "p2wpkh"): lambda: P2WPKHAddrEncoder.EncodeKey(pub, hrp="ltc", wit_ver=0),
        ("zec", "p2pkh"): lambda: P2PKHAddrEncoder.EncodeKey(pub, net_ver=b"\x1c\xb8"),
        ("dash", "p2pkh"): lambda: P2PKHAddrEncoder.EncodeKey(pub, net_ver=b"\x4c"),
    }
    make = table.get((kind, script))
    if make is None:
        raise ValueError(f"no synthetic {kind}/{script} address maker")
    return str(make())


FORMS = ("plain", "spaced", "line-break", "defanged", "zero-width")


def write_as(address: str, form: str, cut: int = 0) -> str:
    """``address`` as a poster might write it to dodge a filter (``cut`` picks where)."""
    if form == "plain":
        return address
    mid = 6 + cut % max(1, len(address) - 12)
    if form == "spaced":
        return " ".join(address[i : i + 4] for i in range(0, len(address), 4))
    if form == "line-break":
        return address[:mid] + "\n" + address[mid:]
    if form == "defanged":
        return address[:mid] + "[.]" + address[mid:]
    if form == "zero-width":
        return address[:mid] + "\u200b" + address[mid:]
    raise ValueError(f"unknown form {form!r}")
