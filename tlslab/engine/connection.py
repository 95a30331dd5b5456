"""A sans-IO TLS connection: records in, events out, bytes to send (notebook 08).

The machinery is split in two: ``record_layer.py`` (framing, reassembly, protection) and
``dispatcher.py`` (the state table applied, the one place state changes, the one error
boundary). This module keeps the names callers import: :class:`Connection` and the events.
"""

from __future__ import annotations

from .dispatcher import Connection
from .events import (
    ApplicationData,
    ConnectionClosed,
    ConnectionNotUsable,
    Event,
    HandshakeComplete,
    SessionTicket,
    TruncatedConnection,
)

__all__ = [
    "ApplicationData",
    "Connection",
    "ConnectionClosed",
    "ConnectionNotUsable",
    "Event",
    "HandshakeComplete",
    "SessionTicket",
    "TruncatedConnection",
]
