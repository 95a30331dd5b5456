"""Engine fuzzing (issue 11): real flights, mutated and reordered, fed to both roles of both
versions. Whatever arrives, only tlslab errors escape; a failure leaves the alert queued and the
connection closed; and no HandshakeComplete ever follows an error, however many bytes follow."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tlslab.constants import ProtocolVersion as V
from tlslab.engine.client import ClientConfig, TLSClient
from tlslab.engine.connection import ConnectionNotUsable, HandshakeComplete
from tlslab.engine.memory import handshake_in_memory
from tlslab.engine.server import ServerIdentity, TLSServer
from tlslab.engine.state import State
from tlslab.errors import RemoteAlert, TLSError
from tlslab.pki.certificates import LAB_NOW, build_chain
from tlslab.rng import seeded_rng
from tlslab.stages.negotiation import ServerConfig

CHAIN = build_chain("lab.example", seed="engine fuzz")
VERSIONS = {"1.3": (V.TLS13,), "1.2": (V.TLS12,)}


def _pair(version: str) -> tuple[TLSClient, TLSServer]:
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(CHAIN.trust_roots),
        now=LAB_NOW,
        versions=VERSIONS[version],
    )
    client = TLSClient(config, seeded_rng("fuzz client"))
    server = TLSServer(ServerConfig(), ServerIdentity.from_chain(CHAIN), seeded_rng("fuzz server"))
    return client, server


def _records(data: bytes) -> list[bytes]:
    out, at = [], 0
    while at + 5 <= len(data):
        length = int.from_bytes(data[at + 3 : at + 5], "big")
        out.append(data[at : at + 5 + length])
        at += 5 + length
    if at < len(data):
        out.append(data[at:])
    return out


BASELINE = {v: handshake_in_memory(*_pair(v)) for v in VERSIONS}
assert all(r.completed for r in BASELINE.values())


@st.composite
def mutations(draw: Any) -> tuple[str, int, list[tuple[str, int, int]]]:
    """A version, the flight to change, and a list of (operation, position, value)."""
    version = draw(st.sampled_from(sorted(VERSIONS)))
    flight = draw(st.integers(0, len(BASELINE[version].flights) - 1))
    ops = draw(
        st.lists(
            st.tuples(
                st.sampled_from(
                    ["flip", "drop", "duplicate", "swap", "truncate", "insert", "split"]
                ),
                st.integers(0, 2**16),
                st.integers(0, 255),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return version, flight, ops


def _mutate(data: bytes, ops: list[tuple[str, int, int]]) -> bytes:
    records = _records(data)
    for op, at, value in ops:
        i = at % max(len(records), 1)
        if op == "flip" and any(records):  # (an earlier truncate may have left nothing)
            joined = bytearray(b"".join(records))
            joined[at % len(joined)] ^= value or 1
            records = _records(bytes(joined))
        elif op == "drop" and len(records) > 1:
            del records[i]
        elif op == "duplicate" and records:
            records.insert(i, records[i])
        elif op == "swap" and len(records) > 1:
            j = (i + 1) % len(records)
            records[i], records[j] = records[j], records[i]
        elif op == "truncate" and records:
            records[i] = records[i][: at % (len(records[i]) + 1)]
        elif op == "insert":
            records.insert(i, bytes([value % 26 + 20, 3, 3, 0, 2, 2, value]))
        elif op == "split" and records and len(records[i]) > 6:
            # re-frame one record's body as two records (a handshake message split in two)
            record = records[i]
            body = record[5:]
            cut = 1 + at % (len(body) - 1)
            head = record[:3]
            records[i : i + 1] = [
                head + len(body[:cut]).to_bytes(2, "big") + body[:cut],
                head + len(body[cut:]).to_bytes(2, "big") + body[cut:],
            ]
    return b"".join(records)


def _check_failed_side(side: Any, error: BaseException, follow: bytes) -> None:
    assert isinstance(error, TLSError), repr(error)
    assert side.closed and side.state == State.CLOSED and side.error is error
    assert not side.handshake_complete
    if not isinstance(error, RemoteAlert):
        assert side.data_to_send(), "a local failure must queue its alert"
    for _ in range(2):  # however many bytes follow, nothing happens
        with pytest.raises(ConnectionNotUsable):
            side.receive_data(follow or b"\x16")


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutations())
@example(("1.2", 0, [("truncate", 0, 0), ("flip", 0, 0)]))  # a flip after truncating to nothing
def test_mutated_flights_fail_closed(case: tuple[str, int, list[tuple[str, int, int]]]) -> None:
    version, target, ops = case

    def tamper(index: int, sender: str, data: bytes) -> bytes:
        return _mutate(data, ops) if index == target else data

    client, server = _pair(version)
    try:
        result = handshake_in_memory(client, server, tamper=tamper)
    except Exception as error:  # handshake_in_memory re-raises anything that is not a TLSError
        pytest.fail(f"a non-tlslab error escaped: {error!r}")
    if result.error is None:
        return  # the change was harmless (e.g. a duplicated compatibility CCS) or the side waits
    side = client if result.failed_side == "client" else server
    assert result.flights[-1].events == []  # the call that failed delivered nothing
    follow = b"".join(f.data for f in BASELINE[version].flights[target:])
    _check_failed_side(side, result.error, follow)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutations())
def test_mutated_flights_fail_closed_long(
    case: tuple[str, int, list[tuple[str, int, int]]],
) -> None:
    test_mutated_flights_fail_closed.hypothesis.inner_test(case)  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(VERSIONS)),
    st.sampled_from(["client", "server"]),
    st.binary(max_size=400),
)
def test_random_bytes_in_any_role(version: str, role: str, noise: bytes) -> None:
    """Random bytes, alone or after a real first flight: a tlslab error or more waiting."""
    client, server = _pair(version)
    client.start()
    first = client.data_to_send()
    side = server if role == "server" else client
    prefix = first if role == "server" else b""
    try:
        events = side.receive_data(prefix + noise)
    except TLSError as error:
        _check_failed_side(side, error, noise)
        return
    assert not any(isinstance(e, HandshakeComplete) for e in events)
