from __future__ import annotations

import tlslab as t
from tlslab.exercises import cipher_suites_offset_exercise, client_hello_exercise


def _good() -> t.ClientHello:
    return t.build_client_hello(
        "lab.example",
        versions=[t.ProtocolVersion.TLS13],
        cipher_suites=[t.CipherSuite.TLS_CHACHA20_POLY1305_SHA256],
        groups=[t.NamedGroup.secp256r1],
        alpn=["h2"],
        rng=t.seeded_rng(1),
    )


def test_correct_client_hello_passes_as_object_and_bytes() -> None:
    assert client_hello_exercise.check(_good())
    assert client_hello_exercise.check(_good().encode())
    assert client_hello_exercise.check(_good().encode().hex())


def test_wrong_versions_names_supported_versions() -> None:
    hello = t.build_client_hello(
        "lab.example",
        cipher_suites=[0x1303],
        groups=[t.NamedGroup.secp256r1],
        alpn=["h2"],
        rng=t.seeded_rng(1),
    )
    fb = client_hello_exercise.check(hello)
    assert not fb
    assert [f.field for f in fb.findings] == ["supported_versions"]
    assert "TLS 1.3 only" in str(fb)


def test_wrong_key_share_names_key_share() -> None:
    hello = t.build_client_hello(
        "lab.example",
        versions=[t.ProtocolVersion.TLS13],
        cipher_suites=[0x1303],
        groups=[t.NamedGroup.x25519, t.NamedGroup.secp256r1],
        alpn=["h2"],
        rng=t.seeded_rng(1),
    )
    fb = client_hello_exercise.check(hello)
    assert [f.field for f in fb.findings] == ["key_share"]
    assert "x25519" in fb.findings[0].problem


def test_garbage_bytes_are_explained() -> None:
    fb = client_hello_exercise.check(b"\x01\x00\x00\x05hello")
    assert not fb and fb.findings[0].field == "bytes"


def test_solution_hidden_unless_instructor() -> None:
    assert "instructor" in client_hello_exercise.solution()
    assert "build_client_hello" in client_hello_exercise.solution(instructor=True)


def test_offset_exercise_distinguishes_mistakes() -> None:
    hello = t.build_client_hello(
        "x", versions=[t.ProtocolVersion.TLS12], rng=t.seeded_rng(1)
    ).encode()
    ex = cipher_suites_offset_exercise(hello)
    right = 4 + 2 + 32 + 1 + 0 + 2
    assert ex.check(right)
    length_msg = str(ex.check(right - 2))
    body_msg = str(ex.check(right - 4))
    assert "length" in length_msg
    assert "header" in body_msg
    assert length_msg != body_msg
    assert "whole number" in str(ex.check("41"))
