"""Randomness as a parameter.

Every stage function that needs random bytes takes ``rng``: a callable
``rng(n) -> n bytes``. Real use passes :data:`system_rng` (``os.urandom``);
notebooks and tests pass :func:`seeded_rng` so every run shows the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, hmac

Rng = Callable[[int], bytes]

system_rng: Rng = os.urandom


def seeded_rng(seed: int | str | bytes) -> Rng:
    """A deterministic byte stream from ``seed`` (HMAC-SHA256 in counter mode).

    For teaching and tests only: the same seed always gives the same "random"
    bytes, so a notebook's ClientHello is identical on every run.
    """
    if isinstance(seed, int):
        key = seed.to_bytes(16, "big", signed=True)
    elif isinstance(seed, str):
        key = seed.encode()
    else:
        key = seed
    state = {"counter": 0}
    buffer = bytearray()

    def rng(n: int) -> bytes:
        while len(buffer) < n:
            mac = hmac.HMAC(key, hashes.SHA256())
            mac.update(state["counter"].to_bytes(8, "big"))
            buffer.extend(mac.finalize())
            state["counter"] += 1
        out = bytes(buffer[:n])
        del buffer[:n]
        return out

    return rng
