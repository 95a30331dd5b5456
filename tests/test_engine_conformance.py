"""Conformance under hostile peers (issue 19): each rule sends the forbidden thing and checks the
exact alert, that the connection is closed, and that nothing was delivered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_engine_core import BY_NAME, Variant, _inject, _pair, _records
from tlslab.constants import AlertDescription, ContentType, HandshakeType
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import TLSClient
from tlslab.engine.connection import (
    ApplicationData,
    ConnectionClosed,
    ConnectionNotUsable,
    TruncatedConnection,
)
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import TLSServer
from tlslab.engine.state import State
from tlslab.errors import AlertError, TLSError
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
    with pytest.raises(ConnectionNotUsable):
        connection.receive_data(b"\x17\x03\x03\x00\x01\x00")
    return info.value


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
