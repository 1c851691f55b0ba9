"""Extraction: published vectors, every kind in every written form, hostile texts."""

from __future__ import annotations

import random

import pytest

from takedown.coins import vectors
from takedown.coins.extract import extract, extract_addresses, validate
from takedown.sim.wallets import FORMS, KINDS_MADE, make_address, write_as


def _canon(address: str) -> str:
    return address.lower() if address.lower().startswith(("bc1", "tb1", "ltc1")) else address


@pytest.mark.parametrize("address", vectors.BIP350_VALID)
def test_bip350_valid_found(address: str) -> None:
    found = extract(f"donate: {address}.")
    assert [f.address for f in found] == [address.lower()]
    assert found[0].kind == "btc"


def test_bip350_scripts() -> None:
    def meta(address: str) -> tuple[str, str]:
        found = validate(address)
        assert found is not None
        return found.script, found.network

    assert meta("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4") == ("p2wpkh", "mainnet")
    assert meta(vectors.BIP350_VALID[-1]) == ("p2tr", "mainnet")
    assert meta(vectors.BIP350_VALID[1]) == ("p2wsh", "testnet")
    assert meta("BC1SW50QGDZ25J") == ("segwit-v16", "mainnet")


@pytest.mark.parametrize("address", vectors.BIP350_INVALID + vectors.BIP173_INVALID)
def test_segwit_invalid_refused(address: str) -> None:
    assert extract(f"donate: {address} now") == []
    assert validate(address) is None


@pytest.mark.parametrize("address", vectors.EIP55_VALID)
def test_eip55_valid_and_one_flipped_letter_refused(address: str) -> None:
    assert [f.address for f in extract(f"ETH {address}")] == [address]
    for i in range(3):
        assert extract(f"ETH {vectors.flip_case(address, i)}") == []


@pytest.mark.parametrize("address", vectors.MONERO_VALID + vectors.BASE58_VALID)
def test_monero_and_base58_valid_and_corrupted(address: str) -> None:
    assert [f.address for f in extract(f"send to {address} please")] == [address]
    for i in range(5):
        assert extract(f"send to {vectors.corrupt(address, i * 7)} please") == []


@pytest.mark.parametrize(("kind", "script"), KINDS_MADE)
@pytest.mark.parametrize("form", FORMS)
def test_every_kind_in_every_form(kind: str, script: str, form: str) -> None:
    for j in range(3):
        address = make_address(kind, script, f"{form}-{j}")
        text = f"ادعمونا Unterstützt uns: {write_as(address, form, j)} — merci."
        found = extract(text)
        assert [(f.kind, f.address, f.script) for f in found] == [(kind, _canon(address), script)]
        assert found[0].form == {
            "plain": "plain",
            "defanged": "defanged",
        }.get(form, "split")
        # the span covers the written form, separators included
        assert text[found[0].start : found[0].end].replace("[.]", "").replace("\u200b", "")


def test_address_inside_longer_token_is_not_an_address() -> None:
    a = make_address("btc", "p2pkh", "x")
    assert extract(f"zz{a}") == []
    assert extract(f"{a}9") == []
    e = make_address("evm", "eip55", "x")
    assert extract(e + "ab") == []  # a 0x + 42 hex token is not an address


def test_usdt_by_chain() -> None:
    tron = make_address("tron", "base58check", "u")
    evm = make_address("evm", "eip55", "u")
    assert extract(f"USDT (TRC20): {tron}")[0].asset == "USDT-TRC20"
    assert extract(f"Tether ERC-20 {evm}")[0].asset == "USDT-ERC20"
    assert extract(f"USDT BEP20 {evm}")[0].asset == "USDT-BEP20"
    assert extract(f"ETH {evm}")[0].asset is None


def test_prose_before_an_address_does_not_hide_it() -> None:
    a = make_address("btc", "p2pkh", "prose")
    t = make_address("tron", "base58check", "prose")
    text = f"Tomorrow Many Listen 3 Toward {a} Thanks Mercy {t} Xenon 7seven"
    assert extract_addresses(text) == {("btc", a), ("tron", t)}


def test_hostile_text_yields_nothing_false() -> None:
    """Near-addresses (one character off), random base58, mixed scripts, homoglyphs."""
    rng = random.Random(16)
    b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    parts: list[str] = []
    for i in range(3000):
        kind, script = KINDS_MADE[i % len(KINDS_MADE)]
        a = make_address(kind, script, str(i % 40))
        parts.append(vectors.corrupt(a, i))
        parts.append("".join(rng.choice(b58) for _ in range(34)))
        # a Cyrillic "а" or "о" in place of a Latin letter
        j = rng.randrange(4, len(a) - 1)
        parts.append(a[:j] + rng.choice("аоеАОЕ") + a[j + 1 :])
    parts.append("".join(rng.choice(b58 + " \n[.]") for _ in range(100_000)))
    text = " ".join(parts)
    assert extract(text) == []
    good = make_address("btc", "p2wpkh", "hostile")
    assert extract_addresses(text + " " + good) == {("btc", good)}


def test_empty_and_huge_whitespace() -> None:
    assert extract("") == []
    assert extract(" \n" * 100_000) == []
