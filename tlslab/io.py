"""The only sockets in tlslab: small drivers for talking to real TLS stacks on loopback.

For now: :func:`capture_client_hello` lets Python's ``ssl`` module (OpenSSL)
connect to a throw-away listener on 127.0.0.1 and returns the bytes its first
flight carried, so a notebook can take a real ClientHello apart.

Taught in notebook 01_client_hello.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Sequence

from .record import HandshakeReassembler, RecordReader

_VERSIONS = {
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def openssl_client_context(
    *,
    min_version: str = "1.2",
    max_version: str = "1.3",
    alpn: Sequence[str] = (),
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """An OpenSSL client context that does not verify (we only look at its hello)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = _VERSIONS[min_version]
    ctx.maximum_version = _VERSIONS[max_version]
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def capture_client_hello(
    server_name: str | None = "example.com",
    *,
    context: ssl.SSLContext | None = None,
    timeout: float = 5.0,
) -> bytes:
    """Let OpenSSL (through Python's ``ssl``) start a handshake with a listener on
    127.0.0.1 and return the raw record bytes of its ClientHello.

    The listener hangs up after the ClientHello, so the OpenSSL side fails its
    handshake; that is expected and ignored.
    """
    ctx = context or openssl_client_context()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        listener.settimeout(timeout)

        def run_client() -> None:
            try:
                with (
                    socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
                    ctx.wrap_socket(raw, server_hostname=server_name),
                ):
                    pass
            except (OSError, ssl.SSLError):
                pass

        thread = threading.Thread(target=run_client, daemon=True)
        thread.start()
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(timeout)
            data = _read_first_handshake_message(conn)
        thread.join(timeout)
    return data


def _read_first_handshake_message(conn: socket.socket) -> bytes:
    """Read records until one whole handshake message has arrived; return those records' bytes."""
    records = RecordReader()
    messages = HandshakeReassembler()
    captured = bytearray()
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed before sending a whole ClientHello")
        captured += chunk
        for record in records.feed(chunk):
            if messages.feed(record.fragment):
                return bytes(captured)
