"""The sans-IO client and server in memory: every supported combination, HRR, KeyUpdate,
close_notify, the key log, and tampering with every flight."""

from __future__ import annotations

import pytest

from tlslab.constants import CipherSuite as CS
from tlslab.constants import NamedGroup as G
from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.connection import ApplicationData, ConnectionClosed
from tlslab.engine.decrypt import decrypt_session
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.engine.state import State, transitions_for
from tlslab.errors import AlertError, RemoteAlert, TLSError
from tlslab.pki.certificates import LAB_NOW, build_chain
from tlslab.rng import seeded_rng
from tlslab.stages.negotiation import ServerConfig

CHAINS = {k: build_chain(key_type=k) for k in ("ecdsa-p256", "rsa")}
CHAINS["ed25519"] = build_chain(leaf_options={"key_type": "ed25519"})


def _pair(
    client_changes: dict, server_changes: dict, key: str = "ecdsa-p256", seed: int = 1
) -> tuple[TLSClient, TLSServer]:  # type: ignore[type-arg]
    chain = CHAINS[key]
    cert_key = {"ecdsa-p256": "ecdsa-p256", "rsa": "rsa", "ed25519": "ed25519"}[key]
    client = TLSClient(
        ClientConfig(
            **{
                "server_name": "lab.example",
                "trust_roots": tuple(chain.trust_roots),
                "now": LAB_NOW,
                **client_changes,
            }
        ),
        seeded_rng(seed),
    )
    server = TLSServer(
        ServerConfig(certificate_key=cert_key, **server_changes),
        ServerIdentity.from_chain(chain),
        seeded_rng(seed + 100),
    )
    return client, server


def _exchange(client: TLSClient, server: TLSServer) -> None:
    client.send_application_data(b"ping")
    assert server.receive_data(client.data_to_send()) == [ApplicationData(b"ping")]
    server.send_application_data(b"pong")
    assert client.receive_data(server.data_to_send()) == [ApplicationData(b"pong")]


COMBOS_13 = [
    (g, s, k)
    for g in (G.x25519, G.secp256r1, G.secp384r1, G.x448, G.ffdhe2048)
    for s in (CS.TLS_AES_128_GCM_SHA256, CS.TLS_AES_256_GCM_SHA384, CS.TLS_CHACHA20_POLY1305_SHA256)
    for k in ("ecdsa-p256", "rsa", "ed25519")
]


@pytest.mark.parametrize("group,suite,key", COMBOS_13, ids=lambda v: getattr(v, "name", str(v)))
def test_tls13_in_memory(group: int, suite: int, key: str) -> None:
    client, server = _pair(
        {"cipher_suites": (suite,), "groups": (group,)}, {"groups": (group,)}, key
    )
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert client.suite is not None and client.suite.suite == suite
    _exchange(client, server)


COMBOS_12 = [
    ("ecdsa-p256", s)
    for s in (
        CS.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CS.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CS.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CS.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        CS.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
    )
] + [
    ("rsa", s)
    for s in (
        CS.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CS.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        CS.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        CS.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
        CS.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        CS.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
        CS.TLS_RSA_WITH_AES_128_GCM_SHA256,
        CS.TLS_RSA_WITH_AES_256_GCM_SHA384,
        CS.TLS_RSA_WITH_AES_128_CBC_SHA,
    )
]


@pytest.mark.parametrize("key,suite", COMBOS_12, ids=lambda v: getattr(v, "name", str(v)))
def test_tls12_in_memory(key: str, suite: int) -> None:
    groups = (G.x25519, G.secp256r1, G.ffdhe2048)
    client, server = _pair(
        {"versions": (V.TLS12,), "cipher_suites": (suite,), "groups": groups},
        {"cipher_suites": (suite,), "groups": groups},
        key,
    )
    result = handshake_in_memory(client, server)
    assert result.completed, result.error
    assert client.version == V.TLS12 and client.suite is not None and client.suite.suite == suite
    _exchange(client, server)


def test_hello_retry_request_in_memory() -> None:
    client, server = _pair({"groups": (G.x25519, G.secp256r1)}, {"groups": (G.secp256r1,)})
    result = handshake_in_memory(client, server)
    assert result.completed
    sent = [e.name for e in client.trace.messages() if e.direction == "sent"]
    assert sent.count("ClientHello") == 2


def test_key_update_and_close_notify() -> None:
    client, server = _pair({}, {})
    assert handshake_in_memory(client, server).completed
    old = client.write_secret
    client.key_update(request_peer_update=True)
    assert client.write_secret != old
    server.receive_data(
        client.data_to_send()
    )  # server updates its read key and answers with its own KeyUpdate
    client.receive_data(server.data_to_send())
    _exchange(client, server)
    client.close()
    assert server.receive_data(client.data_to_send()) == [ConnectionClosed()]
    assert server.closed


def test_client_refuses_untrusted_chain_with_unknown_ca() -> None:
    client, server = _pair({"trust_roots": tuple(build_chain(seed="elsewhere").trust_roots)}, {})
    result = handshake_in_memory(client, server)
    assert not result.completed and result.failed_side == "client"
    assert isinstance(result.error, AlertError) and result.error.alert.name in (
        "unknown_ca",
        "bad_certificate",
    )
    # the alert goes to the server, which raises RemoteAlert
    with pytest.raises(RemoteAlert):
        server.receive_data(client.data_to_send())


def test_insecure_mode_is_loud() -> None:
    client, server = _pair({"trust_roots": (), "insecure": True}, {})
    assert handshake_in_memory(client, server).completed
    assert any(e.name == "WARNING" for e in client.trace.events)
    assert any(
        e.kind == "check" and not e.ok and "NOT VALIDATED" in str(e.value)
        for e in client.trace.events
    )


@pytest.mark.parametrize("version", [V.TLS13, V.TLS12])
def test_keylog_decrypts_the_session_with_openssl_labels(version: int) -> None:
    client, server = _pair({"versions": (version,)}, {})
    result = handshake_in_memory(client, server)
    client.send_application_data(b"secret data")
    wire_c2s = (
        b"".join(f.data for f in result.flights if f.sender == "client") + client.data_to_send()
    )
    wire_s2c = b"".join(f.data for f in result.flights if f.sender == "server")
    session = decrypt_session(wire_c2s, wire_s2c, client.trace.keylog())
    assert session.client_data == b"secret data"
    labels = {label for secrets in client.trace.keylog().entries.values() for label in secrets}
    expected = (
        {"CLIENT_RANDOM"}
        if version == V.TLS12
        else {
            "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
            "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0",
            "SERVER_TRAFFIC_SECRET_0",
            "EXPORTER_SECRET",
        }
    )
    assert labels == expected
    assert server.trace.keylog().entries == client.trace.keylog().entries


def test_unexpected_message_is_refused() -> None:
    client, server = _pair({}, {})
    client.start()
    server.receive_data(client.data_to_send())
    with pytest.raises(AlertError) as info:
        server.receive_data(
            client.trace.messages()[0].data and bytes([22, 3, 3, 0, 4, 20, 0, 0, 0])
        )
    assert info.value.alert.name in ("unexpected_message", "decode_error", "bad_record_mac")


def test_state_table_is_drawable() -> None:
    edges = transitions_for("client")
    assert (State.WAIT_SH, "server_hello", State.WAIT_EE) in edges


@pytest.mark.parametrize("version", [V.TLS13, V.TLS12])
def test_tampering_any_flight_fails_the_handshake(version: int) -> None:
    """Flip one byte of any flight in transit: the handshake fails with a TLS alert on one side,
    never succeeds, never raises anything but tlslab's errors."""
    baseline = handshake_in_memory(*_pair({"versions": (version,)}, {}))
    assert baseline.completed
    alerts: set[str] = set()
    for flight in baseline.flights:
        for offset in sorted({*range(0, len(flight.data), 29), len(flight.data) - 1}):

            def tamper(
                index: int, sender: str, data: bytes, at: int = flight.index, pos: int = offset
            ) -> bytes:
                if index != at:
                    return data
                changed = bytearray(data)
                changed[min(pos, len(changed) - 1)] ^= (
                    0x40  # ECDSA signatures vary in length by a byte
                )
                return bytes(changed)

            result = handshake_in_memory(*_pair({"versions": (version,)}, {}), tamper=tamper)
            assert not result.completed, (
                f"tampered flight {flight.index} byte {offset} went unnoticed"
            )
            if result.stalled:  # a length field grew: the receiver waits for bytes that never come
                alerts.add("stalled")
                continue
            assert isinstance(result.error, TLSError)
            alerts.add(
                getattr(result.error, "alert", None).name
                if isinstance(result.error, AlertError)
                else "remote"
            )
    assert {"bad_record_mac", "decode_error"} & alerts
    print(f"TLS {version:#06x} tampering outcomes: {sorted(alerts)}")


def test_renegotiation_is_refused_with_a_warning() -> None:
    from tlslab.wire.messages import HelloRequest

    client, server = _pair({"versions": (V.TLS12,)}, {})
    assert handshake_in_memory(client, server).completed
    server._send(HelloRequest(), transcript=False)  # the server asks for renegotiation
    assert client.receive_data(server.data_to_send()) == []
    assert (
        server.receive_data(client.data_to_send()) == []
    )  # a no_renegotiation warning; still connected
    assert any(e.name == "renegotiation refused" for e in client.trace.events)
    _exchange(client, server)


def test_hello_request_after_tls13_is_unexpected() -> None:
    from tlslab.wire.messages import HelloRequest

    client, server = _pair({}, {})
    assert handshake_in_memory(client, server).completed
    server._send(HelloRequest(), transcript=False)
    with pytest.raises(AlertError) as info:
        client.receive_data(server.data_to_send())
    assert info.value.alert.name == "unexpected_message"
