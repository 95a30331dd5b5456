"""Handshake messages: RFC 8448 byte-exact round trips and every message type."""

from __future__ import annotations

from typing import Any

import pytest

from tlslab.constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    CipherSuite,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from tlslab.errors import DecodeError, IllegalParameter, UnexpectedMessage
from tlslab.wire.extensions import (
    Cookie,
    KeyShareClientHello,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    ServerName,
    SupportedVersionsClient,
    SupportedVersionsServer,
    UnknownExtension,
)
from tlslab.wire.messages import (
    Certificate13,
    ClientHello,
    EncryptedExtensions,
    Finished,
    NewSessionTicket13,
    ServerHello,
    decode_handshake,
)
from tlslab.wire.record import TLSPlaintext


def test_rfc8448_client_hello_round_trip(rfc8448: dict[str, Any]) -> None:
    raw = bytes.fromhex(rfc8448["handshake_messages"]["client_hello"])
    ch = decode_handshake(raw)
    assert isinstance(ch, ClientHello)
    assert ch.encode() == raw
    # facts stated by RFC 8448 §3
    assert ch.extension(ExtensionType.server_name) == ServerName(("server",))
    shares = ch.extension(ExtensionType.key_share)
    assert isinstance(shares, KeyShareClientHello)
    assert shares.client_shares[0].group == NamedGroup.x25519
    assert shares.client_shares[0].key_exchange.hex() == rfc8448["keys"]["client_x25519_public"]
    versions = ch.extension(ExtensionType.supported_versions)
    assert versions == SupportedVersionsClient((ProtocolVersion.TLS13,))
    assert ch.cipher_suites[0] == CipherSuite.TLS_AES_128_GCM_SHA256


def test_rfc8448_server_hello_round_trip(rfc8448: dict[str, Any]) -> None:
    raw = bytes.fromhex(rfc8448["handshake_messages"]["server_hello"])
    sh = decode_handshake(raw)
    assert isinstance(sh, ServerHello)
    assert sh.encode() == raw
    assert not sh.is_hello_retry_request
    assert sh.cipher_suite == CipherSuite.TLS_AES_128_GCM_SHA256
    assert sh.extension(ExtensionType.supported_versions) == SupportedVersionsServer(
        ProtocolVersion.TLS13
    )
    share = sh.extension(ExtensionType.key_share)
    assert isinstance(share, KeyShareServerHello)
    assert share.server_share.key_exchange.hex() == rfc8448["keys"]["server_x25519_public"]


def test_rfc8448_records_frame_the_hellos(rfc8448: dict[str, Any]) -> None:
    for name, message in (
        ("client_hello_record", "client_hello"),
        ("server_hello_record", "server_hello"),
    ):
        raw = bytes.fromhex(rfc8448["plaintext_records"][name])
        record = TLSPlaintext.decode(raw)
        assert record.fragment.hex() == rfc8448["handshake_messages"][message]
        assert record.encode() == raw


@pytest.mark.parametrize(
    "name,cls",
    [
        ("encrypted_extensions", EncryptedExtensions),
        ("certificate", Certificate13),
        ("server_finished", Finished),
        ("client_finished", Finished),
        ("new_session_ticket", NewSessionTicket13),
    ],
)
def test_rfc8448_other_messages_round_trip(rfc8448: dict[str, Any], name: str, cls: type) -> None:
    raw = bytes.fromhex(rfc8448["handshake_messages"][name])
    msg = decode_handshake(raw, version=ProtocolVersion.TLS13)
    assert isinstance(msg, cls)
    assert msg.encode() == raw


def test_rfc8448_certificate_verify(rfc8448: dict[str, Any]) -> None:
    raw = bytes.fromhex(rfc8448["handshake_messages"]["certificate_verify"])
    msg = decode_handshake(raw)
    assert msg.encode() == raw
    assert msg.algorithm == SignatureScheme.rsa_pss_rsae_sha256  # type: ignore[attr-defined]


def test_rfc8448_certificate_carries_the_server_cert(rfc8448: dict[str, Any]) -> None:
    raw = bytes.fromhex(rfc8448["handshake_messages"]["certificate"])
    msg = decode_handshake(raw, version=ProtocolVersion.TLS13)
    assert isinstance(msg, Certificate13)
    assert msg.certificates[0].hex() == rfc8448["keys"]["server_certificate_der"]


def test_hello_retry_request_is_recognised_by_its_random() -> None:
    hrr = ServerHello(
        random=HELLO_RETRY_REQUEST_RANDOM,
        cipher_suite=CipherSuite.TLS_AES_128_GCM_SHA256,
        extensions=(
            SupportedVersionsServer(ProtocolVersion.TLS13),
            KeyShareHelloRetryRequest(NamedGroup.secp256r1),
            Cookie(b"cookie!"),
        ),
        legacy_session_id_echo=bytes(32),
    )
    back = decode_handshake(hrr.encode())
    assert isinstance(back, ServerHello)
    assert back.is_hello_retry_request
    assert back == hrr


def test_grease_and_unknown_extensions_survive() -> None:
    ch = ClientHello(
        random=bytes(32),
        cipher_suites=(0x3A3A, CipherSuite.TLS_AES_128_GCM_SHA256),
        extensions=(UnknownExtension(0x4A4A, b""), UnknownExtension(0xFE0D, b"ech-ish")),
    )
    raw = ch.encode()
    assert decode_handshake(raw) == ch
    assert decode_handshake(raw).encode() == raw


def test_duplicate_extension_is_illegal_parameter() -> None:
    ch = ClientHello(
        random=bytes(32),
        cipher_suites=(0x1301,),
        extensions=(ServerName(("a",)), ServerName(("b",))),
    )
    with pytest.raises(IllegalParameter, match="duplicate"):
        decode_handshake(ch.encode())


def test_length_mismatch_is_decode_error() -> None:
    raw = bytearray(Finished(bytes(32)).encode())
    raw[3] += 1
    with pytest.raises(DecodeError, match="length"):
        decode_handshake(bytes(raw))


def test_unknown_handshake_type_is_unexpected_message() -> None:
    with pytest.raises(UnexpectedMessage, match="handshake"):
        decode_handshake(b"\x63\x00\x00\x00")


def test_truncated_client_hello_names_the_field(rfc8448: dict[str, Any]) -> None:
    raw = bytearray.fromhex(rfc8448["handshake_messages"]["client_hello"])
    # cut inside the cipher suites and fix up the outer length
    cut = bytes(raw[:80])
    cut = cut[:1] + (len(cut) - 4).to_bytes(3, "big") + cut[4:]
    with pytest.raises(DecodeError) as info:
        decode_handshake(cut)
    assert "extensions" in str(info.value) or "compression" in str(info.value)


def test_handshake_type_enum_has_message_hash() -> None:
    assert HandshakeType.message_hash == 254
