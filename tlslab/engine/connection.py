"""The shared machinery of a sans-IO TLS connection: records in, events out, bytes to send.

No sockets here (``tlslab.net.sockets`` has them). Feed bytes from the network with ``receive_data``; it
returns events (:class:`HandshakeComplete`, :class:`ApplicationData`, ...). Whatever the
connection wants to send is collected and returned by ``data_to_send``. Client and server
(``client.py``, ``server.py``) only sequence the stage functions; this module routes records,
reassembles handshake messages, keeps the transcript, applies record protection and turns any
failure into the alert the RFC calls for. Modelled on h11 (see STYLE.md).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from ..constants import (
    AlertDescription,
    AlertLevel,
    ContentType,
    HandshakeType,
    ProtocolVersion,
    describe,
)
from ..errors import AlertError, ProtocolVersionError, RemoteAlert, TLSError, UnexpectedMessage
from ..rng import Rng, system_rng
from ..stages.protection import RecordProtection12, RecordProtection13
from ..stages.suites import SuiteInfo
from ..stages.transcript import Transcript
from ..wire.messages import (
    DecodeContext,
    HandshakeMessage,
    KeyExchangeKind,
    KeyUpdate,
    decode_handshake,
)
from ..wire.record import Alert, HandshakeReassembler, RecordReader, TLSPlaintext, fragment
from .state import TRANSITIONS, State
from .trace import Trace

Protection = RecordProtection13 | RecordProtection12


@dataclass(frozen=True)
class Event:
    """Base class of what ``receive_data`` reports."""


@dataclass(frozen=True)
class HandshakeComplete(Event):
    version: int
    cipher_suite: int
    alpn: bytes | None = None
    group: int | None = None
    peer_certificates: tuple[bytes, ...] = field(default=(), repr=False)

    def __str__(self) -> str:
        from ..constants import CipherSuite

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
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


class Connection:
    """One endpoint of a TLS connection, without I/O."""

    role = "connection"

    def __init__(self, rng: Rng = system_rng) -> None:
        self.rng = rng
        self.state = State.START
        self.version: int | None = None
        self.suite: SuiteInfo | None = None
        self.key_exchange_kind: KeyExchangeKind | None = None
        self.trace = Trace(self.role)
        self._records = RecordReader()
        self._handshake = HandshakeReassembler()
        self._reader: Protection | None = None
        self._writer: Protection | None = None
        self._pending_reader: Protection | None = None
        self._record_version = ProtocolVersion.TLS10
        self._transcript_messages: list[bytes] = []
        self._transcript: Transcript | None = None
        self._out = bytearray()
        self._events: list[Event] = []
        self.read_secret = b""
        self.write_secret = b""
        self._secrets: dict[str, bytes] = {}
        self.closed = False

    # -- the public surface --------------------------------------------------------------
    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call."""
        out, self._out = bytes(self._out), bytearray()
        return out

    def receive_data(self, data: bytes) -> list[Event]:
        """Process bytes from the peer; returns the events they produced.

        A local failure sends the matching alert (see ``data_to_send``), closes the connection and
        raises tlslab's error; a fatal alert from the peer raises :class:`RemoteAlert`."""
        if self.closed:
            raise TLSError("the connection is closed")
        try:
            for record in self._records.feed(data):
                self._on_record(record)
        except AlertError as error:
            self.trace.check(f"{self.role} aborts", False, str(error))
            self._send_alert(error.description)
            self.closed = True
            self.state = State.CLOSED
            raise
        events, self._events = self._events, []
        return events

    def send_application_data(self, data: bytes) -> None:
        if self.state != State.CONNECTED or self._writer is None:
            raise TLSError(f"cannot send application data in state {self.state.value}")
        self._write(ContentType.application_data, data)

    def close(self) -> None:
        """Send close_notify (RFC 8446 §6.1)."""
        if not self.closed:
            self._send_alert(AlertDescription.close_notify, AlertLevel.warning)
            self.closed = True

    @property
    def handshake_complete(self) -> bool:
        return self.state == State.CONNECTED

    # -- transcript ---------------------------------------------------------------------
    def _transcript_add(self, raw: bytes) -> None:
        if self._transcript is not None:
            self._transcript.update(raw)
        else:
            self._transcript_messages.append(raw)

    def _start_transcript(self, hash_name: str) -> Transcript:
        """Once the suite (and so the hash) is known, hash what was buffered."""
        self._transcript = Transcript(hash_name)
        for raw in self._transcript_messages:
            self._transcript.update(raw)
        self._transcript_messages = []
        return self._transcript

    @property
    def transcript(self) -> Transcript:
        assert self._transcript is not None, "transcript hash not started yet"
        return self._transcript

    # -- records in ------------------------------------------------------------------------
    def _on_record(self, record: TLSPlaintext) -> None:
        if (
            self.version == ProtocolVersion.TLS12
            and record.legacy_record_version != ProtocolVersion.TLS12
        ):
            # TLS 1.3 ignores this field (RFC 8446 §5.1); a TLS 1.2 stack checks it, as OpenSSL does.
            raise ProtocolVersionError(
                "record version differs from the negotiated TLS 1.2",
                expected="0x0303",
                seen=f"0x{record.legacy_record_version:04x}",
            )
        if record.type == ContentType.change_cipher_spec:
            self._on_change_cipher_spec(record)
            return
        if self._reader is None:
            content_type, content = record.type, record.fragment
            if content_type == ContentType.application_data:
                raise UnexpectedMessage("application data before any keys were agreed")
        elif (
            isinstance(self._reader, RecordProtection13)
            and record.type == ContentType.alert
            and self.state != State.CONNECTED
            and len(record.fragment) == 2
        ):
            # A peer that failed before switching its write keys sends its alert in the clear;
            # OpenSSL accepts that during the handshake, and so does tlslab.
            content_type, content = record.type, record.fragment
        elif isinstance(self._reader, RecordProtection13):
            content_type, content = self._reader.open(record)
        else:
            content_type, content = record.type, self._reader.open(record)
        if content_type == ContentType.handshake:
            for raw in self._handshake.feed(content):
                self._on_handshake(raw)
        elif content_type == ContentType.alert:
            self._on_alert(Alert.decode(content))
        elif content_type == ContentType.application_data:
            if self.state != State.CONNECTED:
                raise UnexpectedMessage(
                    "application data before the handshake finished", seen=self.state.value
                )
            self._events.append(ApplicationData(content))
        else:
            raise UnexpectedMessage("unexpected record content type", seen=content_type)

    def _on_change_cipher_spec(self, record: TLSPlaintext) -> None:
        if record.fragment != b"\x01":
            raise UnexpectedMessage(
                "ChangeCipherSpec must be the single byte 01", seen=record.fragment
            )
        if (
            self.version == ProtocolVersion.TLS12
            and self.state == State.WAIT_CCS_12
            and self._pending_reader
        ):
            if self._handshake.pending:
                raise UnexpectedMessage("ChangeCipherSpec in the middle of a handshake message")
            self._reader, self._pending_reader = self._pending_reader, None
            self.state = State.WAIT_FINISHED_12
            self.trace.note("ChangeCipherSpec received", "reading with the new keys from now on")
            return
        # TLS 1.3 middlebox compatibility (RFC 8446 §5): one unprotected CCS is ignored during the handshake.
        if self.version == ProtocolVersion.TLS12 or self.state in (State.CONNECTED, State.START):
            raise UnexpectedMessage("ChangeCipherSpec not allowed now", seen=self.state.value)
        self.trace.note("ChangeCipherSpec ignored", "TLS 1.3 middlebox compatibility (RFC 8446 §5)")

    def _on_handshake(self, raw: bytes) -> None:
        msg_type = raw[0]
        transition = TRANSITIONS.get((self.role, self.state, msg_type))
        if transition is None:
            raise UnexpectedMessage(
                f"{describe(HandshakeType, msg_type, 2)} is not allowed in state {self.state.value}"
            )
        handler, after = transition
        context = DecodeContext(self.version or ProtocolVersion.TLS13, self.key_exchange_kind)
        message = decode_handshake(raw, version=context.version, key_exchange=context.key_exchange)
        self.trace.message(
            "received", type(message).__name__, raw, protected=self._reader is not None
        )
        self.state = after
        getattr(self, handler)(message, raw)

    def _on_alert(self, alert: Alert) -> None:
        self.trace.note("alert received", f"{describe(AlertDescription, alert.description, 2)}")
        if alert.description == AlertDescription.close_notify:
            self._events.append(ConnectionClosed())
            if not self.closed:
                self.close()
            return
        if alert.level == AlertLevel.warning and self.version == ProtocolVersion.TLS12:
            return  # e.g. no_renegotiation: a warning, the connection goes on (RFC 5246 §7.2)
        self.closed = True
        self.state = State.CLOSED
        raise RemoteAlert(alert.level, alert.description)

    # -- records out -----------------------------------------------------------------------
    def _write(self, content_type: int, data: bytes) -> None:
        for record in fragment(content_type, data, legacy_record_version=self._record_version):
            if self._writer is not None:
                record = self._writer.seal(content_type, record.fragment)
            self._out += record.encode()

    def _send(self, message: HandshakeMessage, *, transcript: bool = True) -> bytes:
        raw = message.encode()
        if transcript:
            self._transcript_add(raw)
        self.trace.message("sent", type(message).__name__, raw, protected=self._writer is not None)
        self._write(ContentType.handshake, raw)
        return raw

    def _send_change_cipher_spec(self) -> None:
        self._out += TLSPlaintext(
            ContentType.change_cipher_spec, b"\x01", ProtocolVersion.TLS12
        ).encode()
        self.trace.message("sent", "ChangeCipherSpec", b"\x01")

    def _send_alert(self, description: int, level: int = AlertLevel.fatal) -> None:
        with contextlib.suppress(TLSError):  # nothing more can be done if even this fails
            self._write(ContentType.alert, Alert(level, description).encode())
        self.trace.note("alert sent", describe(AlertDescription, description, 2))

    def _set_reader(self, protection: Protection) -> None:
        if self._handshake.pending:
            raise UnexpectedMessage("a handshake message spans a key change (RFC 8446 §5.1)")
        self._reader = protection

    # -- renegotiation is refused (RFC 5746 §4.2 / §4.4; RFC 8446 has none) ----------------------
    def _refuse_renegotiation(self, what: str) -> None:
        if self.version != ProtocolVersion.TLS12:
            raise UnexpectedMessage(
                f"{what} after a TLS 1.3 handshake (TLS 1.3 has no renegotiation)"
            )
        self.trace.note(
            "renegotiation refused", f"{what}: answered with a no_renegotiation warning"
        )
        self._send_alert(AlertDescription.no_renegotiation, AlertLevel.warning)

    def on_hello_request(self, message: HandshakeMessage, raw: bytes) -> None:
        self._refuse_renegotiation("HelloRequest")

    def on_renegotiation(self, message: HandshakeMessage, raw: bytes) -> None:
        self._refuse_renegotiation("ClientHello")

    # -- the TLS 1.3 key schedule, shared by client and server (RFC 8446 §7.1) -------------------
    def _handshake_schedule(self, shared_secret: bytes, psk: bytes | None) -> tuple[bytes, bytes]:
        """Early and Handshake Secret, then both handshake traffic secrets over CH..SH.
        Returns (client_handshake_traffic_secret, server_handshake_traffic_secret)."""
        from ..stages import keyschedule as ks

        assert self.suite is not None
        hash_name = self.suite.hash_name
        self.trace.secret("shared_secret", shared_secret)
        hs = ks.handshake_secret(ks.early_secret(psk, hash_name), shared_secret, hash_name)
        hello_hash = self.transcript.hash()
        self._record_secrets(
            handshake_secret=hs,
            client_handshake_traffic_secret=ks.derive_secret(
                hs, "c hs traffic", hello_hash, hash_name
            ),
            server_handshake_traffic_secret=ks.derive_secret(
                hs, "s hs traffic", hello_hash, hash_name
            ),
        )
        return self._secrets["client_handshake_traffic_secret"], self._secrets[
            "server_handshake_traffic_secret"
        ]

    def _application_schedule(self) -> None:
        """Master Secret, then the application traffic and exporter secrets over CH..server Finished."""
        from ..stages import keyschedule as ks

        assert self.suite is not None
        hash_name = self.suite.hash_name
        ms = ks.master_secret_13(self._secrets["handshake_secret"], hash_name)
        finished_hash = self.transcript.hash()
        self._record_secrets(
            master_secret=ms,
            client_application_traffic_secret_0=ks.derive_secret(
                ms, "c ap traffic", finished_hash, hash_name
            ),
            server_application_traffic_secret_0=ks.derive_secret(
                ms, "s ap traffic", finished_hash, hash_name
            ),
            exporter_master_secret=ks.derive_secret(ms, "exp master", finished_hash, hash_name),
        )

    def _record_secrets(self, **secrets: bytes) -> None:
        self._secrets.update(secrets)
        for name, value in secrets.items():
            self.trace.secret(name, value)

    def _protection_13(self, secret: bytes) -> RecordProtection13:
        from ..stages.keyschedule import traffic_keys

        assert self.suite is not None
        return RecordProtection13(self.suite, traffic_keys(secret, self.suite))

    # -- TLS 1.3 KeyUpdate (RFC 8446 §4.6.3) -------------------------------------------
    def key_update(self, request_peer_update: bool = True) -> None:
        """Send KeyUpdate and move to the next write secret."""
        from ..stages.keyschedule import next_traffic_secret

        if (
            self.version != ProtocolVersion.TLS13
            or self.state != State.CONNECTED
            or self.suite is None
        ):
            raise TLSError("KeyUpdate needs an established TLS 1.3 connection")
        self._send(KeyUpdate(int(request_peer_update)), transcript=False)
        self.write_secret = next_traffic_secret(self.write_secret, self.suite.hash_name)
        self._writer = self._protection_13(self.write_secret)
        self.trace.secret("write_traffic_secret (updated)", self.write_secret)

    def on_key_update(self, message: KeyUpdate, raw: bytes) -> None:
        from ..stages.keyschedule import next_traffic_secret

        assert self.suite is not None
        self.read_secret = next_traffic_secret(self.read_secret, self.suite.hash_name)
        self._set_reader(self._protection_13(self.read_secret))
        self.trace.secret("read_traffic_secret (updated)", self.read_secret)
        if message.request_update:
            self.key_update(request_peer_update=False)
