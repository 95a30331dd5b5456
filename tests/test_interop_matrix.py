"""The interop matrix: tlslab as client against an OpenSSL server and as server against an OpenSSL
client, over 127.0.0.1, for every TLS 1.3 group x suite x certificate and every TLS 1.2 key
exchange x cipher. Each cell completes the handshake and moves application data both ways."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tlslab.constants import AlertDescription
from tlslab.constants import CipherSuite as CS
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig
from tlslab.engine.server import ServerIdentity
from tlslab.errors import RemoteAlert
from tlslab.net.sockets import connect, serve_in_thread
from tlslab.pki.certificates import Chain, build_chain
from tlslab.stages.negotiation import ServerConfig

from .openssl_peers import (
    HOST,
    chain_for,
    files_for,
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


# -- TLS 1.2 client authentication (issue 19), both roles, OpenSSL and tlslite-ng -----------------
@functools.cache
def _client_chain() -> Chain:
    """A client certificate (clientAuth) under its own root, valid now."""
    return build_chain(
        "client.lab.example",
        now=dt.datetime.now(dt.timezone.utc),
        seed="interop client",
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )


@functools.cache
def _client_files() -> tuple[Path, Path, Path]:
    """(chain PEM, key PEM, root PEM) of :func:`_client_chain`."""
    chain = _client_chain()
    base = Path(tempfile.mkdtemp(prefix="tlslab-mtls12-"))
    certificates = (chain.leaf.certificate, *chain.intermediate_certificates)
    pem = b"".join(c.public_bytes(Encoding.PEM) for c in certificates)
    (base / "chain.pem").write_bytes(pem)
    key = chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (base / "key.pem").write_bytes(key)
    (base / "root.pem").write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    return base / "chain.pem", base / "key.pem", base / "root.pem"


def _mtls_client(with_certificate: bool) -> ClientConfig:
    chain = _client_chain()
    identity: dict[str, Any] = (
        {"certificate_chain": tuple(chain.served()), "private_key": chain.leaf.private_key}
        if with_certificate
        else {}
    )
    return _client_config("ecdsa", versions=(V.TLS12,), **identity)


def _mtls_server() -> tuple[int, list[Any], threading.Thread]:
    config = ServerConfig(
        versions=(V.TLS12,),
        client_auth=True,
        client_trust_roots=tuple(_client_chain().trust_roots),
    )
    return serve_in_thread(config, ServerIdentity.from_chain(chain_for("ecdsa")), timeout=3.0)


def _assert_mtls_session(session: Any, with_certificate: bool, payload: bytes) -> None:
    """tlslab's server side: with a certificate, the client's leaf and the data; without, the
    handshake_failure alert tlslab sent (RFC 5246 §7.4.6), nothing delivered."""
    if with_certificate:
        assert session.ok and session.connection.version == V.TLS12
        assert session.connection.peer_certificates[0] == _client_chain().leaf.der
        assert session.received == payload
    else:
        assert not session.connection.handshake_complete and session.received == b""
        assert (session.alert, session.alert_sent) == ("handshake_failure", True)


TLS12_MTLS = pytest.mark.parametrize("with_certificate", [True, False], ids=["certificate", "none"])


@TLS12_MTLS
@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_tls12_mtls_tlslab_client_to_openssl_s_server(with_certificate: bool) -> None:
    """`openssl s_server -Verify 1 -verify_return_error`: it requires a certificate that chains
    to the client root. Without one, OpenSSL ends a TLS 1.2 handshake with handshake_failure."""
    root = str(_client_files()[2])
    options = ("-tls1_2", "-Verify", "1", "-verify_return_error", "-CAfile", root)
    config = _mtls_client(with_certificate)
    with openssl_s_server("ecdsa", *options) as port:
        if with_certificate:
            session = connect("127.0.0.1", port, config, send=b"mtls 1.2", expect_reply=False)
            assert session.ok and session.connection.version == V.TLS12
            sent = [e.name for e in session.trace.messages() if e.direction == "sent"]
            assert "CertificateVerify" in sent
        else:
            with pytest.raises(RemoteAlert) as info:
                connect("127.0.0.1", port, config, send=b"mtls 1.2", expect_reply=False)
            assert info.value.description == AlertDescription.handshake_failure


def _s_client(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    root = files_for("ecdsa")[2]
    return subprocess.run(
        [shutil.which("openssl") or "openssl", "s_client", "-connect", f"127.0.0.1:{port}"]
        + ["-tls1_2", "-CAfile", str(root), "-servername", HOST, "-verify_return_error"]
        + ["-quiet", *args],
        input="mtls from s_client\n",
        capture_output=True,
        text=True,
        timeout=60,
    )


@TLS12_MTLS
@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_tls12_mtls_openssl_s_client_to_tlslab(with_certificate: bool) -> None:
    """`openssl s_client -cert`: tlslab's server verifies the chain and CertificateVerify; without
    a certificate, s_client reads tlslab's handshake_failure alert (alert number 40)."""
    chain_pem, key_pem, _ = _client_files()
    port, sessions, thread = _mtls_server()
    identity = ["-cert", str(chain_pem), "-cert_chain", str(chain_pem), "-key", str(key_pem)]
    result = _s_client(port, *(identity if with_certificate else []))
    thread.join(15)
    (session,) = sessions
    _assert_mtls_session(session, with_certificate, b"mtls from s_client\n")
    if with_certificate:
        assert result.stdout == "mtls from s_client\n"
    else:
        assert "alert handshake failure" in result.stderr and "alert number 40" in result.stderr


@TLS12_MTLS
def test_tls12_mtls_tlslab_client_to_python_ssl(with_certificate: bool) -> None:
    """Python's ssl (OpenSSL) with CERT_REQUIRED."""
    chain_pem, key_pem, _ = files_for("ecdsa")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain_pem, key_pem)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(_client_files()[2])
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[Any] = []

    def run() -> None:
        conn, _ = listener.accept()
        with (
            contextlib.suppress(OSError, ssl.SSLError),
            conn,
            ctx.wrap_socket(conn, server_side=True) as tls,
        ):
            seen.append(tls.getpeercert(binary_form=True))
            tls.sendall(tls.recv(100))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        config = _mtls_client(with_certificate)
        if with_certificate:
            session = connect("127.0.0.1", listener.getsockname()[1], config, send=b"py 1.2")
            assert session.received == b"py 1.2" and session.connection.version == V.TLS12
            assert seen == [_client_chain().leaf.der]
        else:
            with pytest.raises(RemoteAlert) as info:
                connect("127.0.0.1", listener.getsockname()[1], config, send=b"py 1.2")
            assert info.value.description == AlertDescription.handshake_failure
            assert seen == []
    finally:
        thread.join(10)
        listener.close()


@TLS12_MTLS
def test_tls12_mtls_python_ssl_client_to_tlslab(with_certificate: bool) -> None:
    """Python's ssl (OpenSSL) client with load_cert_chain, or without a certificate: then its
    handshake fails with tlslab's handshake_failure alert."""
    chain_pem, key_pem, _ = _client_files()
    ctx = ssl.create_default_context(cafile=str(files_for("ecdsa")[2]))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if with_certificate:
        ctx.load_cert_chain(chain_pem, key_pem)
    port, sessions, thread = _mtls_server()
    failure = ""
    reply = b""
    with socket.create_connection(("127.0.0.1", port)) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname=HOST) as tls:
                tls.sendall(b"py client 1.2")
                reply = tls.recv(100)
        except ssl.SSLError as error:
            failure = str(error)
    thread.join(15)
    (session,) = sessions
    _assert_mtls_session(session, with_certificate, b"py client 1.2")
    if with_certificate:
        assert reply == b"py client 1.2"
    else:
        assert "HANDSHAKE_FAILURE" in failure.upper(), failure


@TLS12_MTLS
def test_tls12_mtls_tlslite_client_to_tlslab(with_certificate: bool) -> None:
    """tlslite-ng (a pure-Python TLS stack) as the client, with or without a certificate."""
    from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey
    from tlslite.errors import TLSRemoteAlert

    chain_pem, key_pem, _ = _client_files()
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 3)
    identity: dict[str, Any] = {}
    if with_certificate:
        chain = X509CertChain()
        chain.parsePemList(chain_pem.read_text())
        identity = {
            "certChain": chain,
            "privateKey": parsePEMKey(key_pem.read_text(), private=True),
        }
    port, sessions, thread = _mtls_server()
    reply, refused = b"", None
    with socket.create_connection(("127.0.0.1", port)) as raw:
        tls = TLSConnection(raw)
        try:
            tls.handshakeClientCert(settings=settings, serverName=HOST, **identity)
            tls.write(b"tlslite 1.2")
            reply = bytes(tls.read(max=100))
            tls.close()
        except TLSRemoteAlert as alert:
            refused = alert.description
    thread.join(15)
    (session,) = sessions
    _assert_mtls_session(session, with_certificate, b"tlslite 1.2")
    if with_certificate:
        assert reply == b"tlslite 1.2"
    else:
        assert refused == AlertDescription.handshake_failure


def test_tls12_mtls_tlslab_client_to_tlslite_server_that_requests_a_certificate() -> None:
    """A tlslite-ng server with reqCert=True: it reads tlslab's Certificate and checks its
    CertificateVerify (tlslite does not validate chains; tlslab's leaf is what it records)."""
    from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

    chain_pem, key_pem, _ = files_for("ecdsa")
    chain = X509CertChain()
    chain.parsePemList(chain_pem.read_text())
    key = parsePEMKey(key_pem.read_text(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 3)
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            tls = TLSConnection(conn)
            tls.handshakeServer(certChain=chain, privateKey=key, reqCert=True, settings=settings)
            client_chain = tls.session.clientCertChain
            seen.extend(bytes(c.writeBytes()) for c in client_chain.x509List)
            tls.write(tls.read(max=100))
            with contextlib.suppress(Exception):
                tls.read(max=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        session = connect(
            "127.0.0.1", listener.getsockname()[1], _mtls_client(True), send=b"to tlslite"
        )
    finally:
        thread.join(10)
        listener.close()
    assert session.received == b"to tlslite" and session.connection.version == V.TLS12
    assert seen and seen[0] == _client_chain().leaf.der
