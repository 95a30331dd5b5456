"""OpenSSL peers on 127.0.0.1 for notebooks 11-14: recorded OpenSSL<->OpenSSL connections
(resumption, client certificates), a server that ends with or without close_notify, an echo
server that keeps echoing (for KeyUpdate), and a tlslab client driven through a short script.

OpenSSL is reached through Python's ``ssl`` module, as everywhere in tlslab. Everything here
listens on 127.0.0.1 only, on ephemeral ports. ``tlslab.net.sockets`` holds the general socket
drivers; this module adds only the lab set-ups those four notebooks need.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from ..engine.client import ClientConfig, TLSClient
from ..engine.connection import ApplicationData, ConnectionClosed
from ..net.openssl_lab import accept_in_background
from ..pki.certificates import Chain, build_chain, real_now
from ..rng import Rng, system_rng

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


@dataclass(frozen=True)
class Recording:
    """One OpenSSL<->OpenSSL connection as a wiretap on 127.0.0.1 saw it, plus the outcome."""

    client_to_server: bytes = field(repr=False)
    server_to_client: bytes = field(repr=False)
    keylog: str = field(repr=False)
    version: str
    cipher: str
    reused: bool
    client_error: str | None = None
    server_error: str | None = None
    server_saw_client_certificate: bool = False

    def __repr__(self) -> str:
        outcome = self.client_error or self.server_error or "ok"
        return (
            f"Recording({self.version or '-'} {self.cipher or '-'}, resumed={self.reused}, "
            f"client->server {len(self.client_to_server)} B, server->client "
            f"{len(self.server_to_client)} B, {outcome})"
        )


def _pem(chain: Chain, directory: Path, stem: str) -> tuple[Path, Path, Path]:
    leaf_and_intermediates = b"".join(
        c.public_bytes(Encoding.PEM)
        for c in (chain.leaf.certificate, *(i.certificate for i in chain.intermediates))
    )
    (directory / f"{stem}_chain.pem").write_bytes(leaf_and_intermediates)
    (directory / f"{stem}_key.pem").write_bytes(
        chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (directory / f"{stem}_root.pem").write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    return (
        directory / f"{stem}_chain.pem",
        directory / f"{stem}_key.pem",
        directory / f"{stem}_root.pem",
    )


def lab_chains(seed: str = "peers", server_name: str = "localhost") -> tuple[Chain, Chain]:
    """A server chain for ``server_name`` and a client chain (clientAuth) valid *now*, since
    OpenSSL checks certificates against the real clock."""
    server = build_chain(server_name, seed=f"{seed} server", now=real_now())
    client = build_chain(
        "client.lab.example",
        seed=f"{seed} client",
        now=real_now(),
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )
    return server, client


def _relay_once(listener: socket.socket, target: tuple[str, int], timeout: float) -> list[bytes]:
    """Copy one connection both ways, recording [client->server, server->client]."""
    taps = [bytearray(), bytearray()]
    client, _ = listener.accept()
    server = socket.create_connection(target, timeout=timeout)
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, (server, 0))
    sel.register(server, selectors.EVENT_READ, (client, 1))
    open_sides = 2
    with client, server:
        while open_sides:
            events = sel.select(timeout)
            if not events:
                break
            for key, _ in events:
                peer, tap = key.data
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(sock)
                    open_sides -= 1
                    with contextlib.suppress(OSError):
                        peer.shutdown(socket.SHUT_WR)
                    continue
                taps[tap] += data
                with contextlib.suppress(OSError):
                    peer.sendall(data)
    sel.close()
    return [bytes(t) for t in taps]


def record_openssl_connections(
    *,
    version: str = "1.3",
    connections: int = 2,
    resume: bool = True,
    client_certificate: bool = False,
    require_client_certificate: bool = False,
    server_name: str = "localhost",
    cipher: str | None = None,
    seed: str = "peers",
    timeout: float = 10.0,
) -> list[Recording]:
    """Run ``connections`` connections from an OpenSSL client to an OpenSSL server (Python ``ssl``)
    through a recording relay on 127.0.0.1. With ``resume`` every connection after the first offers
    the session (ticket) of the one before, as a browser does (notebook 11). With
    ``require_client_certificate`` the server demands a client certificate, and the client sends one
    if ``client_certificate`` (notebook 12). The server's certificate is for ``server_name``, the name
    the client sends in SNI (notebook 14). The client writes a key log, so each recording can be
    decrypted with :func:`tlslab.decrypt_session` (TLS 1.3)."""
    server_chain, client_chain = lab_chains(seed, server_name)
    recordings: list[Recording] = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        s_chain, s_key, _ = _pem(server_chain, directory, "server")
        c_chain, c_key, c_root = _pem(client_chain, directory, "client")
        keylog = directory / "keylog.txt"
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(s_chain, s_key)
        server_ctx.minimum_version = server_ctx.maximum_version = _VERSIONS[version]
        if require_client_certificate:
            server_ctx.verify_mode = ssl.CERT_REQUIRED
            server_ctx.load_verify_locations(c_root)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        client_ctx.minimum_version = client_ctx.maximum_version = _VERSIONS[version]
        client_ctx.keylog_filename = str(keylog)
        if cipher:
            server_ctx.set_ciphers(cipher)
            client_ctx.set_ciphers(cipher)
        if client_certificate:
            client_ctx.load_cert_chain(c_chain, c_key)
        session = None
        with (
            socket.create_server(("127.0.0.1", 0)) as server_listener,
            socket.create_server(("127.0.0.1", 0)) as relay_listener,
        ):
            server_listener.settimeout(timeout)
            relay_listener.settimeout(timeout)
            for _ in range(connections):
                outcome: dict[str, Any] = {}

                def serve(outcome: dict[str, Any] = outcome) -> None:
                    conn, _ = server_listener.accept()
                    try:
                        with server_ctx.wrap_socket(conn, server_side=True) as tls:
                            tls.settimeout(timeout)
                            outcome["peer"] = tls.getpeercert(binary_form=True) is not None
                            data = tls.recv(1024)
                            tls.sendall(b"echo: " + data)
                            with contextlib.suppress(OSError, ssl.SSLError):
                                tls.unwrap()
                    except (OSError, ssl.SSLError) as error:
                        outcome["server_error"] = _short(error)
                        conn.close()

                taps: list[list[bytes]] = []
                relay = threading.Thread(
                    target=lambda taps=taps: taps.append(
                        _relay_once(relay_listener, server_listener.getsockname(), timeout)
                    ),
                    daemon=True,
                )
                server_thread = threading.Thread(target=serve, daemon=True)
                relay.start()
                server_thread.start()
                version_seen, cipher_seen, reused, client_error = "", "", False, None
                try:
                    with (
                        socket.create_connection(
                            relay_listener.getsockname(), timeout=timeout
                        ) as raw,
                        client_ctx.wrap_socket(
                            raw,
                            server_hostname=server_name,
                            session=session if resume else None,
                        ) as tls,
                    ):
                        tls.sendall(b"hello")
                        tls.recv(1024)  # reading also processes TLS 1.3 NewSessionTickets
                        version_seen = tls.version() or ""
                        cipher_seen = (tls.cipher() or ("", "", 0))[0]
                        reused = bool(tls.session_reused)
                        session = tls.session
                        with contextlib.suppress(OSError, ssl.SSLError):
                            tls.unwrap()
                except (OSError, ssl.SSLError) as error:
                    client_error = _short(error)
                server_thread.join(timeout)
                relay.join(timeout)
                c2s, s2c = taps[0] if taps else (b"", b"")
                recordings.append(
                    Recording(
                        c2s,
                        s2c,
                        keylog.read_text() if keylog.exists() else "",
                        version_seen,
                        cipher_seen,
                        reused,
                        client_error,
                        outcome.get("server_error"),
                        bool(outcome.get("peer")),
                    )
                )
    return recordings


def _short(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return f"{type(error).__name__}: {reason or error}"


# -- a server that ends with or without close_notify (notebook 13) -----------------------------


@contextlib.contextmanager
def openssl_sender(
    chain: Chain, message: bytes, *, close_notify: bool = True, timeout: float = 10.0
) -> Iterator[int]:
    """An OpenSSL server on 127.0.0.1 that sends ``message`` to each client, then ends the
    connection: with a close_notify alert (``unwrap``), or by just closing TCP (a truncation).
    Yields its port."""
    with tempfile.TemporaryDirectory() as tmp:
        chain_pem, key_pem, _ = _pem(chain, Path(tmp), "server")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain_pem, key_pem)

    def handle(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            conn.settimeout(timeout)
            tls = ctx.wrap_socket(conn, server_side=True)
            tls.recv(1024)
            tls.sendall(message)
            if close_notify:
                tls.unwrap()
            # else: close the TCP connection with no close_notify (Python never sends one on close)
            tls.close()

    with accept_in_background(handle) as (port, _):
        yield port


@dataclass(frozen=True)
class Ending:
    """How a connection ended, as the reading side saw it."""

    received: bytes
    close_notify: bool
    detail: str

    def __repr__(self) -> str:
        return (
            f"Ending(received={self.received!r}, close_notify={self.close_notify}, {self.detail})"
        )


def read_to_the_end(
    port: int, config: ClientConfig, *, send: bytes = b"hi", rng: Rng = system_rng
) -> Ending:
    """tlslab's client sends ``send`` and reads until the server ends the connection; reports
    whether the end was a close_notify alert or a bare TCP close (RFC 8446 §6.1)."""
    client = TLSClient(config, rng)
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        client.start()
        sock.sendall(client.data_to_send())
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return Ending(bytes(received), False, "TCP closed without close_notify: truncated?")
            events = client.receive_data(chunk)
            sock.sendall(client.data_to_send())
            if client.handshake_complete and send:
                client.send_application_data(send)
                sock.sendall(client.data_to_send())
                send = b""
            received += b"".join(e.data for e in events if isinstance(e, ApplicationData))
            if any(isinstance(e, ConnectionClosed) for e in events):
                return Ending(bytes(received), True, "close_notify received: the data is complete")


def openssl_read_to_the_end(port: int, root: Any, *, server_name: str = "localhost") -> Ending:
    """The same with OpenSSL (Python ``ssl``) reading, strict about truncation
    (``suppress_ragged_eofs=False``): a missing close_notify raises ``SSLEOFError``."""
    ctx = ssl.create_default_context(cadata=root.public_bytes(Encoding.PEM).decode())
    received = bytearray()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=server_name, suppress_ragged_eofs=False) as tls,
    ):
        tls.sendall(b"hi")
        try:
            while chunk := tls.recv(65536):
                received += chunk
        except ssl.SSLEOFError as error:
            return Ending(bytes(received), False, f"OpenSSL: {_short(error)}")
    return Ending(bytes(received), True, "OpenSSL: clean shutdown (close_notify)")


# -- an echo server that keeps echoing, and a scripted tlslab client (notebook 13) --------------


@contextlib.contextmanager
def openssl_echo_loop(chain: Chain, *, timeout: float = 10.0) -> Iterator[int]:
    """An OpenSSL echo server on 127.0.0.1 that echoes every record until the client closes
    (OpenSSL answers a KeyUpdate with update_requested by updating its own keys). Yields its port."""
    with tempfile.TemporaryDirectory() as tmp:
        chain_pem, key_pem, _ = _pem(chain, Path(tmp), "server")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain_pem, key_pem)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3

    def handle(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            conn.settimeout(timeout)
            with ctx.wrap_socket(conn, server_side=True) as tls:
                while data := tls.recv(65536):
                    tls.sendall(data)

    with accept_in_background(handle) as (port, _):
        yield port


def echo_with_key_updates(
    port: int,
    config: ClientConfig,
    messages: Sequence[bytes],
    *,
    update_before: Sequence[int] = (),
    rng: Rng = system_rng,
) -> tuple[TLSClient, list[bytes]]:
    """tlslab's client sends each of ``messages`` and reads its echo; before message ``i`` for
    ``i`` in ``update_before`` it sends KeyUpdate(update_requested), so both directions move to
    their next traffic secret (RFC 8446 §4.6.3). Returns the client (its ``trace`` records every
    secret) and the echoes."""
    client = TLSClient(config, rng)
    echoes: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.start()
        sock.sendall(client.data_to_send())
        while not client.handshake_complete:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed during the handshake")
            client.receive_data(chunk)
            sock.sendall(client.data_to_send())
        for index, message in enumerate(messages):
            if index in update_before:
                client.key_update(request_peer_update=True)
            client.send_application_data(message)
            sock.sendall(client.data_to_send())
            got = bytearray()
            while len(got) < len(message):
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("the server closed before echoing")
                events = client.receive_data(chunk)
                sock.sendall(client.data_to_send())
                got += b"".join(e.data for e in events if isinstance(e, ApplicationData))
            echoes.append(bytes(got))
        client.close()
        with contextlib.suppress(OSError):
            sock.sendall(client.data_to_send())
    return client, echoes


def openssl_client_resumes(
    port: int, root: Any, *, connections: int = 2, server_name: str = "lab.example"
) -> list[tuple[str, bool, bytes]]:
    """An OpenSSL client (Python ``ssl``) trusting ``root`` connects ``connections`` times to
    ``port``, each time offering the session (ticket) of the connection before; returns
    (version, session_reused, echoed reply) per connection (notebook 11)."""
    ctx = ssl.create_default_context(cadata=root.public_bytes(Encoding.PEM).decode())
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    session = None
    out: list[tuple[str, bool, bytes]] = []
    for index in range(connections):
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=server_name, session=session) as tls,
        ):
            payload = f"connection {index + 1}".encode()
            tls.sendall(payload)
            reply = tls.recv(1024)
            out.append((tls.version() or "", bool(tls.session_reused), reply))
            session = tls.session
    return out


# -- mutual TLS with OpenSSL (notebook 12) ---------------------------------------------------------


@contextlib.contextmanager
def openssl_mtls_server(
    server_chain: Chain, client_root: Any, *, version: str = "1.3", timeout: float = 10.0
) -> Iterator[tuple[int, list[str]]]:
    """An OpenSSL server on 127.0.0.1 that *requires* a client certificate issued under
    ``client_root`` and echoes one message. Yields (port, outcomes): per connection, the client
    certificate's subject as OpenSSL saw it, or OpenSSL's error (complete once the block ends)."""
    with tempfile.TemporaryDirectory() as tmp:
        chain_pem, key_pem, _ = _pem(server_chain, Path(tmp), "server")
        (Path(tmp) / "client_root.pem").write_bytes(client_root.public_bytes(Encoding.PEM))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain_pem, key_pem)
        ctx.minimum_version = ctx.maximum_version = _VERSIONS[version]
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(Path(tmp) / "client_root.pem")
    outcomes: list[str] = []

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(timeout)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    data = tls.recv(
                        1024
                    )  # TLS 1.3: the client's certificate arrives with its Finished
                    peer: dict[str, Any] = dict(tls.getpeercert() or {})
                    subject = ", ".join(
                        f"{pair[0]}={pair[1]}" for rdn in peer.get("subject", ()) for pair in rdn
                    )
                    outcomes.append(f"client certificate: {subject}")
                    tls.sendall(data)
                    with contextlib.suppress(OSError, ssl.SSLError):
                        tls.unwrap()
            except (OSError, ssl.SSLError) as error:
                outcomes.append(f"refused: {_short(error)}")

    with accept_in_background(handle) as (port, handlers):
        try:
            yield port, outcomes
        finally:
            for handler in handlers:  # so that ``outcomes`` is complete when the block ends
                handler.join(timeout)


def openssl_client_with_certificate(
    port: int,
    server_root: Any,
    client_chain: Chain | None,
    *,
    server_name: str = "lab.example",
    payload: bytes = b"hello from an OpenSSL client",
) -> str:
    """An OpenSSL client (Python ``ssl``, TLS 1.3) that presents ``client_chain`` (or nothing) to
    ``port``; returns the echoed reply as text, or OpenSSL's error."""
    ctx = ssl.create_default_context(cadata=server_root.public_bytes(Encoding.PEM).decode())
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    with tempfile.TemporaryDirectory() as tmp:
        if client_chain is not None:
            chain_pem, key_pem, _ = _pem(client_chain, Path(tmp), "client")
            ctx.load_cert_chain(chain_pem, key_pem)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            tls.sendall(payload)
            reply = tls.recv(1024)
            if not reply:
                return "the server closed the connection"
            return f"echo: {reply.decode()}"
    except (OSError, ssl.SSLError) as error:
        return f"refused: {_short(error)}"


def clear_handshake_messages(stream: bytes) -> list[bytes]:
    """The handshake messages (with their 4-byte headers) at the start of one direction of a
    recording, up to the first record that is not a handshake record (ChangeCipherSpec, an alert,
    or encrypted data). In TLS 1.2 that is everything before the keys change (notebook 12)."""
    from ..wire.record import HandshakeReassembler, RecordReader

    messages: list[bytes] = []
    reassembler = HandshakeReassembler()
    for record in RecordReader().feed(stream):
        if record.type != 22:
            break
        messages += reassembler.feed(record.fragment)
    return messages
