"""Negotiation agrees with OpenSSL: the same ClientHello goes to a real OpenSSL server (Python ssl in
a child process configured through OPENSSL_CONF) and to tlslab's negotiate() with the same server
preferences; version, suite and group (or the alert) must match. Expected outcomes come from
OpenSSL at test time, never from a table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from tlslab.constants import CipherSuite as CS
from tlslab.constants import ContentType, ExtensionType
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.errors import AlertError
from tlslab.net.openssl_lab import ask_openssl_server
from tlslab.rng import seeded_rng
from tlslab.stages.hello import build_client_hello
from tlslab.stages.negotiation import ServerConfig, negotiate
from tlslab.wire.extensions import (
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    SupportedVersionsServer,
)
from tlslab.wire.messages import ServerHello, ServerKeyExchangeECDHE, decode_handshake
from tlslab.wire.record import Alert, HandshakeReassembler, RecordReader, fragment

pytestmark = pytest.mark.interop

T13 = (CS.TLS_AES_128_GCM_SHA256, CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256)
ECDSA12 = (
    CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
)
RSA12 = (
    CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
)


CLASSICAL_SERVER_GROUPS = (G.x25519, G.secp256r1, G.secp384r1)


@dataclass(frozen=True)
class Case:
    name: str
    client: dict[str, Any] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case("defaults"),
    Case(
        "1.3 server order",
        {"cipher_suites": [CS.TLS_AES_128_GCM_SHA256, CS.TLS_CHACHA20_POLY1305_SHA256]},
        {"cipher_suites": (CS.TLS_CHACHA20_POLY1305_SHA256, CS.TLS_AES_128_GCM_SHA256)},
    ),
    Case(
        "1.3 client order",
        {"cipher_suites": [CS.TLS_AES_128_GCM_SHA256, CS.TLS_CHACHA20_POLY1305_SHA256]},
        {
            "cipher_suites": (CS.TLS_CHACHA20_POLY1305_SHA256, CS.TLS_AES_128_GCM_SHA256),
            "prefer_server_order": False,
        },
    ),
    Case(
        "1.3 client prefers chacha",
        {
            "cipher_suites": [
                CS.TLS_CHACHA20_POLY1305_SHA256,
                CS.TLS_AES_128_GCM_SHA256,
                CS.TLS_AES_256_GCM_SHA384,
            ]
        },
        {"prefer_server_order": False},
    ),
    Case("client 1.2 only", {"versions": [V.TLS12], "cipher_suites": list(ECDSA12)}),
    Case("server 1.2 only", {}, {"versions": (V.TLS12,)}),
    Case(
        "client 1.3 only vs server 1.2 only",
        {"versions": [V.TLS13], "cipher_suites": list(T13)},
        {"versions": (V.TLS12,)},
    ),
    Case(
        "client 1.2 only vs server 1.3 only",
        {"versions": [V.TLS12], "cipher_suites": list(ECDSA12)},
        {"versions": (V.TLS13,)},
    ),
    Case("HRR for secp256r1", {}, {"groups": (G.secp256r1,)}),
    Case("HRR group by server order", {}, {"groups": (G.secp384r1, G.secp256r1)}),
    Case(
        "HRR group by client order",
        {},
        {"groups": (G.secp384r1, G.secp256r1), "prefer_server_order": False},
    ),
    Case(
        "client's first acceptable share wins",
        {"key_share_groups": [G.x25519, G.secp256r1]},
        {"groups": (G.secp256r1, G.x25519)},
    ),
    Case(
        "share for a later group, no HRR",
        {"groups": [G.secp256r1, G.secp384r1], "key_share_groups": [G.secp384r1]},
        {"groups": (G.secp256r1, G.secp384r1)},
    ),
    Case(
        "no common group (1.3)",
        {"groups": [G.x448], "key_share_groups": [G.x448]},
        {"groups": (G.x25519,)},
    ),
    Case(
        "no common suite (1.3)",
        {"cipher_suites": [CS.TLS_CHACHA20_POLY1305_SHA256]},
        {"cipher_suites": (CS.TLS_AES_128_GCM_SHA256,)},
    ),
    Case("1.3 offered with only 1.2 suites", {"cipher_suites": list(ECDSA12)}),
    Case("1.2 wrong authentication", {"versions": [V.TLS12], "cipher_suites": list(RSA12)}),
    Case(
        "1.2 server order",
        {"versions": [V.TLS12], "cipher_suites": [ECDSA12[0], ECDSA12[2]]},
        {"versions": (V.TLS12,), "cipher_suites": (ECDSA12[2], ECDSA12[0])},
    ),
    Case(
        "1.2 client order",
        {"versions": [V.TLS12], "cipher_suites": [ECDSA12[0], ECDSA12[2]]},
        {
            "versions": (V.TLS12,),
            "cipher_suites": (ECDSA12[2], ECDSA12[0]),
            "prefer_server_order": False,
        },
    ),
    Case(
        "1.2 curve by server order",
        {
            "versions": [V.TLS12],
            "cipher_suites": list(ECDSA12),
            "groups": [G.secp384r1, G.x25519, G.secp256r1],
        },
        {"groups": (G.x25519, G.secp384r1, G.secp256r1)},
    ),
    Case(
        "1.2 curve by client order",
        {
            "versions": [V.TLS12],
            "cipher_suites": list(ECDSA12),
            "groups": [G.secp384r1, G.x25519, G.secp256r1],
        },
        {"groups": (G.x25519, G.secp384r1, G.secp256r1), "prefer_server_order": False},
    ),
    Case(
        "1.2 ECDSA certificate curve not offered",
        {"versions": [V.TLS12], "cipher_suites": list(ECDSA12), "groups": [G.secp384r1, G.x25519]},
        {"groups": (G.x25519, G.secp384r1)},
    ),
    Case(
        "1.2 no common curve",
        {"versions": [V.TLS12], "cipher_suites": list(ECDSA12), "groups": [G.x448]},
        {"groups": (G.x25519,)},
    ),
    Case(
        "RSA certificate, 1.2",
        {"versions": [V.TLS12], "cipher_suites": [*ECDSA12, *RSA12]},
        {"certificate_key": "rsa", "cipher_suites": RSA12},
    ),
    Case("RSA certificate, 1.3", {}, {"certificate_key": "rsa"}),
    Case(
        "ffdhe2048 key share",
        {"groups": [G.ffdhe2048], "key_share_groups": [G.ffdhe2048]},
        {"groups": (G.ffdhe2048, G.x25519)},
    ),
    Case(
        "x448 key share",
        {"groups": [G.x448, G.x25519], "key_share_groups": [G.x448]},
        {"groups": (G.x25519, G.x448)},
    ),
]


def _openssl_outcome(flight: bytes) -> tuple[Any, ...]:
    """(version, suite, group, hrr) from OpenSSL's first flight, or ("alert", description)."""
    records = RecordReader().feed(flight)
    if not records:
        return ("closed",)
    if records[0].type == ContentType.alert:
        return ("alert", Alert.decode(records[0].fragment).description)
    hs = HandshakeReassembler()
    messages = [m for r in records if r.type == ContentType.handshake for m in hs.feed(r.fragment)]
    sh = decode_handshake(messages[0])
    assert isinstance(sh, ServerHello)
    selected = sh.extension(ExtensionType.supported_versions)
    if isinstance(selected, SupportedVersionsServer):
        share = sh.extension(ExtensionType.key_share)
        if isinstance(share, KeyShareHelloRetryRequest):
            return (V.TLS13, sh.cipher_suite, share.selected_group, True)
        assert isinstance(share, KeyShareServerHello)
        return (V.TLS13, sh.cipher_suite, share.server_share.group, False)
    group = None
    for message in messages[1:]:
        if message[0] == 12:
            ske = decode_handshake(message, version=V.TLS12, key_exchange="ecdhe")
            assert isinstance(ske, ServerKeyExchangeECDHE)
            group = ske.namedcurve
    return (sh.legacy_version, sh.cipher_suite, group, False)


def _tlslab_outcome(hello: Any, config: ServerConfig) -> tuple[Any, ...]:
    try:
        d = negotiate(hello, config)
    except AlertError as error:
        return ("alert", error.description)
    return (d.version, d.cipher_suite, d.group, d.hello_retry_request)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_negotiation_matches_openssl(case: Case) -> None:
    client = {"rng": seeded_rng(case.name), **case.client}
    hello = build_client_hello("localhost", **client)
    # The system OpenSSL behind Python's ssl (3.0) knows no post-quantum group, so the server side
    # of this comparison is classical (the default hello still offers X25519MLKEM768 first, which
    # both must pass over). The post-quantum policy is compared with OpenSSL 4 in test_pq_interop.
    defaults = {"cipher_suites": (*T13, *ECDSA12, *RSA12), "groups": CLASSICAL_SERVER_GROUPS}
    config = ServerConfig(**{**defaults, **case.server})
    records = b"".join(
        r.encode() for r in fragment(22, hello.encode(), legacy_record_version=0x0301)
    )
    flight = ask_openssl_server(
        records,
        versions=config.versions,
        cipher_suites=config.cipher_suites,
        groups=config.groups,
        prefer_server_order=config.prefer_server_order,
        certificate_key=config.certificate_key,
    )
    assert _tlslab_outcome(hello, config) == _openssl_outcome(flight)


def test_alpn_no_overlap_is_a_deliberate_difference() -> None:
    """RFC 7301 §3.2: with no protocol in common the server SHOULD send no_application_protocol.
    tlslab does; OpenSSL behind Python's ssl instead continues without ALPN (its selection callback
    answers "no ack"). The difference is deliberate: tlslab follows the RFC's recommendation."""
    hello = build_client_hello("localhost", alpn=["h2"], rng=seeded_rng(1))
    config = ServerConfig(alpn=(b"http/1.1",))
    assert _tlslab_outcome(hello, config) == ("alert", 120)
