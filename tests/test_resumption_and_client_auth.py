"""TLS 1.3 client authentication and PSK resumption: in memory, and against OpenSSL both ways."""

from __future__ import annotations

import contextlib
import socket
import ssl
import tempfile
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.connection import SessionTicket
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.errors import CertificateRequired, RemoteAlert
from tlslab.net.openssl_lab import openssl_echo_server
from tlslab.net.sockets import connect, serve_in_thread
from tlslab.pki.certificates import LAB_NOW, build_chain, real_now
from tlslab.rng import seeded_rng
from tlslab.stages.negotiation import ServerConfig

SERVER = build_chain("lab.example", seed="auth server")
CLIENT = build_chain(
    "client.lab.example", seed="auth client", leaf_options={"extended_key_usage": ["clientAuth"]}
)


def _client(**changes: object) -> TLSClient:
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(SERVER.trust_roots),
        now=LAB_NOW,
        versions=(V.TLS13,),
    )
    return TLSClient(config.replace(**changes), seeded_rng("c"))


def test_client_authentication_in_memory() -> None:
    server = TLSServer(
        ServerConfig(client_auth=True, client_trust_roots=tuple(CLIENT.trust_roots)),
        ServerIdentity.from_chain(SERVER),
        seeded_rng("s"),
    )
    client = _client(certificate_chain=tuple(CLIENT.served()), private_key=CLIENT.leaf.private_key)
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert server.peer_certificates[0] == CLIENT.leaf.der
    assert any(e.name == "client CertificateVerify" and e.ok for e in server.trace.events)


def test_missing_client_certificate_is_certificate_required() -> None:
    server = TLSServer(
        ServerConfig(client_auth=True, client_trust_roots=tuple(CLIENT.trust_roots)),
        ServerIdentity.from_chain(SERVER),
        seeded_rng("s"),
    )
    client = _client()
    result = handshake_in_memory(client, server)
    assert isinstance(result.error, CertificateRequired) and result.failed_side == "server"
    with pytest.raises(RemoteAlert):
        client.receive_data(server.data_to_send())


def test_resumption_in_memory() -> None:
    store: dict[bytes, tuple[bytes, int]] = {}
    identity = ServerIdentity.from_chain(SERVER)
    first_server = TLSServer(
        ServerConfig(tickets=2), identity, seeded_rng("s1"), ticket_store=store
    )
    first = _client()
    result = handshake_in_memory(first, first_server)
    assert result.completed
    tickets = [e for f in result.flights for e in f.events if isinstance(e, SessionTicket)]
    assert len(tickets) == 2 and len(store) == 2
    second_server = TLSServer(ServerConfig(), identity, seeded_rng("s2"), ticket_store=store)
    second = _client(session_ticket=tickets[0])
    result = handshake_in_memory(second, second_server)
    assert result.completed and second.resumed and second_server.resumed
    received = [e.name for e in second.trace.messages() if e.direction == "received"]
    assert "Certificate13" not in received and "CertificateVerify" not in received


def test_wrong_binder_is_rejected() -> None:
    store: dict[bytes, tuple[bytes, int]] = {}
    identity = ServerIdentity.from_chain(SERVER)
    server = TLSServer(ServerConfig(tickets=1), identity, seeded_rng("s1"), ticket_store=store)
    first = _client()
    flights = handshake_in_memory(first, server).flights
    ticket = [e for f in flights for e in f.events if isinstance(e, SessionTicket)][0]
    forged = SessionTicket(
        ticket.ticket,
        bytes(32),
        ticket.lifetime,
        ticket.age_add,
        ticket.cipher_suite,
        ticket.received_at,
    )
    result = handshake_in_memory(
        _client(session_ticket=forged),
        TLSServer(ServerConfig(), identity, seeded_rng("s2"), ticket_store=store),
    )
    assert result.error is not None and getattr(result.error, "alert", None).name == "decrypt_error"


@pytest.mark.interop
def test_resumption_with_an_openssl_issued_ticket() -> None:
    chain = build_chain("lab.example", seed="resume", now=real_now())
    config = ClientConfig(
        server_name="lab.example", trust_roots=tuple(chain.trust_roots), versions=(V.TLS13,)
    )
    with openssl_echo_server(chain) as port:
        first = connect("127.0.0.1", port, config, send=b"first")
        tickets = [e for e in first.events if isinstance(e, SessionTicket)]
        assert tickets, "OpenSSL sent no NewSessionTicket"
        second = connect(
            "127.0.0.1", port, config.replace(session_ticket=tickets[0]), send=b"resumed"
        )
    assert second.received == b"resumed"
    assert second.connection.resumed
    assert "Certificate13" not in [e.name for e in second.trace.messages()]


def _pem_files(chain, directory: Path) -> tuple[Path, Path, Path]:  # type: ignore[no-untyped-def]
    (directory / "chain.pem").write_bytes(
        b"".join(
            c.public_bytes(Encoding.PEM)
            for c in (chain.leaf.certificate, *chain.intermediate_certificates)
        )
    )
    (directory / "key.pem").write_bytes(
        chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (directory / "root.pem").write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    return directory / "chain.pem", directory / "key.pem", directory / "root.pem"


@pytest.mark.interop
def test_mtls_tlslab_client_to_openssl_server() -> None:
    server_chain = build_chain("lab.example", seed="mtls s", now=real_now())
    client_chain = build_chain(
        "client.lab.example",
        seed="mtls c",
        now=real_now(),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )
    tmp = Path(tempfile.mkdtemp())
    s_chain, s_key, _ = _pem_files(server_chain, tmp)
    (tmp / "client_root.pem").write_bytes(client_chain.root.certificate.public_bytes(Encoding.PEM))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(s_chain, s_key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(tmp / "client_root.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[object] = []

    def run() -> None:
        conn, _ = listener.accept()
        with (
            contextlib.suppress(OSError, ssl.SSLError),
            ctx.wrap_socket(conn, server_side=True) as tls,
        ):
            seen.append(tls.getpeercert())
            tls.sendall(tls.recv(100))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(server_chain.trust_roots),
        versions=(V.TLS13,),
        certificate_chain=tuple(client_chain.served()),
        private_key=client_chain.leaf.private_key,
    )
    session = connect("127.0.0.1", listener.getsockname()[1], config, send=b"it is me")
    thread.join(10)
    listener.close()
    assert session.received == b"it is me"
    assert seen and seen[0]  # OpenSSL verified and saw our certificate


@pytest.mark.interop
def test_mtls_openssl_client_to_tlslab_server() -> None:
    server_chain = build_chain("lab.example", seed="mtls s2", now=real_now())
    client_chain = build_chain(
        "client.lab.example",
        seed="mtls c2",
        now=real_now(),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )
    config = ServerConfig(client_auth=True, client_trust_roots=tuple(client_chain.trust_roots))
    port, sessions, thread = serve_in_thread(config, ServerIdentity.from_chain(server_chain))
    tmp = Path(tempfile.mkdtemp())
    c_chain, c_key, _ = _pem_files(client_chain, tmp)
    ctx = ssl.create_default_context(
        cadata=server_chain.root.certificate.public_bytes(Encoding.PEM).decode()
    )
    ctx.load_cert_chain(c_chain, c_key)
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        ctx.wrap_socket(raw, server_hostname="lab.example") as tls,
    ):
        tls.sendall(b"mutual")
        assert tls.recv(100) == b"mutual"
    thread.join(10)
    assert sessions[0].connection.peer_certificates[0] == client_chain.leaf.der


def test_the_server_judges_a_client_chain_at_its_own_clock() -> None:
    """The client's certificate is checked at the server's clock (a fixed "now" in the lab),
    not at the machine's: two years after LAB_NOW the one-year leaf has expired."""
    import datetime as dt

    from tlslab.errors import AlertError

    def server_at(now: dt.datetime) -> TLSServer:
        server = TLSServer(
            ServerConfig(client_auth=True, client_trust_roots=tuple(CLIENT.trust_roots)),
            ServerIdentity.from_chain(SERVER),
            seeded_rng("s"),
        )
        server.clock = lambda: now
        return server

    def client() -> TLSClient:
        return _client(
            certificate_chain=tuple(CLIENT.served()), private_key=CLIENT.leaf.private_key
        )

    assert handshake_in_memory(client(), server_at(LAB_NOW)).completed
    late = server_at(LAB_NOW + dt.timedelta(days=730))
    result = handshake_in_memory(client(), late)
    assert result.failed_side == "server" and isinstance(result.error, AlertError)
    assert "certificate_expired" in repr(result.error) or "expired" in str(result.error)


def test_a_ticket_with_lifetime_zero_is_discarded() -> None:
    """RFC 8446 §4.6.1: a ticket_lifetime of 0 means the ticket is discarded at once; even at
    age 0 (a frozen clock) it is not offered, and the handshake is a full one."""
    import dataclasses

    store: dict[bytes, tuple[bytes, int]] = {}
    identity = ServerIdentity.from_chain(SERVER)
    server = TLSServer(ServerConfig(tickets=1), identity, seeded_rng("s1"), ticket_store=store)
    result = handshake_in_memory(_client(), server)
    (ticket,) = [e for f in result.flights for e in f.events if isinstance(e, SessionTicket)]
    for lifetime, resumed in ((ticket.lifetime, True), (0, False)):
        client = _client(session_ticket=dataclasses.replace(ticket, lifetime=lifetime))
        client._now = lambda: ticket.received_at  # type: ignore[method-assign]
        again = TLSServer(ServerConfig(), identity, seeded_rng("s2"), ticket_store=store)
        assert handshake_in_memory(client, again).completed
        assert client.resumed is resumed
