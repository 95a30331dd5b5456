"""OpenSSL peers for interop tests: Python's ssl (OpenSSL) as server and as client on 127.0.0.1,
with certificates from tlslab's teaching PKI issued for the real current time."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
)

from tlslab.net import openssl_lab
from tlslab.pki.certificates import Chain, build_chain

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


@contextlib.contextmanager
def openssl_echo_server(cert: str) -> Iterator[int]:
    """An OpenSSL echo server on 127.0.0.1 for the ``cert`` chain; yields its port."""
    with openssl_lab.openssl_echo_server(chain_for(cert)) as port:
        yield port


def openssl_client_exchange(
    port: int,
    ctx_or_cert: str,
    *,
    version: str = "1.3",
    ciphers: str | None = None,
    payload: bytes = b"ping from OpenSSL",
) -> tuple[str, str, bytes]:
    """Connect OpenSSL (trusting the ``cert`` chain's root) to ``port``; return (version, cipher, reply)."""
    return openssl_lab.openssl_client_exchange(
        port,
        chain_for(ctx_or_cert).root.certificate,
        server_name=HOST,
        version=version,
        ciphers=ciphers,
        payload=payload,
    )


@contextlib.contextmanager
def openssl_s_server(cert: str, *args: str) -> Iterator[int]:
    """The ``openssl s_server`` command on 127.0.0.1 with extra options (e.g. ``-groups P-384``);
    yields its port once it accepts connections. It serves two connections: the readiness probe
    and the test's client."""
    import shutil
    import subprocess
    import time

    chain_pem, key_pem, _ = files_for(cert)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        shutil.which("openssl") or "openssl",
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
        "2",
        "-quiet",
        *args,
    ]
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("openssl s_server did not start") from None
                time.sleep(0.05)
        time.sleep(0.1)  # let it finish with the probe and accept again
        yield port
    finally:
        proc.kill()
        proc.wait(5)
