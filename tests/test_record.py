"""Record framing and handshake reassembly: one byte at a time equals all at once."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlslab.constants import AlertDescription, AlertLevel, ContentType
from tlslab.errors import DecodeError, RecordOverflow, UnexpectedMessage
from tlslab.wire.record import (
    MAX_PLAINTEXT,
    Alert,
    ChangeCipherSpec,
    HandshakeReassembler,
    RecordReader,
    TLSPlaintext,
    fragment,
)

from .strategies import MESSAGES


def _messages_from_stream(stream: bytes, chunk: int) -> list[bytes]:
    records = RecordReader()
    hs = HandshakeReassembler()
    out: list[bytes] = []
    for i in range(0, len(stream), chunk):
        for record in records.feed(stream[i : i + chunk]):
            assert record.type == ContentType.handshake
            out.extend(hs.feed(record.fragment))
    assert records.pending == 0
    assert not hs.pending
    return out


def _flight(rfc8448: dict[str, Any]) -> list[bytes]:
    names = [
        "client_hello",
        "server_hello",
        "encrypted_extensions",
        "certificate",
        "certificate_verify",
        "server_finished",
    ]
    return [bytes.fromhex(rfc8448["handshake_messages"][n]) for n in names]


@pytest.mark.parametrize("max_fragment", [1, 7, 100, MAX_PLAINTEXT])
def test_byte_at_a_time_equals_all_at_once(rfc8448: dict[str, Any], max_fragment: int) -> None:
    messages = _flight(rfc8448)
    stream = b"".join(
        r.encode()
        for r in fragment(ContentType.handshake, b"".join(messages), max_fragment=max_fragment)
    )
    assert _messages_from_stream(stream, 1) == messages
    assert _messages_from_stream(stream, len(stream)) == messages
    assert _messages_from_stream(stream, 13) == messages


@settings(max_examples=60, deadline=None)
@given(data=st.data(), max_fragment=st.integers(1, 300), chunk=st.integers(1, 50))
def test_reassembly_property(data: st.DataObject, max_fragment: int, chunk: int) -> None:
    msgs = [
        data.draw(MESSAGES[name][0]).encode() for name in ("ClientHello", "ServerHello", "Finished")
    ]
    stream = b"".join(
        r.encode()
        for r in fragment(ContentType.handshake, b"".join(msgs), max_fragment=max_fragment)
    )
    assert _messages_from_stream(stream, chunk) == msgs


def test_fragment_respects_limit() -> None:
    records = fragment(ContentType.handshake, bytes(40000))
    assert [len(r.fragment) for r in records] == [16384, 16384, 7232]


def test_record_overflow() -> None:
    header = bytes([22, 3, 3]) + (2**14 + 2049).to_bytes(2, "big")
    with pytest.raises(RecordOverflow):
        RecordReader().feed(header)


def test_unknown_content_type() -> None:
    with pytest.raises(UnexpectedMessage):
        RecordReader().feed(bytes([99, 3, 3, 0, 1, 0]))


def test_zero_length_handshake_fragment_rejected() -> None:
    with pytest.raises(DecodeError, match="zero-length"):
        HandshakeReassembler().feed(b"")


def test_record_round_trip_and_trailing_bytes() -> None:
    rec = TLSPlaintext(ContentType.application_data, b"hello")
    assert TLSPlaintext.decode(rec.encode()) == rec
    with pytest.raises(DecodeError, match="trailing"):
        TLSPlaintext.decode(rec.encode() + b"x")


def test_alert_and_ccs() -> None:
    alert = Alert(AlertLevel.fatal, AlertDescription.bad_record_mac)
    assert Alert.decode(alert.encode()) == alert
    assert ChangeCipherSpec.decode(b"\x01") == ChangeCipherSpec()
    with pytest.raises(UnexpectedMessage):
        ChangeCipherSpec.decode(b"\x02")
