"""ClientHellos captured from a real OpenSSL client over 127.0.0.1 decode and re-encode byte-exactly."""

from __future__ import annotations

import pytest

from tlslab.constants import ContentType, ExtensionType, ProtocolVersion
from tlslab.net.openssl_lab import capture_client_hello, openssl_client_context
from tlslab.wire.extensions import ServerName, SupportedVersionsClient
from tlslab.wire.messages import ClientHello, decode_handshake
from tlslab.wire.record import HandshakeReassembler, RecordReader

pytestmark = pytest.mark.interop


def _hello_bytes(records: bytes) -> bytes:
    hs = HandshakeReassembler()
    out: list[bytes] = []
    for record in RecordReader().feed(records):
        assert record.type == ContentType.handshake
        out.extend(hs.feed(record.fragment))
    assert len(out) == 1
    return out[0]


@pytest.mark.parametrize("max_version", ["1.3", "1.2"])
@pytest.mark.parametrize("alpn", [(), ("h2", "http/1.1")])
def test_openssl_client_hello_round_trip(max_version: str, alpn: tuple[str, ...]) -> None:
    raw_records = capture_client_hello(
        "interop.test", context=openssl_client_context(max_version=max_version, alpn=alpn)
    )
    raw = _hello_bytes(raw_records)
    hello = decode_handshake(raw)
    assert isinstance(hello, ClientHello)
    assert hello.encode() == raw
    assert hello.extension(ExtensionType.server_name) == ServerName(("interop.test",))
    versions = hello.extension(ExtensionType.supported_versions)
    if max_version == "1.3":
        assert isinstance(versions, SupportedVersionsClient)
        assert ProtocolVersion.TLS13 in versions.versions
    else:
        assert versions is None
        assert hello.legacy_version == ProtocolVersion.TLS12
    alpn_ext = hello.extension(ExtensionType.application_layer_protocol_negotiation)
    assert (alpn_ext is not None) == bool(alpn)
