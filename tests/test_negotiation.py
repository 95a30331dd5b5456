"""Negotiation stage functions in memory: HRR exchange, downgrade sentinels, the client's checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tlslab.constants import DOWNGRADE_TLS12, CipherSuite, ExtensionType
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.errors import (
    IllegalParameter,
    NoApplicationProtocol,
    ProtocolVersionError,
    UnsupportedExtension,
)
from tlslab.rng import seeded_rng
from tlslab.stages.hello import (
    build_client_hello,
    build_client_hello_after_retry,
    check_downgrade,
    check_hello_retry_request,
    check_server_hello,
)
from tlslab.stages.keyexchange import generate_key_share
from tlslab.stages.keyschedule import digest
from tlslab.stages.negotiation import (
    ServerConfig,
    build_hello_retry_request,
    build_server_hello,
    negotiate,
)
from tlslab.stages.transcript import Transcript, message_hash
from tlslab.wire.extensions import (
    Cookie,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    ServerName,
)


def test_hello_retry_request_exchange_in_memory() -> None:
    rng = seeded_rng("hrr")
    client_x25519 = generate_key_share(G.x25519, rng)
    ch1 = build_client_hello("example.com", key_shares=[client_x25519], rng=rng)
    config = ServerConfig(groups=(G.secp256r1,), hello_retry_cookie=b"state")
    first = negotiate(ch1, config)
    assert first.hello_retry_request and first.group == G.secp256r1
    hrr = build_hello_retry_request(ch1, first, cookie=config.hello_retry_cookie)
    assert hrr.is_hello_retry_request

    client_p256 = generate_key_share(G.secp256r1, rng)
    ch2 = build_client_hello_after_retry(ch1, hrr, client_p256)
    # RFC 8446 §4.1.2: same hello except the key share (now one for the selected group) and the cookie
    assert ch2.random == ch1.random and ch2.legacy_session_id == ch1.legacy_session_id
    shares = ch2.extension(ExtensionType.key_share)
    assert isinstance(shares, KeyShareClientHello)
    assert [e.group for e in shares.client_shares] == [G.secp256r1]
    assert ch2.extension(ExtensionType.cookie) == Cookie(b"state")

    second = negotiate(ch2, config)
    assert not second.hello_retry_request and second.group == G.secp256r1
    server_p256 = generate_key_share(G.secp256r1, rng)
    sh = build_server_hello(
        ch2, second, KeyShareEntry(G.secp256r1, server_p256.public), config=config, rng=rng
    )
    assert check_server_hello(ch2, sh) == V.TLS13
    assert client_p256.exchange(server_p256.public) == server_p256.exchange(client_p256.public)

    # the transcript inputs: message_hash(ClientHello1), HRR, ClientHello2, ServerHello
    t = Transcript()
    t.update(ch1.encode())
    t.restart_after_hello_retry_request()
    for message in (hrr, ch2, sh):
        t.update(message.encode())
    expected = digest(
        "sha256", message_hash(ch1.encode()) + hrr.encode() + ch2.encode() + sh.encode()
    )
    assert t.hash() == expected
    assert t.messages[0][:4] == b"\xfe\x00\x00\x20"


def test_second_hrr_for_same_group_is_illegal() -> None:
    rng = seeded_rng(2)
    ch1 = build_client_hello("x", key_share_groups=[G.x25519], rng=rng)
    d = negotiate(ch1, ServerConfig(groups=(G.secp256r1,)))
    hrr = build_hello_retry_request(ch1, d)
    ch2 = build_client_hello_after_retry(ch1, hrr, generate_key_share(G.secp256r1, rng))
    with pytest.raises(IllegalParameter, match="already sent a share"):
        check_hello_retry_request(ch2, hrr)


def test_hrr_that_changes_nothing_is_illegal() -> None:
    ch1 = build_client_hello("x", rng=seeded_rng(3))
    d = negotiate(ch1, ServerConfig(groups=(G.secp256r1,)))
    hrr = build_hello_retry_request(ch1, d)
    empty = replace(
        hrr,
        extensions=tuple(e for e in hrr.extensions if not isinstance(e, KeyShareHelloRetryRequest)),
    )
    with pytest.raises(IllegalParameter, match="changes nothing"):
        check_hello_retry_request(ch1, empty)
    not_offered = replace(hrr, extensions=(hrr.extensions[0], KeyShareHelloRetryRequest(G.x448)))
    with pytest.raises(IllegalParameter, match="did not offer"):
        check_hello_retry_request(ch1, not_offered)


def test_downgrade_sentinel_both_sides() -> None:
    rng = seeded_rng(4)
    ch = build_client_hello("x", rng=rng)
    config = ServerConfig()
    # an attacker strips TLS 1.3 from the client's supported_versions...
    downgraded = replace(
        ch,
        extensions=tuple(
            e for e in ch.extensions if e.type_code != ExtensionType.supported_versions
        ),
    )
    decision = negotiate(downgraded, config)
    assert decision.version == V.TLS12
    sh = build_server_hello(downgraded, decision, config=config, rng=rng)
    assert sh.random.endswith(DOWNGRADE_TLS12)
    # ...but the real client offered 1.3, so it sees the sentinel and aborts
    with pytest.raises(IllegalParameter, match="downgrade"):
        check_server_hello(ch, sh)
    # a server that only speaks 1.2 does not plant it, and a 1.2-only client does not check it
    plain = build_server_hello(
        downgraded, decision, config=ServerConfig(versions=(V.TLS12,)), rng=rng
    )
    assert not plain.random.endswith(DOWNGRADE_TLS12)
    check_downgrade(sh.random, V.TLS12, [V.TLS12])


def test_client_checks_on_server_hello() -> None:
    rng = seeded_rng(5)
    ch = build_client_hello("x", rng=rng)
    d = negotiate(ch, ServerConfig())
    share = generate_key_share(G.x25519, rng)
    sh = build_server_hello(ch, d, KeyShareEntry(G.x25519, share.public), rng=rng)
    assert check_server_hello(ch, sh) == V.TLS13
    with pytest.raises(IllegalParameter, match="cipher suite"):
        check_server_hello(ch, replace(sh, cipher_suite=CipherSuite.TLS_AES_128_CCM_SHA256))
    with pytest.raises(IllegalParameter, match="session id"):
        check_server_hello(ch, replace(sh, legacy_session_id_echo=bytes(32)))
    with pytest.raises(UnsupportedExtension):
        check_server_hello(
            replace(
                ch, extensions=tuple(e for e in ch.extensions if not isinstance(e, ServerName))
            ),
            replace(sh, extensions=(*sh.extensions, ServerName())),
        )
    wrong_group = replace(
        sh,
        extensions=(sh.extensions[0], type(sh.extensions[1])(KeyShareEntry(G.secp384r1, b"\x04"))),
    )
    with pytest.raises(IllegalParameter, match="no share"):
        check_server_hello(ch, wrong_group)


def test_negotiation_failures() -> None:
    ch13 = build_client_hello("x", versions=[V.TLS13], rng=seeded_rng(6))
    with pytest.raises(ProtocolVersionError):
        negotiate(ch13, ServerConfig(versions=(V.TLS12,)))
    old = replace(
        build_client_hello("x", versions=[V.TLS12], rng=seeded_rng(6)), legacy_version=V.TLS11
    )
    with pytest.raises(ProtocolVersionError):
        negotiate(old, ServerConfig())
    with pytest.raises(NoApplicationProtocol):
        negotiate(
            build_client_hello("x", alpn=["h2"], rng=seeded_rng(7)), ServerConfig(alpn=(b"spdy/1",))
        )


def test_reasons_explain_each_choice() -> None:
    d = negotiate(build_client_hello("x", rng=seeded_rng(8)), ServerConfig())
    text = str(d)
    assert "version" in text and "cipher suite" in text and "key share" in text
