"""Which roots the client trusts (tlslab.net.trust): bundles the test writes, the machine's own
store, the certifi fallback. Nothing here needs the internet."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import certifi
import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tlslab.engine.client import ClientConfig
from tlslab.engine.server import ServerIdentity
from tlslab.net import trust
from tlslab.net.sockets import connect, serve_in_thread
from tlslab.pki.certificates import build_chain
from tlslab.stages.negotiation import ServerConfig

from .openssl_peers import HOST, chain_for

NOW = dt.datetime.now(dt.timezone.utc)


def _bundle(tmp_path: Path) -> tuple[Path, list[bytes]]:
    """Three other teaching roots, lab.example's root, and one block that is not a certificate."""
    others = [build_chain(f"other{i}.example", seed=f"trust {i}", now=NOW) for i in range(3)]
    pems = [c.root.certificate.public_bytes(Encoding.PEM) for c in others]
    pems.insert(2, chain_for("ecdsa").root.certificate.public_bytes(Encoding.PEM))
    broken = b"-----BEGIN CERTIFICATE-----\nTm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
    path = tmp_path / "bundle.pem"
    path.write_bytes(b"# a comment line, as in Debian's bundle\n" + b"".join(pems) + broken)
    return path, pems


def test_a_bundle_file_the_test_writes(tmp_path: Path) -> None:
    path, pems = _bundle(tmp_path)
    store = trust.load_trust_roots(path)
    assert [c.public_bytes(Encoding.PEM) for c in store.roots] == pems
    assert store.skipped == 1 and store.source == str(path)
    assert repr(store) == f"<TrustStore 4 roots from {path}, 1 skipped>"


def test_the_bundle_is_what_the_client_trusts(tmp_path: Path) -> None:
    path, _ = _bundle(tmp_path)
    roots = trust.load_trust_roots(path).roots
    port, sessions, thread = serve_in_thread(
        ServerConfig(), ServerIdentity.from_chain(chain_for("ecdsa"))
    )
    session = connect(
        "127.0.0.1", port, ClientConfig(server_name=HOST, trust_roots=roots), send=b"trusted"
    )
    thread.join(20)
    assert session.received == b"trusted" and sessions[0].ok


def test_a_directory_of_certificates_without_duplicates(tmp_path: Path) -> None:
    _, pems = _bundle(tmp_path)
    folder = tmp_path / "certs"
    folder.mkdir()
    for i, pem in enumerate(pems):
        (folder / f"{i}.pem").write_bytes(pem)
    (folder / "again.pem").write_bytes(pems[0])  # a hashed-name link to the same root
    (folder / "README").write_text("not a certificate")
    store = trust.load_trust_roots(folder)
    assert sorted(c.public_bytes(Encoding.PEM) for c in store.roots) == sorted(pems)


def test_a_file_without_certificates_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(ValueError, match="no certificate found in"):
        trust.load_trust_roots(empty)


def test_ssl_cert_file_overrides_the_system_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = _bundle(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    store = trust.system_trust_roots()
    assert store.source == str(path) and len(store.roots) == 4


def test_the_machines_own_store() -> None:
    """Whatever this machine has: a bundle file or directory that exists, or certifi's list."""
    store = trust.system_trust_roots()
    assert len(store.roots) >= 10
    assert os.path.exists(store.source) or store.source == "the Windows certificate store"


def test_certifi_when_the_machine_has_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trust, "_candidates", list)
    monkeypatch.setattr(trust.sys, "platform", "linux")
    store = trust.system_trust_roots()
    assert store.source == certifi.where() and len(store.roots) >= 10
