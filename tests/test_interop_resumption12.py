"""TLS 1.2 ticket resumption (RFC 5077) against OpenSSL over 127.0.0.1, both ways.

tlslab's client resumes with tickets issued by Python's ``ssl`` server and by ``openssl s_server
-tls1_2``; Python's ``ssl`` client resumes with tickets issued by tlslab's server (and keeps its
client certificate as the session's identity). Every case checks that the second handshake was
really abbreviated: the messages seen, not only that it worked.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tlslab.constants import ExtensionType
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig
from tlslab.engine.connection import HandshakeComplete, SessionTicket
from tlslab.engine.server import ServerIdentity
from tlslab.net.openssl_lab import accept_in_background, echo_once
from tlslab.net.sockets import Session, connect, serve_in_thread
from tlslab.stages.negotiation import ServerConfig
from tlslab.wire.extensions import SessionTicket as SessionTicketExtension

from .openssl_peers import HOST, chain_for, files_for
from .test_cli import cli_server, client_args, s_server, tlslab

pytestmark = pytest.mark.interop
needs_openssl = pytest.mark.skipif(
    shutil.which("openssl") is None, reason="the openssl command is not installed"
)

ABBREVIATED_CLIENT_SAW = ["ServerHello", "Finished"]  # and a ChangeCipherSpec record between
# tlslab's server renews the ticket when it resumes (RFC 5077 §3.1)
ABBREVIATED_SERVER_SENT = ["ServerHello", "NewSessionTicket12", "ChangeCipherSpec", "Finished"]


def _client_config(**changes: Any) -> ClientConfig:
    chain = chain_for("ecdsa")
    config = ClientConfig(
        server_name=HOST, trust_roots=tuple(chain.trust_roots), versions=(V.TLS12,)
    )
    return config.replace(**changes)


def _received(session: Session) -> list[str]:
    return [e.name for e in session.trace.messages() if e.direction == "received"]


def _sent(session: Session) -> list[str]:
    return [e.name for e in session.trace.messages() if e.direction == "sent"]


def _assert_full_then_resumed(first: Session, second: Session, reply: bytes) -> SessionTicket:
    """The first handshake was full and left a TLS 1.2 ticket; the second resumed it."""
    assert first.ok and second.ok, (first.error, second.error)
    assert "Certificate12" in _received(first) and "NewSessionTicket12" in _received(first)
    [ticket] = first.tickets
    assert ticket.version == V.TLS12 and ticket.extended_master_secret
    assert ticket.server_name == HOST and ticket.peer_certificates
    assert second.connection.resumed and second.received == reply
    assert _received(second) == ABBREVIATED_CLIENT_SAW
    offered = second.connection.hello.extension(ExtensionType.session_ticket)
    assert offered == SessionTicketExtension(ticket.ticket)
    done = second.handshake
    assert isinstance(done, HandshakeComplete) and done.resumed and done.version == V.TLS12
    assert done.peer_certificates == ticket.peer_certificates  # the session's server identity
    keys = second.connection.keys_12
    assert keys is not None and keys.master_secret == ticket.master_secret
    return ticket


# -- tlslab's client, OpenSSL's tickets -----------------------------------------------------------
@contextlib.contextmanager
def python_ssl_tls12_server() -> Iterator[int]:
    """Python ``ssl`` (OpenSSL) echo server limited to TLS 1.2; it issues tickets by default."""
    chain, key, _ = files_for("ecdsa")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(chain, key)

    with accept_in_background(echo_once(ctx)) as (port, _):
        yield port


def test_tlslab_client_resumes_with_a_python_ssl_ticket() -> None:
    config = _client_config()
    with python_ssl_tls12_server() as port:
        first = connect("127.0.0.1", port, config, send=b"first")
        second = connect(
            "127.0.0.1", port, config.replace(session_ticket=first.tickets[0]), send=b"again"
        )
    _assert_full_then_resumed(first, second, b"again")


def test_tlslab_client_offering_both_versions_resumes_tls12() -> None:
    """A client that also offers TLS 1.3 sends the TLS 1.2 ticket alongside; a TLS 1.2 server
    takes it (the session_id is the TLS 1.3 compatibility one, echoed)."""
    config = _client_config(versions=(V.TLS13, V.TLS12))
    with python_ssl_tls12_server() as port:
        first = connect("127.0.0.1", port, config, send=b"first")
        second = connect(
            "127.0.0.1", port, config.replace(session_ticket=first.tickets[0]), send=b"again"
        )
    _assert_full_then_resumed(first, second, b"again")


@needs_openssl
def test_tlslab_client_resumes_with_an_openssl_s_server_ticket() -> None:
    config = _client_config()
    with s_server("-tls1_2", connections=2) as port:
        first = connect("127.0.0.1", int(port), config, send=b"first\n")
        second = connect(
            "127.0.0.1", int(port), config.replace(session_ticket=first.tickets[0]), send=b"ab\n"
        )
    _assert_full_then_resumed(first, second, b"ba\n")  # s_server -rev answers lines reversed


@needs_openssl
def test_cli_resume_against_openssl_s_server_tls12() -> None:
    with s_server("-tls1_2", connections=2) as port:
        out = tlslab(*client_args(port, "--tls", "1.2", "--send", "hi\\n", "--resume"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("ih") == 2
    assert out.stdout.rstrip().endswith("resumed: yes")


def test_cli_resume_against_tlslab_server_tls12() -> None:
    with cli_server("--tickets", "1", "--tls", "1.2") as server:
        out = tlslab(*client_args(server.port, "--tls", "1.2", "--send", "hi", "--resume"))
        lines = server.wait_for_lines(2)
    assert out.returncode == 0, out.stderr
    assert out.stdout.rstrip().endswith("resumed: yes")
    assert "resumed" not in lines[0] and " resumed: ok" in lines[1]


# -- OpenSSL's client, tlslab's tickets -----------------------------------------------------------
def _python_client_thrice(port: int, ctx: ssl.SSLContext) -> list[tuple[bool, bytes, str]]:
    """Three connections with Python's ``ssl`` client, each offering the previous one's session
    (``wrap_socket(..., session=...)``): the third presents the ticket the server renewed in the
    second. Returns (session_reused, reply, version) for each."""
    session = None
    out = []
    for payload in (b"first", b"second", b"third"):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=HOST, session=session) as tls,
        ):
            tls.sendall(payload)
            reply = tls.recv(65536)
            out.append((tls.session_reused, reply, tls.version() or ""))
            session = tls.session
    return out


def _python_client_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(files_for("ecdsa")[2]))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def test_python_ssl_client_resumes_with_a_tlslab_ticket() -> None:
    identity = ServerIdentity.from_chain(chain_for("ecdsa"))
    port, sessions, thread = serve_in_thread(ServerConfig(tickets=1), identity, connections=3)
    results = _python_client_thrice(port, _python_client_context())
    thread.join(15)
    assert results == [
        (False, b"first", "TLSv1.2"),
        (True, b"second", "TLSv1.2"),
        (True, b"third", "TLSv1.2"),
    ]
    first, second, third = sessions
    assert third.connection.resumed and _sent(third) == ABBREVIATED_SERVER_SENT
    assert first.ok and second.ok, (first.error, second.error)
    assert not first.connection.resumed and "NewSessionTicket12" in _sent(first)
    assert second.connection.resumed and _sent(second) == ABBREVIATED_SERVER_SENT
    assert _received(second) == ["ClientHello", "Finished"]
    assert isinstance(second.handshake, HandshakeComplete) and second.handshake.resumed
    assert first.connection.keys_12.master_secret == second.connection.keys_12.master_secret


@pytest.fixture(scope="module")
def client_chain_files() -> Iterator[tuple[Any, Path, Path]]:
    from tlslab.pki.certificates import build_chain, real_now

    chain = build_chain(
        "client.lab.example",
        seed="resumption12 interop client",
        now=real_now(),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "client.pem", Path(tmp) / "client.key"
        cert.write_bytes(
            b"".join(
                c.public_bytes(Encoding.PEM)
                for c in (chain.leaf.certificate, *chain.intermediate_certificates)
            )
        )
        key.write_bytes(
            chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )
        yield chain, cert, key


def test_python_ssl_client_resumes_a_client_authenticated_session(
    client_chain_files: tuple[Any, Path, Path],
) -> None:
    """The resumed session keeps the client's identity: no Certificate this time, yet the server
    knows who it is (RFC 5077 §4: the session state includes the client's identity)."""
    chain, cert, key = client_chain_files
    config = ServerConfig(tickets=1, client_auth=True, client_trust_roots=tuple(chain.trust_roots))
    port, sessions, thread = serve_in_thread(
        config, ServerIdentity.from_chain(chain_for("ecdsa")), connections=3
    )
    ctx = _python_client_context()
    ctx.load_cert_chain(cert, key)
    results = _python_client_thrice(port, ctx)
    thread.join(15)
    assert [r[0] for r in results] == [False, True, True]
    first, second, third = sessions
    assert third.connection.peer_certificates[0] == chain.leaf.der
    assert "Certificate12" in _received(first) and "Certificate12" not in _received(second)
    assert second.connection.resumed and _sent(second) == ABBREVIATED_SERVER_SENT
    assert second.connection.peer_certificates[0] == chain.leaf.der
    assert isinstance(second.handshake, HandshakeComplete)
    assert second.handshake.peer_certificates == first.connection.peer_certificates


# -- tlslite-ng (a pure-Python TLS stack, RFC 5077 tickets in TLS 1.2), both roles ----------------
def test_tlslite_client_resumes_with_a_tlslab_ticket() -> None:
    """tlslite-ng's client presents the ticket with an empty session_id, so tlslab's server
    (like OpenSSL's) resumes with an empty echo (RFC 5077 §3.4) and tlslite tells the resumption
    by what follows the ServerHello. The third connection uses the ticket renewed in the second."""
    from tlslite import HandshakeSettings, TLSConnection

    identity = ServerIdentity.from_chain(chain_for("ecdsa"))
    port, sessions, thread = serve_in_thread(ServerConfig(tickets=1), identity, connections=3)
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 3)
    tlslite_session, seen = None, []
    for payload in (b"one", b"two", b"three"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            tls = TLSConnection(raw)
            tls.handshakeClientCert(settings=settings, serverName=HOST, session=tlslite_session)
            tls.write(payload)
            seen.append((tls.resumed, bytes(tls.read(max=100))))
            tlslite_session = tls.session
            tls.close()
    thread.join(15)
    assert seen == [(False, b"one"), (True, b"two"), (True, b"three")]
    first, second, third = sessions
    assert first.ok and second.ok and third.ok, (first.error, second.error, third.error)
    assert not first.connection.resumed and "NewSessionTicket12" in _sent(first)
    for resumed in (second, third):
        assert resumed.connection.resumed and _sent(resumed) == ABBREVIATED_SERVER_SENT
        assert resumed.connection.client_hello.legacy_session_id == b""
        assert any("no session_id" in str(e.value) for e in resumed.trace.events)
    assert first.connection.keys_12.master_secret == third.connection.keys_12.master_secret


def test_tlslab_client_resumes_with_a_tlslite_ticket() -> None:
    """A tlslite-ng server with a ticket key issues a TLS 1.2 ticket (its own sealed format) and
    resumes it, echoing tlslab's session_id."""
    from tlslite import HandshakeSettings, TLSConnection, X509CertChain, parsePEMKey

    chain_pem, key_pem, _ = files_for("ecdsa")
    chain = X509CertChain()
    chain.parsePemList(chain_pem.read_text())
    key = parsePEMKey(key_pem.read_text(), private=True)
    settings = HandshakeSettings()
    settings.minVersion = settings.maxVersion = (3, 3)
    settings.ticketKeys = [bytearray(range(32))]
    listener = socket.create_server(("127.0.0.1", 0))
    resumed: list[bool] = []

    def run() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                tls = TLSConnection(conn)
                tls.handshakeServer(certChain=chain, privateKey=key, settings=settings)
                resumed.append(bool(tls.resumed))
                tls.write(tls.read(max=100))
                with contextlib.suppress(Exception):
                    tls.read(max=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        config = _client_config()
        port = listener.getsockname()[1]
        first = connect("127.0.0.1", port, config, send=b"first")
        second = connect(
            "127.0.0.1", port, config.replace(session_ticket=first.tickets[0]), send=b"again"
        )
    finally:
        thread.join(10)
        listener.close()
    assert resumed == [False, True]
    _assert_full_then_resumed(first, second, b"again")
    assert second.connection._server_hello.legacy_session_id_echo == (
        second.connection.hello.legacy_session_id
    )
