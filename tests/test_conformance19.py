"""Issue 19, the gaps closed this session: each test sends the forbidden thing and checks the exact
alert (read back by the peer when it is protected), that the connection is closed (every later
call raises ConnectionNotUsable) and that nothing was delivered. The rule -> test map is
tests/CONFORMANCE.md."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_engine_conformance import (
    HRR_VARIANT,
    MTLS,
    _as_record,
    _client_waiting_for_encrypted_extensions,
    _hello,
    _refused,
    _refused_before_server_hello,
    _second_hello,
    _second_refused,
    _with_share,
)
from tests.test_engine_core import BY_NAME, CLIENT_CHAIN, Variant, _inject, _pair, _reach, _records
from tlslab.constants import AlertDescription, AlertLevel, ContentType, ExtensionType, HandshakeType
from tlslab.constants import CipherSuite as CS
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.connection import (
    ApplicationData,
    Connection,
    ConnectionNotUsable,
)
from tlslab.engine.dispatcher import MAX_EMPTY_RECORDS, MAX_WARNING_ALERTS
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.state import State
from tlslab.errors import AlertError, RemoteAlert
from tlslab.pki.certificates import build_chain
from tlslab.rng import seeded_rng
from tlslab.stages.hello import build_client_hello
from tlslab.stages.keyexchange import ffdhe_prime
from tlslab.wire.extensions import (
    Cookie,
    PreSharedKeyServer,
    SupportedGroups,
    SupportedVersionsClient,
    SupportedVersionsServer,
    UnknownExtension,
)
from tlslab.wire.messages import EncryptedExtensions, decode_handshake
from tlslab.wire.record import TLSPlaintext

A = AlertDescription


def _connected(name: str) -> tuple[Connection, Connection]:
    client, server = _pair(BY_NAME[name])
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    # the server's last flight (tickets, say) is read, so both sides stand at CONNECTED
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    return client, server


def _assert_unusable(connection: Connection) -> None:
    assert connection.closed and connection.state == State.CLOSED
    assert not connection.handshake_complete
    for call in (
        lambda: connection.receive_data(b"\x17\x03\x03\x00\x01\x00"),
        lambda: connection.send_application_data(b"x"),
        connection.close,
    ):
        with pytest.raises(ConnectionNotUsable):
            call()


def _refused_by(target: Connection, peer: Connection | None, data: bytes, alert: int) -> AlertError:
    """``data`` makes ``target`` fail with exactly ``alert``; the alert is queued (and, read by
    ``peer`` with its keys, is that alert at level fatal); nothing is delivered; closed."""
    with pytest.raises(AlertError) as info:
        target.receive_data(data)
    assert info.value.description == alert, info.value
    sent = target.data_to_send()
    assert sent, "the alert must be queued"
    if target.records.writer is None or peer is None:
        assert sent[-7] == ContentType.alert and sent[-2:] == bytes([AlertLevel.fatal, alert])
    else:
        with pytest.raises(RemoteAlert) as seen:
            peer.receive_data(sent)
        assert (seen.value.level, seen.value.description) == (AlertLevel.fatal, alert)
    _assert_unusable(target)
    return info.value


def _sent_by(peer: Connection, content_type: int, payload: bytes) -> bytes:
    """One record of ``payload`` as ``peer`` sends it, protected with its own write keys (so its
    sequence numbers stay in step with the other side's)."""
    peer.records.write(content_type, payload)
    return peer.data_to_send()


def _alert(peer: Connection, level: int, description: int) -> bytes:
    return _sent_by(peer, ContentType.alert, bytes([level, description]))


# -- a flood of warning alerts (gap 2a; OpenSSL MAX_WARN_ALERT_COUNT, CVE-2016-8610) --------------
def test_tls12_warning_alerts_below_the_bound_are_tolerated() -> None:
    client, server = _connected("tls12-ecdhe")
    for _ in range(MAX_WARNING_ALERTS - 1):
        assert server.receive_data(_alert(client, AlertLevel.warning, A.user_canceled)) == []
    client.send_application_data(b"still here")
    assert server.receive_data(client.data_to_send()) == [ApplicationData(b"still here")]


def test_tls12_too_many_consecutive_warning_alerts_is_unexpected_message() -> None:
    client, server = _connected("tls12-ecdhe")
    client.send_application_data(b"never delivered")
    data = client.data_to_send() + b"".join(
        _alert(client, AlertLevel.warning, A.no_renegotiation) for _ in range(MAX_WARNING_ALERTS)
    )
    # the application data came first in the same read: the failing call delivers nothing
    error = _refused_by(server, client, data, A.unexpected_message)
    assert "warning alerts" in str(error)


def test_warning_alerts_count_only_in_a_row() -> None:
    client, server = _connected("tls12-ecdhe")
    for i in range(3 * MAX_WARNING_ALERTS):
        assert server.receive_data(_alert(client, AlertLevel.warning, A.user_canceled)) == []
        client.send_application_data(b"%d" % i)
        assert server.receive_data(client.data_to_send()) == [ApplicationData(b"%d" % i)]


def test_tls13_user_canceled_is_tolerated_but_bounded() -> None:
    client, server = _connected("tls13")
    for _ in range(MAX_WARNING_ALERTS - 1):
        assert server.receive_data(_alert(client, AlertLevel.warning, A.user_canceled)) == []
    _refused_by(
        server,
        client,
        _alert(client, AlertLevel.warning, A.user_canceled),
        A.unexpected_message,
    )


@pytest.mark.parametrize("description", [A.no_renegotiation, A.bad_certificate, 0xEE])
def test_tls13_other_warning_alerts_are_fatal_whatever_their_level(description: int) -> None:
    """RFC 8446 §6.2: every alert but close_notify and user_canceled is an error alert, even
    sent at level warning (unknown descriptions too). Nothing is sent back."""
    client, server = _connected("tls13")
    client.send_application_data(b"not delivered")
    with pytest.raises(RemoteAlert) as info:
        server.receive_data(client.data_to_send() + _alert(client, AlertLevel.warning, description))
    assert info.value.description == description
    assert server.data_to_send() == b""
    _assert_unusable(server)


# -- the alert record itself (gap 2b) ----------------------------------------------------------------
@pytest.mark.parametrize("level", [0, 3, 255])
@pytest.mark.parametrize("where", ["tls13", "tls12-ecdhe", "handshake"])
def test_an_alert_level_other_than_warning_or_fatal_is_illegal_parameter(
    where: str, level: int
) -> None:
    """As OpenSSL and BoringSSL ("unknown alert type" -> illegal_parameter)."""
    if where == "handshake":
        target, peer = _reach("client", "1.3", State.WAIT_EE)
        peer = None  # the peer would not read our handshake-time alert with its keys here
    else:
        peer, target = _connected(where)
    description = A.close_notify if level == 0 else A.handshake_failure
    record = (
        _inject(target, ContentType.alert, bytes([level, description]))
        if peer is None
        else _alert(peer, level, description)
    )
    _refused_by(target, peer, record, A.illegal_parameter)


@pytest.mark.parametrize("payload", [b"\x02", b"\x01\x00\x00", b"\x02\x28\x02\x28"])
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_an_alert_that_is_not_two_bytes_is_decode_error(name: str, payload: bytes) -> None:
    client, server = _connected(name)
    _refused_by(server, client, _sent_by(client, ContentType.alert, payload), A.decode_error)


@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_an_empty_protected_alert_is_unexpected_message(name: str) -> None:
    client, server = _connected(name)
    _refused_by(server, client, _sent_by(client, ContentType.alert, b""), A.unexpected_message)


def test_an_empty_plaintext_alert_before_the_handshake_is_unexpected_message() -> None:
    _, server = _pair(BY_NAME["tls13"])
    empty = TLSPlaintext(ContentType.alert, b"", 0x0303).encode()
    _refused_by(server, None, empty, A.unexpected_message)


# -- empty application data records (gap 2a, OpenSSL MAX_EMPTY_RECORDS) -----------------------------
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe", "tls12-rsa-cbc"])
def test_empty_records_deliver_nothing_and_are_bounded(name: str) -> None:
    client, server = _connected(name)
    empty = b"".join(
        _sent_by(client, ContentType.application_data, b"") for _ in range(MAX_EMPTY_RECORDS)
    )
    assert server.receive_data(empty) == []  # allowed (RFC 8446 §5.1), and nothing to deliver
    _refused_by(
        server,
        client,
        _sent_by(client, ContentType.application_data, b""),
        A.unexpected_message,
    )


def test_empty_records_count_only_in_a_row() -> None:
    client, server = _connected("tls13")
    for i in range(3):
        run = [
            _sent_by(client, ContentType.application_data, b"") for _ in range(MAX_EMPTY_RECORDS)
        ]
        client.send_application_data(b"%d" % i)
        data = b"".join(run) + client.data_to_send()
        assert server.receive_data(data) == [ApplicationData(b"%d" % i)]


# -- the audit: rules whose tests checked less than the exact alert + closed + nothing delivered ----
# (the map is tests/CONFORMANCE.md)
P = ffdhe_prime(G.ffdhe2048)


@pytest.mark.parametrize(
    "group,public",
    [
        (G.x448, bytes(56)),  # all-zero shared secret
        (G.x448, bytes(range(55))),  # wrong length
        (G.secp256r1, b"\x04" + bytes(range(63))),  # wrong length
        (G.secp256r1, b"\x02" + bytes(range(32))),  # compressed: RFC 8446 §4.2.8.2 is uncompressed
        (G.ffdhe2048, (0).to_bytes(256, "big")),  # Y = 0
        (G.ffdhe2048, P.to_bytes(256, "big")),  # Y = p
        (G.ffdhe2048, (2).to_bytes(255, "big")),  # not left-padded to the size of p
    ],
    ids=[
        "x448-zero",
        "x448-length",
        "p256-length",
        "p256-compressed",
        "ffdhe-0",
        "ffdhe-p",
        "ffdhe-short",
    ],
)
def test_more_bad_client_key_shares_are_refused_before_server_hello(
    group: int, public: bytes
) -> None:
    hello = _with_share(group, public)
    hello = hello.replace(
        extensions=tuple(
            SupportedGroups((group,)) if isinstance(e, SupportedGroups) else e
            for e in hello.extensions
        )
    )
    _refused_before_server_hello(hello, A.illegal_parameter, "", groups=(group,))


@pytest.mark.parametrize("version", [0x0200, 0x0002, 0x0000], ids=["sslv2-number", "2", "0"])
def test_legacy_version_below_ssl3_is_protocol_version(version: int) -> None:
    _refused_before_server_hello(_hello(legacy_version=version), A.protocol_version, "")


def test_second_client_hello_must_keep_its_versions() -> None:
    server, ch2 = _second_hello()
    changed = tuple(
        SupportedVersionsClient((V.TLS13,))
        if e.type_code == ExtensionType.supported_versions
        else e
        for e in ch2.extensions
    )
    assert ch2.extension(ExtensionType.supported_versions) != SupportedVersionsClient((V.TLS13,))
    _second_refused(server, ch2.replace(extensions=changed), "versions")


def test_hello_retry_request_with_a_tls13_suite_we_did_not_offer() -> None:
    client, server = _pair(
        Variant(
            "one suite",
            {**HRR_VARIANT.client, "cipher_suites": (CS.TLS_AES_128_GCM_SHA256,)},
            HRR_VARIANT.server,
        )
    )
    client.start()
    server.receive_data(client.data_to_send())

    hrr = decode_handshake(TLSPlaintext.decode(_records(server.data_to_send())[0]).fragment)
    _refused(
        client,
        _as_record(hrr.replace(cipher_suite=CS.TLS_AES_256_GCM_SHA384)),
        A.illegal_parameter,
        "cipher suite",
    )


@pytest.mark.parametrize(
    "extension",
    [
        SupportedVersionsServer(V.TLS13),
        PreSharedKeyServer(0),
        Cookie(b"c"),
        UnknownExtension(ExtensionType.extended_master_secret, b""),
        UnknownExtension(ExtensionType.signature_algorithms, b"\x00\x02\x04\x03"),
    ],
    ids=[
        "supported_versions",
        "pre_shared_key",
        "cookie",
        "extended_master_secret",
        "signature_algorithms",
    ],
)
def test_encrypted_extensions_may_carry_only_what_rfc8446_allows(extension: Any) -> None:
    """RFC 8446 §4.2: an extension tlslab knows, in a message it is not specified for, is
    illegal_parameter."""
    client = _client_waiting_for_encrypted_extensions()
    ee = EncryptedExtensions((extension,)).encode()
    _refused(client, _inject(client, ContentType.handshake, ee), A.illegal_parameter)


def test_tls12_without_signature_algorithms_is_refused_for_dhe_too() -> None:
    suite = CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    hello = build_client_hello(
        "lab.example",
        versions=(V.TLS12,),
        cipher_suites=(suite,),
        groups=(G.ffdhe2048,),
        rng=seeded_rng("no sigalgs dhe"),
    )
    stripped = tuple(
        e for e in hello.extensions if e.type_code != ExtensionType.signature_algorithms
    )
    _refused_before_server_hello(
        hello.replace(extensions=stripped),
        A.handshake_failure,
        "SHA-1",
        certificate_key="rsa",
        cipher_suites=(suite,),
        groups=(G.ffdhe2048,),
    )


def test_key_update_that_does_not_end_its_record_is_refused_in_full() -> None:
    client, server = _connected("tls13")
    ku = bytes([HandshakeType.key_update, 0, 0, 1, 0])
    client.records.write(ContentType.handshake, ku + ku)
    _refused_by(server, client, client.data_to_send(), A.unexpected_message)


@pytest.mark.parametrize("role", ["client", "server"])
def test_key_update_on_tls12_is_unexpected_message(role: str) -> None:
    client, server = _connected("tls12-ecdhe")
    target, peer = (client, server) if role == "client" else (server, client)
    peer.send_application_data(b"not delivered")
    data = peer.data_to_send() + _sent_by(
        peer, ContentType.handshake, bytes([HandshakeType.key_update, 0, 0, 1, 0])
    )
    _refused_by(target, peer, data, A.unexpected_message)


def test_reading_past_the_last_sequence_number_is_refused_in_full() -> None:
    client, server = _connected("tls12-ecdhe")
    assert server.records.reader is not None
    server.records.reader.seq = 2**64
    error = _refused_by(server, client, b"\x17\x03\x03\x00\x20" + bytes(32), A.unexpected_message)
    assert "wrap" in str(error)


# -- TLS 1.2 client authentication: the refusals, exactly -------------------------------------------
def _mtls12(client: dict[str, Any]) -> tuple[Connection, Connection]:
    return _pair(Variant("mtls12", {"versions": (V.TLS12,), **client}, MTLS.server))


def _run_until_server_fails(client: Connection, server: Connection, tamper: Any = None) -> bytes:
    """Deliver flights until the server refuses the client's; returns that flight."""
    client.start()  # type: ignore[attr-defined]
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    flight = client.data_to_send()
    return tamper(flight) if tamper else flight


def test_tls12_client_auth_server_refuses_no_certificate_in_full() -> None:
    """RFC 5246 §7.4.6 lets a server that requires a certificate answer an empty Certificate
    with handshake_failure, as OpenSSL does in TLS 1.2 (TLS 1.3 has certificate_required)."""
    client, server = _mtls12({})
    flight = _run_until_server_fails(client, server)
    _refused_by(server, None, flight, A.handshake_failure)


def test_tls12_client_certificate_verify_with_a_wrong_signature_is_decrypt_error() -> None:
    """A CertificateVerify that is well formed and signed by the client's key, but over other
    bytes: decrypt_error (RFC 5246 §7.2.2, as OpenSSL: bad signature)."""
    from tlslab.stages.signatures import sign

    client, server = _mtls12(MTLS.client)

    def tamper(flight: bytes) -> bytes:
        records = _records(flight)
        for i, record in enumerate(records):
            if record[5] == HandshakeType.certificate_verify:
                scheme = int.from_bytes(record[9:11], "big")
                signature = sign(CLIENT_CHAIN.leaf.private_key, scheme, b"other bytes")
                body = scheme.to_bytes(2, "big") + len(signature).to_bytes(2, "big") + signature
                message = bytes([HandshakeType.certificate_verify]) + len(body).to_bytes(3, "big")
                records[i] = TLSPlaintext(ContentType.handshake, message + body, V.TLS12).encode()
        return b"".join(records)

    flight = _run_until_server_fails(client, server, tamper)
    _refused_by(server, None, flight, A.decrypt_error)


def test_tls12_client_certificate_from_an_unknown_root_is_unknown_ca() -> None:
    stranger = build_chain(
        "client.lab.example",
        seed="a stranger",
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )
    client, server = _mtls12(
        {"certificate_chain": tuple(stranger.served()), "private_key": stranger.leaf.private_key}
    )
    flight = _run_until_server_fails(client, server)
    _refused_by(server, None, flight, A.unknown_ca)


def test_an_unsolicited_unknown_extension_in_encrypted_extensions_is_unsupported_extension() -> (
    None
):
    """RFC 8446 §4.2: a response to an extension we never sent is unsupported_extension (the
    out-of-place check above applies to extensions tlslab recognises)."""
    client = _client_waiting_for_encrypted_extensions()
    ee = EncryptedExtensions((UnknownExtension(0x7A7B, b"x"),)).encode()
    _refused(client, _inject(client, ContentType.handshake, ee), A.unsupported_extension)
