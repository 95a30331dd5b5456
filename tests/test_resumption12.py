"""TLS 1.2 resumption with session tickets (RFC 5077, RFC 7627 §5.3), in memory.

A full handshake issues a ticket; a second handshake presents it and is abbreviated (RFC 5246
§7.3): ServerHello, ChangeCipherSpec, Finished from the server, then the client's. The server
falls back to a full handshake for any ticket it cannot use; the client refuses an abbreviated
handshake that changes the session (each with its exact alert, the connection closed and
nothing delivered).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from tlslab.constants import AlertDescription, ExtensionType
from tlslab.constants import CipherSuite as CS
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.connection import ApplicationData, HandshakeComplete, SessionTicket
from tlslab.engine.memory import InMemoryResult, handshake_in_memory
from tlslab.engine.server import ServerIdentity, StoredTicket, TLSServer
from tlslab.engine.state import State
from tlslab.errors import AlertError, RemoteAlert
from tlslab.pki.certificates import LAB_NOW, build_chain
from tlslab.rng import seeded_rng
from tlslab.stages.negotiation import ServerConfig
from tlslab.wire.extensions import SessionTicket as SessionTicketExtension
from tlslab.wire.messages import (
    Certificate12,
    ClientHello,
    Finished,
    HandshakeMessage,
    ServerHello,
    ServerKeyExchangeECDHE,
    decode_handshake,
)
from tlslab.wire.record import TLSPlaintext

SERVER = build_chain("lab.example", seed="resumption12 server")
RSA_SERVER = build_chain("lab.example", seed="resumption12 rsa", key_type="rsa")
CLIENT_CHAIN = build_chain(
    "client.lab.example",
    seed="resumption12 client",
    leaf_options={"extended_key_usage": ["clientAuth"]},
)
ECDHE_GCM = (CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384)
RSA_CBC = (CS.TLS_RSA_WITH_AES_128_CBC_SHA,)
BOTH = (CS.TLS_AES_128_GCM_SHA256, *ECDHE_GCM)


def _client(seed: str, rsa: bool = False, **changes: Any) -> TLSClient:
    chain = RSA_SERVER if rsa else SERVER
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(chain.trust_roots),
        now=LAB_NOW,
        versions=(V.TLS12,),
        cipher_suites=RSA_CBC if rsa else ECDHE_GCM,
    )
    return TLSClient(config.replace(**changes), seeded_rng(f"{seed} client"))


def _server(
    seed: str, store: dict[bytes, StoredTicket], rsa: bool = False, **changes: Any
) -> TLSServer:
    chain = RSA_SERVER if rsa else SERVER
    config = ServerConfig(tickets=1)
    if rsa:
        config = config.replace(certificate_key="rsa", cipher_suites=RSA_CBC)
    server = TLSServer(
        config.replace(**changes),
        ServerIdentity.from_chain(chain),
        seeded_rng(f"{seed} server"),
        ticket_store=store,
    )
    server.clock = lambda: LAB_NOW
    return server


def _first(
    store: dict[bytes, StoredTicket], rsa: bool = False, client: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
) -> tuple[TLSClient, TLSServer, SessionTicket]:  # fmt: skip
    """A full TLS 1.2 handshake that issues one ticket; returns both sides and the ticket."""
    c = _client("first", rsa, **(client or {}))
    s = _server("first", store, rsa, **(server or {}))
    result = handshake_in_memory(c, s)
    assert result.completed, result.error
    tickets = [e for f in result.flights for e in f.events if isinstance(e, SessionTicket)]
    assert len(tickets) == 1 and c.tickets == tickets and len(store) == 1
    return c, s, tickets[0]


def _received(connection: Any) -> list[str]:
    return [e.name for e in connection.trace.messages() if e.direction == "received"]


def _sent(connection: Any) -> list[str]:
    return [e.name for e in connection.trace.messages() if e.direction == "sent"]


def _events(result: InMemoryResult) -> list[Any]:
    return [e for f in result.flights for e in f.events]


def _hello(client: TLSClient) -> ClientHello:
    assert client.hello is not None
    return client.hello


# -- the full handshake issues a ticket; the second handshake is abbreviated -----------------------
@pytest.mark.parametrize("rsa", [False, True], ids=["ecdhe-gcm", "rsa-cbc-etm"])
def test_full_then_resumed(rsa: bool) -> None:
    store: dict[bytes, StoredTicket] = {}
    first_client, first_server, ticket = _first(store, rsa)
    # the full handshake: an empty SessionTicket in the ServerHello, NewSessionTicket before CCS
    assert first_server.transcript.messages[1][0] == 2  # ServerHello
    sh = decode_handshake(first_server.transcript.messages[1], version=V.TLS12)
    assert isinstance(sh, ServerHello) and sh.extension(ExtensionType.session_ticket) == (
        SessionTicketExtension(b"")
    )
    assert _sent(first_server)[-3:] == ["NewSessionTicket12", "ChangeCipherSpec", "Finished"]
    # the session the client keeps, and the one the server files
    assert first_client.keys_12 is not None
    assert ticket.version == V.TLS12 and ticket.master_secret == first_client.keys_12.master_secret
    assert ticket.extended_master_secret and ticket.server_name == "lab.example"
    assert first_client.suite is not None and ticket.cipher_suite == first_client.suite.suite
    assert ticket.peer_certificates == first_client.peer_certificates != ()
    assert ticket.lifetime == 7200 and ticket.received_at == LAB_NOW
    stored = store[ticket.ticket]
    assert stored.master_secret_12 == ticket.master_secret and stored.extended_master_secret
    assert stored.encrypt_then_mac is rsa  # RFC 7366 applies to the CBC suite only

    client = _client("second", rsa, session_ticket=ticket)
    server = _server("second", store, rsa, tickets=0)  # no renewed ticket: the shortest flow
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    hello = _hello(client)
    assert hello.extension(ExtensionType.session_ticket) == SessionTicketExtension(ticket.ticket)
    assert len(hello.legacy_session_id) == 32
    # RFC 5077 §3.1: ServerHello, ChangeCipherSpec, Finished; then the client's CCS and Finished
    assert _received(client) == ["ServerHello", "Finished"]
    assert _sent(server) == ["ServerHello", "ChangeCipherSpec", "Finished"]
    assert _sent(client) == ["ClientHello", "ChangeCipherSpec", "Finished"]
    assert [f.sender for f in result.flights] == ["client", "server", "client"]
    assert client.resumed and server.resumed
    assert client.keys_12 is not None and server.keys_12 is not None
    assert client.keys_12.master_secret == ticket.master_secret == server.keys_12.master_secret
    assert client.keys_12.key_block != first_client.keys_12.key_block  # new randoms, new keys
    done = [e for e in _events(result) if isinstance(e, HandshakeComplete)]
    assert [e.resumed for e in done] == [True, True]
    client_done = next(e for e in result.flights[1].events if isinstance(e, HandshakeComplete))
    assert client_done.peer_certificates == ticket.peer_certificates
    assert [t[1:] for t in client.transitions][1:] == [
        (State.WAIT_SH, "server_hello", State.WAIT_CCS_RESUMED_12),
        (State.WAIT_CCS_RESUMED_12, "change_cipher_spec", State.WAIT_FINISHED_RESUMED_12),
        (State.WAIT_FINISHED_RESUMED_12, "finished", State.CONNECTED),
    ]
    notes = [e.name for e in client.trace.events]
    assert "offering a TLS 1.2 session ticket" in notes and "resumption (TLS 1.2)" in notes
    # the keylog line lets Wireshark open the resumed connection too
    assert client.trace.keylog().lines()[0].startswith("CLIENT_RANDOM " + hello.random.hex())
    # application data both ways under the new keys
    client.send_application_data(b"resumed request")
    assert server.receive_data(client.data_to_send()) == [ApplicationData(b"resumed request")]
    server.send_application_data(b"resumed reply")
    assert client.receive_data(server.data_to_send()) == [ApplicationData(b"resumed reply")]


def test_resumption_renews_the_ticket() -> None:
    """RFC 5077 §3.1: a server that issues tickets sends a new one in the abbreviated handshake
    (an empty SessionTicket in its ServerHello, NewSessionTicket before its ChangeCipherSpec); the
    new ticket resumes the same session, and its lifetime hint is what is left of the session's."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client, server = _client("second", session_ticket=ticket), _server("second", store)
    server.clock = lambda: LAB_NOW + dt.timedelta(seconds=200)
    result = handshake_in_memory(client, server)
    assert result.completed and client.resumed and server.resumed
    assert _sent(server) == ["ServerHello", "NewSessionTicket12", "ChangeCipherSpec", "Finished"]
    assert _received(client) == ["ServerHello", "NewSessionTicket12", "Finished"]
    assert (State.WAIT_CCS_RESUMED_12, "new_session_ticket", State.WAIT_CCS_RESUMED_12) in [
        t[1:] for t in client.transitions
    ]
    [renewed] = client.tickets
    assert renewed.ticket != ticket.ticket and renewed.master_secret == ticket.master_secret
    assert renewed.lifetime == 7000 and renewed.extended_master_secret
    assert renewed.peer_certificates == ticket.peer_certificates
    assert store[renewed.ticket] == store[ticket.ticket]  # the same session, filed twice
    third = _client("third", session_ticket=renewed)
    result = handshake_in_memory(third, _server("third", store, tickets=0))
    assert result.completed and third.resumed
    assert third.keys_12 is not None and third.keys_12.master_secret == ticket.master_secret


def test_no_ticket_unless_the_server_config_asks() -> None:
    client, server = _client("plain"), _server("plain", {}, tickets=0)
    result = handshake_in_memory(client, server)
    assert result.completed and client.tickets == []
    assert "NewSessionTicket12" not in _sent(server)
    sh = decode_handshake(server.transcript.messages[1], version=V.TLS12)
    assert isinstance(sh, ServerHello) and sh.extension(ExtensionType.session_ticket) is None


def test_client_certificate_is_the_resumed_sessions_identity() -> None:
    store: dict[bytes, StoredTicket] = {}
    mtls_server = {"client_auth": True, "client_trust_roots": tuple(CLIENT_CHAIN.trust_roots)}
    mtls_client = {
        "certificate_chain": tuple(CLIENT_CHAIN.served()),
        "private_key": CLIENT_CHAIN.leaf.private_key,
    }
    _, first_server, ticket = _first(store, client=mtls_client, server=mtls_server)
    assert store[ticket.ticket].client_certificates == first_server.peer_certificates != ()
    client = _client("second", session_ticket=ticket, **mtls_client)
    server = _server("second", store, **mtls_server)
    result = handshake_in_memory(client, server)
    assert result.completed and server.resumed
    assert "Certificate12" not in _received(server) and "CertificateRequest12" not in _sent(server)
    assert server.peer_certificates[0] == CLIENT_CHAIN.leaf.der
    server_done = next(e for e in result.flights[2].events if isinstance(e, HandshakeComplete))
    assert server_done.resumed and server_done.peer_certificates[0] == CLIENT_CHAIN.leaf.der


def test_a_server_that_requires_certificates_does_not_resume_a_session_without_one() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)  # no client certificate in the first session
    client = _client(
        "second",
        session_ticket=ticket,
        certificate_chain=tuple(CLIENT_CHAIN.served()),
        private_key=CLIENT_CHAIN.leaf.private_key,
    )
    server = _server(
        "second", store, client_auth=True, client_trust_roots=tuple(CLIENT_CHAIN.trust_roots)
    )
    result = handshake_in_memory(client, server)
    assert result.completed and not server.resumed and not client.resumed
    assert "Certificate12" in _received(server)  # a full handshake with client authentication
    assert any("requires a client certificate" in str(e.value) for e in server.trace.events)


# -- the server refuses a ticket: a full handshake, never an error ---------------------------------
def _refused(client: TLSClient, server: TLSServer, reason: str) -> None:
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert not client.resumed and not server.resumed
    assert "Certificate12" in _received(client)
    assert any(
        e.name == "resumption (TLS 1.2)" and reason in str(e.value) for e in server.trace.events
    ), [str(e) for e in server.trace.events]
    assert any(
        e.name == "resumption" and "full handshake" in str(e.value) for e in client.trace.events
    )


def test_unknown_ticket_gives_a_full_handshake() -> None:
    _, _, ticket = _first({})
    _refused(_client("second", session_ticket=ticket), _server("second", {}), "unknown ticket")


def test_expired_ticket_gives_a_full_handshake() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    server = _server("second", store)
    server.clock = lambda: LAB_NOW + dt.timedelta(seconds=7201)
    _refused(_client("second", session_ticket=ticket), server, "past its lifetime")


def test_ticket_for_another_server_name_gives_a_full_handshake() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    # a client that believes the session was for "other.lab.example" (the name on the ticket
    # decides what the client offers; the server checks its own record)
    other = dataclasses.replace(ticket, server_name="other.lab.example")
    client = _client("second", session_ticket=other, server_name="other.lab.example", insecure=True)
    _refused(client, _server("second", store), "another server name")


def test_ticket_for_another_alpn_gives_a_full_handshake() -> None:
    store: dict[bytes, StoredTicket] = {}
    alpn_server = {"alpn": (b"h2", b"http/1.1")}
    _, _, ticket = _first(store, client={"alpn": ("h2",)}, server=alpn_server)
    assert ticket.alpn == b"h2"
    client = _client("second", session_ticket=ticket, alpn=("http/1.1",))
    _refused(client, _server("second", store, **alpn_server), "another application protocol")


def test_ticket_for_another_cipher_suite_gives_a_full_handshake() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    other = tuple(s for s in ECDHE_GCM if s != ticket.cipher_suite)
    client = _client("second", session_ticket=ticket, cipher_suites=other)
    _refused(client, _server("second", store), "cipher suite")


def test_tls13_ticket_is_not_a_tls12_session() -> None:
    store: dict[bytes, StoredTicket] = {}
    client13 = _client("first13", versions=(V.TLS13,), cipher_suites=ClientConfig().cipher_suites)
    handshake_in_memory(client13, _server("first13", store))
    assert client13.tickets and client13.tickets[0].version == V.TLS13
    as_12 = dataclasses.replace(client13.tickets[0], version=V.TLS12, server_name="lab.example")
    _refused(_client("second", session_ticket=as_12), _server("second", store), "TLS 1.3 session")


def test_ems_session_and_a_hello_without_ems_gives_a_full_handshake() -> None:
    """RFC 7627 §5.3: the original session used the extended master secret, the new hello does
    not offer it: no abbreviated handshake."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client = _client("second", session_ticket=ticket, extended_master_secret=False)
    _refused(client, _server("second", store), "does not offer it (RFC 7627 §5.3)")
    assert client.keys_12 is not None and not client.keys_12.extended


def test_session_without_ems_is_not_resumed() -> None:
    """RFC 7627 §5.3: the original session did not use the extended master secret and the new
    hello offers it: a full handshake makes a new (extended) session."""
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store, client={"extended_master_secret": False})
    assert not ticket.extended_master_secret and not store[ticket.ticket].extended_master_secret
    client = _client("second", session_ticket=ticket)
    _refused(client, _server("second", store), "did not use the extended master secret")
    assert client.keys_12 is not None and client.keys_12.extended


# -- what the client offers ----------------------------------------------------------------------
def _offered(client: TLSClient) -> bytes:
    client.start()
    ext = _hello(client).extension(ExtensionType.session_ticket)
    assert isinstance(ext, SessionTicketExtension)
    return ext.ticket


def test_client_does_not_offer_an_expired_ticket() -> None:
    _, _, ticket = _first({})
    later = LAB_NOW + dt.timedelta(seconds=ticket.lifetime + 1)
    client = _client("late", session_ticket=ticket, now=later)
    assert _offered(client) == b"" and len(_hello(client).legacy_session_id) == 0
    assert any(e.name == "session ticket not offered" for e in client.trace.events)
    on_time = _client("on time", session_ticket=ticket, now=later - dt.timedelta(seconds=2))
    assert _offered(on_time) == ticket.ticket


def test_client_keeps_an_unspecified_lifetime_ticket_at_most_seven_days() -> None:
    _, _, ticket = _first({})
    unspecified = dataclasses.replace(ticket, lifetime=0)  # RFC 5077 §3.3: 0 is unspecified
    six_days = LAB_NOW + dt.timedelta(days=6)
    assert _offered(_client("6d", session_ticket=unspecified, now=six_days)) == ticket.ticket
    eight_days = LAB_NOW + dt.timedelta(days=8)
    assert _offered(_client("8d", session_ticket=unspecified, now=eight_days)) == b""
    long_hint = dataclasses.replace(ticket, lifetime=30 * 24 * 3600)
    assert _offered(_client("8d hint", session_ticket=long_hint, now=eight_days)) == b""


def test_client_does_not_offer_a_ticket_to_another_server_name() -> None:
    _, _, ticket = _first({})
    client = _client("other", session_ticket=ticket, server_name="other.lab.example")
    assert _offered(client) == b""
    assert any("issued for 'lab.example'" in str(e.value) for e in client.trace.events)


def test_client_offering_both_versions_sends_the_ticket_and_a_tls13_hello() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client = _client("both", session_ticket=ticket, versions=(V.TLS13, V.TLS12), cipher_suites=BOTH)
    server = _server("both", store)
    result = handshake_in_memory(client, server)
    hello = _hello(client)
    assert hello.extension(ExtensionType.session_ticket) == SessionTicketExtension(ticket.ticket)
    assert hello.extension(ExtensionType.pre_shared_key) is None  # not a TLS 1.3 PSK
    # the server prefers TLS 1.3: a full TLS 1.3 handshake, the TLS 1.2 ticket unused
    assert result.completed and client.version == V.TLS13 and not client.resumed


def test_client_with_both_versions_resumes_a_tls12_only_server() -> None:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client = _client("both", session_ticket=ticket, versions=(V.TLS13, V.TLS12), cipher_suites=BOTH)
    server = _server("both", store, versions=(V.TLS12,), tickets=0)
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert client.resumed and server.resumed and _received(client) == ["ServerHello", "Finished"]


# -- the client refuses an abbreviated handshake that changes the session ----------------------------
def _assert_refused(result: InMemoryResult, side: str, alert: int) -> None:
    """``side`` failed with ``alert``: closed, the alert queued for its peer, which reads it as a
    fatal alert; nothing delivered to the failed side (no HandshakeComplete, no data). (In an
    abbreviated handshake the client completes before the server checks its Finished; the
    server's alert then closes it.)"""
    assert result.error is not None and result.failed_side == side, result.error
    assert getattr(result.error, "alert", None) == alert, result.error
    failed = result.client if side == "client" else result.server
    peer = result.server if side == "client" else result.client
    assert failed.closed and failed.state == State.CLOSED and not failed.handshake_complete
    delivered = [e for f in result.flights if f.sender != side for e in f.events]
    assert not any(isinstance(e, (HandshakeComplete, ApplicationData)) for e in delivered)
    assert not any(isinstance(e, ApplicationData) for e in _events(result))
    with pytest.raises(RemoteAlert) as remote:
        peer.receive_data(failed.data_to_send())
    assert remote.value.description == alert
    assert not peer.handshake_complete


def _resuming_pair(
    **client_changes: Any,
) -> tuple[TLSClient, TLSServer, SessionTicket]:
    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client = _client("second", session_ticket=ticket, **client_changes)
    return client, _server("second", store, tickets=0), ticket


def _rewrite_sends(server: TLSServer, change: Any) -> None:
    """Make ``server`` pass each message it sends through ``change`` (message -> messages): a
    peer that sends exactly the forbidden thing, with a consistent transcript of its own."""
    send = server._send

    def patched(message: HandshakeMessage, **kw: Any) -> bytes:
        raw = b""
        for m in change(message):
            raw = send(m, **kw)
        return raw

    server._send = patched  # type: ignore[method-assign]


def test_client_refuses_an_abbreviated_hello_with_another_cipher_suite() -> None:
    client, server, ticket = _resuming_pair()
    other = next(s for s in ECDHE_GCM if s != ticket.cipher_suite)

    def change(index: int, sender: str, data: bytes) -> bytes:
        if sender != "server":
            return data
        at = 5 + 4 + 2 + 32  # record header, handshake header, version, random
        at += 1 + data[at]  # session id
        assert data[at : at + 2] == ticket.cipher_suite.to_bytes(2, "big")
        return data[:at] + other.to_bytes(2, "big") + data[at + 2 :]

    result = handshake_in_memory(client, server, tamper=change)
    _assert_refused(result, "client", AlertDescription.illegal_parameter)
    assert "cipher suite" in str(result.error)


def _strip_ems(message: HandshakeMessage) -> list[HandshakeMessage]:
    if isinstance(message, ServerHello):
        kept = [
            e for e in message.extensions if e.type_code != ExtensionType.extended_master_secret
        ]
        return [message.replace(extensions=tuple(kept))]
    return [message]


def test_client_refuses_a_resumed_ems_session_without_ems() -> None:
    """RFC 7627 §5.3: the original session used the extended master secret, the abbreviated
    ServerHello does not carry it: handshake_failure ("abort the handshake", §5.2)."""
    client, server, _ = _resuming_pair()
    _rewrite_sends(server, _strip_ems)
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.handshake_failure)
    assert "RFC 7627" in str(result.error)


def test_client_refuses_ems_in_a_resumed_session_that_had_none() -> None:
    client, server, ticket = _resuming_pair()
    without = dataclasses.replace(ticket, extended_master_secret=False)
    client = _client("second", session_ticket=without)
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.handshake_failure)


def test_client_refuses_a_wrong_server_finished_when_resuming() -> None:
    client, server, _ = _resuming_pair()
    _rewrite_sends(server, lambda m: [Finished(bytes(12))] if isinstance(m, Finished) else [m])
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.decrypt_error)


@pytest.mark.parametrize("extra", ["Certificate", "ServerKeyExchange"])
def test_client_refuses_a_certificate_or_key_exchange_when_resuming(extra: str) -> None:
    client, server, _ = _resuming_pair()
    forbidden: HandshakeMessage = (
        Certificate12(tuple(SERVER.served()))
        if extra == "Certificate"
        else ServerKeyExchangeECDHE(23, bytes(65), 0x0403, bytes(70))
    )
    _rewrite_sends(server, lambda m: [m, forbidden] if isinstance(m, ServerHello) else [m])
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.unexpected_message)
    assert "WAIT_CCS_RESUMED_12" in str(result.error)


def test_client_refuses_a_new_session_ticket_it_was_not_promised() -> None:
    """RFC 5077 §3.3: a NewSessionTicket only after an empty SessionTicket in the ServerHello."""
    client, server = _client("promise"), _server("promise", {})

    def drop(message: HandshakeMessage) -> list[HandshakeMessage]:
        if isinstance(message, ServerHello):
            kept = [e for e in message.extensions if e.type_code != ExtensionType.session_ticket]
            return [message.replace(extensions=tuple(kept))]
        return [message]

    _rewrite_sends(server, drop)
    result = handshake_in_memory(client, server)
    _assert_refused(result, "client", AlertDescription.unexpected_message)
    assert client.tickets == []


def test_client_refuses_a_server_hello_with_a_non_empty_session_ticket() -> None:
    client, server = _client("nonempty"), _server("nonempty", {})

    def fill(message: HandshakeMessage) -> list[HandshakeMessage]:
        if isinstance(message, ServerHello):
            kept = [e for e in message.extensions if e.type_code != ExtensionType.session_ticket]
            return [message.replace(extensions=(*kept, SessionTicketExtension(b"x")))]
        return [message]

    _rewrite_sends(server, fill)
    _assert_refused(handshake_in_memory(client, server), "client", AlertDescription.decode_error)


# -- the server refuses a client that breaks the abbreviated handshake -------------------------------
def _server_after_its_flight() -> tuple[TLSClient, TLSServer]:
    """The server has sent ServerHello, ChangeCipherSpec, Finished; the client has read them
    (and its own CCS and Finished are held back): the server waits for the client's CCS."""
    client, server, _ = _resuming_pair()
    client.start()
    server.receive_data(client.data_to_send())
    assert server.state == State.WAIT_CCS_RESUMED_12
    client.receive_data(server.data_to_send())
    client.data_to_send()
    return client, server


def test_server_refuses_a_wrong_client_finished_when_resuming() -> None:
    client, server, _ = _resuming_pair()
    original = client._send

    def wrong(message: HandshakeMessage, **kw: Any) -> bytes:
        return original(Finished(bytes(12)) if isinstance(message, Finished) else message, **kw)

    client._send = wrong  # type: ignore[method-assign]
    result = handshake_in_memory(client, server)
    _assert_refused(result, "server", AlertDescription.decrypt_error)


@pytest.mark.parametrize("what", ["Certificate", "ClientKeyExchange", "Finished", "data"])
def test_server_refuses_anything_but_ccs_after_its_abbreviated_flight(what: str) -> None:
    client, server = _server_after_its_flight()
    content = {
        "Certificate": (22, Certificate12(tuple(CLIENT_CHAIN.served())).encode()),
        "ClientKeyExchange": (22, bytes([16, 0, 0, 1, 0])),
        "Finished": (22, Finished(bytes(12)).encode()),
        "data": (23, b"too early"),
    }[what]
    with pytest.raises(AlertError) as info:
        server.receive_data(TLSPlaintext(content[0], content[1], V.TLS12).encode())
    assert info.value.alert == AlertDescription.unexpected_message
    assert server.closed and not server.handshake_complete and server.error is info.value
    with pytest.raises(RemoteAlert) as remote:
        client.receive_data(server.data_to_send())
    assert remote.value.description == AlertDescription.unexpected_message


def test_server_handshake_complete_carries_the_client_chain_in_both_versions() -> None:
    """The server's HandshakeComplete names the client's identity, as the client's names the
    server's: TLS 1.3 and TLS 1.2, full handshakes with client authentication."""
    mtls_server = {"client_auth": True, "client_trust_roots": tuple(CLIENT_CHAIN.trust_roots)}
    for versions, suites in (((V.TLS13,), ClientConfig().cipher_suites), ((V.TLS12,), ECDHE_GCM)):
        client = _client(
            "mtls",
            versions=versions,
            cipher_suites=suites,
            certificate_chain=tuple(CLIENT_CHAIN.served()),
            private_key=CLIENT_CHAIN.leaf.private_key,
        )
        server = _server("mtls", {}, tickets=0, **mtls_server)
        result = handshake_in_memory(client, server)
        assert result.completed, result.error
        done = [e for f in result.flights if f.sender == "client" for e in f.events]
        [complete] = [e for e in done if isinstance(e, HandshakeComplete)]
        assert complete.peer_certificates[0] == CLIENT_CHAIN.leaf.der and not complete.resumed


@pytest.mark.parametrize("renew", [False, True], ids=["plain", "renewed-ticket"])
def test_a_resumed_session_decrypts_from_its_bytes_and_key_log(renew: bool) -> None:
    """What Wireshark does: the resumed connection's bytes and the client's key log line
    (CLIENT_RANDOM with the session's master secret) open every record, and both Finished
    messages check in the abbreviated order (server first)."""
    from tlslab.engine.decrypt import decrypt_session

    store: dict[bytes, StoredTicket] = {}
    _, _, ticket = _first(store)
    client = _client("second", session_ticket=ticket)
    server = _server("second", store, tickets=int(renew))
    result = handshake_in_memory(client, server)
    assert result.completed and client.resumed
    client.send_application_data(b"GET /resumed")
    server.send_application_data(b"200 resumed")
    c2s = b"".join(f.data for f in result.flights if f.sender == "client") + client.data_to_send()
    s2c = b"".join(f.data for f in result.flights if f.sender == "server") + server.data_to_send()
    session = decrypt_session(c2s, s2c, client.trace.keylog())
    assert session.checks == ["server Finished verified", "client Finished verified"]
    assert session.client_data == b"GET /resumed" and session.server_data == b"200 resumed"
    names = [name for _, name in session.messages()]
    assert "Certificate" not in " ".join(names)
    assert ("NewSessionTicket" in " ".join(names)) is renew
