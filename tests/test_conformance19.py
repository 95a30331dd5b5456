"""Issue 19, the gaps closed this session: each test sends the forbidden thing and checks the exact
alert (read back by the peer when it is protected), that the connection is closed (every later
call raises ConnectionNotUsable) and that nothing was delivered. The rule -> test map is
tests/CONFORMANCE.md."""

from __future__ import annotations

import pytest

from tests.test_engine_core import BY_NAME, _inject, _pair, _reach
from tlslab.constants import AlertDescription, AlertLevel, ContentType
from tlslab.engine.connection import (
    ApplicationData,
    Connection,
    ConnectionNotUsable,
)
from tlslab.engine.dispatcher import MAX_EMPTY_RECORDS, MAX_WARNING_ALERTS
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.state import State
from tlslab.errors import AlertError, RemoteAlert
from tlslab.wire.record import TLSPlaintext

A = AlertDescription


def _connected(name: str) -> tuple[Connection, Connection]:
    client, server = _pair(BY_NAME[name])
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    # the server's last flight (tickets, say) is read, so both sides stand at CONNECTED
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    return client, server


def _assert_unusable(connection: Connection) -> None:
    assert connection.closed and connection.state == State.CLOSED
    assert not connection.handshake_complete
    for call in (
        lambda: connection.receive_data(b"\x17\x03\x03\x00\x01\x00"),
        lambda: connection.send_application_data(b"x"),
        connection.close,
    ):
        with pytest.raises(ConnectionNotUsable):
            call()


def _refused_by(target: Connection, peer: Connection | None, data: bytes, alert: int) -> AlertError:
    """``data`` makes ``target`` fail with exactly ``alert``; the alert is queued (and, read by
    ``peer`` with its keys, is that alert at level fatal); nothing is delivered; closed."""
    with pytest.raises(AlertError) as info:
        target.receive_data(data)
    assert info.value.description == alert, info.value
    sent = target.data_to_send()
    assert sent, "the alert must be queued"
    if target.records.writer is None or peer is None:
        assert sent[-7] == ContentType.alert and sent[-2:] == bytes([AlertLevel.fatal, alert])
    else:
        with pytest.raises(RemoteAlert) as seen:
            peer.receive_data(sent)
        assert (seen.value.level, seen.value.description) == (AlertLevel.fatal, alert)
    _assert_unusable(target)
    return info.value


def _sent_by(peer: Connection, content_type: int, payload: bytes) -> bytes:
    """One record of ``payload`` as ``peer`` sends it, protected with its own write keys (so its
    sequence numbers stay in step with the other side's)."""
    peer.records.write(content_type, payload)
    return peer.data_to_send()


def _alert(peer: Connection, level: int, description: int) -> bytes:
    return _sent_by(peer, ContentType.alert, bytes([level, description]))


# -- a flood of warning alerts (gap 2a; OpenSSL MAX_WARN_ALERT_COUNT, CVE-2016-8610) --------------
def test_tls12_warning_alerts_below_the_bound_are_tolerated() -> None:
    client, server = _connected("tls12-ecdhe")
    for _ in range(MAX_WARNING_ALERTS - 1):
        assert server.receive_data(_alert(client, AlertLevel.warning, A.user_canceled)) == []
    client.send_application_data(b"still here")
    assert server.receive_data(client.data_to_send()) == [ApplicationData(b"still here")]


def test_tls12_too_many_consecutive_warning_alerts_is_unexpected_message() -> None:
    client, server = _connected("tls12-ecdhe")
    client.send_application_data(b"never delivered")
    data = client.data_to_send() + b"".join(
        _alert(client, AlertLevel.warning, A.no_renegotiation) for _ in range(MAX_WARNING_ALERTS)
    )
    # the application data came first in the same read: the failing call delivers nothing
    error = _refused_by(server, client, data, A.unexpected_message)
    assert "warning alerts" in str(error)


def test_warning_alerts_count_only_in_a_row() -> None:
    client, server = _connected("tls12-ecdhe")
    for i in range(3 * MAX_WARNING_ALERTS):
        assert server.receive_data(_alert(client, AlertLevel.warning, A.user_canceled)) == []
        client.send_application_data(b"%d" % i)
        assert server.receive_data(client.data_to_send()) == [ApplicationData(b"%d" % i)]


def test_tls13_user_canceled_is_tolerated_but_bounded() -> None:
    client, server = _connected("tls13")
    for _ in range(MAX_WARNING_ALERTS - 1):
        assert server.receive_data(_alert(client, AlertLevel.warning, A.user_canceled)) == []
    _refused_by(
        server,
        client,
        _alert(client, AlertLevel.warning, A.user_canceled),
        A.unexpected_message,
    )


@pytest.mark.parametrize("description", [A.no_renegotiation, A.bad_certificate, 0xEE])
def test_tls13_other_warning_alerts_are_fatal_whatever_their_level(description: int) -> None:
    """RFC 8446 §6.2: every alert but close_notify and user_canceled is an error alert, even
    sent at level warning (unknown descriptions too). Nothing is sent back."""
    client, server = _connected("tls13")
    client.send_application_data(b"not delivered")
    with pytest.raises(RemoteAlert) as info:
        server.receive_data(client.data_to_send() + _alert(client, AlertLevel.warning, description))
    assert info.value.description == description
    assert server.data_to_send() == b""
    _assert_unusable(server)


# -- the alert record itself (gap 2b) ----------------------------------------------------------------
@pytest.mark.parametrize("level", [0, 3, 255])
@pytest.mark.parametrize("where", ["tls13", "tls12-ecdhe", "handshake"])
def test_an_alert_level_other_than_warning_or_fatal_is_illegal_parameter(
    where: str, level: int
) -> None:
    """As OpenSSL and BoringSSL ("unknown alert type" -> illegal_parameter)."""
    if where == "handshake":
        target, peer = _reach("client", "1.3", State.WAIT_EE)
        peer = None  # the peer would not read our handshake-time alert with its keys here
    else:
        peer, target = _connected(where)
    description = A.close_notify if level == 0 else A.handshake_failure
    record = (
        _inject(target, ContentType.alert, bytes([level, description]))
        if peer is None
        else _alert(peer, level, description)
    )
    _refused_by(target, peer, record, A.illegal_parameter)


@pytest.mark.parametrize("payload", [b"\x02", b"\x01\x00\x00", b"\x02\x28\x02\x28"])
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_an_alert_that_is_not_two_bytes_is_decode_error(name: str, payload: bytes) -> None:
    client, server = _connected(name)
    _refused_by(server, client, _sent_by(client, ContentType.alert, payload), A.decode_error)


@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe"])
def test_an_empty_protected_alert_is_unexpected_message(name: str) -> None:
    client, server = _connected(name)
    _refused_by(server, client, _sent_by(client, ContentType.alert, b""), A.unexpected_message)


def test_an_empty_plaintext_alert_before_the_handshake_is_unexpected_message() -> None:
    _, server = _pair(BY_NAME["tls13"])
    empty = TLSPlaintext(ContentType.alert, b"", 0x0303).encode()
    _refused_by(server, None, empty, A.unexpected_message)


# -- empty application data records (gap 2a, OpenSSL MAX_EMPTY_RECORDS) -----------------------------
@pytest.mark.parametrize("name", ["tls13", "tls12-ecdhe", "tls12-rsa-cbc"])
def test_empty_records_deliver_nothing_and_are_bounded(name: str) -> None:
    client, server = _connected(name)
    empty = b"".join(
        _sent_by(client, ContentType.application_data, b"") for _ in range(MAX_EMPTY_RECORDS)
    )
    assert server.receive_data(empty) == []  # allowed (RFC 8446 §5.1), and nothing to deliver
    _refused_by(
        server,
        client,
        _sent_by(client, ContentType.application_data, b""),
        A.unexpected_message,
    )


def test_empty_records_count_only_in_a_row() -> None:
    client, server = _connected("tls13")
    for i in range(3):
        run = [
            _sent_by(client, ContentType.application_data, b"") for _ in range(MAX_EMPTY_RECORDS)
        ]
        client.send_application_data(b"%d" % i)
        data = b"".join(run) + client.data_to_send()
        assert server.receive_data(data) == [ApplicationData(b"%d" % i)]
