"""Extension bodies decoded when the handshake needs them (issues 18 and 19).

A ClientHello's extensions are cut into (type, body) pairs in one pass; modelled bodies are
decoded at once (a malformed key_share is still decode_error straight away), unknown ones
stay raw, and the TLS 1.2-only ones (ec_point_formats, extended_master_secret,
encrypt_then_mac, renegotiation_info, session_ticket) are read only by a TLS 1.2 handshake:
a TLS 1.3 server ignores them, bodies unread, as OpenSSL does.
"""

from __future__ import annotations

import pytest

from tests.test_engine_conformance import _hello, _refused_before_server_hello, _server
from tlslab.constants import AlertDescription, ContentType, ExtensionType
from tlslab.constants import ProtocolVersion as V
from tlslab.errors import DecodeError, IllegalParameter
from tlslab.wire._codec import Reader
from tlslab.wire.extensions import (
    TLS12_ONLY,
    ExtensionBlock,
    ServerName,
    SupportedVersionsServer,
    UnknownExtension,
)
from tlslab.wire.messages import ClientHello, ServerHello, decode_handshake
from tlslab.wire.record import RecordReader, TLSPlaintext

A = AlertDescription
T = ExtensionType

# (extension, a body that breaks its TLS 1.2 syntax)
MALFORMED_TLS12_ONLY = [
    pytest.param(T.ec_point_formats, b"", id="ec_point_formats-empty"),
    pytest.param(T.ec_point_formats, b"\x05\x00", id="ec_point_formats-short-list"),
    pytest.param(T.extended_master_secret, b"\x00", id="extended_master_secret-not-empty"),
    pytest.param(T.encrypt_then_mac, b"\x01\x02", id="encrypt_then_mac-not-empty"),
    pytest.param(T.renegotiation_info, b"\x03\x00", id="renegotiation_info-short"),
]


def _with_body(code: int, body: bytes) -> ClientHello:
    """tlslab's TLS 1.3 + 1.2 hello with extension ``code`` carrying ``body`` (replaced in
    place if the hello has it, else added at the end)."""
    hello = _hello()
    raw = UnknownExtension(code, body)
    if hello.extension(code) is None:
        return hello.replace(extensions=(*hello.extensions, raw))
    return hello.replace(
        extensions=tuple(raw if e.type_code == code else e for e in hello.extensions)
    )


def _record(hello: ClientHello) -> bytes:
    return TLSPlaintext(ContentType.handshake, hello.encode(), V.TLS10).encode()


def test_the_tls12_only_set_is_what_openssl_ignores_in_tls13() -> None:
    assert {
        T.ec_point_formats,
        T.session_ticket,
        T.encrypt_then_mac,
        T.extended_master_secret,
        T.renegotiation_info,
    } == TLS12_ONLY
    # none of them is in RFC 8446 §4.2's table of TLS 1.3 extensions
    assert not TLS12_ONLY & {T.key_share, T.supported_versions, T.pre_shared_key}


@pytest.mark.parametrize("code,body", MALFORMED_TLS12_ONLY)
def test_tls13_server_ignores_a_malformed_tls12_only_extension(code: int, body: bytes) -> None:
    """RFC 8446 §4.2 gives these no meaning in TLS 1.3: the hello is answered normally."""
    server = _server()
    server.receive_data(_record(_with_body(code, body)))
    assert not server.closed
    records = RecordReader().feed(server.data_to_send())
    server_hello = decode_handshake(records[0].fragment)
    assert isinstance(server_hello, ServerHello)
    selected = server_hello.extension(T.supported_versions)
    assert isinstance(selected, SupportedVersionsServer)
    assert selected.selected_version == V.TLS13
    # then the compatibility ChangeCipherSpec and the encrypted flight, and no alert
    kinds = [r.type for r in records[1:]]
    assert kinds[0] == ContentType.change_cipher_spec
    assert kinds[1:] and set(kinds[1:]) == {ContentType.application_data}


@pytest.mark.parametrize("code,body", MALFORMED_TLS12_ONLY)
def test_tls12_server_refuses_the_same_hello_with_decode_error(code: int, body: bytes) -> None:
    """When TLS 1.2 is negotiated the extension matters, and its syntax is checked."""
    _refused_before_server_hello(_with_body(code, body), A.decode_error, "", versions=(V.TLS12,))


@pytest.mark.parametrize(
    "code,body",
    [
        pytest.param(T.key_share, b"\x00\x05\x00\x1d", id="key_share-short"),
        pytest.param(T.supported_versions, b"\x03\x03", id="supported_versions-no-list"),
        pytest.param(T.supported_groups, b"\x00\x03\x00\x1d\x00", id="supported_groups-odd"),
        pytest.param(T.signature_algorithms, b"\x00\x02\x04", id="signature_algorithms-short"),
        pytest.param(T.psk_key_exchange_modes, b"", id="psk_key_exchange_modes-empty"),
        pytest.param(T.server_name, b"\x00", id="server_name-short"),
    ],
)
def test_a_malformed_extension_tls13_uses_is_still_decode_error(code: int, body: bytes) -> None:
    """Extensions the TLS 1.3 handshake reads are decoded at once: the exact alert, no
    ServerHello, whatever version would have been chosen."""
    _refused_before_server_hello(_with_body(code, body), A.decode_error, "")


def test_decoding_leaves_tls12_only_bodies_for_later() -> None:
    hello = _with_body(T.ec_point_formats, b"\x05\x00")
    decoded = decode_handshake(hello.encode())
    assert isinstance(decoded, ClientHello)
    assert isinstance(decoded.extension(T.server_name), ServerName)
    with pytest.raises(DecodeError, match="ec_point_format_list"):
        decoded.extension(T.ec_point_formats)
    with pytest.raises(DecodeError):
        decoded.extensions  # noqa: B018  (building the whole tuple decodes every body)


def test_a_malformed_key_share_fails_at_decode_time() -> None:
    with pytest.raises(DecodeError, match="client_shares runs past"):
        decode_handshake(_with_body(T.key_share, b"\x00\x05\x00\x1d\x00\x20").encode())


def test_thousands_of_junk_extensions_stay_raw_until_read() -> None:
    junk = tuple(UnknownExtension(code, code.to_bytes(2, "big")) for code in range(0x5000, 0x6000))
    hello = _hello()
    hello = hello.replace(extensions=(*hello.extensions, *junk))
    data = hello.encode()
    decoded = decode_handshake(data)
    assert isinstance(decoded, ClientHello)
    block = decoded.__dict__["_extensions"]
    assert isinstance(block, ExtensionBlock) and len(block) == len(hello.extensions)
    assert decoded.extension(0x5123) == UnknownExtension(0x5123, b"\x51\x23")
    assert decoded.extension(0x7000) is None
    assert decoded.extensions == hello.extensions  # built once, in wire order
    assert decoded.extensions is decoded.extensions
    assert decoded.encode() == data and decoded == hello


def test_a_duplicate_among_junk_extensions_is_illegal_parameter() -> None:
    junk = tuple(UnknownExtension(code) for code in range(0x5000, 0x5400))
    hello = _hello()
    hello = hello.replace(extensions=(*hello.extensions, *junk, UnknownExtension(0x5200)))
    with pytest.raises(IllegalParameter, match="duplicate extension"):
        decode_handshake(hello.encode())


@pytest.mark.parametrize(
    "data,end,message",
    [
        (b"\x00\x01\x00\x02ab\x00\x02\x00\x03ab", None, r"extensions\[1\] runs past"),
        (b"\x00\x01\x00\x00\x00", None, r"extensions\[1\] header runs past"),
        (b"\x00\x01\x00\x05ab", None, r"extensions\[0\] runs past"),
        (b"\x00\x01\x00\x00\x00\x02\x00\x05abcdefgh", 8, r"extensions\[1\] runs past"),
    ],
)
def test_tagged_entries_names_the_entry_that_overruns(
    data: bytes, end: int | None, message: str
) -> None:
    with pytest.raises(DecodeError, match=message):
        Reader(data, what="X", end=end).tagged_entries("extensions")


def test_tagged_entries_cuts_type_and_body_spans() -> None:
    data = b"\x00\x01\x00\x02ab\xfa\xfa\x00\x00\x00\x10\x00\x01z"
    r = Reader(data)
    assert r.tagged_entries("extensions") == [(1, 4, 6), (0xFAFA, 10, 10), (0x10, 14, 15)]
    assert r.at_end()


def test_record_reader_cuts_records_whatever_the_chunks() -> None:
    records = [
        TLSPlaintext(ContentType.handshake, b"h" * 300, V.TLS10),
        TLSPlaintext(ContentType.application_data, b"a" * 17, V.TLS12),
        TLSPlaintext(ContentType.alert, b"\x02\x28", V.TLS12),
    ]
    stream = b"".join(r.encode() for r in records)
    for size in (1, 3, 5, 7, 301, len(stream)):
        reader, out = RecordReader(), []
        for at in range(0, len(stream), size):
            out += reader.feed(bytearray(stream[at : at + size]))
        assert out == records, size
        assert all(type(r.fragment) is bytes for r in out)
        assert reader.pending == 0 and reader.next_header() is None
    reader = RecordReader()
    assert reader.feed(stream[:3]) == []
    assert reader.next_header(stream[3:9]) == stream[:5]
