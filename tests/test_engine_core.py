"""The engine core (issue 11): the state table is the whole grammar, one error boundary.

- every transition any handshake variant takes is an edge of the drawn diagram;
- an injection matrix generated from the table: in every (role, version, state), every handshake
  message that has no row -> unexpected_message, the connection closed, nothing delivered; and
  application data, ChangeCipherSpec and alerts in every state;
- the error boundary: whatever goes wrong, an alert is queued, the connection is closed and
  nothing works afterwards; a handshake message before a key change must end its record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tlslab.constants import AlertDescription, ContentType, HandshakeType
from tlslab.constants import CipherSuite as CS
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.connection import (
    ApplicationData,
    Connection,
    ConnectionNotUsable,
    HandshakeComplete,
    SessionTicket,
)
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.engine.state import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    TABLE,
    State,
    edges,
    family_of,
    states_of,
    transitions_for,
)
from tlslab.errors import (
    AlertError,
    BadCertificate,
    InternalError,
    RemoteAlert,
    UnexpectedMessage,
    UnsupportedCertificate,
)
from tlslab.pki.certificates import LAB_NOW, build_chain
from tlslab.rng import seeded_rng
from tlslab.stages.negotiation import ServerConfig
from tlslab.stages.protection import RecordProtection12, RecordProtection13
from tlslab.wire.record import TLSPlaintext

SERVER = build_chain("lab.example", seed="engine core server")
RSA_SERVER = build_chain("lab.example", seed="engine core rsa", key_type="rsa")
CLIENT_CHAIN = build_chain(
    "client.lab.example",
    seed="engine core client",
    leaf_options={"extended_key_usage": ["clientAuth"]},
)


# -- handshake variants ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str
    client: dict[str, Any]
    server: dict[str, Any]
    rsa: bool = False


VARIANTS = [
    Variant("tls13", {}, {}),
    Variant("tls13-hrr", {"groups": (G.x25519, G.secp256r1)}, {"groups": (G.secp256r1,)}),
    Variant(
        "tls13-mtls",
        {
            "certificate_chain": tuple(CLIENT_CHAIN.served()),
            "private_key": CLIENT_CHAIN.leaf.private_key,
        },
        {"client_auth": True, "client_trust_roots": tuple(CLIENT_CHAIN.trust_roots)},
    ),
    Variant("tls13-tickets", {}, {"tickets": 2}),
    Variant(
        "tls13-hrr-mtls",
        {
            "groups": (G.x25519, G.secp256r1),
            "certificate_chain": tuple(CLIENT_CHAIN.served()),
            "private_key": CLIENT_CHAIN.leaf.private_key,
        },
        {
            "groups": (G.secp256r1,),
            "client_auth": True,
            "client_trust_roots": tuple(CLIENT_CHAIN.trust_roots),
        },
    ),  # fmt: skip
    Variant(
        "tls12-mtls",
        {
            "versions": (V.TLS12,),
            "certificate_chain": tuple(CLIENT_CHAIN.served()),
            "private_key": CLIENT_CHAIN.leaf.private_key,
        },
        {"client_auth": True, "client_trust_roots": tuple(CLIENT_CHAIN.trust_roots)},
    ),  # fmt: skip
    Variant("tls12-ecdhe", {"versions": (V.TLS12,)}, {}),
    Variant("tls12-tickets", {"versions": (V.TLS12,)}, {"tickets": 1}),
    Variant(
        "tls12-dhe",
        {
            "versions": (V.TLS12,),
            "cipher_suites": (CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,),
            "groups": (G.ffdhe2048,),
        },
        {
            "certificate_key": "rsa",
            "groups": (G.ffdhe2048,),
            "cipher_suites": (CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,),
        },
        rsa=True,
    ),  # fmt: skip
    Variant(
        "tls12-rsa-cbc",
        {"versions": (V.TLS12,), "cipher_suites": (CS.TLS_RSA_WITH_AES_128_CBC_SHA,)},
        {"certificate_key": "rsa", "cipher_suites": (CS.TLS_RSA_WITH_AES_128_CBC_SHA,)},
        rsa=True,
    ),
]
BY_NAME = {v.name: v for v in VARIANTS}


def _pair(
    variant: Variant, seed: str = "core", store: dict[bytes, Any] | None = None
) -> tuple[TLSClient, TLSServer]:
    chain = RSA_SERVER if variant.rsa else SERVER
    config = ClientConfig(
        server_name="lab.example", trust_roots=tuple(chain.trust_roots), now=LAB_NOW
    )
    client = TLSClient(config.replace(**variant.client), seeded_rng(f"{seed} client"))
    server = TLSServer(
        ServerConfig(**variant.server),
        ServerIdentity.from_chain(chain),
        seeded_rng(f"{seed} server"),
        ticket_store=store,
    )
    return client, server


def _resumed_pair() -> tuple[TLSClient, TLSServer, list[Any]]:
    """A first handshake that issues a ticket, then a second that resumes with it (PSK)."""
    store: dict[bytes, Any] = {}
    first = _pair(BY_NAME["tls13-tickets"], "first", store)
    result = handshake_in_memory(*first)
    tickets = [e for f in result.flights for e in f.events if isinstance(e, SessionTicket)]
    client, server = _pair(Variant("psk", {"session_ticket": tickets[0]}, {}), "second", store)
    return client, server, [*first]


def _resumed_pair_12() -> tuple[TLSClient, TLSServer]:
    """A TLS 1.2 handshake that issues a ticket, then a second, abbreviated one (RFC 5077 §3.1)."""
    store: dict[bytes, Any] = {}
    first = _pair(BY_NAME["tls12-tickets"], "first 1.2", store)
    assert handshake_in_memory(*first).completed
    ticket = first[0].tickets[0]
    variant = Variant(  # the server renews the ticket in the abbreviated handshake
        "resumed-1.2", {"versions": (V.TLS12,), "session_ticket": ticket}, {"tickets": 1}
    )
    return _pair(variant, "second 1.2", store)


def _all_runs() -> list[tuple[str, Connection]]:
    runs: list[tuple[str, Connection]] = []
    for variant in VARIANTS:
        client, server = _pair(variant)
        assert handshake_in_memory(client, server).completed, variant.name
        runs += [(variant.name, client), (variant.name, server)]
    client, server, first = _resumed_pair()
    assert handshake_in_memory(client, server).completed and client.resumed and server.resumed
    runs += [("psk", client), ("psk", server)]
    client, server = _resumed_pair_12()
    assert handshake_in_memory(client, server).completed and client.resumed and server.resumed
    runs += [("resumed-1.2", client), ("resumed-1.2", server)]
    client, server = _pair(BY_NAME["tls13"], "key update")
    assert handshake_in_memory(client, server).completed
    client.key_update(request_peer_update=True)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    client.send_application_data(b"after the update")
    assert server.receive_data(client.data_to_send()) == [ApplicationData(b"after the update")]
    runs += [("key-update", client), ("key-update", server)]
    return runs


def test_every_transition_taken_is_an_edge_of_the_drawn_diagram() -> None:
    runs = _all_runs()
    taken: dict[str, set[tuple[State, str, State]]] = {"client": set(), "server": set()}
    for name, connection in runs:
        drawn = set(transitions_for(connection.role))
        for _family, start, message, end in connection.transitions:
            assert (start, message, end) in drawn, (name, connection.role, start, message, end)
            taken[connection.role].add((start, message, end))
    # the edges the old hand-kept diagram missed are taken, and drawn
    assert (State.WAIT_EE, "encrypted_extensions", State.WAIT_FINISHED) in taken["client"]  # PSK
    assert (State.WAIT_CERT_CR, "certificate_request", State.WAIT_CERT) in taken["client"]
    assert (State.WAIT_CERT, "certificate", State.WAIT_CV) in taken["server"]  # client auth
    assert (State.CONNECTED, "key_update", State.CONNECTED) in taken["server"]
    assert (State.WAIT_SH, "server_hello", State.WAIT_SH) in taken["client"]  # HRR
    assert (State.WAIT_CCS_12, "change_cipher_spec", State.WAIT_FINISHED_12) in taken["client"]
    assert (State.WAIT_CV_12, "certificate_verify", State.WAIT_CCS_12) in taken["server"]
    assert (State.WAIT_CCS_12, "new_session_ticket", State.WAIT_CCS_12) in taken["client"]
    assert (State.WAIT_SH, "server_hello", State.WAIT_CCS_RESUMED_12) in taken["client"]
    resumed_nst = (State.WAIT_CCS_RESUMED_12, "new_session_ticket", State.WAIT_CCS_RESUMED_12)
    assert resumed_nst in taken["client"]
    every = {(a, m, b) for a, m, b, _ in edges("server") if m not in ("change_cipher_spec",)}
    missing = every - taken["server"] - {(State.CONNECTED, "client_hello", State.CONNECTED)}
    assert not missing, missing  # every server edge but renegotiation is exercised


def test_no_key_update_edge_on_tls12() -> None:
    for role in ("client", "server"):
        assert not [e for e in edges(role) if e[1] == "key_update" and e[3] != "1.3"]


@pytest.mark.parametrize("role", ["client", "server"])
def test_drawn_diagram_equals_the_table(role: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tlslab.lab.viz import plot_state_machine

    ax = plot_state_machine(role)
    try:
        assert ax.drawn_edges == set(transitions_for(role))
        assert len(ax.drawn_edges) == len({(a, m, b) for a, m, b, _ in edges(role)})
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("role,cls", [("client", TLSClient), ("server", TLSServer)])
def test_every_row_names_a_handler_and_only_the_dispatcher_moves_state(
    role: str, cls: type
) -> None:
    for row in TABLE.values():
        if row.role == role:
            assert callable(getattr(cls, row.handler, None)), row
    with pytest.raises(AttributeError):
        cls.__new__(cls).state = State.CONNECTED  # type: ignore[misc]


# -- reaching every state, one record at a time ----------------------------------------------------
def _records(data: bytes) -> list[bytes]:
    out, at = [], 0
    while at < len(data):
        length = int.from_bytes(data[at + 3 : at + 5], "big")
        out.append(data[at : at + 5 + length])
        at += 5 + length
    return out


def _reach(role: str, family: str, state: State) -> tuple[Connection, Connection]:
    """A (connection, its peer) with the connection in ``state``: a handshake variant that
    passes through it, delivered one record at a time until the connection gets there."""
    for make in _makers(family):
        client, server = make()
        target, peer = (client, server) if role == "client" else (server, client)
        if (family_of(target.version), target.state) == (family, state):
            return target, peer
        client.start()
        sides = {"client": (client, server), "server": (server, client)}
        sender = "client"
        for _ in range(8):
            src, dst = sides[sender]
            for record in _records(src.data_to_send()):
                dst.receive_data(record)
                if dst is target and (family_of(target.version), target.state) == (family, state):
                    target.data_to_send()  # what it would answer is not part of the test
                    return target, peer
            sender = "server" if sender == "client" else "client"
    raise AssertionError(f"no variant reaches {role} {family} {state}")


def _makers(family: str) -> list[Callable[[], tuple[TLSClient, TLSServer]]]:
    names = ["tls13", "tls13-mtls", "tls13-hrr"] if family != "1.2" else []
    names += ["tls12-ecdhe", "tls12-rsa-cbc", "tls12-mtls"] if family != "1.3" else []
    makers: list[Callable[[], tuple[TLSClient, TLSServer]]] = [
        lambda v=BY_NAME[n]: _pair(v) for n in names
    ]
    return makers + ([_resumed_pair_12] if family != "1.3" else [])


def _inject(connection: Connection, content_type: int, payload: bytes) -> bytes:
    """A record that reads as ``payload`` under the connection's current read keys (a peer
    that sends exactly what the test wants, correctly protected)."""
    reader = connection.records.reader
    if reader is None or content_type == ContentType.change_cipher_spec:
        return TLSPlaintext(content_type, payload, V.TLS12).encode()
    if isinstance(reader, RecordProtection13):
        twin13 = RecordProtection13(reader.suite, reader.keys)
        twin13.seq = reader.seq
        return twin13.seal(content_type, payload).encode()
    assert isinstance(reader, RecordProtection12)
    twin12 = RecordProtection12(
        reader.suite,
        reader.key,
        reader.iv,
        reader.mac_key,
        encrypt_then_mac=reader.encrypt_then_mac,
    )
    twin12.seq = reader.seq
    return twin12.seal(content_type, payload).encode()


STATES = [
    (role, family, state) for role in ("client", "server") for family, state in states_of(role)
]
HANDSHAKE_TYPES = [int(t) for t in HandshakeType] + [99]


def _assert_closed_with(connection: Connection, error: BaseException, alert: int | None) -> None:
    assert connection.closed and connection.state == State.CLOSED
    assert connection.error is error
    assert not connection.handshake_complete
    sent = connection.data_to_send()
    if alert is None:
        assert sent == b""
    else:
        assert sent, "an alert must be queued"
        if connection.records.writer is None:  # readable: check it is exactly that alert
            assert sent[-7] == 21 and sent[-4:] == bytes([0, 2, 2, alert])
    for call in (
        lambda: connection.receive_data(b"\x17\x03\x03\x00\x01\x00"),
        lambda: connection.send_application_data(b"x"),
        lambda: connection.key_update(),
        connection.close,
    ):
        with pytest.raises(ConnectionNotUsable):
            call()


@pytest.mark.parametrize("role,family,state", STATES, ids=lambda v: getattr(v, "value", str(v)))
def test_injection_matrix(role: str, family: str, state: State) -> None:
    """Every handshake message with no row here is unexpected_message; application data,
    ChangeCipherSpec and alerts are answered as their rows (or their absence) say."""
    forbidden = [t for t in HANDSHAKE_TYPES if (role, family, state, t) not in TABLE]
    assert forbidden
    for message_type in forbidden:
        target, _ = _reach(role, family, state)
        record = _inject(target, ContentType.handshake, bytes([message_type, 0, 0, 0]))
        with pytest.raises(UnexpectedMessage) as info:
            target.receive_data(record)
        _assert_closed_with(target, info.value, AlertDescription.unexpected_message)
    # application data: delivered only when connected
    target, _ = _reach(role, family, state)
    record = _inject(target, ContentType.application_data, b"early")
    if (role, family, state, APPLICATION_DATA) in TABLE:
        assert target.receive_data(record) == [ApplicationData(b"early")]
    else:
        with pytest.raises(UnexpectedMessage) as info:
            target.receive_data(record)
        _assert_closed_with(target, info.value, AlertDescription.unexpected_message)
    # ChangeCipherSpec: ignored once (TLS 1.3 compatibility), a key change (TLS 1.2), or refused
    target, _ = _reach(role, family, state)
    record = _inject(target, ContentType.change_cipher_spec, b"\x01")
    dummy_already_seen = family == "1.3" and target._compatibility_ccs_seen
    if (role, family, state, CHANGE_CIPHER_SPEC) in TABLE and not dummy_already_seen:
        assert target.receive_data(record) == []
    else:
        with pytest.raises(UnexpectedMessage) as info:
            target.receive_data(record)
        _assert_closed_with(target, info.value, AlertDescription.unexpected_message)
    # a fatal alert from the peer: closed, nothing sent back, nothing delivered
    assert (role, family, state, ALERT) in TABLE
    target, _ = _reach(role, family, state)
    record = _inject(target, ContentType.alert, bytes([2, AlertDescription.handshake_failure]))
    with pytest.raises(RemoteAlert) as remote:
        target.receive_data(record)
    assert remote.value.description == AlertDescription.handshake_failure
    _assert_closed_with(target, remote.value, None)


def test_unstarted_client_refuses_everything() -> None:
    client, _ = _pair(BY_NAME["tls13"])
    with pytest.raises(UnexpectedMessage):
        client.receive_data(TLSPlaintext(ContentType.handshake, b"\x02\x00\x00\x00").encode())
    assert client.closed


# -- the error boundary ------------------------------------------------------------------------------
def test_unforeseen_exception_becomes_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug (here a ValueError planted in a handler) fails closed: internal_error queued,
    connection closed, InternalError raised from the original, no HandshakeComplete ever."""

    def broken(self: TLSClient, message: Any, transcript_hash: bytes) -> State:
        raise ValueError("planted bug")

    monkeypatch.setattr(TLSClient, "on_certificate", broken)
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    with pytest.raises(InternalError) as info:
        client.receive_data(flight)
    assert isinstance(info.value.__cause__, ValueError)
    assert client.state == State.CLOSED and client.closed
    alert = client.data_to_send()
    assert alert == bytes([21, 3, 3, 0, 2, 2, AlertDescription.internal_error])
    with pytest.raises(RemoteAlert) as remote:
        server.receive_data(alert)
    assert remote.value.description == AlertDescription.internal_error
    # however many bytes follow, the handshake never completes
    for _ in range(3):
        with pytest.raises(ConnectionNotUsable):
            client.receive_data(flight)
    assert not client.handshake_complete


def test_state_does_not_advance_when_a_handler_fails() -> None:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    server.receive_data(client.data_to_send())
    records = _records(server.data_to_send())
    changed = bytearray(records[0])
    at = 5 + 4 + 2 + 32 + 1 + changed[5 + 4 + 2 + 32]  # record, header, version, random, session id
    changed[at : at + 2] = b"\x00\x00"  # a cipher suite nobody offered
    with pytest.raises(AlertError, match="cipher suite"):
        client.receive_data(bytes(changed) + b"".join(records[1:]))
    assert client.state == State.CLOSED
    assert [t for t in client.transitions if t[1] == State.WAIT_SH] == []


@pytest.mark.parametrize("version", [V.TLS13, V.TLS12])
def test_certificate_that_does_not_parse_is_bad_certificate(version: int) -> None:
    client, _ = _pair(Variant("v", {"versions": (version,)}, {}))
    server = TLSServer(
        ServerConfig(),
        ServerIdentity((b"\x30\x03\x02\x01\x00",), SERVER.leaf.private_key),
        seeded_rng("garbage"),
    )
    result = handshake_in_memory(client, server)
    assert isinstance(result.error, BadCertificate) and result.failed_side == "client"
    assert client.closed and not client.handshake_complete


def test_rsa_key_transport_with_an_ec_certificate_is_refused() -> None:
    """Once an AttributeError deep in RSA encryption; now a clear alert."""
    suite = CS.TLS_RSA_WITH_AES_128_GCM_SHA256
    client, _ = _pair(Variant("v", {"versions": (V.TLS12,), "cipher_suites": (suite,)}, {}))
    server = TLSServer(
        ServerConfig(certificate_key="rsa", cipher_suites=(suite,)),
        ServerIdentity.from_chain(SERVER),  # an ECDSA certificate
        seeded_rng("ec for rsa"),
    )
    result = handshake_in_memory(client, server)
    assert isinstance(result.error, UnsupportedCertificate) and result.failed_side == "client"


def test_close_is_final() -> None:
    client, server = _pair(BY_NAME["tls13"])
    assert handshake_in_memory(client, server).completed
    client.close()
    client.close()  # closing twice does nothing
    with pytest.raises(ConnectionNotUsable):
        client.send_application_data(b"late")
    with pytest.raises(ConnectionNotUsable):
        client.receive_data(b"")
    assert server.receive_data(client.data_to_send() + _inject(server, 23, b"after close")) == [
        __import__("tlslab.engine.connection", fromlist=["ConnectionClosed"]).ConnectionClosed()
    ]  # the data after close_notify is not delivered


# -- key changes end their record (RFC 8446 §5.1) -----------------------------------------------------
def test_server_hello_must_end_its_record() -> None:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    server.receive_data(client.data_to_send())
    records = _records(server.data_to_send())
    sh = TLSPlaintext.decode(records[0])
    glued = TLSPlaintext(ContentType.handshake, sh.fragment + b"\x08\x00", V.TLS12).encode()
    with pytest.raises(UnexpectedMessage, match="must end its record"):
        client.receive_data(glued)


def test_key_update_must_end_its_record() -> None:
    client, server = _pair(BY_NAME["tls13"])
    assert handshake_in_memory(client, server).completed
    ku = bytes([HandshakeType.key_update, 0, 0, 1, 0])
    with pytest.raises(UnexpectedMessage, match="must end its record"):
        server.receive_data(_inject(server, ContentType.handshake, ku + ku))


def test_client_hello_must_end_its_record_in_tls13() -> None:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    ch = TLSPlaintext.decode(_records(client.data_to_send())[0])
    glued = TLSPlaintext(ContentType.handshake, ch.fragment + b"\x14\x00", V.TLS12).encode()
    with pytest.raises(UnexpectedMessage, match="must end its record"):
        server.receive_data(glued)


def test_trace_label_comes_from_the_record() -> None:
    client, server = _pair(BY_NAME["tls12-ecdhe"])
    assert handshake_in_memory(client, server).completed
    received = [(e.name, e.value) for e in client.trace.messages() if e.direction == "received"]
    assert received[0] == ("ServerHello", "plaintext")
    assert received[-1] == ("Finished", "encrypted")


def test_handshake_complete_event_only_once_per_side() -> None:
    client, server = _pair(BY_NAME["tls13-tickets"])
    result = handshake_in_memory(client, server)
    events = [e for f in result.flights for e in f.events if isinstance(e, HandshakeComplete)]
    assert len(events) == 2


def test_errors_are_alert_errors_with_their_alert() -> None:
    assert issubclass(InternalError, AlertError)
    assert InternalError.description == AlertDescription.internal_error
