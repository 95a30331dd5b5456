"""Property tests: decode(encode(x)) == x for every message; decoders raise only tlslab errors.

The default suite runs a few hundred examples per decoder; ``make slow`` (pytest -m slow)
runs 10,000 per decoder, as the foundation issue asks.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslab.errors import TLSError
from tlslab.wire.explain import explain
from tlslab.wire.messages import decode_handshake
from tlslab.wire.record import Alert, ChangeCipherSpec, RecordReader, TLSPlaintext

from .strategies import MESSAGES

FAST = settings(
    max_examples=int(os.environ.get("TLSLAB_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SLOW = settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))


def _round_trip(name: str, data: st.DataObject) -> None:
    strategy, version, kx = MESSAGES[name]
    message = data.draw(strategy)
    raw = message.encode()
    back = decode_handshake(raw, version=version, key_exchange=kx)
    assert back == message
    assert back.encode() == raw


def _decoders() -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, (_, version, kx) in MESSAGES.items():
        out.append(
            (name, lambda b, v=version, k=kx: decode_handshake(b, version=v, key_exchange=k))
        )
    out.append(("TLSPlaintext", TLSPlaintext.decode))
    out.append(("Alert", Alert.decode))
    out.append(("ChangeCipherSpec", ChangeCipherSpec.decode))
    out.append(("RecordReader", lambda b: RecordReader().feed(b)))
    out.append(("explain", lambda b: explain(b, strict=True)))
    return out


def _fuzz_once(decode: Any, raw: bytes) -> None:
    with contextlib.suppress(TLSError):
        decode(raw)


def _mutated(data: st.DataObject) -> bytes:
    """A valid message of a random type with a few bytes flipped, cut or inserted."""
    name = data.draw(st.sampled_from(sorted(MESSAGES)))
    raw = bytearray(data.draw(MESSAGES[name][0]).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if op == "flip" and raw:
            raw[pos] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del raw[pos:]
        else:
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=3))
    return bytes(raw)


@pytest.mark.parametrize("name", sorted(MESSAGES))
@FAST
@given(data=st.data())
def test_round_trip(name: str, data: st.DataObject) -> None:
    _round_trip(name, data)


@pytest.mark.parametrize("name,decode", _decoders())
@FAST
@given(raw=st.binary(max_size=300), data=st.data())
def test_decoders_raise_only_tlslab_errors(
    name: str, decode: Any, raw: bytes, data: st.DataObject
) -> None:
    _fuzz_once(decode, raw)
    _fuzz_once(decode, _mutated(data))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MESSAGES))
@SLOW
@given(data=st.data())
def test_round_trip_slow(name: str, data: st.DataObject) -> None:
    _round_trip(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("name,decode", _decoders())
@SLOW
@given(raw=st.binary(max_size=300), data=st.data())
def test_decoders_raise_only_tlslab_errors_slow(
    name: str, decode: Any, raw: bytes, data: st.DataObject
) -> None:
    _fuzz_once(decode, raw)
    _fuzz_once(decode, _mutated(data))
