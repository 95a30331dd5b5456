"""OpenSSL 4 as a peer, through pyOpenSSL: the post-quantum lab's real counterpart.

Python's ``ssl`` module links the system OpenSSL, which may predate ML-KEM (OpenSSL 3.0 does).
``cryptography``'s wheel ships its own OpenSSL (4.x), and pyOpenSSL drives exactly that library,
so it speaks X25519MLKEM768, SecP256r1MLKEM768, SecP384r1MLKEM1024 and ML-DSA certificates.

Each peer runs in a child process (``python -m tlslab.net.openssl4``) so that ``OPENSSL_CONF`` can
set its groups, the way an administrator would (``Groups = X25519MLKEM768``); without ``groups``
it keeps OpenSSL 4's defaults (the hybrid first, with key shares for X25519MLKEM768 and X25519).
The child reports what it negotiated *from its own side*: version, cipher, group and the
signature algorithm of the certificate it saw. Loopback only. Taught in notebook 10_post_quantum.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# OpenSSL's names for the IANA groups (as in ``openssl list -tls-groups``).
OPENSSL_GROUP_NAMES = {
    0x0017: "P-256",
    0x0018: "P-384",
    0x0019: "P-521",
    0x001D: "X25519",
    0x001E: "X448",
    0x0100: "ffdhe2048",
    0x0101: "ffdhe3072",
    0x0102: "ffdhe4096",
    0x0200: "MLKEM512",
    0x0201: "MLKEM768",
    0x0202: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768",
    0x11EC: "X25519MLKEM768",
    0x11ED: "SecP384r1MLKEM1024",
}


def openssl4_version() -> str | None:
    """The OpenSSL that pyOpenSSL links (``cryptography``'s own), or None without pyOpenSSL."""
    try:
        from OpenSSL import SSL
    except ImportError:
        return None
    return str(SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode())


@dataclass(frozen=True)
class PeerReport:
    """What the OpenSSL 4 peer saw: its own view of the negotiated parameters."""

    role: str
    version: str = ""
    cipher: str = ""
    group: str = ""
    certificate_algorithm: str = ""  # signature algorithm of the server's certificate
    received: bytes = b""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.version)


@dataclass
class OpenSSL4Server:
    """A running OpenSSL 4 server child: its ``port``; :meth:`report` after the connection."""

    port: int
    _child: Any = field(repr=False)

    def report(self) -> PeerReport:
        """Wait for the child's account of the next connection it served."""
        line = self._child.stdout.readline()
        if not line:
            return PeerReport("server", error=self._child.stderr.read()[-500:])
        return _report(json.loads(line))


def _report(data: dict[str, Any]) -> PeerReport:
    data["received"] = bytes.fromhex(data.get("received", ""))
    return PeerReport(**data)


def _config(groups: Sequence[int] | None, directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"}
    if groups:
        conf = directory / "openssl.cnf"
        conf.write_text(
            "openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n"
            "[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\n"
            "Groups = " + ":".join(OPENSSL_GROUP_NAMES[g] for g in groups) + "\n"
        )
        env["OPENSSL_CONF"] = str(conf)
    return env


def _spawn(env: dict[str, str]) -> Any:
    child = subprocess.Popen(
        [sys.executable, "-m", "tlslab.net.openssl4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return child


def _write_pems(chain: Any, directory: Path) -> dict[str, str]:
    leaf = chain.leaf
    (directory / "chain.pem").write_bytes(
        leaf.cert_pem() + b"".join(i.cert_pem() for i in chain.intermediates)
    )
    (directory / "key.pem").write_bytes(leaf.key_pem())
    (directory / "root.pem").write_bytes(chain.root.cert_pem())
    return {k: str(directory / f"{k}.pem") for k in ("chain", "key", "root")}


@contextlib.contextmanager
def openssl4_server(
    chain: Any,
    *,
    groups: Sequence[int] | None = None,
    connections: int = 1,
    timeout: float = 10.0,
) -> Iterator[OpenSSL4Server]:
    """An OpenSSL 4 echo server on 127.0.0.1 for ``connections`` connections one after another,
    serving ``chain`` (a teaching-PKI :class:`~tlslab.pki.certificates.Chain`; ECDSA, RSA, Ed25519
    or ML-DSA) with ``groups``. Call :meth:`OpenSSL4Server.report` once per connection."""
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_pems(chain, Path(tmp))
        child = _spawn(_config(groups, Path(tmp)))
        request = {"role": "server", "timeout": timeout, "connections": connections, **files}
        child.stdin.write(json.dumps(request) + "\n")
        child.stdin.close()
        try:
            first = child.stdout.readline()
            if not first:
                raise RuntimeError("OpenSSL 4 server did not start: " + child.stderr.read()[-500:])
            yield OpenSSL4Server(int(json.loads(first)["port"]), child)
        finally:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout)
            if child.poll() is None:
                child.kill()
                child.wait()


def openssl4_client(
    port: int,
    root: Any,
    *,
    server_name: str = "lab.example",
    groups: Sequence[int] | None = None,
    payload: bytes = b"ping from OpenSSL 4",
    timeout: float = 10.0,
) -> PeerReport:
    """Connect an OpenSSL 4 client that trusts ``root`` (an x509 certificate) to 127.0.0.1:``port``,
    offering ``groups`` (default: OpenSSL 4's own list); send ``payload``, read the echo."""
    from cryptography.hazmat.primitives.serialization import Encoding

    with tempfile.TemporaryDirectory() as tmp:
        root_pem = Path(tmp) / "root.pem"
        root_pem.write_bytes(root.public_bytes(Encoding.PEM))
        request = {
            "role": "client",
            "port": port,
            "root": str(root_pem),
            "server_name": server_name,
            "payload": payload.hex(),
            "timeout": timeout,
        }
        child = _spawn(_config(groups, Path(tmp)))
        out, err = child.communicate(json.dumps(request) + "\n", timeout=timeout + 5)
    if not out.strip():
        return PeerReport("client", error=err[-500:])
    return _report(json.loads(out.strip().splitlines()[-1]))


# -- the child process ---------------------------------------------------------------------------


def _describe(conn: Any, role: str, received: bytes) -> dict[str, Any]:
    # the server's certificate: the one the client verified, or the one the server served
    certificate = conn.get_peer_certificate() if role == "client" else conn.get_certificate()
    algorithm = ""
    if certificate is not None:
        oid = certificate.to_cryptography().signature_algorithm_oid
        algorithm = getattr(oid, "_name", oid.dotted_string)
    group = conn.get_group_name()
    return {
        "role": role,
        "version": conn.get_protocol_version_name(),
        "cipher": conn.get_cipher_name() or "",
        "group": group.decode() if isinstance(group, bytes) else (group or ""),
        "certificate_algorithm": algorithm,
        "received": received.hex(),
    }


def _blocking_with_deadline(sock: socket.socket, seconds: float) -> None:
    """pyOpenSSL needs a blocking socket; kernel timeouts still stop a silent peer."""
    sock.settimeout(None)
    timeval = struct.pack("ll", int(seconds), 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


def _child_server(request: dict[str, Any]) -> None:
    from OpenSSL import SSL

    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.use_certificate_chain_file(request["chain"])
    ctx.use_privatekey_file(request["key"])
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(request["timeout"])
        print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
        for _ in range(request["connections"]):
            raw, _ = listener.accept()
            print(json.dumps(_serve_one(ctx, raw, request["timeout"])), flush=True)


def _serve_one(ctx: Any, raw: socket.socket, timeout: float) -> dict[str, Any]:
    from OpenSSL import SSL

    _blocking_with_deadline(raw, timeout)
    conn = SSL.Connection(ctx, raw)
    conn.set_accept_state()
    try:
        conn.do_handshake()
        data = b""
        with contextlib.suppress(SSL.ZeroReturnError, SSL.SysCallError):
            data = conn.recv(65536)
            if data:
                conn.sendall(data)
            conn.shutdown()
        return _describe(conn, "server", data)
    except SSL.Error as exc:
        return {"role": "server", "error": f"OpenSSL: {exc!r}"}
    finally:
        raw.close()


def _child_client(request: dict[str, Any]) -> dict[str, Any]:
    from OpenSSL import SSL

    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.load_verify_locations(request["root"])
    ctx.set_verify(SSL.VERIFY_PEER, lambda *args: bool(args[-1]))
    raw = socket.create_connection(("127.0.0.1", request["port"]), timeout=request["timeout"])
    _blocking_with_deadline(raw, request["timeout"])
    conn = SSL.Connection(ctx, raw)
    conn.set_tlsext_host_name(request["server_name"].encode())
    conn.set_connect_state()
    try:
        conn.do_handshake()
        conn.sendall(bytes.fromhex(request["payload"]))
        reply = conn.recv(65536)
        with contextlib.suppress(SSL.Error):
            conn.shutdown()
        return _describe(conn, "client", reply)
    except SSL.Error as exc:
        return {"role": "client", "error": f"OpenSSL: {exc!r}"}
    finally:
        raw.close()


def _main() -> None:
    request = json.loads(sys.stdin.readline())
    if request["role"] == "server":
        _child_server(request)
    else:
        print(json.dumps(_child_client(request)), flush=True)


if __name__ == "__main__":
    _main()
