"""Notebook 12 (client certificates): the CertificateVerify-content checker names each mistake;
recorded OpenSSL TLS 1.2 mutual authentication verifies by hand; the OpenSSL mTLS peers refuse a
client without a certificate with the alert each version uses."""

from __future__ import annotations

import pytest

from tlslab import ClientConfig, ProtocolVersion, RemoteAlert, decode_handshake, explain
from tlslab.lab.exercises_part2 import client_certificate_verify_exercise
from tlslab.lab.peers import (
    clear_handshake_messages,
    lab_chains,
    openssl_mtls_server,
    read_to_the_end,
    record_openssl_connections,
)
from tlslab.net.sockets import connect
from tlslab.pki.certificates import load_certificates
from tlslab.stages.keyschedule import digest
from tlslab.stages.signatures import verify_certificate_verify_12

TH = digest("sha256", b"a transcript")
PAD = b"\x20" * 64


def test_right_content_passes() -> None:
    right = PAD + b"TLS 1.3, client CertificateVerify" + b"\x00" + TH
    assert client_certificate_verify_exercise(TH).check(right)


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        (PAD + b"TLS 1.3, server CertificateVerify\x00" + TH, "context string"),
        (b"TLS 1.3, client CertificateVerify\x00" + TH, "padding"),
        (PAD + b"TLS 1.3, client CertificateVerify" + TH, "separator"),
        (PAD + b"TLS 1.3, client CertificateVerify\x00" + digest("sha256", TH), "transcript hash"),
        (TH, "content"),
        (b"\x20" * 32 + b"TLS 1.3, client CertificateVerify\x00" + TH, "padding"),
        (b"nonsense", "value"),
        (12, "answer"),
        (b"\x00" * 64 + b"TLS 1.3, client CertificateVerify\x00" + TH, "padding"),
        (PAD + b"tls 1.3, client CertificateVerify\x00" + TH, "context string"),
        (digest("sha256", PAD + b"TLS 1.3, client CertificateVerify\x00" + TH), "hashing"),
        (
            PAD + b"TLS 1.3, client CertificateVerify\x00" + digest("sha384", b"a transcript"),
            "transcript hash",
        ),
        (" " * 64 + "TLS 1.3, client CertificateVerify", "answer"),
        ([0x20] * 64, "answer"),
    ],
)
def test_each_content_mistake_is_named(answer: object, field: str) -> None:
    feedback = client_certificate_verify_exercise(TH).check(answer)
    assert not feedback
    assert [f.field for f in feedback.findings] == [field]


def test_wrong_space_count_says_how_many() -> None:
    feedback = client_certificate_verify_exercise(TH).check(
        b"\x20" * 32 + b"TLS 1.3, client CertificateVerify\x00" + TH
    )
    assert "32 spaces" in str(feedback)


def test_text_and_list_answers_say_how_to_make_bytes() -> None:
    exercise = client_certificate_verify_exercise(TH)
    assert "b'...'" in str(exercise.check(" " * 64 + "TLS 1.3, client CertificateVerify"))
    assert "bytes(...)" in str(exercise.check([0x20] * 64))
    assert "0x20, the space" in str(
        exercise.check(b"\x00" * 64 + b"TLS 1.3, client CertificateVerify\x00" + TH)
    )


@pytest.mark.interop
def test_recorded_tls12_client_authentication_verifies_by_hand() -> None:
    (recording,) = record_openssl_connections(
        version="1.2",
        connections=1,
        resume=False,
        client_certificate=True,
        require_client_certificate=True,
        seed="test mtls 1.2",
    )
    assert recording.server_saw_client_certificate
    client = clear_handshake_messages(recording.client_to_server)
    server = clear_handshake_messages(recording.server_to_client)
    assert [m[0] for m in client] == [1, 11, 16, 15]
    assert [m[0] for m in server[:5]] == [2, 11, 12, 13, 14]
    certificate = decode_handshake(client[1], version=ProtocolVersion.TLS12)
    cv = decode_handshake(client[3], version=ProtocolVersion.TLS12)
    key = load_certificates(certificate.certificates[0])[0].public_key()  # type: ignore[attr-defined]
    signed = client[0] + b"".join(server[:5]) + client[1] + client[2]
    verify_certificate_verify_12(key, cv, signed)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="decrypt_error"):
        verify_certificate_verify_12(key, cv, signed[:-1])  # type: ignore[arg-type]


@pytest.mark.interop
def test_tls12_without_certificate_is_a_clear_handshake_failure() -> None:
    (refused,) = record_openssl_connections(
        version="1.2", connections=1, resume=False, require_client_certificate=True, seed="t"
    )
    assert refused.client_error and "HANDSHAKE_FAILURE" in refused.client_error
    last = explain(refused.server_to_client).messages[-1]
    assert last.description.name == "handshake_failure"  # type: ignore[attr-defined]


@pytest.mark.interop
def test_openssl_mtls_server_with_tlslab_client_both_outcomes() -> None:
    server_chain, client_chain = lab_chains("test mtls live")
    config = ClientConfig(
        server_name="localhost",
        trust_roots=tuple(server_chain.trust_roots),
        versions=(ProtocolVersion.TLS13,),
    )
    with openssl_mtls_server(server_chain, client_chain.root.certificate) as (port, outcomes):
        session = connect(
            "127.0.0.1",
            port,
            config.replace(
                certificate_chain=tuple(client_chain.served()),
                private_key=client_chain.leaf.private_key,
            ),
            send=b"me",
        )
        assert session.received == b"me"
        with pytest.raises(RemoteAlert, match="certificate_required"):
            read_to_the_end(port, config, send=b"")
    assert len(outcomes) == 2
    assert outcomes[0] == "client certificate: commonName=client.lab.example"
    assert outcomes[1].startswith("refused")
