"""Notebook 11 (resumption and 0-RTT): the binder checker names each mistake; recorded TLS 1.2
ticket resumption between two OpenSSL peers; an OpenSSL client resumes with tlslab's tickets."""

from __future__ import annotations

import pytest

from tlslab import (
    CipherSuite,
    ClientConfig,
    ExtensionType,
    ProtocolVersion,
    ServerConfig,
    ServerIdentity,
    TLSClient,
    TLSServer,
    build_chain,
    explain,
    handshake_in_memory,
    seeded_rng,
)
from tlslab.lab.exercises_part2 import binder_exercise
from tlslab.lab.peers import openssl_client_resumes, record_openssl_connections
from tlslab.net.sockets import serve_in_thread
from tlslab.pki.certificates import LAB_NOW, real_now
from tlslab.stages import keyschedule as ks
from tlslab.stages.hello import truncated_client_hello
from tlslab.wire.messages import decode_handshake


@pytest.fixture(scope="module")
def resumed_hello() -> tuple[bytes, bytes]:
    chain = build_chain("lab.example", seed="test resumption")
    identity = ServerIdentity.from_chain(chain)
    store: dict[bytes, tuple[bytes, int]] = {}
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(chain.trust_roots),
        now=LAB_NOW,
        versions=(ProtocolVersion.TLS13,),
        cipher_suites=(CipherSuite.TLS_AES_128_GCM_SHA256,),
    )
    first = TLSClient(config, seeded_rng("c1"))
    server = TLSServer(ServerConfig(tickets=1), identity, seeded_rng("s1"), ticket_store=store)
    assert handshake_in_memory(first, server).completed
    second = TLSClient(config.replace(session_ticket=first.tickets[0]), seeded_rng("c2"))
    result = handshake_in_memory(
        second, TLSServer(ServerConfig(), identity, seeded_rng("s2"), ticket_store=store)
    )
    assert result.completed and second.resumed
    return second.trace.messages()[0].data, first.tickets[0].psk


def _pieces(hello: bytes, psk: bytes) -> tuple[bytes, bytes, bytes]:
    offered = decode_handshake(hello).extensions[-1]
    truncated = truncated_client_hello(hello, offered)  # type: ignore[arg-type]
    early = ks.early_secret(psk)
    return truncated, early, offered.binders[0]  # type: ignore[attr-defined]


def test_the_wire_binder_is_the_right_answer(resumed_hello: tuple[bytes, bytes]) -> None:
    hello, psk = resumed_hello
    _, _, wire_binder = _pieces(hello, psk)
    exercise = binder_exercise(hello, psk)
    assert exercise.check(wire_binder)
    assert exercise.check(wire_binder.hex())


@pytest.mark.parametrize(
    ("mistake", "field"),
    [
        ("ext binder", "label"),
        ("whole hello", "truncation"),
        ("cut only the hmac", "truncation"),
        ("kept the list length", "truncation"),
        ("no header", "handshake header"),
        ("no finished key", "finished_key"),
        ("early secret as key", "binder_key"),
        ("no psk", "psk"),
        ("short", "length"),
        ("random", "value"),
    ],
)
def test_each_binder_mistake_is_named(
    resumed_hello: tuple[bytes, bytes], mistake: str, field: str
) -> None:
    hello, psk = resumed_hello
    truncated, early, _ = _pieces(hello, psk)
    key = ks.binder_key(early)
    answer = {
        "ext binder": ks.psk_binder(
            ks.binder_key(early, external=True), ks.digest("sha256", truncated)
        ),
        "whole hello": ks.psk_binder(key, ks.digest("sha256", hello)),
        "cut only the hmac": ks.psk_binder(key, ks.digest("sha256", hello[:-32])),
        "kept the list length": ks.psk_binder(key, ks.digest("sha256", hello[:-33])),
        "no header": ks.psk_binder(key, ks.digest("sha256", truncated[4:])),
        "no finished key": ks.hmac_digest("sha256", key, ks.digest("sha256", truncated)),
        "early secret as key": ks.psk_binder(early, ks.digest("sha256", truncated)),
        "no psk": ks.psk_binder(
            ks.binder_key(ks.early_secret(None)), ks.digest("sha256", truncated)
        ),
        "short": bytes(16),
        "random": bytes(range(32)),
    }[mistake]
    feedback = binder_exercise(hello, psk).check(answer)
    assert not feedback
    assert [f.field for f in feedback.findings] == [field]


def test_binder_exercise_needs_a_psk_offer() -> None:
    hello = TLSClient(ClientConfig(server_name="x"), seeded_rng(1))
    hello.start()
    raw = hello.trace.messages()[0].data
    with pytest.raises(ValueError, match="pre_shared_key"):
        binder_exercise(raw, bytes(32))


@pytest.mark.interop
def test_recorded_tls12_ticket_resumption() -> None:
    full, resumed = record_openssl_connections(version="1.2", connections=2, seed="t12")
    assert not full.reused and resumed.reused
    server_flight = explain(full.server_to_client).messages
    ticket = next(m for m in server_flight if type(m).__name__ == "NewSessionTicket12")
    hello = explain(resumed.client_to_server).messages[0]
    assert hello.extension(ExtensionType.session_ticket).ticket == ticket.ticket  # type: ignore[union-attr]
    assert [type(m).__name__ for m in explain(resumed.server_to_client).messages] == ["ServerHello"]


@pytest.mark.interop
def test_recorded_tls13_resumption_decrypts_without_certificate() -> None:
    from tlslab import decrypt_session

    full, resumed = record_openssl_connections(version="1.3", connections=2, seed="t13")
    assert resumed.reused
    names = [
        n
        for _, n in decrypt_session(
            resumed.client_to_server, resumed.server_to_client, resumed.keylog
        ).messages()
    ]
    assert "Certificate13" not in names and "Finished" in names
    full_names = [
        n
        for _, n in decrypt_session(
            full.client_to_server, full.server_to_client, full.keylog
        ).messages()
    ]
    assert "Certificate13" in full_names and "NewSessionTicket13" in full_names


@pytest.mark.interop
def test_openssl_client_resumes_with_tlslab_tickets() -> None:
    chain = build_chain("lab.example", seed="test live resumption", now=real_now())
    port, sessions, thread = serve_in_thread(
        ServerConfig(tickets=2), ServerIdentity.from_chain(chain), connections=2
    )
    outcome = openssl_client_resumes(port, chain.root.certificate)
    thread.join(10)
    assert [reused for _, reused, _ in outcome] == [False, True]
    assert [reply for _, _, reply in outcome] == [b"connection 1", b"connection 2"]
    assert [s.connection.resumed for s in sessions] == [False, True]
