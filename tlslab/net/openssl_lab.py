"""The OpenSSL lab harness: real OpenSSL peers on 127.0.0.1 for the notebooks and the tests.

Everything here drives OpenSSL (through Python's ``ssl`` module, sometimes in a child process so
that ``OPENSSL_CONF`` can pin its groups and TLS 1.3 suites); tlslab's own client and server over
sockets live in :mod:`tlslab.net.sockets`.

- :func:`capture_client_hello` lets OpenSSL connect to a throw-away listener and returns the bytes
  of its first flight, so a notebook can take a real ClientHello apart (notebook 01).
- :func:`ask_openssl_server` sends a ClientHello to a fresh OpenSSL server and returns its answer
  (notebook 02).
- :func:`record_openssl_session` runs an OpenSSL client <-> OpenSSL server session through a relay
  that records every byte in each direction, with OpenSSL's own key log, so tlslab can decrypt it
  (notebooks 04 and 07).
- :func:`openssl_echo_server` and :func:`openssl_client_exchange` are OpenSSL peers for tlslab's
  client and server (notebooks 00 and 08, the interop tests).
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..wire.record import HandshakeReassembler, RecordReader

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


@dataclass(frozen=True)
class CapturedSession:
    """What a wiretap on 127.0.0.1 saw of one OpenSSL session, plus OpenSSL's key log."""

    client_to_server: bytes
    server_to_client: bytes
    keylog: str
    client_data: bytes
    server_data: bytes
    version: str
    cipher: str

    def __repr__(self) -> str:
        return (
            f"CapturedSession({self.version} {self.cipher}: {len(self.client_to_server)} bytes client->server, "
            f"{len(self.server_to_client)} bytes server->client, {len(self.keylog.splitlines())} key-log lines)"
        )


_TLS13_SUITE_NAMES = (
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
)


def record_openssl_session(
    *,
    tls_version: str = "1.3",
    cipher: str | None = None,
    client_data: bytes = b"GET / HTTP/1.0\r\n\r\n",
    server_data: bytes = b"HTTP/1.0 200 OK\r\n\r\nhello from OpenSSL\n",
    certificate_key: str = "ecdsa-p256",
    timeout: float = 10.0,
) -> CapturedSession:
    """Run an OpenSSL client and server (Python ``ssl``) on 127.0.0.1 with a recording relay between them.

    ``cipher`` is an OpenSSL name: a TLS 1.2 cipher string such as ``ECDHE-ECDSA-AES128-GCM-SHA256``,
    or a TLS 1.3 suite such as ``TLS_CHACHA20_POLY1305_SHA256``; ``certificate_key`` is the server's
    key type ("ecdsa-p256", "rsa" for the shipped teaching key, "ed25519"). Python's ``ssl`` cannot choose
    TLS 1.3 suites, so for those the session runs in a child process whose OpenSSL configuration
    (``OPENSSL_CONF``) allows only that suite.
    """
    if tls_version == "1.3" and cipher is not None:
        if cipher not in _TLS13_SUITE_NAMES:
            raise ValueError(f"TLS 1.3 suite must be one of {_TLS13_SUITE_NAMES}, got {cipher!r}")
        return _record_in_child(cipher, client_data, server_data, certificate_key, timeout)
    return _record_here(tls_version, cipher, client_data, server_data, certificate_key, timeout)


def _record_in_child(
    suite: str, client_data: bytes, server_data: bytes, certificate_key: str, timeout: float
) -> CapturedSession:
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "openssl.cnf"
        conf.write_text(
            "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n"
            "[ssl_sect]\nsystem_default = system_default_sect\n"
            f"[system_default_sect]\nCiphersuites = {suite}\n"
        )
        request = json.dumps(
            {
                "client_data": client_data.hex(),
                "server_data": server_data.hex(),
                "key": certificate_key,
                "timeout": timeout,
            }
        )
        env = dict(os.environ, OPENSSL_CONF=str(conf))
        done = subprocess.run(
            [sys.executable, "-c", "import sys, tlslab.net.openssl_lab as m; m._child_main()"],
            input=request,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout * 3,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"OpenSSL session in the child process failed: {done.stderr[-2000:]}"
            )
        fields = json.loads(done.stdout)
    return CapturedSession(
        client_to_server=bytes.fromhex(fields["client_to_server"]),
        server_to_client=bytes.fromhex(fields["server_to_client"]),
        keylog=fields["keylog"],
        client_data=bytes.fromhex(fields["client_data"]),
        server_data=bytes.fromhex(fields["server_data"]),
        version=fields["version"],
        cipher=fields["cipher"],
    )


def _child_main() -> None:
    request = json.loads(sys.stdin.read())
    session = _record_here(
        "1.3",
        None,
        bytes.fromhex(request["client_data"]),
        bytes.fromhex(request["server_data"]),
        request["key"],
        request["timeout"],
    )
    print(
        json.dumps(
            {
                "client_to_server": session.client_to_server.hex(),
                "server_to_client": session.server_to_client.hex(),
                "keylog": session.keylog,
                "client_data": session.client_data.hex(),
                "server_data": session.server_data.hex(),
                "version": session.version,
                "cipher": session.cipher,
            }
        )
    )


def _record_here(
    tls_version: str,
    cipher: str | None,
    client_data: bytes,
    server_data: bytes,
    certificate_key: str,
    timeout: float,
) -> CapturedSession:
    from ..pki.certificates import self_signed_certificate

    credential = self_signed_certificate("localhost", key_type=certificate_key)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key, keylog = Path(tmp) / "cert.pem", Path(tmp) / "key.pem", Path(tmp) / "keylog.txt"
        cert.write_bytes(credential.cert_pem())
        key.write_bytes(credential.key_pem())
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        client_ctx = openssl_client_context(min_version=tls_version, max_version=tls_version)
        client_ctx.keylog_filename = str(keylog)
        if cipher is not None:
            client_ctx.set_ciphers(cipher)
            server_ctx.set_ciphers(cipher)

        with (
            socket.create_server(("127.0.0.1", 0)) as server_listener,
            socket.create_server(("127.0.0.1", 0)) as relay_listener,
        ):
            server_listener.settimeout(timeout)
            relay_listener.settimeout(timeout)
            received: dict[str, bytes] = {}

            def serve() -> None:
                conn, _ = server_listener.accept()
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.settimeout(timeout)
                    received["by_server"] = _recv_exactly(tls, len(client_data))
                    tls.sendall(server_data)
                    with contextlib.suppress(OSError, ssl.SSLError):
                        tls.unwrap()

            taps: dict[str, bytearray] = {"c2s": bytearray(), "s2c": bytearray()}
            relay_thread = threading.Thread(
                target=_relay,
                args=(relay_listener, server_listener.getsockname(), taps, timeout),
                daemon=True,
            )
            server_thread = threading.Thread(target=serve, daemon=True)
            relay_thread.start()
            server_thread.start()
            with (
                socket.create_connection(relay_listener.getsockname(), timeout=timeout) as raw,
                client_ctx.wrap_socket(raw, server_hostname="localhost") as tls,
            ):
                tls.sendall(client_data)
                got = _recv_exactly(tls, len(server_data))
                version, suite = tls.version() or "", (tls.cipher() or ("", "", 0))[0]
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.unwrap()
            server_thread.join(timeout)
            relay_thread.join(timeout)
        if received.get("by_server") != client_data or got != server_data:
            raise RuntimeError("the OpenSSL session did not carry the data through")
        return CapturedSession(
            bytes(taps["c2s"]),
            bytes(taps["s2c"]),
            keylog.read_text(),
            client_data,
            server_data,
            version,
            suite,
        )


def _recv_exactly(tls: ssl.SSLSocket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = tls.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _relay(
    listener: socket.socket, target: tuple[str, int], taps: dict[str, bytearray], timeout: float
) -> None:
    """Copy bytes both ways between one client and the server, recording each direction."""
    client, _ = listener.accept()
    server = socket.create_connection(target, timeout=timeout)
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, (server, "c2s"))
    sel.register(server, selectors.EVENT_READ, (client, "s2c"))
    open_sides = 2
    with client, server:
        while open_sides:
            events = sel.select(timeout)
            if not events:
                break
            for key, _ in events:
                peer, tap = key.data
                sock: socket.socket = key.fileobj  # type: ignore[assignment]
                data = sock.recv(65536)
                if not data:
                    sel.unregister(sock)
                    open_sides -= 1
                    with contextlib.suppress(OSError):
                        peer.shutdown(socket.SHUT_WR)
                    continue
                taps[tap] += data
                peer.sendall(data)
    sel.close()


# -- asking a real OpenSSL server what it would choose ---------------------------

_OPENSSL_GROUP_NAMES = {
    0x0017: "P-256",
    0x0018: "P-384",
    0x0019: "P-521",
    0x001D: "X25519",
    0x001E: "X448",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
}
_TLS13_OPENSSL = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
}


def ask_openssl_server(
    client_hello_records: bytes,
    *,
    versions: Sequence[int] = (0x0304, 0x0303),
    cipher_suites: Sequence[int] = (),
    groups: Sequence[int] = (0x001D, 0x0017, 0x0018),
    prefer_server_order: bool = True,
    certificate_key: str = "ecdsa-p256",
    timeout: float = 10.0,
) -> bytes:
    """Send ClientHello records to a fresh OpenSSL server (Python ``ssl`` in a child process, so that
    ``OPENSSL_CONF`` can set its groups and TLS 1.3 suites) and return the bytes of its first flight:
    everything up to ServerHelloDone (TLS 1.2), the ServerHello or HelloRetryRequest (TLS 1.3),
    or the alert it sent instead. ``cipher_suites`` are IANA code points in server preference order.
    """
    suites13 = [_TLS13_OPENSSL[s] for s in cipher_suites if s in _TLS13_OPENSSL]
    suites12 = [s for s in cipher_suites if s not in _TLS13_OPENSSL]
    conf_lines = [
        "openssl_conf = openssl_init",
        "[openssl_init]",
        "ssl_conf = ssl_sect",
        "[ssl_sect]",
        "system_default = system_default_sect",
        "[system_default_sect]",
        "Groups = " + ":".join(_OPENSSL_GROUP_NAMES[g] for g in groups),
    ]
    if suites13:
        conf_lines.append("Ciphersuites = " + ":".join(suites13))
    request = {
        "versions": list(versions),
        "suites12": suites12,
        "server_pref": prefer_server_order,
        "key": certificate_key,
        "timeout": timeout,
    }
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "openssl.cnf"
        conf.write_text("\n".join(conf_lines) + "\n")
        env = dict(os.environ, OPENSSL_CONF=str(conf))
        child = subprocess.Popen(
            [sys.executable, "-c", "import tlslab.net.openssl_lab as m; m._openssl_server_main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps(request) + "\n")
        child.stdin.flush()
        port = int(child.stdout.readline())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                sock.sendall(client_hello_records)
                return _read_first_flight(sock)
        finally:
            child.stdin.close()
            child.wait(timeout)


def _read_first_flight(sock: socket.socket) -> bytes:
    records, messages = RecordReader(), HandshakeReassembler()
    captured = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(captured)
        captured += chunk
        for record in records.feed(chunk):
            if record.type == 21:  # alert
                return bytes(captured)
            if record.type != 22:
                return bytes(captured)
            for message in messages.feed(record.fragment):
                if message[0] == 14:  # ServerHelloDone ends a TLS 1.2 flight
                    return bytes(captured)
                if (
                    message[0] == 2 and b"\x00\x2b\x00\x02\x03\x04" in message
                ):  # TLS 1.3 ServerHello / HRR
                    return bytes(captured)


def _openssl_server_main() -> None:
    from ..pki.certificates import self_signed_certificate

    request = json.loads(sys.stdin.readline())
    credential = self_signed_certificate("localhost", key_type=request["key"])
    names = {0x0304: ssl.TLSVersion.TLSv1_3, 0x0303: ssl.TLSVersion.TLSv1_2}
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
        cert.write_bytes(credential.cert_pem())
        key.write_bytes(credential.key_pem())
        ctx.load_cert_chain(cert, key)
    ctx.minimum_version = names[min(request["versions"])]
    ctx.maximum_version = names[max(request["versions"])]
    if request["server_pref"]:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if request["suites12"]:
        probe = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        probe.set_ciphers("ALL:@SECLEVEL=0")
        by_id = {c["id"] & 0xFFFF: c["name"] for c in probe.get_ciphers()}
        ctx.set_ciphers(":".join(by_id[s] for s in request["suites12"] if s in by_id))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print(listener.getsockname()[1], flush=True)
        listener.settimeout(request["timeout"])
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError, ssl.SSLError):
            tls = ctx.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
            tls.settimeout(request["timeout"])
            tls.do_handshake()


# -- OpenSSL peers for notebooks and tests ------------------------------------------------------


def _pem_files(chain: Any, directory: Path) -> tuple[Path, Path, Path]:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    pem = chain.leaf.certificate.public_bytes(Encoding.PEM)
    pem += b"".join(i.certificate.public_bytes(Encoding.PEM) for i in chain.intermediates)
    (directory / "chain.pem").write_bytes(pem)
    key = chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    (directory / "key.pem").write_bytes(key)
    (directory / "root.pem").write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    return directory / "chain.pem", directory / "key.pem", directory / "root.pem"


@contextlib.contextmanager
def accept_in_background(
    handle: Callable[[socket.socket], None],
) -> Iterator[tuple[int, list[threading.Thread]]]:
    """A listener on 127.0.0.1 whose thread gives each accepted connection to ``handle`` in a
    thread of its own. Yields (port, the handler threads started so far); stops accepting when
    the block ends. The lab's OpenSSL servers (here and in ``tlslab.lab.peers``) share it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    handlers: list[threading.Thread] = []

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            handler = threading.Thread(target=handle, args=(conn,), daemon=True)
            handlers.append(handler)
            handler.start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], handlers
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def echo_once(ctx: ssl.SSLContext) -> Callable[[socket.socket], None]:
    """A connection handler for :func:`accept_in_background`: an OpenSSL (Python ``ssl``) server
    handshake under ``ctx``, one read echoed back, then a last read that sees the peer's
    close_notify (or its TCP close). Errors end only that connection."""

    def handle(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            conn.settimeout(10)
            with ctx.wrap_socket(conn, server_side=True) as tls:
                data = tls.recv(65536)
                if data:
                    tls.sendall(data)
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.recv(1)

    return handle


@contextlib.contextmanager
def openssl_echo_server(chain: Any, *, ciphers: str = "ALL:@SECLEVEL=0") -> Iterator[int]:
    """An OpenSSL (Python ``ssl``) echo server on 127.0.0.1 serving ``chain`` (a teaching-PKI
    :class:`~tlslab.pki.certificates.Chain`); yields its port. A thread per connection."""
    from ..constants import NamedGroup
    from ..stages.keyexchange import ffdhe_parameters

    with tempfile.TemporaryDirectory() as tmp:
        chain_pem, key_pem, _ = _pem_files(chain, Path(tmp))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain_pem, key_pem)
        ctx.set_ciphers(ciphers)
        from cryptography.hazmat.primitives.serialization import Encoding, ParameterFormat

        dh_path = Path(tmp) / "dh.pem"
        dh_path.write_bytes(
            ffdhe_parameters(NamedGroup.ffdhe2048).parameter_bytes(
                Encoding.PEM, ParameterFormat.PKCS3
            )
        )
        ctx.load_dh_params(str(dh_path))

    with accept_in_background(echo_once(ctx)) as (port, _):
        yield port


def openssl_client_exchange(
    port: int,
    root: Any,
    *,
    server_name: str = "lab.example",
    version: str = "1.3",
    ciphers: str | None = None,
    payload: bytes = b"ping from OpenSSL",
) -> tuple[str, str, bytes]:
    """Connect an OpenSSL client (Python ``ssl``) that trusts ``root`` (an x509 certificate) to
    ``port``, send ``payload``; return (version, cipher, reply)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    ctx = ssl.create_default_context(cadata=root.public_bytes(Encoding.PEM).decode())
    ctx.maximum_version = _VERSIONS[version]
    if ciphers:
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        tls.sendall(payload)
        reply = tls.recv(65536)
        negotiated, cipher = tls.version() or "", (tls.cipher() or ("", "", 0))[0]
    return negotiated, cipher, reply
