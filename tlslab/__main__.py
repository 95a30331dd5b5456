"""Command line: ``python -m tlslab demo | client | server | explain``.

- ``demo``: no arguments, no setup. Starts an OpenSSL server (Python ``ssl``) on 127.0.0.1 with
  a freshly issued teaching certificate, connects with tlslab over TLS 1.3 and then TLS 1.2, and
  prints the annotated trace of each handshake.
- ``client HOST PORT``: handshake, send, print the reply, close; exit 0 on success, 1 with the
  alert on failure.
- ``server --port P --cert PEM --key PEM``: an echo server.
- ``explain HEX``: annotate a record or handshake message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import socket
import ssl
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from .constants import CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme
from .errors import TLSError
from .wire.explain import explain

_VERSIONS = {"1.2": (ProtocolVersion.TLS12,), "1.3": (ProtocolVersion.TLS13,)}


def _groups(names: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(NamedGroup[n.strip()] for n in names.split(",")) if names else default


def _suites(names: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(CipherSuite[n.strip()] for n in names.split(",")) if names else default


def _print_trace(trace: Any, title: str) -> None:
    print(f"\n=== {title} ===")
    print(trace)


def cmd_demo(args: argparse.Namespace) -> int:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from .engine.client import ClientConfig
    from .net.sockets import connect
    from .pki.certificates import build_chain

    chain = build_chain("localhost", now=dt.datetime.now(dt.timezone.utc), seed="demo")
    with tempfile.TemporaryDirectory() as tmp:
        pem = chain.leaf.certificate.public_bytes(Encoding.PEM)
        pem += b"".join(i.certificate.public_bytes(Encoding.PEM) for i in chain.intermediates)
        (Path(tmp) / "chain.pem").write_bytes(pem)
        (Path(tmp) / "key.pem").write_bytes(
            chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(Path(tmp) / "chain.pem", Path(tmp) / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"OpenSSL echoes: " + tls.recv(1024))
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    print(f"OpenSSL ({ssl.OPENSSL_VERSION}) is serving on 127.0.0.1:{port}; tlslab connects twice.")
    for version in ("1.3", "1.2"):
        config = ClientConfig(
            server_name="localhost",
            versions=_VERSIONS[version],
            trust_roots=tuple(chain.trust_roots),
        )
        session = connect("127.0.0.1", port, config, send=f"hello over TLS {version}".encode())
        _print_trace(session.trace, f"TLS {version}: tlslab client -> OpenSSL server")
        print(f"reply: {session.received.decode()}")
    thread.join(5)
    listener.close()
    return 0


def cmd_client(args: argparse.Namespace) -> int:
    from .engine.client import ClientConfig
    from .net.sockets import connect
    from .pki.certificates import load_certificates
    from .stages.hello import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS

    roots = tuple(load_certificates(Path(args.cafile).read_bytes())) if args.cafile else ()
    chain: tuple[bytes, ...] = ()
    key = None
    if args.cert and args.key:
        from .engine.server import ServerIdentity

        identity = ServerIdentity.from_pem(
            Path(args.cert).read_bytes(), Path(args.key).read_bytes()
        )
        chain, key = identity.certificates, identity.private_key
    config = ClientConfig(
        server_name=args.servername or args.host,
        versions=_VERSIONS.get(args.tls or "", (ProtocolVersion.TLS13, ProtocolVersion.TLS12)),
        cipher_suites=_suites(args.ciphers, DEFAULT_CIPHER_SUITES),
        groups=_groups(args.groups, DEFAULT_GROUPS),
        alpn=tuple(a for a in (args.alpn or "").split(",") if a),
        trust_roots=roots,
        insecure=args.insecure,
        certificate_chain=chain,
        private_key=key,
    )
    if args.insecure:
        print("WARNING: --insecure: the server's certificate is NOT validated", file=sys.stderr)
    try:
        session = connect(
            args.host, args.port, config, send=args.send.encode() if args.send else None
        )
    except TLSError as error:
        print(f"handshake failed: {error}", file=sys.stderr)
        return 1
    print(session.events[0] if session.events else "no events")
    if session.received:
        print(session.received.decode(errors="replace"))
    if args.keylog:
        Path(args.keylog).write_text(session.trace.keylog().dumps())
    if args.trace:
        print(session.trace)
    return 0


def cmd_server(args: argparse.Namespace) -> int:
    from .engine.server import ServerIdentity
    from .net.sockets import serve
    from .stages.negotiation import DEFAULT_SERVER_SUITES, ServerConfig

    identity = ServerIdentity.from_pem(Path(args.cert).read_bytes(), Path(args.key).read_bytes())
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    key = identity.private_key
    key_kind = (
        "rsa"
        if isinstance(key, rsa.RSAPrivateKey)
        else "ed25519"
        if isinstance(key, ed25519.Ed25519PrivateKey)
        else "ecdsa-p384"
        if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"
        else "ecdsa-p256"
    )
    from .stages.signatures import MLDSA_KEYS

    for scheme, (private_type, _) in MLDSA_KEYS.items():  # an ML-DSA key: "mldsa44/65/87"
        if isinstance(key, private_type):
            key_kind = SignatureScheme(scheme).name
    config = ServerConfig(
        versions=_VERSIONS.get(args.tls or "", (ProtocolVersion.TLS13, ProtocolVersion.TLS12)),
        cipher_suites=_suites(args.ciphers, DEFAULT_SERVER_SUITES),
        groups=_groups(args.groups, ServerConfig().groups),
        certificate_key=key_kind,
    )
    with socket.create_server((args.host, args.port)) as listener:
        print(f"tlslab echo server on {args.host}:{listener.getsockname()[1]}", flush=True)
        while True:
            for session in serve(listener, config, identity, timeout=args.timeout):
                print(f"connection: {[type(e).__name__ for e in session.events]}", flush=True)
                if args.keylog:
                    with open(args.keylog, "a") as handle:
                        handle.write(session.trace.keylog().dumps())
            if args.once:
                return 0


def cmd_explain(args: argparse.Namespace) -> int:
    text = args.hex if args.hex is not None else sys.stdin.read()
    version = {"1.2": ProtocolVersion.TLS12, "1.3": ProtocolVersion.TLS13}.get(args.tls or "")
    try:
        result = explain(text, version=version)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result)
    return 1 if result.error else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tlslab", description="tlslab: learn TLS on real bytes"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="tlslab talks to a local OpenSSL server over TLS 1.3 and 1.2")
    c = sub.add_parser("client", help="connect, send, print the reply")
    c.add_argument("host")
    c.add_argument("port", type=int)
    c.add_argument("--tls", choices=["1.2", "1.3"])
    c.add_argument("--cafile")
    c.add_argument("--servername")
    c.add_argument("--groups", help="comma-separated, e.g. X25519MLKEM768,x25519,secp256r1")
    c.add_argument("--ciphers", help="comma-separated IANA names, e.g. TLS_AES_128_GCM_SHA256")
    c.add_argument("--alpn")
    c.add_argument("--keylog")
    c.add_argument("--send")
    c.add_argument(
        "--insecure", action="store_true", help="do NOT validate the server's certificate"
    )
    c.add_argument("--cert", help="client certificate chain (PEM), for servers that ask for one")
    c.add_argument("--key", help="the client certificate's private key (PEM)")
    c.add_argument("--trace", action="store_true", help="print every step")
    s = sub.add_parser("server", help="an echo server")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--tls", choices=["1.2", "1.3"])
    s.add_argument("--groups", help="comma-separated, e.g. X25519MLKEM768,SecP256r1MLKEM768,x25519")
    s.add_argument("--ciphers")
    s.add_argument("--keylog")
    s.add_argument("--once", action="store_true")
    s.add_argument("--timeout", type=float, default=30.0)
    e = sub.add_parser("explain", help="annotate a record or handshake message given in hex")
    e.add_argument("hex", nargs="?", help="hex bytes (default: read from standard input)")
    e.add_argument("--tls", choices=["1.2", "1.3"], help="version, where message forms differ")
    args = parser.parse_args(argv)
    handler = {
        "demo": cmd_demo,
        "client": cmd_client,
        "server": cmd_server,
        "explain": cmd_explain,
    }[args.command]
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
