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
    """Both Finished messages checked: the connection is established.

    ``peer_certificates`` is the peer's chain (DER, leaf first): the server's for a client, the
    client's (when it authenticated) for a server. A ``resumed`` handshake saw no certificate:
    the chain is the one the original session authenticated (RFC 8446 §4.6.1, RFC 5077 §3.4)."""

    version: int
    cipher_suite: int
    alpn: bytes | None = None
    group: int | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)
    resumed: bool = False

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
    """A session the client may resume: the ticket, and the secret and state it stands for.

    TLS 1.3 (RFC 8446 §4.6.1): ``psk`` is the PSK derived from the resumption master secret and
    the ticket's nonce; ``age_add`` obfuscates the ticket age the client reports.

    TLS 1.2 (RFC 5077 §3.3, ``version`` 0x0303): ``psk`` is the session's master secret (a resumed
    handshake derives its keys from it and the two new randoms, RFC 5246 §8.1); ``lifetime`` is
    the server's ticket_lifetime_hint (0: unspecified); ``age_add`` is 0. The session also
    remembers whether it used the extended master secret (RFC 7627 §5.3), the server name and
    ALPN protocol it was made for, and the server's certificate chain (a resumed handshake
    sends none). Taught in notebook 08_full_handshake."""

    ticket: bytes
    psk: bytes = field(repr=False)
    lifetime: int
    age_add: int
    cipher_suite: int
    received_at: Any = None
    version: int = ProtocolVersion.TLS13
    extended_master_secret: bool = False
    server_name: str | None = None
    alpn: bytes | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def master_secret(self) -> bytes:
        """The TLS 1.2 session's master secret (the same bytes as ``psk``)."""
        return self.psk


class ConnectionNotUsable(TLSError):
    """The connection was closed, or failed with an alert: it does nothing any more."""


class TruncatedConnection(ConnectionNotUsable):
    """The transport ended without the peer's close_notify (RFC 8446 §6.1): the data received
    may have been cut short by an attacker, so this is not a normal close."""
