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


def test_no_solutions_ship_with_the_exercises() -> None:
    """Model answers live in instructor/, not in the installed package (issue: solutions ship)."""
    assert not hasattr(client_hello_exercise, "solution")
    assert not hasattr(client_hello_exercise, "solution_text")
    assert "build_client_hello('lab.example', versions=[ProtocolVersion.TLS13]" not in repr(
        client_hello_exercise
    )


def test_negotiation_accepts_names_and_strings() -> None:
    """02.1 used to mark correct answers given as strings all wrong."""
    from tlslab.lab.exercises import negotiation_exercise

    ex = negotiation_exercise()
    for answer in (
        {
            "version": "TLS 1.3",
            "cipher_suite": "TLS_CHACHA20_POLY1305_SHA256",
            "group": "secp384r1",
            "hello_retry_request": True,
        },
        {
            "version": "0x0304",
            "cipher_suite": "0x1303",
            "group": "SECP384R1",
            "hello_retry_request": "yes",
        },
        {"version": "TLSv1.3", "cipher_suite": 0x1303, "group": 24, "hello_retry_request": True},
    ):
        assert ex.check(answer), (answer, str(ex.check(answer)))
    wrong = ex.check(
        {
            "version": "TLS 1.3",
            "cipher_suite": "0x1301",
            "group": "x25519",
            "hello_retry_request": "no",
        }
    )
    assert [f.field for f in wrong.findings] == ["cipher_suite", "group", "hello_retry_request"]
    bad = ex.check(
        {
            "version": "TLS1.5",
            "cipher_suite": 0x1303,
            "group": "secp384r1",
            "hello_retry_request": "maybe",
        }
    )
    assert [f.field for f in bad.findings] == ["version", "hello_retry_request"]
    assert "ProtocolVersion.TLS13" in str(bad) and "True or False" in str(bad)


def test_which_check_knows_every_check_name() -> None:
    """03.1 used to answer 'signature' with "no check is called 'signature'"."""
    from tlslab.lab.exercises import which_check_exercise

    ex = which_check_exercise()
    signature = str(ex.check("signature"))
    assert "no check is called" not in signature and "passed for this chain" in signature
    assert "case-sensitive" in str(ex.check("Signature"))
    assert "no check is called 'CRL'" in str(ex.check("CRL"))
    assert ex.check("pathLenConstraint")


def test_default_exhibit_is_not_in_the_gallery_printout() -> None:
    """Notebook 03 prints every gallery exhibit with the check that catches it, above the exercise."""
    from tlslab.lab.exercises import exercise_exhibits, which_check_exercise
    from tlslab.lab.gallery import gallery

    shown = {e.name for e in gallery()}
    for exhibit in exercise_exhibits():
        assert exhibit.name not in shown
        report = exhibit.validate()
        assert report.failure is not None and report.failure.check == exhibit.catches_it
        assert which_check_exercise(exhibit.name).check(exhibit.catches_it)


def test_progress_records_passed_exercises() -> None:
    from tlslab.lab import exercises

    exercises._ATTEMPTS.clear()
    ex = exercises.small_dh_exercise(23, 5, 9, 4)
    ex.check(1)
    assert dict(exercises.progress().status)["04.1 Diffie-Hellman by hand"] == "tried"
    ex.check(pow(pow(5, 4, 23), 9, 23))
    ex.check(1)  # a later wrong answer does not undo a pass
    report = exercises.progress()
    assert dict(report.status)["04.1 Diffie-Hellman by hand"] == "passed"
    assert dict(report.status)["01.1 build a ClientHello"] == "not tried"
    assert report.passed == ["04.1 Diffie-Hellman by hand"]
    assert "1/11 exercises passed" in str(report) and "<table>" in report._repr_html_()
    exercises._ATTEMPTS.clear()


def _cell_sources(name: str) -> list[str]:
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks" / name
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]


def test_figures_do_not_show_the_exercise_answers() -> None:
    """04's DH figure and 07's nonce plot sit above their exercises: the inputs must differ."""
    import re

    nb04 = "\n".join(_cell_sources("04_key_exchange.ipynb"))
    figure = re.search(r"plot_dh_exchange\((\d+), (\d+), (\d+), (\d+)\)", nb04)
    task = re.search(r"small_dh_exercise\((\d+), (\d+), (\d+), (\d+)\)", nb04)
    assert figure and task and figure.groups() != task.groups()
    p, g, a, b = (int(x) for x in figure.groups())
    tp, tg, ta, tb = (int(x) for x in task.groups())
    assert pow(g, a * b, p) != pow(tg, ta * tb, tp)

    nb07 = "\n".join(_cell_sources("07_record_protection.ipynb"))
    count = re.search(r"plot_nonces\(keys.iv, count=(\d+)\)", nb07)
    seq = re.search(r"nonce_exercise\(iv, (\d+)\)", nb07)
    assert count and seq and int(seq.group(1)) >= int(count.group(1))


def test_offset_placeholder_suggests_no_answer() -> None:
    """01.2's placeholder used to suggest a (wrong) number."""
    cell = next(c for c in _cell_sources("01_client_hello.ipynb") if "my_offset =" in c)
    assert "e.g." not in cell and "my_offset = None" in cell


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
