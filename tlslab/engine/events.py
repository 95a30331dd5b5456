"""What ``receive_data`` reports, and the error a closed connection raises (notebook 08)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..constants import CipherSuite, ProtocolVersion, describe
from ..errors import TLSError


@dataclass(frozen=True)
class Event:
    """Base class of what ``receive_data`` reports."""


@dataclass(frozen=True)
class HandshakeComplete(Event):
    """Both Finished messages checked: the connection is established."""

    version: int
    cipher_suite: int
    alpn: bytes | None = None
    group: int | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)

    def __str__(self) -> str:
        return f"handshake complete: {describe(ProtocolVersion, self.version)}, {describe(CipherSuite, self.cipher_suite)}"


@dataclass(frozen=True)
class ApplicationData(Event):
    data: bytes


@dataclass(frozen=True)
class ConnectionClosed(Event):
    """The peer sent close_notify."""


@dataclass(frozen=True)
class SessionTicket(Event):
    """A TLS 1.3 NewSessionTicket, with the PSK it stands for (RFC 8446 §4.6.1)."""

    ticket: bytes
    psk: bytes = field(repr=False)
    lifetime: int
    age_add: int
    cipher_suite: int
    received_at: Any = None


class ConnectionNotUsable(TLSError):
    """The connection was closed, or failed with an alert: it does nothing any more."""


class TruncatedConnection(ConnectionNotUsable):
    """The transport ended without the peer's close_notify (RFC 8446 §6.1): the data received
    may have been cut short by an attacker, so this is not a normal close."""
