"""Record protection: RFC 8448 records byte-exact, TLS 1.2 CBC from the Illustrated TLS 1.2
connection, round trips for every AEAD, and every single-bit flip rejected."""

from __future__ import annotations

from typing import Any

import pytest

from tlslab.constants import CipherSuite, ContentType
from tlslab.errors import (
    BadRecordMac,
    DecodeError,
    ProtocolVersionError,
    RecordOverflow,
    UnexpectedMessage,
)
from tlslab.rng import seeded_rng
from tlslab.stages import keyschedule as ks
from tlslab.stages.protection import RecordProtection12, RecordProtection13, xor_nonce
from tlslab.stages.suites import suite_info
from tlslab.wire.record import TLSPlaintext

H = bytes.fromhex
AES128 = suite_info(CipherSuite.TLS_AES_128_GCM_SHA256)
SECRET_FOR = {
    "server_handshake": "server_handshake_traffic_secret",
    "client_handshake": "client_handshake_traffic_secret",
    "server_application": "server_application_traffic_secret_0",
    "client_application": "client_application_traffic_secret_0",
}


def _protector(v: dict[str, Any], which: str, seq: int) -> RecordProtection13:
    p = RecordProtection13(AES128, ks.traffic_keys(H(v["secrets"][SECRET_FOR[which]]), AES128))
    p.seq = seq
    return p


def _expected_content(v: dict[str, Any], name: str) -> bytes | None:
    m = v["handshake_messages"]
    return {
        "server_handshake_flight_record": H(
            m["encrypted_extensions"]
            + m["certificate"]
            + m["certificate_verify"]
            + m["server_finished"]
        ),
        "client_finished_record": H(m["client_finished"]),
        "server_new_session_ticket_record": H(m["new_session_ticket"]),
        "client_application_data_record": H(v["application_data_plaintext"]),
        "server_application_data_record": H(v["application_data_plaintext"]),
        "client_close_notify_record": b"\x01\x00",
        "server_close_notify_record": b"\x01\x00",
    }.get(name)


@pytest.mark.parametrize(
    "name",
    [
        "server_handshake_flight_record",
        "client_finished_record",
        "server_new_session_ticket_record",
        "client_application_data_record",
        "server_application_data_record",
        "client_close_notify_record",
        "server_close_notify_record",
    ],
)
def test_rfc8448_records_open_and_reseal_byte_exact(rfc8448: dict[str, Any], name: str) -> None:
    rec = rfc8448["encrypted_records"][name]
    raw = H(rec["record"])
    record = TLSPlaintext.decode(raw)
    content_type, content = _protector(rfc8448, rec["keys"], int(rec["seq"])).open(record)
    assert content_type == int(rec["content_type"])
    assert content == _expected_content(rfc8448, name)
    resealed = _protector(rfc8448, rec["keys"], int(rec["seq"])).seal(content_type, content)
    assert resealed.encode() == raw


def test_every_bit_flip_is_rejected(rfc8448: dict[str, Any]) -> None:
    """Flipping any bit of the version, ciphertext or tag is bad_record_mac (the header is the
    AEAD's additional data). A flipped content-type bit is caught before decryption
    (unexpected_message), a flipped bit in the version's major byte is not TLS at all
    (protocol_version), and a flipped length bit breaks the record framing itself (decode_error
    or record_overflow):
    neither is ever accepted."""
    rec = rfc8448["encrypted_records"]["client_application_data_record"]
    raw = H(rec["record"])
    for bit in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        position = bit // 8
        if position == 0:
            expected: type[Exception] | tuple[type[Exception], ...] = UnexpectedMessage
        elif position == 1:
            expected = ProtocolVersionError  # a record version whose major byte is not 3 is not TLS
        elif position in (3, 4):
            expected = (DecodeError, RecordOverflow)
        else:
            expected = BadRecordMac
        with pytest.raises(expected):
            _protector(rfc8448, "client_application", 0).open(TLSPlaintext.decode(bytes(flipped)))


def test_wrong_sequence_number_fails(rfc8448: dict[str, Any]) -> None:
    rec = rfc8448["encrypted_records"]["server_application_data_record"]
    record = TLSPlaintext.decode(H(rec["record"]))
    with pytest.raises(BadRecordMac, match="sequence number 0"):
        _protector(rfc8448, "server_application", 0).open(record)  # it was sent as seq 1


def test_replayed_record_fails(rfc8448: dict[str, Any]) -> None:
    rec = rfc8448["encrypted_records"]["client_application_data_record"]
    record = TLSPlaintext.decode(H(rec["record"]))
    p = _protector(rfc8448, "client_application", 0)
    p.open(record)
    with pytest.raises(BadRecordMac):
        p.open(record)


def test_padding_and_all_zero_inner_plaintext() -> None:
    keys = ks.traffic_keys(bytes(32), AES128)
    sealed = RecordProtection13(AES128, keys).seal(ContentType.application_data, b"hi", padding=20)
    assert len(sealed.fragment) == 2 + 1 + 20 + 16
    assert RecordProtection13(AES128, keys).open(sealed) == (ContentType.application_data, b"hi")
    # a record whose inner plaintext is all zeros has no content type
    p = RecordProtection13(AES128, keys)
    inner = bytes(5)
    nonce = xor_nonce(keys.iv, 0)
    header = bytes([23, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
    fragment = p._aead.encrypt(nonce, inner, header)
    with pytest.raises(UnexpectedMessage):
        RecordProtection13(AES128, keys).open(TLSPlaintext(23, fragment))


@pytest.mark.parametrize(
    "suite",
    [
        CipherSuite.TLS_AES_128_GCM_SHA256,
        CipherSuite.TLS_AES_256_GCM_SHA384,
        CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ],
)
def test_tls13_round_trip_every_aead(suite: int) -> None:
    info = suite_info(suite)
    keys = ks.traffic_keys(bytes(info.hash_length), info)
    sender, receiver = RecordProtection13(info, keys), RecordProtection13(info, keys)
    for i in range(3):
        assert receiver.open(sender.seal(ContentType.application_data, b"x" * i)) == (23, b"x" * i)


TLS12_SUITES = [
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
]


@pytest.mark.parametrize("suite", TLS12_SUITES)
@pytest.mark.parametrize("etm", [False, True])
def test_tls12_round_trip_and_bit_flips(suite: int, etm: bool) -> None:
    info = suite_info(suite)
    if info.is_aead and etm:
        pytest.skip("encrypt-then-MAC applies to CBC suites only (RFC 7366)")
    block = ks.key_block(bytes(48), bytes(32), bytes(range(32)), info)

    def pair() -> tuple[RecordProtection12, RecordProtection12]:
        def make() -> RecordProtection12:
            return RecordProtection12(
                info,
                block.client_write_key,
                block.client_write_IV,
                block.client_write_MAC_key,
                encrypt_then_mac=etm,
                rng=seeded_rng(1),
            )

        return make(), make()

    sender, receiver = pair()
    for msg in (b"", b"hello", bytes(100)):
        assert receiver.open(sender.seal(ContentType.application_data, msg)) == msg
    sender, _ = pair()
    record = sender.seal(ContentType.application_data, b"attack at dawn")
    raw = record.encode()
    for bit in range(5 * 8, len(raw) * 8):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        _, receiver = pair()
        with pytest.raises(BadRecordMac):
            receiver.open(TLSPlaintext.decode(bytes(flipped)))


def test_illustrated_tls12_cbc_records(tls12_vectors: dict[str, Any]) -> None:
    t = tls12_vectors["illustrated_tls12_handshake"]
    info = suite_info(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA)
    block = ks.key_block(H(t["master_secret"]), H(t["client_random"]), H(t["server_random"]), info)
    client = RecordProtection12(info, block.client_write_key, b"", block.client_write_MAC_key)
    server = RecordProtection12(info, block.server_write_key, b"", block.server_write_MAC_key)
    rec = t["records"]
    assert client.open(TLSPlaintext.decode(H(rec["clientfinished"]))) == H(
        t["handshake_messages"]["client_finished"]
    )
    assert client.open(TLSPlaintext.decode(H(rec["clientdata"]))) == b"ping"
    assert server.open(TLSPlaintext.decode(H(rec["serverfinished"]))) == H(
        t["handshake_messages"]["server_finished"]
    )
    assert server.open(TLSPlaintext.decode(H(rec["serverdata"]))) == b"pong"
    assert client.open(TLSPlaintext.decode(H(rec["clientalert"]))) == b"\x01\x00"  # close_notify
