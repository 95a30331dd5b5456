"""Issue 19 review: attacks the conformance tests did not send, and checks whose tests could not
fail. Each test sends the forbidden thing and checks the exact alert, that the connection is closed
and that nothing was delivered (``_refused_by``). The rule -> test map is tests/CONFORMANCE.md."""

from __future__ import annotations

import pytest

from tests.test_conformance19 import _alert, _connected, _refused_by, _sent_by
from tests.test_engine_conformance import _refused
from tests.test_engine_core import BY_NAME, _inject, _pair, _reach, _records
from tlslab.constants import AlertDescription, AlertLevel, ContentType, HandshakeType
from tlslab.constants import ProtocolVersion as V
from tlslab.engine import trace as trace_module
from tlslab.engine.client import MAX_KEPT_TICKETS
from tlslab.engine.connection import ApplicationData, ConnectionClosed, ConnectionNotUsable
from tlslab.engine.dispatcher import MAX_KEY_UPDATES, MAX_WARNING_ALERTS
from tlslab.engine.state import State
from tlslab.errors import RemoteAlert
from tlslab.wire.messages import NewSessionTicket13
from tlslab.wire.record import TLSPlaintext

A = AlertDescription


# -- close_notify: whatever follows it in the same read is ignored (RFC 8446 §6.1) ------------------
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
@pytest.mark.parametrize(
    "after",
    [
        b"\x80\x80garbage!",  # not a record at all (an SSLv2-style header)
        b"\x17\x03\x03\xff\xff",  # a header announcing a record longer than any allowed
        b"\x17\x07\x07\x00\x01",  # a record version that is not 3.x
    ],
    ids=["garbage", "overflow-header", "bad-version"],
)
def test_bytes_after_close_notify_in_the_same_read_are_ignored(name: str, after: bytes) -> None:
    """ "Any data received after a closure alert has been received MUST be ignored" (RFC 8446
    §6.1): a malformed record after close_notify, in the same TCP segment, must not turn a clean
    close into an alert. The data before close_notify is delivered, the close is clean."""
    client, server = _connected(name)
    client.send_application_data(b"before")
    data = client.data_to_send() + _alert(client, AlertLevel.warning, A.close_notify) + after
    assert server.receive_data(data) == [ApplicationData(b"before"), ConnectionClosed()]
    assert server.closed and server.error is None
    sent = server.data_to_send()  # our close_notify, and nothing else (no alert after it)
    assert len(_records(sent)) == 1
    assert client.receive_data(sent) == [ConnectionClosed()]
    with pytest.raises(ConnectionNotUsable):
        server.send_application_data(b"x")


# -- zero-length handshake records (RFC 8446 §5.1; OpenSSL: unexpected_message, bad length) --------
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_a_zero_length_plaintext_handshake_record_is_unexpected_message(name: str) -> None:
    _, server = _pair(BY_NAME[name])
    record = TLSPlaintext(ContentType.handshake, b"", V.TLS10).encode()
    _refused_by(server, None, record, A.unexpected_message)


def test_a_zero_length_protected_handshake_record_is_unexpected_message() -> None:
    client, server = _connected("tls13")
    client.send_application_data(b"never delivered")
    data = client.data_to_send() + _sent_by(client, ContentType.handshake, b"")
    _refused_by(server, client, data, A.unexpected_message)


# -- ChangeCipherSpec whose value is not 01 (RFC 8446 §5: unexpected_message) -----------------------
@pytest.mark.parametrize("payload", [b"\x02", b"\x00", b"\x01\x01", b""], ids=repr)
def test_tls13_change_cipher_spec_other_than_01_is_unexpected_message(payload: bytes) -> None:
    client, server = _pair(BY_NAME["tls13"])
    client.start()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())  # the server's flight: it now waits for Finished
    assert server.state == State.WAIT_FINISHED
    record = TLSPlaintext(ContentType.change_cipher_spec, payload, V.TLS12).encode()
    _refused(server, record, A.unexpected_message)


def test_tls12_change_cipher_spec_other_than_01_is_unexpected_message() -> None:
    client, server = _pair(BY_NAME["tls12-ecdhe"])
    client.start()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())
    key_exchange = _records(client.data_to_send())[0]  # ClientKeyExchange, then CCS, Finished
    server.receive_data(key_exchange)
    record = TLSPlaintext(ContentType.change_cipher_spec, b"\x02", V.TLS12).encode()
    _refused(server, record, A.unexpected_message)


# -- a Finished of a length that is valid somewhere, but not the negotiated one ----------------------
@pytest.mark.parametrize(
    "name,length",
    [("tls13", 32), ("tls13", 12), ("tls12-ecdhe", 32), ("tls12-ecdhe", 48)],
    ids=["1.3-32", "1.3-12", "1.2-32", "1.2-48"],
)
def test_finished_of_another_hash_length_is_decode_error(name: str, length: int) -> None:
    """The wire decoder refuses lengths no Finished has (31, 11); 32 bytes on a SHA-384
    connection or 32 on TLS 1.2 pass it, and only the negotiated-length check (RFC 8446 §4.4.4,
    RFC 5246 §7.4.9) says decode_error, before the MAC comparison would say decrypt_error."""
    client, server = _pair(BY_NAME[name])
    client.start()
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    if name == "tls13":
        client.receive_data(b"".join(_records(flight)[:-1]))
        assert len(client.transcript.hash()) != length  # a length of another hash
    else:
        client.receive_data(flight)
        server.receive_data(client.data_to_send())
        client.receive_data(_records(server.data_to_send())[0])  # the server's CCS
    finished = bytes([HandshakeType.finished, 0, 0, length]) + bytes(length)
    _refused(client, _inject(client, ContentType.handshake, finished), A.decode_error, "length")


# -- KeyUpdate flood (BoringSSL kMaxKeyUpdates; RFC 8446 §4.6.3 one answer while silent) ------------
def _key_update_from(sender: object, request: bool) -> bytes:
    sender.key_update(request_peer_update=request)  # type: ignore[attr-defined]
    return sender.data_to_send()  # type: ignore[attr-defined,no-any-return]


def test_a_key_update_flood_is_bounded() -> None:
    """More than MAX_KEY_UPDATES KeyUpdates in a row, with no application data between them, end
    the connection with unexpected_message (BoringSSL's kMaxKeyUpdates): each one costs a key
    derivation, and one requesting an update costs an answer."""
    client, server = _connected("tls13")
    data = b"".join(_key_update_from(client, False) for _ in range(MAX_KEY_UPDATES))
    assert server.receive_data(data) == []
    client.send_application_data(b"counted only in a row")
    data = client.data_to_send()
    data += b"".join(_key_update_from(client, False) for _ in range(MAX_KEY_UPDATES))
    assert server.receive_data(data) == [ApplicationData(b"counted only in a row")]
    _refused_by(server, client, _key_update_from(client, True), A.unexpected_message)


def test_many_key_update_requests_while_silent_get_one_answer() -> None:
    """ "an implementation which receives multiple KeyUpdates while it is silent [responds] with a
    single update" (RFC 8446 §4.6.3): the answer does not grow with the requests."""
    client, server = _connected("tls13")
    data = b"".join(_key_update_from(client, True) for _ in range(10))
    assert server.receive_data(data) == []
    answer = server.data_to_send()
    assert len(_records(answer)) == 1  # one KeyUpdate (update_not_requested)
    assert client.receive_data(answer) == []
    server.send_application_data(b"under the new key")
    assert client.receive_data(server.data_to_send()) == [ApplicationData(b"under the new key")]
    # after the server spoke, a new request gets a new answer
    assert server.receive_data(_key_update_from(client, True)) == []
    assert len(_records(server.data_to_send())) == 1


@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_alternating_records_that_deliver_nothing_do_not_dodge_the_bounds(name: str) -> None:
    """Each bound (warnings, empty records, KeyUpdates) counts a run of records that deliver
    nothing; another kind of such record does not end the run, or a peer could send 4 warnings,
    an empty record, 4 warnings, ... for ever."""
    client, server = _connected(name)
    idle = b"".join(
        _alert(client, AlertLevel.warning, A.user_canceled) for _ in range(MAX_WARNING_ALERTS - 1)
    )
    idle += _sent_by(client, ContentType.application_data, b"")
    if name == "tls13":
        idle += _key_update_from(client, False)
    assert server.receive_data(idle) == []
    _refused_by(
        server, client, _alert(client, AlertLevel.warning, A.user_canceled), A.unexpected_message
    )


# -- plaintext alerts once the TLS 1.3 keys changed (RFC 8446 §6: alerts are protected) ------------
def _plain_alert(description: int) -> bytes:
    return TLSPlaintext(ContentType.alert, bytes([AlertLevel.fatal, description]), V.TLS12).encode()


@pytest.mark.parametrize("state", [State.WAIT_EE, State.WAIT_FINISHED])
def test_a_tls13_client_refuses_a_plaintext_alert_after_the_server_hello(state: State) -> None:
    """A server encrypts everything after its ServerHello, alerts included, so a plaintext alert
    there is forged (or a broken peer): unexpected_message, as OpenSSL ("bad record type"), not a
    RemoteAlert that blames the server for an alert it never sent."""
    target, _ = _reach("client", "1.3", state)
    _refused(target, _plain_alert(A.handshake_failure), A.unexpected_message)


def test_a_tls13_server_reads_a_plaintext_alert_until_the_client_encrypts() -> None:
    """A client that could not use the ServerHello has no keys and alerts in the clear; the
    server reads that (as OpenSSL), but only until the client's first protected record."""
    target, _ = _reach("server", "1.3", State.WAIT_FINISHED)
    with pytest.raises(RemoteAlert) as info:
        target.receive_data(_plain_alert(A.decrypt_error))
    assert info.value.description == A.decrypt_error
    target, _ = _reach("server", "1.3", State.WAIT_CV)  # the client's Certificate was protected
    _refused(target, _plain_alert(A.decrypt_error), A.unexpected_message)


# -- what a long connection keeps: bounded however long the peer goes on ----------------------------
def test_the_trace_of_a_long_connection_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every KeyUpdate (and warning, ticket, refused renegotiation) adds trace steps; between
    them a peer may send one byte of data, which resets the bounds on runs. The trace keeps the
    handshake and the first steps after it, then one note that it is full."""
    monkeypatch.setattr(trace_module, "MAX_TRACE_EVENTS", 120)
    client, server = _connected("tls13")
    for _ in range(100):
        client.send_application_data(b"x")
        data = client.data_to_send() + _key_update_from(client, False)
        assert server.receive_data(data) == [ApplicationData(b"x")]
    assert len(server.trace.events) == 121
    assert server.trace.events[-1].name == "trace full"
    assert [e.name for e in server.trace.messages()][0] == "ClientHello"


def test_a_ticket_flood_keeps_only_the_newest_tickets() -> None:
    """A server may send any number of NewSessionTickets (RFC 8446 §4.6.1); the client keeps the
    newest MAX_KEPT_TICKETS (each one is still delivered as an event)."""
    client, server = _connected("tls13-tickets")
    count = MAX_KEPT_TICKETS + 40
    data = b"".join(
        _sent_by(
            server,
            ContentType.handshake,
            NewSessionTicket13(600, i, bytes([i]), b"T%d" % i).encode(),
        )
        for i in range(count)
    )
    events = client.receive_data(data)
    assert [e.ticket for e in events] == [b"T%d" % i for i in range(count)]
    assert [t.ticket for t in client.tickets] == [b"T%d" % i for i in range(40, count)]


# -- refused renegotiations (RFC 5746 §4.2, §4.4) are bounded like warnings -----------------------
@pytest.mark.parametrize("role", ["client", "server"])
def test_refused_renegotiations_are_bounded_like_warnings(role: str) -> None:
    """Each HelloRequest (to a client) or renegotiating ClientHello (to a server) is answered with
    a no_renegotiation warning and delivers nothing; a run of them, mixed with warnings, ends at
    MAX_WARNING_ALERTS instead of going on for ever."""
    client, server = _connected("tls12-ecdhe")
    target, peer = (client, server) if role == "client" else (server, client)
    assert client.hello is not None
    again = bytes(4) if role == "client" else client.hello.encode()  # HelloRequest / ClientHello
    run = _sent_by(peer, ContentType.handshake, again)
    run += b"".join(
        _alert(peer, AlertLevel.warning, A.user_canceled) for _ in range(MAX_WARNING_ALERTS - 2)
    )
    assert target.receive_data(run) == []
    answers = target.data_to_send()  # the one no_renegotiation warning
    assert len(_records(answers)) == 1
    assert peer.receive_data(answers) == []  # a warning: the peer reads it and goes on
    _refused_by(target, peer, _sent_by(peer, ContentType.handshake, again), A.unexpected_message)


# -- a close_notify that claims to be fatal is a fatal alert (as OpenSSL reads it) -----------------
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_a_fatal_level_close_notify_is_not_a_clean_close(name: str) -> None:
    """Only a warning-level close_notify closes cleanly; at fatal level OpenSSL reports a fatal
    alert in both versions, and so does tlslab: RemoteAlert, closed, nothing delivered."""
    client, server = _connected(name)
    with pytest.raises(RemoteAlert) as info:
        server.receive_data(_alert(client, AlertLevel.fatal, A.close_notify))
    assert info.value.description == A.close_notify
    assert server.closed and server.error is not None
    with pytest.raises(ConnectionNotUsable):
        server.send_application_data(b"x")
