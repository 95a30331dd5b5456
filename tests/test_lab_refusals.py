"""tlslab.lab.refusals, the helpers notebooks 02, 06, 07 and 08 use to show refusals live."""

from __future__ import annotations

from tlslab.constants import AlertDescription as A
from tlslab.constants import ContentType, NamedGroup, ProtocolVersion
from tlslab.engine.connection import ApplicationData
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.state import State
from tlslab.lab.refusals import (
    Refusal,
    deliver,
    deliver_until,
    hello_record,
    lab_pair,
    sealed_for,
    split_records,
)
from tlslab.rng import seeded_rng
from tlslab.stages.hello import build_client_hello


def test_a_refusal_reports_alert_reason_bytes_and_what_did_not_happen() -> None:
    _, server = lab_pair()
    hello = build_client_hello("lab.example", rng=seeded_rng("refusal test"))
    refusal = deliver(server, hello_record(hello.replace(legacy_version=0x0300)))
    assert isinstance(refusal, Refusal)
    assert (refusal.who, refusal.alert, refusal.alert_name) == (
        "server",
        A.protocol_version,
        "protocol_version",
    )
    assert refusal.sent[:1] == b"\x15" and refusal.sent[-2:] == bytes([2, A.protocol_version])
    assert not refusal.server_hello_sent and refusal.closed and refusal.delivered == ()
    shown = repr(refusal)
    assert shown.startswith("server refused: protocol_version (70)")
    assert "ServerHello sent: no" in shown and "15 03" in shown


def test_deliver_returns_the_events_when_nothing_is_refused() -> None:
    client, server = lab_pair()
    client.start()
    assert deliver(server, client.data_to_send()) == []
    assert server.state != State.CLOSED


def test_sealed_for_builds_what_the_connection_opens() -> None:
    client, server = lab_pair(client={"versions": (ProtocolVersion.TLS12,)})
    assert handshake_in_memory(client, server).completed
    events = deliver(server, sealed_for(server, ContentType.application_data, b"hello"))
    assert events == [ApplicationData(b"hello")]
    client, server = lab_pair()
    assert handshake_in_memory(client, server).completed
    events = deliver(client, sealed_for(client, ContentType.application_data, b"1.3"))
    assert events == [ApplicationData(b"1.3")]


def test_deliver_until_stops_at_the_state_and_returns_the_rest() -> None:
    client, server = lab_pair()
    client.start()
    server.receive_data(client.data_to_send())
    flight = server.data_to_send()
    rest = deliver_until(client, flight, State.WAIT_FINISHED)
    assert client.state == State.WAIT_FINISHED
    assert len(split_records(rest)) == 1 and flight.endswith(rest)


def test_lab_pair_client_certificate_and_groups() -> None:
    client, server = lab_pair(
        client={"versions": (ProtocolVersion.TLS12,), "client_certificate": True},
        server={"client_auth": True},
    )
    assert handshake_in_memory(client, server).completed and server.peer_certificates
    assert client.config.groups[0] == NamedGroup.x25519
    assert split_records(b"\x16\x03\x01\x00\x01\x00\x17\x03") == [b"\x16\x03\x01\x00\x01\x00"]
