"""Post-quantum interop with OpenSSL 4 (pyOpenSSL, the OpenSSL inside cryptography's wheel) over
127.0.0.1, both roles. Every group is checked from the *peer's* side: what OpenSSL says it
negotiated, not what tlslab believes."""

from __future__ import annotations

import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

pytest.importorskip("OpenSSL")

from tlslab.constants import NamedGroup, ProtocolVersion
from tlslab.engine.client import ClientConfig
from tlslab.engine.server import ServerIdentity
from tlslab.net.openssl4 import OPENSSL_GROUP_NAMES, openssl4_client, openssl4_server
from tlslab.net.sockets import connect, serve_in_thread
from tlslab.pki.certificates import Chain, build_chain, real_now
from tlslab.rng import seeded_rng
from tlslab.stages.hello import build_client_hello
from tlslab.stages.negotiation import ServerConfig, negotiate

pytestmark = pytest.mark.interop
G = NamedGroup
HOST = "lab.example"
PQ_GROUPS = [
    G.X25519MLKEM768,
    G.SecP256r1MLKEM768,
    G.SecP384r1MLKEM1024,
    G.MLKEM768,
    G.MLKEM1024,
]


@cache
def chain_for(key_type: str) -> Chain:
    return build_chain(HOST, now=real_now(), seed="pq interop", key_type=key_type)


def _client_config(chain: Chain, **changes: object) -> ClientConfig:
    return ClientConfig(server_name=HOST, trust_roots=(chain.root.certificate,)).replace(**changes)


def test_openssl4_defaults_to_the_hybrid_both_ways() -> None:
    """No configuration on either side: browsers' and OpenSSL 4's default is X25519MLKEM768."""
    chain = chain_for("ecdsa-p256")
    with openssl4_server(chain) as server:
        session = connect("127.0.0.1", server.port, _client_config(chain), send=b"pq?")
        report = server.report()
    assert report.ok, report.error
    assert (report.version, report.group, report.received) == ("TLSv1.3", "X25519MLKEM768", b"pq?")
    assert session.received == b"pq?"
    assert session.trace.parameters()["group"] == G.X25519MLKEM768

    port, sessions, thread = serve_in_thread(ServerConfig(), ServerIdentity.from_chain(chain))
    report = openssl4_client(port, chain.root.certificate, server_name=HOST)
    thread.join(10)
    assert report.ok, report.error
    assert (report.version, report.group) == ("TLSv1.3", "X25519MLKEM768")
    assert report.received == b"ping from OpenSSL 4"
    assert sessions[0].trace.parameters()["group"] == G.X25519MLKEM768


def test_tlslab_client_with_openssl4_server_for_each_post_quantum_group() -> None:
    """One OpenSSL 4 server configured with only the post-quantum groups; tlslab offers one at a
    time (with a share), and OpenSSL reports that group each time."""
    chain = chain_for("ecdsa-p256")
    with openssl4_server(chain, groups=PQ_GROUPS, connections=len(PQ_GROUPS)) as server:
        for group in PQ_GROUPS:
            config = _client_config(chain, groups=(group, G.x25519), key_share_groups=(group,))
            session = connect("127.0.0.1", server.port, config, send=b"hello")
            report = server.report()
            assert report.ok, report.error
            assert report.group == OPENSSL_GROUP_NAMES[group]
            assert session.received == b"hello" and report.received == b"hello"
            assert not session.connection._retried


@pytest.mark.parametrize("group", PQ_GROUPS, ids=lambda g: G(g).name)
def test_openssl4_client_configured_for_group_with_tlslab_server(group: int) -> None:
    chain = chain_for("ecdsa-p256")
    port, sessions, thread = serve_in_thread(
        ServerConfig(groups=(group, G.x25519)), ServerIdentity.from_chain(chain)
    )
    report = openssl4_client(port, chain.root.certificate, server_name=HOST, groups=(group,))
    thread.join(10)
    assert report.ok, report.error
    assert report.group == OPENSSL_GROUP_NAMES[group]
    assert report.received == b"ping from OpenSSL 4"
    assert sessions[0].trace.parameters()["group"] == group


def test_mldsa65_certificate_tlslab_client_validates_openssl4_server() -> None:
    chain = chain_for("mldsa65")
    with openssl4_server(chain) as server:
        session = connect("127.0.0.1", server.port, _client_config(chain), send=b"pq cert")
        report = server.report()
    assert report.ok, report.error
    assert (report.group, report.certificate_algorithm) == ("X25519MLKEM768", "ML-DSA-65")
    checks = {e.name: e.ok for e in session.trace.events if e.kind == "check"}
    assert any("CertificateVerify" in name and ok for name, ok in checks.items()), checks
    assert session.received == b"pq cert"


def test_mldsa65_certificate_openssl4_client_verifies_tlslab_server() -> None:
    chain = chain_for("mldsa65")
    port, sessions, thread = serve_in_thread(
        ServerConfig(certificate_key="mldsa65"), ServerIdentity.from_chain(chain)
    )
    report = openssl4_client(port, chain.root.certificate, server_name=HOST)
    thread.join(10)
    assert report.ok, report.error  # OpenSSL verified the ML-DSA chain and CertificateVerify
    assert (report.group, report.certificate_algorithm) == ("X25519MLKEM768", "ML-DSA-65")


def test_openssl4_rejects_a_tlslab_mldsa_chain_it_does_not_trust() -> None:
    """The check above can fail: the same server with a root OpenSSL does not know is refused."""
    chain = chain_for("mldsa65")
    stranger = build_chain(HOST, now=real_now(), seed="someone else", key_type="mldsa65")
    port, _, thread = serve_in_thread(
        ServerConfig(certificate_key="mldsa65"), ServerIdentity.from_chain(chain)
    )
    report = openssl4_client(port, stranger.root.certificate, server_name=HOST)
    thread.join(10)
    assert not report.ok and "certificate verify failed" in report.error


def test_hello_retry_request_from_a_hybrid_only_openssl4_server() -> None:
    """tlslab sends only an X25519 share; OpenSSL 4 (hybrid only) asks for X25519MLKEM768."""
    chain = chain_for("ecdsa-p256")
    config = _client_config(
        chain, groups=(G.x25519, G.X25519MLKEM768), key_share_groups=(G.x25519,)
    )
    with openssl4_server(chain, groups=(G.X25519MLKEM768,)) as server:
        session = connect("127.0.0.1", server.port, config, send=b"after HRR")
        report = server.report()
    assert report.ok, report.error
    assert report.group == "X25519MLKEM768"
    assert session.connection._retried
    names = [e.name for e in session.trace.messages()]
    assert names.count("ClientHello") == 2, names


def test_hello_retry_request_from_a_hybrid_only_tlslab_server() -> None:
    """OpenSSL 4 offers X25519MLKEM768 and SecP256r1MLKEM768 but sends a share only for the first;
    tlslab, configured for SecP256r1MLKEM768 alone, asks for it."""
    chain = chain_for("ecdsa-p256")
    port, sessions, thread = serve_in_thread(
        ServerConfig(groups=(G.SecP256r1MLKEM768,)), ServerIdentity.from_chain(chain)
    )
    report = openssl4_client(
        port,
        chain.root.certificate,
        server_name=HOST,
        groups=(G.X25519MLKEM768, G.SecP256r1MLKEM768),
    )
    thread.join(10)
    assert report.ok, report.error
    assert report.group == "SecP256r1MLKEM768"
    names = [e.name for e in sessions[0].trace.messages()]
    assert names.count("ClientHello") == 2, names


@pytest.mark.parametrize(
    "groups,shares",
    [
        ((G.x25519, G.X25519MLKEM768), (G.x25519,)),
        ((G.secp256r1, G.X25519MLKEM768, G.x25519), (G.secp256r1,)),
        ((G.X25519MLKEM768, G.x25519), (G.X25519MLKEM768, G.x25519)),
    ],
    ids=["x25519-share-only", "p256-share-only", "both-shares"],
)
def test_server_policy_matches_openssl4(groups: tuple[int, ...], shares: tuple[int, ...]) -> None:
    """The same hello to OpenSSL 4's default server and to tlslab's negotiate(): same group,
    same decision about a HelloRetryRequest."""
    chain = chain_for("ecdsa-p256")
    config = _client_config(chain, groups=groups, key_share_groups=shares)
    with openssl4_server(chain) as server:
        session = connect("127.0.0.1", server.port, config)
        report = server.report()
    hello = build_client_hello(HOST, groups=groups, key_share_groups=shares, rng=seeded_rng(1))
    decision = negotiate(hello, ServerConfig())
    assert report.group == OPENSSL_GROUP_NAMES[decision.group or 0] == "X25519MLKEM768"
    assert bool(session.connection._retried) == decision.hello_retry_request


def test_tls12_with_openssl4_stays_classical() -> None:
    chain = chain_for("ecdsa-p256")
    config = _client_config(chain, versions=(ProtocolVersion.TLS12,))
    with openssl4_server(chain) as server:
        connect("127.0.0.1", server.port, config, send=b"1.2")
        report = server.report()
    assert report.ok, report.error
    assert (report.version, report.group) == ("TLSv1.2", "x25519")


def test_cli_server_with_mldsa_certificate_and_groups_flag(tmp_path: Path) -> None:
    """`tlslab server --groups SecP256r1MLKEM768` with an ML-DSA-65 key; OpenSSL 4 connects."""
    chain = chain_for("mldsa65")
    (tmp_path / "chain.pem").write_bytes(
        chain.leaf.cert_pem() + b"".join(i.cert_pem() for i in chain.intermediates)
    )
    (tmp_path / "key.pem").write_bytes(chain.leaf.key_pem())
    command = [sys.executable, "-m", "tlslab", "server", "--port", "0", "--timeout", "20"]
    command += ["--cert", str(tmp_path / "chain.pem"), "--key", str(tmp_path / "key.pem")]
    command += ["--groups", "SecP256r1MLKEM768,x25519"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
        report = openssl4_client(
            port,
            chain.root.certificate,
            server_name=HOST,
            groups=(G.X25519MLKEM768, G.SecP256r1MLKEM768, G.x25519),
        )
    finally:
        server.kill()
        server.wait()
    assert report.ok, report.error
    # the server prefers the post-quantum group it has; OpenSSL sent no share for it: HRR, then it
    assert (report.group, report.certificate_algorithm) == ("SecP256r1MLKEM768", "ML-DSA-65")
