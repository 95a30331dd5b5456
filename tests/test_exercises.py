from __future__ import annotations

import tlslab as t
from tlslab.lab.exercises import cipher_suites_offset_exercise, client_hello_exercise


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


def test_client_write_key_exercise() -> None:
    from tlslab.lab.exercises import client_write_key_exercise
    from tlslab.stages.keyschedule import prf
    from tlslab.vectors import tls12

    t = tls12()["illustrated_tls12_handshake"]
    ms, cr, sr = (bytes.fromhex(t[k]) for k in ("master_secret", "client_random", "server_random"))
    ex = client_write_key_exercise(ms, cr, sr, 0xC013)  # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    assert ex.check(bytes.fromhex(t["client_write_key"]))
    swapped = str(ex.check(prf(ms, "key expansion", cr + sr, 104)[40:56]))
    server = str(ex.check(bytes.fromhex(t["server_write_key"])))
    no_mac = str(ex.check(prf(ms, "key expansion", sr + cr, 104)[:16]))
    assert "server_random + client_random" in swapped
    assert "server_write_key" in server
    assert "MAC keys" in no_mac
    assert len({swapped, server, no_mac}) == 3


def test_client_verify_data_exercise() -> None:
    from tlslab.lab.exercises import client_verify_data_exercise
    from tlslab.stages.keyschedule import digest, verify_data_13
    from tlslab.vectors import rfc8448

    v = rfc8448()
    m = {k: bytes.fromhex(x) for k, x in v["handshake_messages"].items()}
    order = [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate",
        "certificate_verify",
        "server_finished",
    ]
    chts = bytes.fromhex(v["secrets"]["client_handshake_traffic_secret"])
    shts = bytes.fromhex(v["secrets"]["server_handshake_traffic_secret"])
    ex = client_verify_data_exercise()
    assert ex.check(bytes.fromhex(v["finished"]["client_verify_data"]))
    short = str(
        ex.check(verify_data_13(chts, digest("sha256", b"".join(m[n] for n in order[:-1]))))
    )
    wrong_key = str(ex.check(verify_data_13(shts, digest("sha256", b"".join(m[n] for n in order)))))
    assert "stops before the server Finished" in short
    assert "server_handshake_traffic_secret" in wrong_key
    assert "Hash.length" in str(ex.check(b"x" * 12))


def test_nonce_exercise() -> None:
    from tlslab.lab.exercises import nonce_exercise
    from tlslab.stages.protection import xor_nonce

    iv = bytes(range(1, 13))
    ex = nonce_exercise(iv, 5)
    assert ex.check(xor_nonce(iv, 5))
    messages = {
        str(ex.check(a))
        for a in (
            iv,
            (5).to_bytes(12, "big"),
            bytes(a ^ b for a, b in zip(iv, (5).to_bytes(12, "little"), strict=True)),
        )
    }
    assert len(messages) == 3
    assert any("IV itself" in s for s in messages)
    assert any("big-endian" in s for s in messages)


def test_negotiation_exercise() -> None:
    from tlslab.lab.exercises import negotiation_exercise

    ex = negotiation_exercise()
    right = {
        "version": 0x0304,
        "cipher_suite": 0x1303,
        "group": t.NamedGroup.secp384r1,
        "hello_retry_request": True,
    }
    assert ex.check(right)
    naive = ex.check(
        {
            **right,
            "cipher_suite": 0x1301,
            "group": t.NamedGroup.x25519,
            "hello_retry_request": False,
        }
    )
    assert {f.field for f in naive.findings} == {"cipher_suite", "group", "hello_retry_request"}
    only_group = ex.check({**right, "group": t.NamedGroup.secp256r1})
    assert [f.field for f in only_group.findings] == ["group"]
    assert str(naive) != str(only_group)
    assert "missing keys" in str(ex.check({"version": 0x0304}))


def test_small_dh_exercise() -> None:
    from tlslab.lab.exercises import small_dh_exercise

    ex = small_dh_exercise(23, 5, 6, 15)
    assert ex.check(pow(pow(5, 15, 23), 6, 23))
    public_a = str(ex.check(pow(5, 6, 23)))
    public_b = str(ex.check(pow(5, 15, 23)))
    no_mod = str(ex.check(5 ** (6 * 15)))
    assert "client's *public* value" in public_a
    assert "server's public value" in public_b
    assert "reduce modulo p" in no_mod


def test_which_check_exercise() -> None:
    from tlslab.lab.exercises import which_check_exercise

    ex = which_check_exercise("self-signed leaf")
    assert ex.check("issuer found")
    passed = str(ex.check("validity period"))
    unknown = str(ex.check("CRL"))
    assert "that check passed" in passed
    assert "no check is called" in unknown
    assert "string" in str(ex.check(3))


def test_state_exercise() -> None:
    from tlslab.engine.state import State
    from tlslab.lab.exercises import state_exercise

    ex = state_exercise()
    assert ex.check("WAIT_CERT_CR") and ex.check(State.WAIT_CERT_CR)
    assert "CertificateRequest" in str(ex.check("WAIT_CERT"))
    assert "before" in str(ex.check("WAIT_EE"))
    assert "not a state" in str(ex.check("WAITING"))


def test_defence_exercise() -> None:
    from tlslab.lab.exercises import defence_exercise

    ex = defence_exercise()
    right = {
        "downgrade": "downgrade sentinel",
        "suite stripping": "Finished",
        "forged certificate": "certificate validation",
        "recorded RSA session": "forward secrecy",
    }
    assert ex.check(right)
    swapped = ex.check({**right, "downgrade": "Finished"})
    assert [f.field for f in swapped.findings] == ["downgrade"] and "DOWNGRD" in str(swapped)
    missing = ex.check({"downgrade": "downgrade sentinel"})
    assert len(missing.findings) == 3 and "missing" in str(missing)
    assert "not one of the defences" in str(ex.check({**right, "downgrade": "firewall"}))


def test_encrypted_messages_exercise() -> None:
    from tlslab.lab.exercises import encrypted_messages_exercise

    ex = encrypted_messages_exercise()
    assert ex.check({"ClientHello", "ServerHello"})
    cert = str(ex.check({"ClientHello", "ServerHello", "Certificate"}))
    missing = str(ex.check({"ClientHello"}))
    assert "TLS 1.2 it did not" in cert
    assert "ServerHello" in missing and "in the clear" in missing
    assert "not TLS 1.3 handshake messages" in str(ex.check({"ClientKeyExchange"}))
