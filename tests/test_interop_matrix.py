"""The interop matrix: tlslab as client against an OpenSSL server and as server against an OpenSSL
client, over 127.0.0.1, for every TLS 1.3 group x suite x certificate and every TLS 1.2 key
exchange x cipher. Each cell completes the handshake and moves application data both ways."""

from __future__ import annotations

import shutil
import threading
from typing import Any

import pytest

from tlslab.constants import CipherSuite as CS
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig
from tlslab.engine.server import ServerIdentity
from tlslab.net.sockets import connect, serve_in_thread
from tlslab.stages.negotiation import ServerConfig

from .openssl_peers import (
    HOST,
    chain_for,
    openssl_client_exchange,
    openssl_echo_server,
    openssl_s_server,
)

pytestmark = pytest.mark.interop

GROUPS13 = [G.x25519, G.secp256r1, G.secp384r1, G.ffdhe2048]
SUITES13 = [CS.TLS_AES_128_GCM_SHA256, CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256]
CERTS = ["ecdsa", "rsa", "ed25519"]
CELLS13 = [(g, s, c) for g in GROUPS13 for s in SUITES13 for c in CERTS]

# (certificate, IANA suite, OpenSSL name)
CELLS12 = [
    ("ecdsa", CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("ecdsa", CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305"),
    ("ecdsa", CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA"),
    ("rsa", CS.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384"),
    ("rsa", CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305"),
    ("rsa", CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA"),
    ("rsa", CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, "DHE-RSA-AES128-GCM-SHA256"),
    ("rsa", CS.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "DHE-RSA-CHACHA20-POLY1305"),
    ("rsa", CS.TLS_DHE_RSA_WITH_AES_128_CBC_SHA, "DHE-RSA-AES128-SHA"),
    ("rsa", CS.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256"),
    ("rsa", CS.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA"),
    # RSA key transport has no ChaCha20-Poly1305 suite defined (RFC 7905 lists only ECDHE and DHE ones).
]
ALL_SCHEMES = ClientConfig().signature_schemes


def _client_config(cert: str, **changes: Any) -> ClientConfig:
    return ClientConfig(server_name=HOST, trust_roots=tuple(chain_for(cert).trust_roots), **changes)


def _ids13(cell: tuple[int, int, str]) -> str:
    return f"{G(cell[0]).name}-{CS(cell[1]).name}-{cell[2]}"


@pytest.mark.parametrize("cell", CELLS13, ids=_ids13)
def test_tls13_tlslab_client_to_openssl(cell: tuple[int, int, str]) -> None:
    group, suite, cert = cell
    with openssl_echo_server(cert) as port:
        config = _client_config(cert, versions=(V.TLS13,), cipher_suites=(suite,), groups=(group,))
        session = connect("127.0.0.1", port, config, send=b"ping from tlslab")
    done = session.events[0]
    assert (done.version, done.cipher_suite, done.group) == (V.TLS13, suite, group)
    assert session.received == b"ping from tlslab"


def _tlslab_server(config: ServerConfig, cert: str) -> tuple[int, list[Any], threading.Thread]:
    return serve_in_thread(config, ServerIdentity.from_chain(chain_for(cert)))


@pytest.mark.parametrize("cell", CELLS13, ids=_ids13)
def test_tls13_openssl_client_to_tlslab(cell: tuple[int, int, str]) -> None:
    group, suite, cert = cell
    config = ServerConfig(
        cipher_suites=(suite,),
        groups=(group,),
        certificate_key={"ecdsa": "ecdsa-p256", "rsa": "rsa", "ed25519": "ed25519"}[cert],
    )
    port, sessions, thread = _tlslab_server(config, cert)
    version, cipher, reply = openssl_client_exchange(port, cert)
    thread.join(10)
    assert version == "TLSv1.3" and reply == b"ping from OpenSSL"
    done = sessions[0].events[0]
    assert (done.cipher_suite, done.group) == (suite, group)
    assert CS(suite).name == cipher


@pytest.mark.parametrize("cert,suite,name", CELLS12, ids=[c[2] for c in CELLS12])
def test_tls12_tlslab_client_to_openssl(cert: str, suite: int, name: str) -> None:
    with openssl_echo_server(cert) as port:
        config = _client_config(
            cert,
            versions=(V.TLS12,),
            cipher_suites=(suite,),
            groups=(G.x25519, G.secp256r1, G.ffdhe2048),
        )
        session = connect("127.0.0.1", port, config, send=b"ping from tlslab")
    done = session.events[0]
    assert (done.version, done.cipher_suite) == (V.TLS12, suite)
    assert session.received == b"ping from tlslab"


@pytest.mark.parametrize("cert,suite,name", CELLS12, ids=[c[2] for c in CELLS12])
def test_tls12_openssl_client_to_tlslab(cert: str, suite: int, name: str) -> None:
    config = ServerConfig(
        versions=(V.TLS13, V.TLS12),
        cipher_suites=(suite,),
        groups=(G.x25519, G.secp256r1, G.ffdhe2048),
        certificate_key={"ecdsa": "ecdsa-p256", "rsa": "rsa"}[cert],
    )
    port, sessions, thread = _tlslab_server(config, cert)
    version, cipher, reply = openssl_client_exchange(port, cert, version="1.2", ciphers=name)
    thread.join(10)
    assert (version, cipher, reply) == ("TLSv1.2", name, b"ping from OpenSSL")
    assert sessions[0].events[0].cipher_suite == suite


def test_hello_retry_request_with_openssl_client() -> None:
    """OpenSSL's client sends an X25519 share; a tlslab server that only takes P-384 asks again."""
    port, sessions, thread = _tlslab_server(ServerConfig(groups=(G.secp384r1,)), "ecdsa")
    version, _, reply = openssl_client_exchange(port, "ecdsa")
    thread.join(10)
    assert version == "TLSv1.3" and reply == b"ping from OpenSSL"
    assert sessions[0].events[0].group == G.secp384r1
    assert (
        any(
            e.name == "HelloRetryRequest"
            for e in sessions[0].trace.messages()
            if e.direction == "sent"
        )
        or sum(1 for e in sessions[0].trace.messages() if e.name == "ServerHello") == 2
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_hello_retry_request_with_openssl_server() -> None:
    """tlslab sends only an x25519 share to `openssl s_server -groups P-384`: OpenSSL answers with a
    HelloRetryRequest and tlslab's second ClientHello completes the handshake."""
    with openssl_s_server("ecdsa", "-groups", "P-384") as port:
        config = _client_config(
            "ecdsa",
            versions=(V.TLS13,),
            groups=(G.x25519, G.secp384r1),
            key_share_groups=(G.x25519,),
        )
        session = connect("127.0.0.1", port, config, send=b"after a retry", expect_reply=False)
    assert session.events[0].group == G.secp384r1
    sent = [e.name for e in session.trace.messages() if e.direction == "sent"]
    assert sent.count("ClientHello") == 2
