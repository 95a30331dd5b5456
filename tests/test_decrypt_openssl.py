"""Real OpenSSL sessions (Python ssl client and server on 127.0.0.1, recorded by a relay)
decrypted by tlslab from OpenSSL's own key log; both Finished messages recomputed."""

from __future__ import annotations

import pytest

from tlslab.constants import ExtensionType, ProtocolVersion
from tlslab.engine.decrypt import decrypt_session
from tlslab.errors import BadRecordMac
from tlslab.net.openssl_lab import record_openssl_session
from tlslab.stages.keylog import KeyLog
from tlslab.wire.messages import ServerHello, decode_handshake

pytestmark = pytest.mark.interop

CASES = [
    ("1.3", "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
    ("1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),
    ("1.3", "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256"),
    ("1.2", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    ("1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    ("1.2", "ECDHE-ECDSA-AES128-SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
]


@pytest.mark.parametrize("version,cipher,iana", CASES, ids=[c[1] for c in CASES])
def test_decrypt_openssl_session(version: str, cipher: str, iana: str) -> None:
    captured = record_openssl_session(tls_version=version, cipher=cipher)
    session = decrypt_session(captured.client_to_server, captured.server_to_client, captured.keylog)
    assert session.suite.name == iana
    assert session.client_data == captured.client_data
    assert session.server_data == captured.server_data
    assert session.checks == (
        ["server Finished verified", "client Finished verified"]
        if version == "1.3"
        else ["client Finished verified", "server Finished verified"]
    )
    labels = {
        label for secrets in KeyLog.parse(captured.keylog).entries.values() for label in secrets
    }
    if version == "1.2":
        sh = decode_handshake(session.handshake[1][1])
        assert isinstance(sh, ServerHello)
        assert sh.extension(ExtensionType.extended_master_secret) is not None  # EMS on
        assert session.version == ProtocolVersion.TLS12
        assert labels == {"CLIENT_RANDOM"}
    else:
        assert session.version == ProtocolVersion.TLS13
        assert labels == {
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0",
            "EXPORTER_SECRET",
        }


def test_cbc_session_used_encrypt_then_mac() -> None:
    captured = record_openssl_session(tls_version="1.2", cipher="ECDHE-ECDSA-AES128-SHA")
    session = decrypt_session(captured.client_to_server, captured.server_to_client, captured.keylog)
    sh = decode_handshake(session.handshake[1][1])
    assert isinstance(sh, ServerHello)
    assert sh.extension(ExtensionType.encrypt_then_mac) is not None


def test_wrong_key_log_fails_loudly() -> None:
    captured = record_openssl_session(tls_version="1.3")
    log = KeyLog.parse(captured.keylog)
    (client_random,) = log.entries
    log.entries[client_random]["SERVER_HANDSHAKE_TRAFFIC_SECRET"] = bytes(48)
    with pytest.raises(BadRecordMac):
        decrypt_session(captured.client_to_server, captured.server_to_client, log)


def test_wrong_master_secret_fails_loudly() -> None:
    captured = record_openssl_session(tls_version="1.2", cipher="ECDHE-ECDSA-AES128-GCM-SHA256")
    log = KeyLog.parse(captured.keylog)
    (client_random,) = log.entries
    log.entries[client_random]["CLIENT_RANDOM"] = bytes(48)  # a wrong master secret
    with pytest.raises(BadRecordMac):
        decrypt_session(captured.client_to_server, captured.server_to_client, log)


def test_rsa_key_transport_has_no_forward_secrecy() -> None:
    """A recorded RSA-key-transport session is decrypted with the server's private key alone
    (no key log), and the recovered master secret equals the one OpenSSL logged."""
    from tlslab.engine.decrypt import recover_rsa_master_secret
    from tlslab.errors import UnexpectedMessage
    from tlslab.pki.certificates import teaching_rsa_key

    captured = record_openssl_session(
        tls_version="1.2", cipher="AES128-GCM-SHA256", certificate_key="rsa"
    )
    recovered = recover_rsa_master_secret(
        captured.client_to_server, captured.server_to_client, teaching_rsa_key()
    )
    assert recovered.entries == KeyLog.parse(captured.keylog).entries
    session = decrypt_session(captured.client_to_server, captured.server_to_client, recovered)
    assert (
        session.client_data == captured.client_data and session.server_data == captured.server_data
    )
    ecdhe = record_openssl_session(
        tls_version="1.2", cipher="ECDHE-RSA-AES128-GCM-SHA256", certificate_key="rsa"
    )
    with pytest.raises(UnexpectedMessage, match="forward secrecy"):
        recover_rsa_master_secret(
            ecdhe.client_to_server, ecdhe.server_to_client, teaching_rsa_key()
        )
