"""Attacks on TLS 1.2 resumption (RFC 5077, RFC 7627 §5.3) found in review, each with the exact
verdict: a replayed ClientHello may not add tickets to the server's store, one NewSessionTicket
per handshake, no ChangeCipherSpec before the ServerHello for a TLS 1.2-only client; plus what
tlslab does with an empty session_id, a huge ticket, a ticket from another server, and that
the session's secret never appears in a repr."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from tests.test_resumption12 import (
    CLIENT_CHAIN,
    _assert_refused,
    _client,
    _first,
    _received,
    _rewrite_sends,
    _sent,
    _server,
)
from tlslab.constants import AlertDescription
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import StoredTicket
from tlslab.pki.certificates import build_chain
from tlslab.wire.messages import Finished, HandshakeMessage, NewSessionTicket12
from tlslab.wire.record import TLSPlaintext


def test_a_replayed_resuming_client_hello_files_no_ticket() -> None:
    """The renewed ticket (RFC 5077 §3.1) goes out in the clear before the client proves it holds
    the session; filing it then would let anyone replaying a captured ClientHello grow the store
    (or, with the bounded store of net.sockets, push real sessions out). It is filed only once
    the client's Finished checks."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    attacker = _client("replayed", session_ticket=ticket)
    attacker.start()
    captured = attacker.data_to_send()
    for index in range(5):
        server = _server(f"replay {index}", store)
        server.receive_data(captured)
        assert "NewSessionTicket12" in _sent(server)  # the renewal offered, never proven
    assert list(store) == [ticket.ticket]
    # the honest client's renewed ticket is filed after its Finished, and resumes
    client, server = _client("honest", session_ticket=ticket), _server("honest", store)
    result = handshake_in_memory(client, server)
    assert result.completed and server.resumed
    [renewed] = client.tickets
    assert list(store) == [ticket.ticket, renewed.ticket]
    third = _client("third", session_ticket=renewed)
    assert handshake_in_memory(third, _server("third", store)).completed and third.resumed


def _twice(message: HandshakeMessage) -> list[HandshakeMessage]:
    return [message, message] if isinstance(message, NewSessionTicket12) else [message]


def test_client_refuses_a_second_new_session_ticket_in_a_full_handshake() -> None:
    client, server = _client("two tickets"), _server("two tickets", {})
    _rewrite_sends(server, _twice)
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.unexpected_message)
    assert "second NewSessionTicket" in str(result.error) and client.tickets == []


def test_client_refuses_a_second_new_session_ticket_when_resuming() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client, server = _client("second", session_ticket=ticket), _server("second", store)
    _rewrite_sends(server, _twice)
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.unexpected_message)
    assert "second NewSessionTicket" in str(result.error) and client.tickets == []


def _early_ccs(versions: tuple[int, ...]) -> tuple[object, object]:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    suites = _client("x").config.cipher_suites
    if V.TLS13 in versions:
        suites = (0x1301, *suites)
    client = _client("early", session_ticket=ticket, versions=versions, cipher_suites=suites)
    server = _server("early", store, versions=(V.TLS12,), tickets=0)
    client.start()
    server.receive_data(client.data_to_send())
    ccs = TLSPlaintext(20, b"\x01", V.TLS12).encode()
    return client, ccs + server.data_to_send()


def test_tls12_only_client_refuses_a_change_cipher_spec_before_the_server_hello() -> None:
    client, data = _early_ccs((V.TLS12,))
    try:
        client.receive_data(data)  # type: ignore[attr-defined]
    except Exception as error:  # noqa: BLE001 - the alert is checked below
        assert getattr(error, "alert", None) == AlertDescription.unexpected_message, error
        assert "before the ServerHello" in str(error)
    else:
        raise AssertionError("the early ChangeCipherSpec was accepted")
    assert client.closed and not client.handshake_complete  # type: ignore[attr-defined]


def test_client_offering_tls13_drops_one_ccs_before_the_server_hello_and_still_resumes() -> None:
    """RFC 8446 §5: a client that offered TLS 1.3 drops a dummy ChangeCipherSpec; the server's
    real one (after its abbreviated ServerHello) still switches the keys exactly once."""
    client, data = _early_ccs((V.TLS13, V.TLS12))
    client.receive_data(data)  # type: ignore[attr-defined]
    assert client.resumed and client.handshake_complete  # type: ignore[attr-defined]


def test_server_resumes_with_an_empty_session_id_and_the_flight_says_so() -> None:
    """RFC 5077 §3.4 asks for the echo only when the client's session_id is not empty. tlslab,
    like OpenSSL, resumes and echoes the empty one; the client can still tell, because the
    ServerHello is followed by ChangeCipherSpec, not Certificate (tlslab's client always sends a
    session_id with a ticket, so it never depends on this)."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client = _client("empty id", session_ticket=ticket)
    offer = client._ticket_12_offer
    client._ticket_12_offer = lambda offers_13: {**offer(offers_13), "session_id": b""}  # type: ignore[method-assign]
    server = _server("empty id", store, tickets=0)
    client.start()
    server.receive_data(client.data_to_send())
    assert server.resumed and _sent(server) == ["ServerHello", "ChangeCipherSpec", "Finished"]
    sh = server.transcript.messages[1]
    assert sh[0] == 2 and sh[4 + 2 + 32] == 0  # ServerHello, session_id length 0
    assert any("no session_id" in str(e.value) for e in server.trace.events)
    ours = _client("ours", session_ticket=ticket)
    ours.start()
    assert len(ours.hello.legacy_session_id) == 32  # type: ignore[union-attr]


def test_a_huge_unknown_ticket_gives_a_full_handshake() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    huge = dataclasses.replace(ticket, ticket=b"\xaa" * 65_000)  # near the 2^16-1 limit
    client, server = _client("huge", session_ticket=huge), _server("huge", store)
    result = handshake_in_memory(client, server)
    assert result.completed and not server.resumed and not client.resumed
    assert "Certificate12" in _received(client)
    assert len(store) == 2 and huge.ticket not in store  # the new session's ticket only


def test_a_ticket_from_another_server_instance_gives_a_full_handshake() -> None:
    _, _, ticket = _first({})
    other_store: dict[bytes, StoredTicket] = {}
    client, server = _client("other", session_ticket=ticket), _server("other", other_store)
    result = handshake_in_memory(client, server)
    assert result.completed and not server.resumed and not client.resumed
    assert ticket.ticket not in other_store


def test_no_repr_shows_the_sessions_master_secret() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    secret = ticket.master_secret
    for shown in (repr(ticket), str(ticket), repr(store[ticket.ticket]), repr(store)):
        assert secret.hex() not in shown and repr(secret) not in shown


@pytest.mark.parametrize("first_etm", [True, False], ids=["etm-session", "mte-session"])
def test_a_session_resumes_only_with_its_encrypt_then_mac_status(first_etm: bool) -> None:
    """RFC 7366 §3.1: the record protection of a CBC session does not change on resumption; a
    server whose encrypt-then-MAC choice now differs from the session's makes a new session."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store, rsa=True, server={"encrypt_then_mac": first_etm})
    assert store[ticket.ticket].encrypt_then_mac is first_etm
    client = _client("etm", rsa=True, session_ticket=ticket)
    server = _server("etm", store, rsa=True, encrypt_then_mac=not first_etm)
    result = handshake_in_memory(client, server)
    assert result.completed and not server.resumed and not client.resumed
    assert any("encrypt-then-MAC" in str(e.value) for e in server.trace.events)


def test_client_with_an_empty_session_id_is_not_fooled_by_an_empty_echo() -> None:
    """A server that refuses the ticket and sends an empty session_id (RFC 5077 §3.4 asks that of
    a server about to issue a ticket) starts a full handshake; an empty echo of an empty
    session_id is no sign of resumption."""
    _, _, ticket = _first({})
    client = _client("empty id", session_ticket=ticket)
    offer = client._ticket_12_offer
    client._ticket_12_offer = lambda offers_13: {**offer(offers_13), "session_id": b""}  # type: ignore[method-assign]
    result = handshake_in_memory(client, _server("empty id", {}))  # an unknown ticket
    assert result.completed, result.error
    assert not client.resumed and "Certificate12" in _received(client)


def _mtls(roots: tuple[object, ...]) -> dict[str, object]:
    return {"client_auth": True, "client_trust_roots": roots}


def test_a_server_that_requires_certificates_resumes_only_an_identity_it_trusts() -> None:
    """Two servers share a ticket store; the second trusts another CA for client certificates.
    The session's client identity was authenticated by the first server only: the second makes a
    full handshake (and checks a certificate itself) rather than take over an identity its own
    trust roots would refuse. A server with the same roots still resumes."""
    store: dict[bytes, StoredTicket] = {}
    mtls_client = {
        "certificate_chain": tuple(CLIENT_CHAIN.served()),
        "private_key": CLIENT_CHAIN.leaf.private_key,
    }
    _, _, ticket = _first(store, client=mtls_client, server=_mtls(tuple(CLIENT_CHAIN.trust_roots)))
    other_ca = build_chain("other-client.lab.example", seed="review other client CA")
    client = _client("other CA", session_ticket=ticket, **mtls_client)
    server = _server("other CA", store, **_mtls(tuple(other_ca.trust_roots)))
    result = handshake_in_memory(client, server)
    assert not server.resumed and not client.resumed
    assert "Certificate12" in _received(server)  # it asked for, and judged, a certificate
    assert not result.completed and result.failed_side == "server"  # untrusted by its roots
    assert any("not trusted by this server" in str(e.value) for e in server.trace.events)
    same = _client("same CA", session_ticket=ticket, **mtls_client)
    trusting = _server("same CA", store, **_mtls(tuple(CLIENT_CHAIN.trust_roots)))
    assert handshake_in_memory(same, trusting).completed and trusting.resumed


def test_a_failed_client_authentication_leaves_no_ticket() -> None:
    store: dict[bytes, StoredTicket] = {}
    client = _client("no cert")
    server = _server("no cert", store, **_mtls(tuple(CLIENT_CHAIN.trust_roots)))
    result = handshake_in_memory(client, server)
    _assert_refused(result, "server", AlertDescription.handshake_failure)
    assert store == {} and client.tickets == []


def test_tls13_resumption_also_takes_over_only_a_trusted_client_identity() -> None:
    """The same rule for a TLS 1.3 PSK ticket (RFC 8446 §4.6.1): the ticket is refused, and the
    handshake is a full one with a CertificateRequest."""
    store: dict[bytes, StoredTicket] = {}
    mtls_client = {
        "certificate_chain": tuple(CLIENT_CHAIN.served()),
        "private_key": CLIENT_CHAIN.leaf.private_key,
        "versions": (V.TLS13,),
        "cipher_suites": (0x1301,),
    }
    first = _client("13 first", **mtls_client)
    handshake_in_memory(first, _server("13 first", store, **_mtls(tuple(CLIENT_CHAIN.trust_roots))))
    [ticket, *_] = first.tickets
    other_ca = build_chain("other-client.lab.example", seed="review other client CA")
    client = _client("13 other CA", session_ticket=ticket, **mtls_client)
    server = _server("13 other CA", store, **_mtls(tuple(other_ca.trust_roots)))
    handshake_in_memory(client, server)
    assert not server.resumed and "CertificateRequest13" in _sent(server)
    assert any("not trusted by this server" in str(e.value) for e in server.trace.events)
    same = _client("13 same CA", session_ticket=ticket, **mtls_client)
    trusting = _server("13 same CA", store, **_mtls(tuple(CLIENT_CHAIN.trust_roots)))
    assert handshake_in_memory(same, trusting).completed and trusting.resumed


def test_client_refuses_a_server_finished_that_leaves_out_the_new_session_ticket() -> None:
    """A server bug rather than bytes(12): the abbreviated Finished computed with the right
    master secret over ClientHello and ServerHello only, without the renewed NewSessionTicket
    that RFC 5077 §3.1 puts in the transcript: decrypt_error, nothing delivered."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client, server = _client("short transcript", session_ticket=ticket), _server("st", store)

    def wrong(message: HandshakeMessage) -> list[HandshakeMessage]:
        if isinstance(message, Finished) and server.keys_12 is not None:
            assert server.suite is not None
            digest = hashlib.new(server.suite.hash_name)
            for raw in server.transcript.messages[:2]:  # ClientHello, ServerHello
                digest.update(raw)
            return [Finished(server.keys_12.finished("server", digest.digest()))]
        return [message]

    _rewrite_sends(server, wrong)
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.decrypt_error)
    assert "NewSessionTicket12" in _received(client) and client.tickets == []
