"""Command line: ``python -m tlslab demo | client | server | explain``.

- ``demo``: no arguments, no setup. Starts an OpenSSL server (Python ``ssl``) on 127.0.0.1 with
  a freshly issued teaching certificate, connects with tlslab over TLS 1.3 and then TLS 1.2, and
  prints the annotated trace of each handshake.
- ``client HOST PORT``: handshake, send, print the reply, close; exit 0 on success, 1 with one line
  on stderr naming what went wrong. Trusts the system's CA bundle unless ``--cafile`` is given.
- ``server --cert PEM --key PEM``: an echo server, a thread per connection, one log line each.
- ``explain HEX``: annotate a record or handshake message.

Each subcommand is one ``add_X(subparsers)`` function that declares its options and sets
``handler`` to its ``cmd_X`` function; ``SUBCOMMANDS`` lists them, so adding one is a few lines.
"""

from __future__ import annotations

import argparse
import codecs
import datetime as dt
import math
import socket
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .constants import CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme
from .errors import TLSError
from .wire.explain import explain

_VERSIONS = {"1.2": (ProtocolVersion.TLS12,), "1.3": (ProtocolVersion.TLS13,)}
_BOTH = (ProtocolVersion.TLS13, ProtocolVersion.TLS12)


def _names(enum: Any, what: str) -> Callable[[str], tuple[int, ...]]:
    """An argparse type: comma-separated enum names, e.g. ``x25519,secp256r1``."""

    def parse(text: str) -> tuple[int, ...]:
        out = []
        for name in (n.strip() for n in text.split(",") if n.strip()):
            if name not in enum.__members__:
                raise argparse.ArgumentTypeError(
                    f"unknown {what} {name!r}; known: {', '.join(enum.__members__)}"
                )
            out.append(int(enum[name]))
        return tuple(out)

    return parse


def _whole(kind: str, lowest: int, highest: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``lowest`` (to ``highest``), else one line naming
    the range. Ports are bounded because getaddrinfo would silently take them modulo 65536."""
    span = (
        f"a number from {lowest} to {highest}"
        if highest is not None
        else f"a whole number from {lowest}"
    )

    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = lowest - 1
        if number < lowest or (highest is not None and number > highest):
            raise argparse.ArgumentTypeError(f"invalid {kind} {text!r}: {span}")
        return number

    return parse


def _port(lowest: int) -> Callable[[str], int]:
    """A TCP port from ``lowest`` to 65535 (the client cannot connect to 0)."""
    return _whole("port", lowest, 65535)


def _count(lowest: int) -> Callable[[str], int]:
    """A whole number, at least ``lowest``."""
    return _whole("count", lowest)


def _seconds(text: str) -> float:
    """An argparse type: a deadline, more than 0 and at most a day (no NaN, no infinity)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= 86400:  # False for NaN too
        raise argparse.ArgumentTypeError(
            f"invalid seconds {text!r}: a number more than 0 and at most 86400"
        )
    return seconds


def _escaped(text: str) -> bytes:
    """An argparse type: text with Python escapes (``\\r\\n``, ``\\x00``) turned into bytes."""
    try:
        return bytes(codecs.escape_decode(text.encode())[0])
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"invalid escape in {text!r}: {error}") from None


def _alpn(text: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in text.split(",") if a.strip())


def _identity(cert: str, key: str) -> Any:
    """The chain and key from PEM files, refused at once if the key is not the leaf's (as OpenSSL
    does), instead of failing every handshake's CertificateVerify later."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from .engine.server import ServerIdentity

    identity = ServerIdentity.from_pem(Path(cert).read_bytes(), Path(key).read_bytes())
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    leaf = x509.load_der_x509_certificate(identity.certificates[0])
    if leaf.public_key().public_bytes(*spki) != identity.private_key.public_key().public_bytes(
        *spki
    ):
        raise ValueError(f"the private key in {key} does not match the certificate in {cert}")
    return identity


def _fail(command: str, message: str) -> int:
    print(f"tlslab {command}: {message}", file=sys.stderr)
    return 1


# -- demo ----------------------------------------------------------------------------------------


def add_demo(sub: Any) -> None:
    p = sub.add_parser("demo", help="tlslab talks to a local OpenSSL server over TLS 1.3 and 1.2")
    p.set_defaults(handler=cmd_demo)


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
        print(f"\n=== TLS {version}: tlslab client -> OpenSSL server ===")
        print(session.trace)
        print(f"reply: {session.received.decode()}")
    thread.join(5)
    listener.close()
    return 0


# -- client --------------------------------------------------------------------------------------


def add_client(sub: Any) -> None:
    p = sub.add_parser("client", help="connect, send, print the reply")
    p.add_argument("host")
    p.add_argument("port", type=_port(1))
    p.add_argument("--tls", choices=["1.2", "1.3"], help="offer only this version")
    p.add_argument(
        "--cafile",
        metavar="PEM",
        help="trust these roots (PEM file or directory) instead of the system's",
    )
    p.add_argument("--servername", metavar="NAME", help="SNI and the name to check (default: HOST)")
    p.add_argument(
        "--groups",
        type=_names(NamedGroup, "group"),
        metavar="LIST",
        help="e.g. X25519MLKEM768,x25519,secp256r1",
    )
    p.add_argument(
        "--ciphers",
        type=_names(CipherSuite, "cipher suite"),
        metavar="LIST",
        help="IANA names, comma-separated",
    )
    p.add_argument("--alpn", type=_alpn, default=(), metavar="LIST", help="e.g. h2,http/1.1")
    p.add_argument(
        "--cert", metavar="PEM", help="client certificate chain (PEM), for servers that ask for one"
    )
    p.add_argument("--key", metavar="PEM", help="the client certificate's private key (PEM)")
    p.add_argument(
        "--keylog", metavar="FILE", help="append NSS key log lines (SSLKEYLOGFILE format) to FILE"
    )
    p.add_argument(
        "--send",
        type=_escaped,
        metavar="TEXT",
        help="text to send after the handshake (\\r\\n escapes allowed)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="one deadline in seconds for connect + handshake (default 10)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="reconnect once with the first connection's session ticket (TLS 1.3 or 1.2)",
    )
    p.add_argument(
        "--insecure", action="store_true", help="do NOT validate the server's certificate"
    )
    p.add_argument("--trace", action="store_true", help="print the annotated trace of every step")
    p.set_defaults(handler=cmd_client)


def _client_config(args: argparse.Namespace) -> Any:
    from .engine.client import ClientConfig
    from .net.trust import load_trust_roots, system_trust_roots
    from .stages.hello import DEFAULT_CIPHER_SUITES, DEFAULT_GROUPS

    roots: tuple[Any, ...] = ()
    if not args.insecure:
        store = load_trust_roots(args.cafile) if args.cafile else system_trust_roots()
        roots = store.roots
    chain: tuple[bytes, ...] = ()
    key = None
    if args.cert or args.key:
        if not (args.cert and args.key):
            raise ValueError("--cert and --key go together")
        identity = _identity(args.cert, args.key)
        chain, key = identity.certificates, identity.private_key
    return ClientConfig(
        server_name=args.servername or args.host,
        versions=_VERSIONS.get(args.tls or "", _BOTH),
        cipher_suites=args.ciphers or DEFAULT_CIPHER_SUITES,
        groups=args.groups or DEFAULT_GROUPS,
        alpn=args.alpn,
        trust_roots=roots,
        insecure=args.insecure,
        certificate_chain=chain,
        private_key=key,
    )


def _report(session: Any, args: argparse.Namespace) -> None:
    print(session.handshake or "no handshake")
    if session.handshake is not None and session.handshake.alpn:
        print(f"ALPN: {session.handshake.alpn.decode(errors='replace')}")
    if session.received:
        print(session.received.decode(errors="replace"))
    if session.truncated:
        from .net.sockets import TRUNCATION

        print(TRUNCATION)
    if args.keylog:
        try:
            with open(args.keylog, "a") as handle:
                handle.write(session.trace.keylog().dumps())
        except OSError as error:
            _fail("client", f"cannot append to {args.keylog}: {error.strerror or error}")
    if args.trace:
        print(session.trace)


def cmd_client(args: argparse.Namespace) -> int:
    from .net.sockets import connect, describe_failure

    try:
        config = _client_config(args)
    except (OSError, ValueError, TypeError) as error:
        return _fail("client", f"cannot load the certificates or key: {error}")
    if args.keylog:  # find out now, not after the handshake
        try:
            open(args.keylog, "a").close()
        except OSError as error:
            return _fail("client", f"cannot append to {args.keylog}: {error.strerror or error}")
    if args.insecure:
        print("WARNING: --insecure: the server's certificate is NOT validated", file=sys.stderr)
    send = args.send
    try:
        session = connect(
            args.host,
            args.port,
            config,
            send=send,
            timeout=args.timeout,
            wait_for_ticket=2.0 if args.resume else 0.0,
        )
        _report(session, args)
        if not args.resume:
            return 0
        tickets = session.tickets
        if not tickets:
            return _fail("client", "--resume: the server sent no session ticket")
        again = connect(
            args.host,
            args.port,
            config.replace(session_ticket=tickets[0]),
            send=send,
            timeout=args.timeout,
        )
        _report(again, args)
    except (TLSError, OSError) as error:
        return _fail("client", describe_failure(error))
    print("resumed: yes" if again.connection.resumed else "resumed: no (full handshake)")
    return 0


# -- server --------------------------------------------------------------------------------------


def add_server(sub: Any) -> None:
    p = sub.add_parser("server", help="an echo server: a thread per connection, one log line each")
    p.add_argument(
        "--cert", required=True, metavar="PEM", help="certificate chain (PEM), leaf first"
    )
    p.add_argument("--key", required=True, metavar="PEM", help="the leaf's private key (PEM)")
    p.add_argument(
        "--port",
        type=_port(0),
        default=4433,
        metavar="P",
        help="0 picks a free port (default 4433)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--tls", choices=["1.2", "1.3"], help="accept only this version")
    p.add_argument(
        "--groups",
        type=_names(NamedGroup, "group"),
        metavar="LIST",
        help="e.g. X25519MLKEM768,x25519,secp256r1",
    )
    p.add_argument(
        "--ciphers",
        type=_names(CipherSuite, "cipher suite"),
        metavar="LIST",
        help="IANA names, comma-separated",
    )
    p.add_argument(
        "--alpn",
        type=_alpn,
        default=(),
        metavar="LIST",
        help="protocols to accept, in preference order",
    )
    p.add_argument(
        "--require-client-cert",
        action="store_true",
        help="ask every client for a certificate and refuse those without a valid one (--cafile)",
    )
    p.add_argument(
        "--cafile", metavar="PEM", help="roots that client certificates must chain to (PEM)"
    )
    p.add_argument(
        "--tickets",
        type=_count(0),
        default=0,
        metavar="N",
        help="TLS 1.3 session tickets per connection (TLS 1.2: one ticket if N > 0)",
    )
    p.add_argument("--keylog", metavar="FILE", help="append NSS key log lines to FILE")
    p.add_argument("--once", action="store_true", help="serve one connection, then exit")
    p.add_argument(
        "--max-connections",
        type=_count(1),
        default=128,
        metavar="N",
        help="connections served at once (default 128)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=10.0,
        metavar="S",
        help="deadline in seconds for each handshake (default 10)",
    )
    p.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=30.0,
        metavar="S",
        help="close a connection after this many seconds without data (default 30)",
    )
    p.add_argument(
        "--max-lifetime",
        type=_seconds,
        default=300.0,
        metavar="S",
        help="close any connection after this many seconds in all (default 300)",
    )
    p.set_defaults(handler=cmd_server)


def _key_kind(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        return "ecdsa-p384"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ecdsa-p256"
    from .stages.signatures import MLDSA_KEYS

    for scheme, (private_type, _) in MLDSA_KEYS.items():  # an ML-DSA key: "mldsa44/65/87"
        if isinstance(key, private_type):
            return SignatureScheme(scheme).name
    return "ecdsa-p256"


def cmd_server(args: argparse.Namespace) -> int:
    from .net.sockets import Server, Session
    from .net.trust import load_trust_roots
    from .stages.negotiation import DEFAULT_SERVER_SUITES, ServerConfig

    if args.require_client_cert and not args.cafile:
        return _fail("server", "--require-client-cert needs --cafile (the roots clients chain to)")
    try:
        identity = _identity(args.cert, args.key)
        client_roots = load_trust_roots(args.cafile).roots if args.cafile else ()
    except (OSError, ValueError, TypeError) as error:
        return _fail("server", f"cannot load the certificates or key: {error}")
    config = ServerConfig(
        versions=_VERSIONS.get(args.tls or "", _BOTH),
        cipher_suites=args.ciphers or DEFAULT_SERVER_SUITES,
        groups=args.groups or ServerConfig().groups,
        certificate_key=_key_kind(identity.private_key),
        alpn=tuple(a.encode() for a in args.alpn),
        client_auth=args.require_client_cert,
        client_trust_roots=tuple(client_roots),
        tickets=args.tickets,
    )
    if args.keylog:  # find out now, not once per connection
        try:
            open(args.keylog, "a").close()
        except OSError as error:
            return _fail("server", f"cannot append to {args.keylog}: {error.strerror or error}")
    keylog_lock = threading.Lock()

    def log(session: Session) -> None:
        print(session.summary(), flush=True)
        if args.keylog and session.connection.handshake_complete:
            try:
                with keylog_lock, open(args.keylog, "a") as handle:
                    handle.write(session.trace.keylog().dumps())
            except OSError as error:
                _fail("server", f"cannot append to {args.keylog}: {error.strerror or error}")

    try:
        # the address family follows --host (::1 needs an IPv6 socket)
        family = socket.getaddrinfo(args.host, args.port, type=socket.SOCK_STREAM)[0][0]
        listener = socket.create_server((args.host, args.port), family=family, backlog=128)
    except OSError as error:
        return _fail("server", f"cannot listen on {args.host}:{args.port}: {error.strerror}")
    with listener:
        server = Server(
            listener,
            config,
            identity,
            on_session=log,
            handshake_timeout=args.timeout,
            idle_timeout=args.idle_timeout,
            max_lifetime=args.max_lifetime,
            max_connections=args.max_connections,
        )
        print(f"tlslab echo server on {args.host}:{server.port}", flush=True)
        try:
            server.serve_forever(once=args.once)
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0


# -- explain -------------------------------------------------------------------------------------


def add_explain(sub: Any) -> None:
    p = sub.add_parser("explain", help="annotate a record or handshake message given in hex")
    p.add_argument("hex", nargs="?", help="hex bytes (default: read from standard input)")
    p.add_argument("--tls", choices=["1.2", "1.3"], help="version, where message forms differ")
    p.set_defaults(handler=cmd_explain)


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


def add_capture(sub: Any) -> None:
    p = sub.add_parser(
        "capture", help="walk a pcap/pcapng capture through tlslab (with its key log)"
    )
    p.add_argument("file", help="a pcap or pcapng file (tcpdump -w, Wireshark, dumpcap)")
    p.add_argument(
        "--keylog", metavar="FILE", help="the SSLKEYLOGFILE the browser or OpenSSL wrote"
    )
    p.add_argument(
        "--connection", type=int, metavar="N", help="trace connection N (numbered as listed)"
    )
    p.set_defaults(handler=cmd_capture)


def cmd_capture(args: argparse.Namespace) -> int:
    """Open a pcap/pcapng capture (and its SSLKEYLOGFILE): list its TLS connections, trace one."""
    from .errors import TLSError
    from .net.capture import open_capture

    try:
        capture = open_capture(args.file, keylog=args.keylog)
    except (OSError, TLSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.connection is None:
        print(capture.summary())
        if len(capture):
            print(f"\nnext: python -m tlslab capture {args.file} ... --connection N")
        return 0
    if not 0 <= args.connection < len(capture):
        print(
            f"error: no connection {args.connection}; the capture has {len(capture)}",
            file=sys.stderr,
        )
        return 2
    print(capture[args.connection].trace())
    return 0


# -- the parser ----------------------------------------------------------------------------------

SUBCOMMANDS: list[Callable[[Any], None]] = [
    add_demo,
    add_client,
    add_server,
    add_explain,
    add_capture,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tlslab", description="tlslab: learn TLS on real bytes"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:  # Ctrl-C: one line and 128 + SIGINT, as a shell reports it
        _fail(args.command, "interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
