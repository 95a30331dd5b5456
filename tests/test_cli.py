"""The command line: the zero-setup demo against OpenSSL, and client/server against each other."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from tlslab.pki.certificates import build_chain

pytestmark = pytest.mark.interop


def test_demo_runs_with_nothing_else_running() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tlslab", "demo"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "TLS 1.3: tlslab client -> OpenSSL server" in out.stdout
    assert "reply: OpenSSL echoes: hello over TLS 1.3" in out.stdout
    assert "reply: OpenSSL echoes: hello over TLS 1.2" in out.stdout
    assert "check server Finished: ok" in out.stdout


def test_cli_client_and_server(tmp_path: Path) -> None:
    import datetime as dt

    chain = build_chain("localhost", now=dt.datetime.now(dt.timezone.utc), seed="cli")
    cert = tmp_path / "chain.pem"
    cert.write_bytes(
        b"".join(
            c.public_bytes(Encoding.PEM)
            for c in (chain.leaf.certificate, *chain.intermediate_certificates)
        )
    )
    key = tmp_path / "key.pem"
    key.write_bytes(
        chain.leaf.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    root = tmp_path / "root.pem"
    root.write_bytes(chain.root.certificate.public_bytes(Encoding.PEM))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tlslab",
            "server",
            "--port",
            "0",
            "--cert",
            str(cert),
            "--key",
            str(key),
            "--timeout",
            "20",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        port = line.strip().rsplit(":", 1)[1]
        keylog = tmp_path / "keylog.txt"
        client = subprocess.run(
            [
                sys.executable,
                "-m",
                "tlslab",
                "client",
                "127.0.0.1",
                port,
                "--cafile",
                str(root),
                "--servername",
                "localhost",
                "--send",
                "hello cli",
                "--keylog",
                str(keylog),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert client.returncode == 0, client.stderr
        assert "hello cli" in client.stdout
        assert "CLIENT_TRAFFIC_SECRET_0" in keylog.read_text()
        # a client that does not trust the root fails with an alert and a non-zero exit
        bad = subprocess.run(
            [
                sys.executable,
                "-m",
                "tlslab",
                "client",
                "127.0.0.1",
                port,
                "--servername",
                "localhost",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 1 and "unknown_ca" in bad.stderr
    finally:
        time.sleep(0.2)
        server.kill()
        server.wait(5)
