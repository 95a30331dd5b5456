"""OpenSSL peers for interop tests: Python's ssl (OpenSSL) as server and as client on 127.0.0.1,
with certificates from tlslab's teaching PKI issued for the real current time."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    ParameterFormat,
    PrivateFormat,
)

from tlslab.certificates import Chain, build_chain
from tlslab.constants import NamedGroup
from tlslab.keyexchange import ffdhe_parameters

HOST = "lab.example"
_TMP = Path(tempfile.mkdtemp(prefix="tlslab-interop-"))


@cache
def chain_for(cert: str) -> Chain:
    """ECDSA P-256 or RSA-2048 chains, or an Ed25519 leaf under ECDSA CAs; valid now."""
    now = dt.datetime.now(dt.timezone.utc)
    if cert == "ed25519":
        return build_chain(HOST, now=now, seed="interop", leaf_options={"key_type": "ed25519"})
    return build_chain(
        HOST, now=now, seed="interop", key_type={"ecdsa": "ecdsa-p256", "rsa": "rsa"}[cert]
    )


@cache
def files_for(cert: str) -> tuple[Path, Path, Path]:
    chain = chain_for(cert)
    base = _TMP / cert
    base.mkdir(exist_ok=True)
    pem = chain.leaf.certificate.public_bytes(Encoding.PEM)
    pem += b"".join(i.certificate.public_bytes(Encoding.PEM) for i in chain.intermediates)
    (base / "chain.pem").write_bytes(pem)
    (base / "key.pem").write_bytes(
        chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (base / "root.pem").write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    return base / "chain.pem", base / "key.pem", base / "root.pem"


def _dh_params() -> Path:
    path = _TMP / "ffdhe2048.pem"
    if not path.exists():
        path.write_bytes(
            ffdhe_parameters(NamedGroup.ffdhe2048).parameter_bytes(
                Encoding.PEM, ParameterFormat.PKCS3
            )
        )
    return path


def server_context(cert: str) -> ssl.SSLContext:
    chain_pem, key_pem, _ = files_for(cert)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain_pem, key_pem)
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    ctx.load_dh_params(str(_dh_params()))
    return ctx


def client_context(
    cert: str, *, version: str = "1.3", ciphers: str | None = None
) -> ssl.SSLContext:
    _, _, root_pem = files_for(cert)
    ctx = ssl.create_default_context(cafile=str(root_pem))
    ctx.maximum_version = {"1.3": ssl.TLSVersion.TLSv1_3, "1.2": ssl.TLSVersion.TLSv1_2}[version]
    if ciphers:
        ctx.set_ciphers(ciphers + ":@SECLEVEL=0")
    return ctx


@contextlib.contextmanager
def openssl_echo_server(cert: str) -> Iterator[int]:
    """An OpenSSL echo server on 127.0.0.1 (a thread per connection); yields its port."""
    ctx = server_context(cert)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            conn.settimeout(10)
            with ctx.wrap_socket(conn, server_side=True) as tls:
                data = tls.recv(65536)
                if data:
                    tls.sendall(data)
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.recv(1)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def openssl_client_exchange(
    port: int, ctx: ssl.SSLContext, payload: bytes = b"ping from OpenSSL"
) -> tuple[str, str, bytes]:
    """Connect OpenSSL to ``port``, send ``payload``, return (version, cipher, reply)."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        tls.sendall(payload)
        reply = tls.recv(65536)
        version, cipher = tls.version() or "", (tls.cipher() or ("", "", 0))[0]
    return version, cipher, reply


@contextlib.contextmanager
def openssl_s_server(cert: str, *args: str) -> Iterator[int]:
    """The ``openssl s_server`` command on 127.0.0.1 with extra options (e.g. ``-groups P-384``);
    yields its port once it accepts connections."""
    import shutil
    import subprocess
    import time

    chain_pem, key_pem, _ = files_for(cert)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    openssl = shutil.which("openssl") or "openssl"
    proc = subprocess.Popen(
        [
            openssl,
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            str(chain_pem),
            "-cert_chain",
            str(chain_pem),
            "-key",
            str(key_pem),
            "-naccept",
            "1",
            "-quiet",
            *args,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.2),
            ):
                break
            time.sleep(0.05)
        # that probe connection used up -naccept 1: start again for the real client
        proc.wait(5)
        proc = subprocess.Popen(
            [
                openssl,
                "s_server",
                "-accept",
                f"127.0.0.1:{port}",
                "-cert",
                str(chain_pem),
                "-cert_chain",
                str(chain_pem),
                "-key",
                str(key_pem),
                "-naccept",
                "1",
                "-quiet",
                *args,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)
        yield port
    finally:
        proc.kill()
        proc.wait(5)
