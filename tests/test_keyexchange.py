"""Key exchange: RFC 8448's X25519 secret, round trips for every group, invalid shares rejected,
RFC 7919 primes from their formula, and TLS 1.2 RSA key transport with its countermeasure."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion
from tlslab.errors import IllegalParameter
from tlslab.pki.certificates import teaching_rsa_key
from tlslab.rng import seeded_rng
from tlslab.stages.keyexchange import (
    KeyShare,
    decrypt_pre_master_secret,
    dhe_pre_master_secret,
    encrypt_pre_master_secret,
    ffdhe_prime,
    generate_key_share,
    rsa_pre_master_secret,
)

ALL_GROUPS = [G.x25519, G.x448, G.secp256r1, G.secp384r1, G.secp521r1, G.ffdhe2048, G.ffdhe3072]
SIZES = {
    G.x25519: 32,
    G.x448: 56,
    G.secp256r1: 65,
    G.secp384r1: 97,
    G.secp521r1: 133,
    G.ffdhe2048: 256,
    G.ffdhe3072: 384,
}


def test_rfc8448_x25519(rfc8448: dict[str, Any]) -> None:
    k = rfc8448["keys"]
    client = X25519PrivateKey.from_private_bytes(bytes.fromhex(k["client_x25519_private"]))
    share = KeyShare(G.x25519, client, client.public_key().public_bytes_raw())
    assert share.public.hex() == k["client_x25519_public"]
    assert (
        share.exchange(bytes.fromhex(k["server_x25519_public"])).hex()
        == rfc8448["secrets"]["ecdhe_shared_secret"]
    )


@pytest.mark.parametrize("group", ALL_GROUPS, ids=lambda g: g.name)
def test_round_trip_every_group(group: G) -> None:
    a = generate_key_share(group, seeded_rng(f"a {group}"))
    b = generate_key_share(group, seeded_rng(f"b {group}"))
    assert len(a.public) == SIZES[group]
    assert a.exchange(b.public) == b.exchange(a.public)
    assert generate_key_share(group, seeded_rng(f"a {group}")).public == a.public  # deterministic


@pytest.mark.parametrize("group", ALL_GROUPS, ids=lambda g: g.name)
def test_wrong_length_share_is_illegal_parameter(group: G) -> None:
    a = generate_key_share(group, seeded_rng(1))
    with pytest.raises(IllegalParameter):
        a.exchange(b"\x04" + bytes(SIZES[group]))


@pytest.mark.parametrize("group", [G.secp256r1, G.secp384r1, G.secp521r1], ids=lambda g: g.name)
def test_point_not_on_curve(group: G) -> None:
    a = generate_key_share(group, seeded_rng(1))
    bogus = b"\x04" + bytes([1]) * (SIZES[group] - 1)
    with pytest.raises(IllegalParameter, match="not a point on the curve"):
        a.exchange(bogus)
    compressed = b"\x02" + bytes(SIZES[group] - 1)
    with pytest.raises(IllegalParameter, match="uncompressed"):
        a.exchange(compressed)


def test_all_zero_x25519_secret_rejected() -> None:
    a = generate_key_share(G.x25519, seeded_rng(1))
    with pytest.raises(IllegalParameter, match="all-zero"):
        a.exchange(bytes(32))  # a low-order point


@pytest.mark.parametrize("y", [0, 1, "p-1", "p"])
def test_ffdhe_public_value_bounds(y: int | str) -> None:
    p = ffdhe_prime(G.ffdhe2048)
    value = {"p-1": p - 1, "p": p}.get(y, y) if isinstance(y, str) else y
    a = generate_key_share(G.ffdhe2048, seeded_rng(1))
    with pytest.raises(IllegalParameter, match="1 < Y < p-1"):
        a.exchange(int(value).to_bytes(256, "big"))


def _probable_prime(n: int) -> bool:
    return all(pow(a, n - 1, n) == 1 for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37))


@pytest.mark.parametrize("group", [G.ffdhe2048, G.ffdhe3072], ids=lambda g: g.name)
def test_ffdhe_primes_are_safe_primes_from_rfc7919(group: G) -> None:
    p = ffdhe_prime(group)
    assert p.bit_length() == {G.ffdhe2048: 2048, G.ffdhe3072: 3072}[group]
    assert _probable_prime(p) and _probable_prime((p - 1) // 2)
    # RFC 7919 Appendix A.1 prints ffdhe2048 starting and ending like this
    if group == G.ffdhe2048:
        assert f"{p:x}".startswith("ffffffffffffffffadf85458a2bb4a9aafdc5620273d3cf1")
        assert f"{p:x}".endswith("886b423861285c97ffffffffffffffff")


def test_dhe_pre_master_strips_leading_zeros() -> None:
    assert dhe_pre_master_secret(b"\x00\x00\x01\x02") == b"\x01\x02"


def test_rsa_key_transport_interoperates_with_cryptography() -> None:
    key = teaching_rsa_key()
    pms = rsa_pre_master_secret(ProtocolVersion.TLS12, seeded_rng(1))
    assert len(pms) == 48 and pms[:2] == b"\x03\x03"
    # tlslab encrypts, cryptography decrypts
    assert key.decrypt(encrypt_pre_master_secret(pms, key.public_key()), padding.PKCS1v15()) == pms
    # cryptography encrypts, tlslab decrypts
    ciphertext = key.public_key().encrypt(pms, padding.PKCS1v15())
    assert decrypt_pre_master_secret(ciphertext, key, ProtocolVersion.TLS12, seeded_rng(2)) == pms


def test_rsa_countermeasure_returns_random_secret_silently() -> None:
    key = teaching_rsa_key()
    pms = rsa_pre_master_secret(ProtocolVersion.TLS12, seeded_rng(1))
    ciphertext = bytearray(encrypt_pre_master_secret(pms, key.public_key()))
    ciphertext[10] ^= 0xFF
    first = decrypt_pre_master_secret(bytes(ciphertext), key, ProtocolVersion.TLS12, seeded_rng(3))
    assert len(first) == 48 and first != pms and first[:2] == b"\x03\x03"
    other = decrypt_pre_master_secret(bytes(ciphertext), key, ProtocolVersion.TLS12, seeded_rng(4))
    assert other != first  # random each time, not derived from the ciphertext
    # a version rollback is treated the same way
    rolled = encrypt_pre_master_secret(b"\x03\x02" + pms[2:], key.public_key())
    assert (
        decrypt_pre_master_secret(rolled, key, ProtocolVersion.TLS12, seeded_rng(5))[2:] != pms[2:]
    )
