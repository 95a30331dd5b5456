"""The attack labs: Bleichenbacher recovers the plaintext through the toy oracle; the real
server's countermeasure offers no oracle; the MITM helpers edit ClientHellos."""

from __future__ import annotations

from tlslab.constants import ExtensionType, ProtocolVersion
from tlslab.lab.attacks import (
    PaddingOracle,
    bleichenbacher,
    remove_tls13,
    rewrite_client_hello,
    toy_rsa_key,
    unpad_pkcs1,
)
from tlslab.rng import seeded_rng
from tlslab.stages.hello import build_client_hello
from tlslab.stages.keyexchange import (
    decrypt_pre_master_secret,
    encrypt_pre_master_secret,
    rsa_pre_master_secret,
)
from tlslab.wire.messages import ClientHello, decode_handshake
from tlslab.wire.record import RecordReader, fragment


def test_bleichenbacher_recovers_the_pre_master_secret() -> None:
    key = toy_rsa_key()
    secret = rsa_pre_master_secret(ProtocolVersion.TLS12, seeded_rng("attack test"))
    ciphertext = encrypt_pre_master_secret(secret, key.public_key())
    oracle = PaddingOracle(key)
    steps: list[float] = []
    result = bleichenbacher(ciphertext, oracle, progress=lambda q, w: steps.append(w))
    assert unpad_pkcs1(result.plaintext) == secret
    assert result.queries == oracle.queries > 100
    assert steps[0] > 400 and steps[-1] == 0  # from ~500 unknown bits down to one candidate


def test_real_server_gives_no_oracle() -> None:
    key = toy_rsa_key()
    a = decrypt_pre_master_secret(bytes(64), key, ProtocolVersion.TLS12, seeded_rng(1))
    b = decrypt_pre_master_secret(b"\x01" * 64, key, ProtocolVersion.TLS12, seeded_rng(2))
    assert len(a) == len(b) == 48 and a != b  # random secrets, no error either way


def test_mitm_rewrites_the_client_hello() -> None:
    hello = build_client_hello("x", rng=seeded_rng(1))
    records = b"".join(r.encode() for r in fragment(22, hello.encode()))
    edited = rewrite_client_hello(records, remove_tls13)
    back = decode_handshake(RecordReader().feed(edited)[0].fragment)
    assert (
        isinstance(back, ClientHello) and back.extension(ExtensionType.supported_versions) is None
    )
