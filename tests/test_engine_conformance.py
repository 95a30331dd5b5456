"""Conformance under hostile peers (issue 19): each rule sends the forbidden thing and checks the
exact alert, that the connection is closed, and that nothing was delivered."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests.test_engine_core import (
    BY_NAME,
    CLIENT_CHAIN,
    RSA_SERVER,
    SERVER,
    Variant,
    _inject,
    _pair,
    _records,
)
from tests.test_resumption_and_client_auth import _pem_files
from tlslab.constants import AlertDescription, ContentType, ExtensionType, HandshakeType
from tlslab.constants import CipherSuite as CS
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.connection import (
    ApplicationData,
    ConnectionClosed,
    ConnectionNotUsable,
    HandshakeComplete,
    SessionTicket,
    TruncatedConnection,
)
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.engine.state import State
from tlslab.errors import AlertError, TLSError
from tlslab.net.sockets import connect, serve_in_thread
from tlslab.pki.certificates import LAB_NOW, build_chain, real_now
from tlslab.rng import seeded_rng
from tlslab.stages.hello import DEFAULT_CIPHER_SUITES, build_client_hello, offer_psk
from tlslab.stages.keyexchange import ffdhe_prime
from tlslab.stages.negotiation import ServerConfig
from tlslab.stages.protection import RecordProtection12, RecordProtection13
from tlslab.wire.extensions import (
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    RenegotiationInfo,
    SupportedGroups,
)
from tlslab.wire.messages import ClientHello, EncryptedExtensions, decode_handshake
from tlslab.wire.record import TLSPlaintext

A = AlertDescription


def _refused(connection: Any, data: bytes, alert: int, match: str | None = None) -> AlertError:
    """Feed ``data``: the exact alert is raised and queued, the connection closed, nothing
    delivered, and nothing works afterwards."""
    with pytest.raises(AlertError, match=match) as info:
        connection.receive_data(data)
    assert info.value.description == alert, info.value
    assert connection.closed and connection.state == State.CLOSED
    assert not connection.handshake_complete
    sent = connection.data_to_send()
    assert sent, "the alert must be queued"
    if connection.records.writer is None:
        assert sent[-7] == ContentType.alert and sent[-2:] == bytes([2, alert])
    else:  # protected: open it as the peer would, and read that alert at level fatal
        assert _own_last_record(connection, sent) == (ContentType.alert, bytes([2, alert]))
    with pytest.raises(ConnectionNotUsable):
        connection.receive_data(b"\x17\x03\x03\x00\x01\x00")
    return info.value


def _own_last_record(connection: Any, sent: bytes) -> tuple[int, bytes]:
    """The last record of ``sent`` opened with the keys that sealed it (a twin of the writer)."""
    writer = connection.records.writer
    record = TLSPlaintext.decode(_records(sent)[-1])
    if isinstance(writer, RecordProtection13):
        twin13 = RecordProtection13(writer.suite, writer.keys)
        twin13.seq = writer.seq - 1
        return twin13.open(record)
    assert isinstance(writer, RecordProtection12)
    twin12 = RecordProtection12(
        writer.suite,
        writer.key,
        writer.iv,
        writer.mac_key,
        encrypt_then_mac=writer.encrypt_then_mac,
    )
    twin12.seq = writer.seq - 1
    return record.type, twin12.open(record)


def _connected(name: str = "tls13") -> tuple[TLSClient, TLSServer]:
    client, server = _pair(BY_NAME[name])
    assert handshake_in_memory(client, server).completed
    return client, server


# -- the record layer --------------------------------------------------------------------------
def test_plaintext_record_over_2_14_is_record_overflow() -> None:
    _, server = _pair(BY_NAME["tls13"])
    big = TLSPlaintext(ContentType.handshake, bytes(2**14 + 1), V.TLS12).encode()
    _refused(server, big, A.record_overflow)


def test_plaintext_overflow_is_refused_from_the_header_alone() -> None:
    _, server = _pair(BY_NAME["tls13"])
    _refused(server, bytes([22, 3, 1]) + (2**14 + 1).to_bytes(2, "big"), A.record_overflow)


def test_tls13_ciphertext_over_2_14_plus_256_is_record_overflow() -> None:
    client, server = _connected()
    header = bytes([23, 3, 3]) + (2**14 + 257).to_bytes(2, "big")
    _refused(server, header, A.record_overflow)


def test_tls12_ciphertext_over_2_14_plus_2048_is_record_overflow() -> None:
    client, server = _connected("tls12-ecdhe")
    header = bytes([23, 3, 3]) + (2**14 + 2049).to_bytes(2, "big")
    _refused(server, header, A.record_overflow)
    client, server = _connected("tls12-ecdhe")
    fine = bytes([23, 3, 3]) + (2**14 + 2048).to_bytes(2, "big")
    assert server.receive_data(fine) == []  # allowed: waits for the body


@pytest.mark.parametrize(
    "header,alert",
    [
        (bytes([0x63, 3, 3, 0, 10]), A.unexpected_message),  # unknown content type
        (bytes([22, 2, 0, 0, 10]), A.protocol_version),  # not TLS
        (bytes([0x80, 0x2E, 0x01, 0x03, 0x01]), A.unexpected_message),  # an SSLv2-format hello
    ],
    ids=["unknown-type", "bad-version", "sslv2-hello"],
)
def test_record_header_is_checked_as_soon_as_it_arrives(header: bytes, alert: int) -> None:
    for role in ("client", "server"):
        client, server = _pair(BY_NAME["tls13"])
        if role == "client":
            client.start()
            client.data_to_send()
        _refused(client if role == "client" else server, header, alert)


def test_zero_length_alert_is_unexpected_message() -> None:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    client.data_to_send()
    _refused(client, bytes([21, 3, 3, 0, 0]), A.unexpected_message)


@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
@pytest.mark.parametrize(
    "content_type", [ContentType.change_cipher_spec, ContentType.application_data]
)
def test_record_between_fragments_of_one_handshake_message(name: str, content_type: int) -> None:
    client, server = _connected(name)
    # the first half of a KeyUpdate (TLS 1.3) / HelloRequest-sized message, then another record
    first = _inject(server, ContentType.handshake, bytes([HandshakeType.key_update, 0]))
    assert server.receive_data(first) == []
    payload = b"\x01" if content_type == ContentType.change_cipher_spec else b"data"
    _refused(
        server,
        _inject(server, content_type, payload),
        A.unexpected_message,
        "between the fragments",
    )


@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_finished_of_the_wrong_length_is_decode_error(name: str) -> None:
    client, server = _pair(BY_NAME[name])
    client.start()
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    if name == "tls13":
        # the server's flight minus its Finished, then a Finished one byte short
        records = _records(flight)
        client.receive_data(b"".join(records[:-1]))
        short = bytes([HandshakeType.finished, 0, 0, 31]) + bytes(31)
        _refused(client, _inject(client, ContentType.handshake, short), A.decode_error, "Finished")
    else:
        client.receive_data(flight)
        server.receive_data(client.data_to_send())
        records = _records(server.data_to_send())  # CCS, Finished
        client.receive_data(records[0])
        short = bytes([HandshakeType.finished, 0, 0, 11]) + bytes(11)
        _refused(client, _inject(client, ContentType.handshake, short), A.decode_error, "Finished")


def test_handshake_reassembly_is_capped_from_the_header() -> None:
    """A 64 KiB cap for most messages, refused as soon as the 4-byte header says more."""
    _, server = _pair(BY_NAME["tls13"])
    header = bytes([HandshakeType.client_hello]) + (2**16 + 1).to_bytes(3, "big")
    _refused(
        server, TLSPlaintext(ContentType.handshake, header, V.TLS12).encode(), A.illegal_parameter
    )


def test_certificate_cap_is_larger_and_configurable() -> None:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    server.receive_data(client.data_to_send())
    records = _records(server.data_to_send())
    client.receive_data(b"".join(records[:3]))  # ServerHello, CCS, EncryptedExtensions
    assert client.state == State.WAIT_CERT_CR
    header = bytes([HandshakeType.certificate]) + (2**17).to_bytes(3, "big")
    assert client.receive_data(_inject(client, ContentType.handshake, header)) == []  # waits
    small = _pair(Variant("cap", {"max_certificate_message": 2**16}, {}))[0]
    small.start()
    server2 = _pair(BY_NAME["tls13"])[1]
    server2.receive_data(small.data_to_send())
    small.receive_data(b"".join(_records(server2.data_to_send())[:3]))
    _refused(small, _inject(small, ContentType.handshake, header), A.illegal_parameter)


def test_close_notify_then_nothing_is_delivered_and_sending_raises() -> None:
    client, server = _connected()
    client.close()
    data = client.data_to_send()
    late = _inject(server, ContentType.application_data, b"late")
    assert server.receive_data(data + late) == [ConnectionClosed()]
    with pytest.raises(ConnectionNotUsable):
        server.send_application_data(b"x")
    with pytest.raises(ConnectionNotUsable):
        client.send_application_data(b"x")


def test_eof_without_close_notify_is_truncation() -> None:
    client, server = _connected()
    with pytest.raises(TruncatedConnection):
        server.receive_eof()
    assert server.closed and not server.handshake_complete
    client2, server2 = _connected()
    client2.close()
    assert server2.receive_data(client2.data_to_send()) == [ConnectionClosed()]
    assert server2.receive_eof() == []  # after close_notify, EOF is the normal end


def test_aead_usage_limit_sends_key_update_first() -> None:
    client, server = _connected()
    assert client.records.writer is not None
    old = client.write_secret
    assert server.records.reader is not None
    client.records.writer.seq = server.records.reader.seq = client.aead_record_limit() - 1
    client.send_application_data(b"after many records")
    assert client.write_secret != old
    events = server.receive_data(client.data_to_send())
    assert events == [ApplicationData(b"after many records")]


def test_tls12_sequence_number_never_wraps() -> None:
    client, server = _connected("tls12-ecdhe")
    assert client.records.writer is not None and server.records.reader is not None
    client.records.writer.seq = server.records.reader.seq = 2**64 - 1
    with pytest.raises(ConnectionNotUsable, match="sequence"):
        client.send_application_data(b"one too many")
    assert client.closed
    closing = client.data_to_send()
    assert server.receive_data(closing) == [ConnectionClosed()]


def test_reading_never_wraps_the_sequence_number() -> None:
    client, server = _connected("tls12-ecdhe")
    assert server.records.reader is not None
    server.records.reader.seq = 2**64  # the last number, 2^64 - 1, was used
    with pytest.raises(TLSError, match="wrap"):
        server.receive_data(b"\x17\x03\x03\x00\x20" + bytes(32))
    assert server.closed


# -- the client ---------------------------------------------------------------------------------
HRR_VARIANT = BY_NAME[
    "tls13-hrr"
]  # the client offers x25519 + P-256, shares x25519; the server wants P-256


def _hrr_setup() -> tuple[TLSClient, Any]:
    """A client that sent its ClientHello, and the server's HelloRetryRequest (decoded)."""
    client, server = _pair(HRR_VARIANT)
    client.start()
    server.receive_data(client.data_to_send())
    hrr_record = _records(server.data_to_send())[0]
    hrr = decode_handshake(TLSPlaintext.decode(hrr_record).fragment)
    return client, hrr


def _as_record(message: Any) -> bytes:
    return TLSPlaintext(ContentType.handshake, message.encode(), V.TLS12).encode()


@pytest.mark.parametrize(
    "change,what",
    [
        ({"legacy_session_id_echo": b"\x01" * 32}, "legacy_session_id"),
        ({"legacy_compression_method": 1}, "compression"),
        ({"cipher_suite": CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, "cipher suite"),
    ],
    ids=["session-id-echo", "compression", "tls12-suite"],
)
def test_hello_retry_request_fields_are_checked(change: dict[str, Any], what: str) -> None:
    client, hrr = _hrr_setup()
    _refused(client, _as_record(hrr.replace(**change)), A.illegal_parameter, what)


@pytest.mark.parametrize(
    "group,what",
    [(G.secp384r1, "did not offer"), (G.x25519, "already sent")],
    ids=["unoffered", "already-shared"],
)
def test_hello_retry_request_group_must_be_offered_and_new(group: int, what: str) -> None:
    client, hrr = _hrr_setup()
    extensions = tuple(
        KeyShareHelloRetryRequest(group) if isinstance(e, KeyShareHelloRetryRequest) else e
        for e in hrr.extensions
    )
    _refused(client, _as_record(hrr.replace(extensions=extensions)), A.illegal_parameter, what)


def test_second_hello_retry_request_is_unexpected_message() -> None:
    client, hrr = _hrr_setup()
    assert client.receive_data(_as_record(hrr)) == []
    client.data_to_send()
    _refused(client, _as_record(hrr), A.unexpected_message, "second HelloRetryRequest")


def test_tls12_server_hello_after_hello_retry_request_is_refused() -> None:
    client, hrr = _hrr_setup()
    client.receive_data(_as_record(hrr))
    second_hello = client.data_to_send()
    old_server = TLSServer(
        ServerConfig(versions=(V.TLS12,)), ServerIdentity.from_chain(SERVER), seeded_rng("old")
    )
    old_server.receive_data(second_hello)
    server_hello = _records(old_server.data_to_send())[0]
    _refused(client, server_hello, A.protocol_version, "after a HelloRetryRequest")


@pytest.mark.parametrize("sentinel", [b"DOWNGRD\x01", b"DOWNGRD\x00"], ids=["01", "00"])
def test_both_downgrade_sentinels_are_refused_when_tls13_was_offered(sentinel: bytes) -> None:
    client, _ = _pair(BY_NAME["tls13"])
    client.start()
    old_server = TLSServer(
        ServerConfig(versions=(V.TLS12,)), ServerIdentity.from_chain(SERVER), seeded_rng("old")
    )
    old_server.receive_data(client.data_to_send())
    server_hello = bytearray(_records(old_server.data_to_send())[0])
    server_hello[5 + 4 + 2 + 24 : 5 + 4 + 2 + 32] = sentinel  # the last 8 bytes of the random
    _refused(client, bytes(server_hello), A.illegal_parameter, "downgrade")


def _client_waiting_for_encrypted_extensions() -> TLSClient:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    server.receive_data(client.data_to_send())
    client.receive_data(_records(server.data_to_send())[0])  # the ServerHello alone
    assert client.state == State.WAIT_EE
    return client


def test_encrypted_extensions_may_not_carry_key_share() -> None:
    client = _client_waiting_for_encrypted_extensions()
    share = KeyShareServerHello(KeyShareEntry(G.x25519, bytes(range(32))))
    ee = EncryptedExtensions((share,)).encode()
    _refused(
        client,
        _inject(client, ContentType.handshake, ee),
        A.illegal_parameter,
        "EncryptedExtensions",
    )


def test_tls12_alpn_is_read_recorded_and_must_be_offered() -> None:
    alpn = Variant("alpn", {"versions": (V.TLS12,), "alpn": ("h2", "http/1.1")}, {"alpn": (b"h2",)})
    client, server = _pair(alpn)
    result = handshake_in_memory(client, server)
    assert result.completed and client.alpn == b"h2"
    done = [e for f in result.flights for e in f.events if isinstance(e, HandshakeComplete)]
    assert [e.alpn for e in done] == [b"h2", b"h2"]
    client, server = _pair(alpn)
    client.start()
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    assert b"\x02h2" in flight
    _refused(client, flight.replace(b"\x02h2", b"\x02h3", 1), A.illegal_parameter, "ALPN")


def test_no_sni_for_ip_literals_and_the_ip_san_is_matched() -> None:
    chain = build_chain("127.0.0.1", seed="engine core ip")
    config = ClientConfig(
        server_name="127.0.0.1", trust_roots=tuple(chain.trust_roots), now=LAB_NOW
    )
    client = TLSClient(config, seeded_rng("ip client"))
    server = TLSServer(ServerConfig(), ServerIdentity.from_chain(chain), seeded_rng("ip server"))
    assert handshake_in_memory(client, server).completed
    assert client.hello is not None and client.hello.extension(ExtensionType.server_name) is None
    other = TLSClient(config.replace(server_name="127.0.0.2"), seeded_rng("ip client 2"))
    server = TLSServer(ServerConfig(), ServerIdentity.from_chain(chain), seeded_rng("ip server"))
    result = handshake_in_memory(other, server)
    assert isinstance(result.error, AlertError) and result.error.description == A.bad_certificate


def test_encrypt_then_mac_is_offered_with_cbc_suites() -> None:
    suite = CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
    cbc = Variant(
        "cbc", {"versions": (V.TLS12,), "cipher_suites": (suite,)}, {"cipher_suites": (suite,)}
    )
    client, server = _pair(cbc)
    assert handshake_in_memory(client, server).completed
    assert (
        client.hello is not None
        and client.hello.extension(ExtensionType.encrypt_then_mac) is not None
    )
    assert server.decision is not None and server.decision.encrypt_then_mac
    aead, _ = _pair(
        Variant(
            "gcm",
            {
                "versions": (V.TLS12,),
                "cipher_suites": (CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,),
            },
            {},
        )
    )
    aead.start()
    assert aead.hello is not None and aead.hello.extension(ExtensionType.encrypt_then_mac) is None


# -- the server ---------------------------------------------------------------------------------
def _hello(**changes: Any) -> ClientHello:
    """A ClientHello as tlslab's client builds it (TLS 1.3 and 1.2, x25519 share), changed."""
    rng = seeded_rng("conformance hello")
    hello = build_client_hello(
        "lab.example", versions=(V.TLS13, V.TLS12), groups=(G.x25519, G.secp256r1), rng=rng
    )
    return hello.replace(**changes)


def _server(**config: Any) -> TLSServer:
    return TLSServer(ServerConfig(**config), ServerIdentity.from_chain(SERVER), seeded_rng("srv"))


def _refused_before_server_hello(hello: ClientHello, alert: int, match: str, **config: Any) -> None:
    server = _server(**config)
    record = TLSPlaintext(ContentType.handshake, hello.encode(), V.TLS10).encode()
    with pytest.raises(AlertError, match=match or None) as info:
        server.receive_data(record)
    assert info.value.description == alert, info.value
    assert server.closed and server.state == State.CLOSED
    sent = server.data_to_send()
    assert len(sent) == 7 and sent[0] == 21 and sent[5:] == bytes([2, alert])  # no ServerHello
    with pytest.raises(ConnectionNotUsable):
        server.receive_data(record)


def _with_share(group: int, public: bytes) -> ClientHello:
    hello = _hello()
    return hello.replace(
        extensions=tuple(
            KeyShareClientHello((KeyShareEntry(group, public),))
            if e.type_code == ExtensionType.key_share
            else e
            for e in hello.extensions
        )
    )


@pytest.mark.parametrize(
    "group,public",
    [
        (G.x25519, bytes(32)),  # a low-order point: all-zero shared secret
        (G.x25519, bytes(range(31))),  # wrong length
        (G.secp256r1, b"\x04" + bytes(range(64))),  # not on the curve
        (G.ffdhe2048, (1).to_bytes(256, "big")),  # Y = 1
        (G.ffdhe2048, (ffdhe_prime(G.ffdhe2048) - 1).to_bytes(256, "big")),  # Y = p - 1
    ],
    ids=["x25519-zero", "x25519-length", "p256-off-curve", "ffdhe-y-1", "ffdhe-y-p-1"],
)
def test_client_key_share_is_checked_before_server_hello(group: int, public: bytes) -> None:
    hello = _with_share(group, public)
    groups = (group,)
    hello = hello.replace(
        extensions=tuple(
            SupportedGroups(groups) if isinstance(e, SupportedGroups) else e
            for e in hello.extensions
        )
    )
    _refused_before_server_hello(hello, A.illegal_parameter, "", groups=groups)


def test_compatibility_ccs_follows_the_hello_retry_request() -> None:
    client, server = _pair(HRR_VARIANT)
    client.start()
    server.receive_data(client.data_to_send())
    first = _records(server.data_to_send())
    assert [r[0] for r in first] == [ContentType.handshake, ContentType.change_cipher_spec]
    client.receive_data(b"".join(first))
    server.receive_data(client.data_to_send())
    second = _records(server.data_to_send())
    assert second[0][0] == ContentType.handshake and second[1][0] == ContentType.application_data
    assert ContentType.change_cipher_spec not in [r[0] for r in second]


def _second_hello(cookie: bytes | None = None) -> tuple[TLSServer, ClientHello]:
    client, server = _pair(
        Variant("hrr", HRR_VARIANT.client, {**HRR_VARIANT.server, "hello_retry_cookie": cookie})
    )
    client.start()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    record = [r for r in _records(client.data_to_send()) if r[0] == ContentType.handshake][0]
    return server, decode_handshake(TLSPlaintext.decode(record).fragment)


def _second_refused(server: TLSServer, hello: ClientHello, match: str) -> None:
    record = TLSPlaintext(ContentType.handshake, hello.encode(), V.TLS12).encode()
    _refused(server, record, A.illegal_parameter, match)


def test_second_client_hello_must_keep_its_suites() -> None:
    server, ch2 = _second_hello()
    _second_refused(server, ch2.replace(cipher_suites=ch2.cipher_suites[:1]), "cipher_suites")


def test_second_client_hello_shares_only_the_selected_group() -> None:
    server, ch2 = _second_hello()
    extra = KeyShareClientHello((KeyShareEntry(G.x25519, bytes(range(1, 33))),))
    swapped = tuple(extra if e.type_code == ExtensionType.key_share else e for e in ch2.extensions)
    _second_refused(server, ch2.replace(extensions=swapped), "one key share")


def test_second_client_hello_echoes_the_cookie() -> None:
    server, ch2 = _second_hello(cookie=b"lab cookie")
    assert ch2.extension(ExtensionType.cookie) is not None
    stripped = tuple(e for e in ch2.extensions if e.type_code != ExtensionType.cookie)
    _second_refused(server, ch2.replace(extensions=stripped), "cookie")


def test_second_client_hello_does_not_fall_back_to_tls12() -> None:
    server, ch2 = _second_hello()
    stripped = tuple(e for e in ch2.extensions if e.type_code != ExtensionType.supported_versions)
    _second_refused(server, ch2.replace(extensions=stripped), "versions")


def test_supported_groups_without_key_share_is_missing_extension() -> None:
    hello = _hello()
    stripped = tuple(e for e in hello.extensions if e.type_code != ExtensionType.key_share)
    _refused_before_server_hello(
        hello.replace(extensions=stripped), A.missing_extension, "key_share"
    )


def test_legacy_version_ssl3_is_protocol_version() -> None:
    _refused_before_server_hello(_hello(legacy_version=0x0300), A.protocol_version, "SSL 3.0")


@pytest.mark.parametrize(
    "versions,methods",
    [((V.TLS13, V.TLS12), b"\x00\x01"), ((V.TLS12,), b"\x01")],
    ids=["tls13", "tls12"],
)
def test_compression_must_be_null(versions: tuple[int, ...], methods: bytes) -> None:
    hello = build_client_hello("lab.example", versions=versions, rng=seeded_rng("compression"))
    _refused_before_server_hello(
        hello.replace(legacy_compression_methods=methods), A.illegal_parameter, "compression"
    )


@pytest.mark.parametrize("with_modes", [True, False], ids=["with-modes", "without-modes"])
def test_pre_shared_key_must_be_last(with_modes: bool) -> None:
    hello = offer_psk(_hello(), b"ticket", bytes(32), 0)
    psk = hello.extensions[-1]
    rest = [
        e
        for e in hello.extensions[:-1]
        if with_modes or e.type_code != ExtensionType.psk_key_exchange_modes
    ]
    moved = (*rest[:-1], psk, rest[-1])
    _refused_before_server_hello(hello.replace(extensions=moved), A.illegal_parameter, "last")


def test_fallback_scsv_below_our_best_version_is_inappropriate_fallback() -> None:
    hello = build_client_hello(
        "lab.example",
        versions=(V.TLS12,),
        cipher_suites=(*DEFAULT_CIPHER_SUITES, CS.TLS_FALLBACK_SCSV),
        rng=seeded_rng("fallback"),
    )
    _refused_before_server_hello(hello, A.inappropriate_fallback, "FALLBACK")
    server = _server(versions=(V.TLS12,))  # a TLS 1.2 server: no downgrade, the handshake goes on
    server.receive_data(TLSPlaintext(ContentType.handshake, hello.encode(), V.TLS10).encode())
    assert server.data_to_send()[0] == ContentType.handshake


def test_tls12_without_signature_algorithms_is_refused_for_ecdhe() -> None:
    hello = build_client_hello("lab.example", versions=(V.TLS12,), rng=seeded_rng("no sigalgs"))
    stripped = tuple(
        e for e in hello.extensions if e.type_code != ExtensionType.signature_algorithms
    )
    _refused_before_server_hello(hello.replace(extensions=stripped), A.handshake_failure, "SHA-1")
    rsa_suite = CS.TLS_RSA_WITH_AES_128_GCM_SHA256
    rsa = TLSServer(
        ServerConfig(certificate_key="rsa", cipher_suites=(rsa_suite,)),
        ServerIdentity.from_chain(RSA_SERVER),
        seeded_rng("rsa"),
    )
    plain = hello.replace(extensions=stripped, cipher_suites=(rsa_suite,))
    rsa.receive_data(TLSPlaintext(ContentType.handshake, plain.encode(), V.TLS10).encode())
    assert rsa.state == State.WAIT_CKE_12  # RSA key transport signs nothing: it goes on


def test_renegotiation_info_must_be_empty_on_an_initial_handshake() -> None:
    hello = build_client_hello("lab.example", versions=(V.TLS12,), rng=seeded_rng("reneg"))
    changed = tuple(
        RenegotiationInfo(b"\x01" * 12) if e.type_code == ExtensionType.renegotiation_info else e
        for e in hello.extensions
    )
    _refused_before_server_hello(
        hello.replace(extensions=changed), A.handshake_failure, "renegotiation_info"
    )


# -- TLS 1.2 client authentication, both sides -----------------------------------------------------
def type_name_of_cke(sent: list[str]) -> str:
    return next(name for name in sent if name.startswith("ClientKeyExchange"))


MTLS = BY_NAME["tls13-mtls"]


@pytest.mark.parametrize("name", ["tls12-ecdhe", "tls12-rsa-cbc"])
def test_tls12_client_authentication_in_memory(name: str) -> None:
    variant = BY_NAME[name]
    both = Variant(
        name, {**variant.client, **MTLS.client}, {**variant.server, **MTLS.server}, variant.rsa
    )
    client, server = _pair(both)
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert server.peer_certificates[0] == CLIENT_CHAIN.leaf.der
    sent = [e.name for e in client.trace.messages() if e.direction == "sent"]
    assert sent[1:4] == ["Certificate12", type_name_of_cke(sent), "CertificateVerify"]
    assert any(e.name == "client CertificateVerify" and e.ok for e in server.trace.events)
    assert (State.WAIT_CV_12, "certificate_verify", State.WAIT_CCS_12) in {
        t[1:] for t in server.transitions
    }


def test_tls12_client_auth_server_refuses_a_client_without_certificate() -> None:
    variant = Variant("no cert", {"versions": (V.TLS12,)}, MTLS.server)
    client, server = _pair(variant)
    result = handshake_in_memory(client, server)
    assert result.failed_side == "server" and isinstance(result.error, AlertError)
    assert result.error.description == A.handshake_failure
    assert server.closed and not server.handshake_complete


def test_tls12_client_certificate_verify_is_checked() -> None:
    variant = Variant("bad cv", {"versions": (V.TLS12,), **MTLS.client}, MTLS.server)

    def tamper(index: int, sender: str, data: bytes) -> bytes:
        if sender != "client" or index == 0:
            return data
        records = _records(data)
        for i, record in enumerate(records):
            if record[5] == HandshakeType.certificate_verify:
                changed = bytearray(record)
                changed[-1] ^= 1
                records[i] = bytes(changed)
        return b"".join(records)

    result = handshake_in_memory(*_pair(variant), tamper=tamper)
    assert result.failed_side == "server" and isinstance(result.error, AlertError)
    assert result.error.description in (A.decrypt_error, A.illegal_parameter)


@pytest.mark.interop
def test_tls12_mtls_tlslab_client_to_openssl_server() -> None:
    """OpenSSL (s_server -Verify, here Python's ssl with CERT_REQUIRED) verifies our certificate."""
    server_chain = build_chain("lab.example", seed="mtls12 s", now=real_now())
    client_chain = build_chain(
        "client.lab.example", seed="mtls12 c", now=real_now(),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )  # fmt: skip
    tmp = Path(tempfile.mkdtemp())
    s_chain, s_key, _ = _pem_files(server_chain, tmp)
    (tmp / "client_root.pem").write_bytes(client_chain.root.certificate.public_bytes(Encoding.PEM))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(s_chain, s_key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(tmp / "client_root.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[object] = []

    def run() -> None:
        conn, _ = listener.accept()
        with (
            contextlib.suppress(OSError, ssl.SSLError),
            ctx.wrap_socket(conn, server_side=True) as tls,
        ):
            seen.append(tls.getpeercert())
            tls.sendall(tls.recv(100))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(server_chain.trust_roots),
        versions=(V.TLS12,),
        certificate_chain=tuple(client_chain.served()),
        private_key=client_chain.leaf.private_key,
    )
    session = connect("127.0.0.1", listener.getsockname()[1], config, send=b"it is me, 1.2")
    thread.join(10)
    listener.close()
    assert session.received == b"it is me, 1.2" and session.connection.version == V.TLS12
    assert seen and seen[0]


@pytest.mark.interop
@pytest.mark.parametrize("with_certificate", [True, False], ids=["certificate", "none"])
def test_tls12_mtls_openssl_client_to_tlslab_server(with_certificate: bool) -> None:
    server_chain = build_chain("lab.example", seed="mtls12 s2", now=real_now())
    client_chain = build_chain(
        "client.lab.example", seed="mtls12 c2", now=real_now(),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )  # fmt: skip
    config = ServerConfig(client_auth=True, client_trust_roots=tuple(client_chain.trust_roots))
    port, sessions, thread = serve_in_thread(config, ServerIdentity.from_chain(server_chain))
    tmp = Path(tempfile.mkdtemp())
    c_chain, c_key, _ = _pem_files(client_chain, tmp)
    ctx = ssl.create_default_context(
        cadata=server_chain.root.certificate.public_bytes(Encoding.PEM).decode()
    )
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if with_certificate:
        ctx.load_cert_chain(c_chain, c_key)
    try:
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            ctx.wrap_socket(raw, server_hostname="lab.example") as tls,
        ):
            tls.sendall(b"mutual 1.2")
            reply = tls.recv(100)
    except (ssl.SSLError, OSError):
        reply = b""
    thread.join(10)
    if with_certificate:
        assert reply == b"mutual 1.2"
        assert sessions[0].connection.peer_certificates[0] == client_chain.leaf.der
        assert sessions[0].connection.version == V.TLS12
    else:
        assert reply == b""
        assert not sessions[0].connection.handshake_complete
        assert sessions[0].alert == A.handshake_failure.name and sessions[0].alert_sent


# -- tickets and resumption (TLS 1.3) -------------------------------------------------------------
def _ticket(
    server_changes: dict[str, Any] | None = None, client_changes: dict[str, Any] | None = None
):  # type: ignore[no-untyped-def]
    """A completed first session that issued tickets: (store, ticket, server identity)."""
    store: dict[bytes, Any] = {}
    variant = Variant("first", {**(client_changes or {})}, {"tickets": 1, **(server_changes or {})})
    client, server = _pair(variant, "ticket first", store)
    result = handshake_in_memory(client, server)
    assert result.completed
    tickets = [e for f in result.flights for e in f.events if isinstance(e, SessionTicket)]
    return store, tickets[0], server


def _resume(store: dict[bytes, Any], ticket: Any, client: dict[str, Any] | None = None,
            server: dict[str, Any] | None = None, clock: Any = None) -> tuple[TLSClient, TLSServer]:  # fmt: skip
    second = Variant("second", {"session_ticket": ticket, **(client or {})}, server or {})
    c, s = _pair(second, "ticket second", store)
    if clock is not None:
        s.clock = clock
    return c, s


def test_a_fresh_ticket_resumes() -> None:
    store, ticket, _ = _ticket()
    client, server = _resume(store, ticket)
    assert handshake_in_memory(client, server).completed and server.resumed and client.resumed


def test_server_refuses_a_ticket_past_its_lifetime() -> None:
    store, ticket, _ = _ticket()
    (stored,) = store.values()
    late = stored.issued_at + dt.timedelta(seconds=stored.lifetime + 1)
    client, server = _resume(
        store, ticket, client={"now": LAB_NOW + dt.timedelta(seconds=1)}, clock=lambda: late
    )
    assert handshake_in_memory(client, server).completed
    assert not server.resumed and not client.resumed
    assert any("lifetime" in str(e.value) for e in server.trace.events)


def test_server_refuses_a_ticket_whose_age_is_off() -> None:
    store, ticket, _ = _ticket()
    client, server = _resume(store, ticket, client={"now": LAB_NOW + dt.timedelta(seconds=60)})
    assert handshake_in_memory(client, server).completed and not server.resumed
    assert any("age disagrees" in str(e.value) for e in server.trace.events)


def test_client_never_offers_a_stale_ticket() -> None:
    """Past the ticket's lifetime, or past 7 days whatever the lifetime says (RFC 8446 §4.6.1)."""
    store, ticket, _ = _ticket()
    long_lived = dataclasses.replace(ticket, lifetime=30 * 24 * 3600)
    for offered, age in ((ticket, ticket.lifetime + 1), (long_lived, 7 * 24 * 3600 + 1)):
        client, _ = _resume(store, offered, client={"now": LAB_NOW + dt.timedelta(seconds=age)})
        client.start()
        assert (
            client.hello is not None
            and client.hello.extension(ExtensionType.pre_shared_key) is None
        )
    fresh, _ = _resume(store, long_lived, client={"now": LAB_NOW + dt.timedelta(seconds=5)})
    fresh.start()
    assert (
        fresh.hello is not None and fresh.hello.extension(ExtensionType.pre_shared_key) is not None
    )


def test_ticket_is_bound_to_the_server_name_and_alpn() -> None:
    store, ticket, _ = _ticket(
        client_changes={"alpn": ("h2",)}, server_changes={"alpn": (b"h2", b"x")}
    )
    for client, server in (
        _resume(store, ticket, client={"alpn": ("x",)}, server={"alpn": (b"h2", b"x")}),
        _resume(store, ticket, client={"alpn": ("h2",), "server_name": "other.example"}, server={"alpn": (b"h2", b"x")}),
    ):  # fmt: skip
        client.start()
        server.receive_data(client.data_to_send())
        assert not server.resumed


def test_client_auth_server_never_resumes_a_session_without_client_certificate() -> None:
    store, ticket, _ = _ticket()
    client, server = _resume(store, ticket, server=MTLS.server)
    client.start()
    server.receive_data(client.data_to_send())
    assert not server.resumed and server.state == State.WAIT_CERT


def test_resumed_session_exposes_the_client_identity() -> None:
    store, ticket, first = _ticket(client_changes=MTLS.client, server_changes=MTLS.server)
    assert first.peer_certificates
    client, server = _resume(store, ticket, client=MTLS.client, server=MTLS.server)
    assert handshake_in_memory(client, server).completed and server.resumed
    assert server.peer_certificates == first.peer_certificates


def test_server_certificate_cap_is_configurable() -> None:
    """The client's Certificate (client authentication) may be capped lower on the server."""
    client, _ = _pair(MTLS)
    server = TLSServer(
        ServerConfig(**MTLS.server), ServerIdentity.from_chain(SERVER), seeded_rng("cap"),
        max_certificate_message=2**12,
    )  # fmt: skip
    client.start()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    assert server.state == State.WAIT_CERT
    header = bytes([HandshakeType.certificate]) + (2**13).to_bytes(3, "big")
    _refused(server, _inject(server, ContentType.handshake, header), A.illegal_parameter)


def test_tls12_client_certificate_verify_in_a_scheme_not_offered_is_illegal_parameter() -> None:
    """RFC 5246 §7.4.8: the client's CertificateVerify must use a scheme of the server's
    CertificateRequest; SHA-1 (rsa_pkcs1_sha1, 0x0201) is not among them (RFC 9155). Notebook 06's
    table promises ``illegal_parameter`` for it, before any signature check."""
    variant = Variant("cv sha1", {"versions": (V.TLS12,), **MTLS.client}, MTLS.server)

    def tamper(index: int, sender: str, data: bytes) -> bytes:
        if sender != "client" or index == 0:
            return data
        records = _records(data)
        for i, record in enumerate(records):
            if record[5] == HandshakeType.certificate_verify:
                records[i] = record[:9] + bytes([0x02, 0x01]) + record[11:]
        return b"".join(records)

    client, server = _pair(variant)
    result = handshake_in_memory(client, server, tamper=tamper)
    assert result.failed_side == "server" and isinstance(result.error, AlertError)
    assert result.error.description == A.illegal_parameter
    assert "scheme we did not offer" in str(result.error)
    assert not server.handshake_complete
