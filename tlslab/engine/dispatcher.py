"""The dispatcher: the one place where peer bytes become state changes, and the one error boundary.

Every unit the record layer delivers (``record_layer.py``) is looked up in the state table
(``state.py``). No row: unexpected_message. A row: the dispatcher decodes the message, puts it in
the transcript, hands the handler the transcript hash the row names, checks that the state the
handler returns is one the row allows, installs the new read keys if the row is a key change
(after checking the message ended its record, RFC 8446 §5.1), and only then changes the state.

Failures are turned into alerts here and nowhere else (the model is h11's):

- the peer's alert (``RemoteAlert``): the connection is closed;
- a check failed (``AlertError``): that alert is queued for the peer and the connection is closed;
- anything else (a bug, or input tlslab did not foresee): an internal_error alert is queued, the
  connection is closed and :class:`~tlslab.errors.InternalError` is raised from the original.

A closed or failed connection does nothing more: ``receive_data``, ``send_application_data`` and
``key_update`` raise :class:`ConnectionNotUsable`. It must never continue: the check that failed
may be the only thing standing between the peer and a handshake that completes unauthenticated.
Taught in notebook 08_full_handshake.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..constants import (
    AlertDescription,
    AlertLevel,
    ContentType,
    HandshakeType,
    ProtocolVersion,
    describe,
)
from ..errors import (
    AlertError,
    DecodeError,
    IllegalParameter,
    InternalError,
    RemoteAlert,
    TLSError,
    UnexpectedMessage,
)
from ..rng import Rng, system_rng
from ..stages.keyschedule import Keys12, KeySchedule13, keys_12, next_traffic_secret, traffic_keys
from ..stages.protection import RecordProtection13
from ..stages.suites import SuiteInfo
from ..stages.transcript import Transcript, message_hash
from ..wire.messages import HandshakeMessage, KeyExchangeKind, KeyUpdate, decode_handshake
from ..wire.record import Alert
from .events import (
    ApplicationData,
    ConnectionClosed,
    ConnectionNotUsable,
    Event,
    TruncatedConnection,
)
from .record_layer import MAX_SEQUENCE, Inbound, Protection, RecordLayer
from .state import (
    ALERT,
    APPLICATION_DATA,
    CHANGE_CIPHER_SPEC,
    Family,
    Message,
    Row,
    State,
    family_of,
    message_name,
    row_for,
)
from .trace import Trace

MAX_WARNING_ALERTS = 5
"""Consecutive non-fatal alerts (TLS 1.2 warnings, TLS 1.3 user_canceled) accepted before the
connection ends with unexpected_message. A warning does not end the connection, so without a
bound a peer could send them for ever and the server would trace each one ("SSL Death Alert",
CVE-2016-8610). 5 is OpenSSL's ``MAX_WARN_ALERT_COUNT`` (ssl/record/record_local.h)."""
MAX_EMPTY_RECORDS = 32
"""Consecutive zero-length application data records accepted (RFC 8446 §5.1 and RFC 5246 §6.2.1
allow them) before unexpected_message: OpenSSL's ``MAX_EMPTY_RECORDS``, which it answers with
unexpected_message ("record too small"). Empty records deliver nothing."""

MAX_KEY_UPDATES = 32
"""Consecutive KeyUpdates accepted before unexpected_message: BoringSSL's ``kMaxKeyUpdates``. Each
one costs a key derivation (and one asking for an update, an answer), so a peer must not be able to
send them for ever without sending data."""

_RECORD_MESSAGES: dict[int, str] = {
    ContentType.change_cipher_spec: CHANGE_CIPHER_SPEC,
    ContentType.alert: ALERT,
    ContentType.application_data: APPLICATION_DATA,
}


class Connection:
    """One endpoint of a TLS connection, without I/O: feed ``receive_data``, send ``data_to_send``."""

    role = "connection"

    def __init__(self, rng: Rng = system_rng) -> None:
        self.rng = rng
        self._state = State.START
        self.version: int | None = None
        self.suite: SuiteInfo | None = None
        self.key_exchange_kind: KeyExchangeKind | None = None
        self.trace = Trace(self.role)
        self.records = RecordLayer()
        self.read_secret = b""
        self.write_secret = b""
        self.error: BaseException | None = None
        self.transitions: list[tuple[Family, State, str, State]] = []
        self._traced_data = {"sent": 0, "received": 0}  # application data records in the trace
        self._transcript: Transcript | None = None
        self._unhashed: list[bytes] = []  # messages before the hash function is known
        self._next_reader: Protection | None = None
        self._events: list[Event] = []
        self._completed = False
        self._compatibility_ccs_seen = False  # TLS 1.3: one dummy ChangeCipherSpec is dropped
        # Units that deliver nothing are bounded, each kind on its own; a run of them ends only
        # with one that does (data, or a handshake message other than KeyUpdate), so a peer cannot
        # alternate kinds to dodge every bound.
        self._warning_alerts = 0  # tolerated non-fatal alerts (bounded: MAX_WARNING_ALERTS)
        self._empty_records = 0  # empty application data records (MAX_EMPTY_RECORDS)
        self._key_updates = 0  # KeyUpdates received (MAX_KEY_UPDATES)
        self._update_answered = False  # answered a KeyUpdate request, and silent since
        self.schedule: KeySchedule13 | None = None  # TLS 1.3 secrets, by their RFC names
        self.keys_12: Keys12 | None = None  # TLS 1.2 master secret and key block

    def __repr__(self) -> str:
        version = (
            describe(ProtocolVersion, self.version) if self.version else "version not yet chosen"
        )
        return f"<{type(self).__name__} {self._state.value}, {version}>"

    # -- the public surface --------------------------------------------------------------------
    @property
    def state(self) -> State:
        """The current state (read-only: only the dispatcher changes it)."""
        return self._state

    @property
    def closed(self) -> bool:
        return self._state == State.CLOSED

    @property
    def handshake_complete(self) -> bool:
        """True once the handshake finished, and no error happened since."""
        return self._completed and self.error is None

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call."""
        return self.records.data_to_send()

    def receive_data(self, data: bytes) -> list[Event]:
        """Process bytes from the peer; returns the events they produced.

        A failure queues the alert (see ``data_to_send``), closes the connection and raises
        tlslab's error; nothing the failing call decoded is delivered."""
        self._check_usable("receive data")
        with self._boundary():
            for unit in self.records.receive(data):
                self._dispatch(self._message_of(unit), unit)
                if self.closed:
                    break  # nothing after close_notify is delivered (RFC 8446 §6.1)
        events, self._events = self._events, []
        return events

    def send_application_data(self, data: bytes) -> None:
        """Queue ``data`` as protected application data records. Before a TLS 1.3 key reaches
        its AEAD usage limit a KeyUpdate is sent (RFC 8446 §5.5); a TLS 1.2 connection whose
        sequence number would wrap is closed instead (RFC 5246 §6.1)."""
        self._check_usable("send application data")
        writer = self.records.writer
        if self._state != State.CONNECTED or writer is None:
            raise ConnectionNotUsable(f"cannot send application data in state {self._state.value}")
        records = -(-len(data) // 2**14) or 1
        if (
            self.version == ProtocolVersion.TLS13
            and writer.seq + records >= self.aead_record_limit()
        ):
            self.key_update(request_peer_update=False)
        elif writer.seq + records > MAX_SEQUENCE:
            self.close()
            raise ConnectionNotUsable("the sequence number would wrap: closed with close_notify")
        self.records.write(ContentType.application_data, data)
        self._update_answered = False
        self._trace_application_data("sent", len(data))

    def _trace_application_data(self, direction: str, size: int) -> None:
        """Note application data in the trace (ladders draw it), the first 8 each way only, so
        that a long connection's trace does not grow with its traffic."""
        self._traced_data[direction] += 1
        if self._traced_data[direction] <= 8:
            self.trace.note(f"application data {direction}", f"{size} bytes")

    def aead_record_limit(self) -> int:
        """Records one TLS 1.3 key may protect (RFC 8446 §5.5): 2^24.5 for AES-GCM; the
        sequence space for ChaCha20-Poly1305."""
        if self.suite is not None and "AES" in self.suite.name and "GCM" in self.suite.name:
            return int(2**24.5)
        return MAX_SEQUENCE

    def receive_eof(self) -> list[Event]:
        """The transport ended. After the peer's close_notify that is the normal end; before
        it, the data may have been truncated by an attacker: :class:`TruncatedConnection`."""
        if self.closed and self.error is None:
            return []
        self._check_usable("receive EOF")
        self.error = TruncatedConnection("the peer ended the connection without close_notify")
        self._enter(State.CLOSED)
        raise self.error

    def close(self) -> None:
        """Send close_notify (RFC 8446 §6.1). Closing twice does nothing; closing a failed
        connection raises (it already sent its alert)."""
        if self.error is not None:
            self._check_usable("close")
        if not self.closed:
            self._send_alert(AlertDescription.close_notify, AlertLevel.warning)
            self._enter(State.CLOSED)

    def key_update(self, request_peer_update: bool = True) -> None:
        """Send KeyUpdate and move to the next write secret (RFC 8446 §4.6.3)."""
        self._check_usable("send KeyUpdate")
        if self.version != ProtocolVersion.TLS13 or self._state != State.CONNECTED:
            raise ConnectionNotUsable("KeyUpdate needs an established TLS 1.3 connection")
        self._send(KeyUpdate(int(request_peer_update)), transcript=False)
        self.write_secret = next_traffic_secret(self.write_secret, self._hash_name)
        self.records.writer = self._protection_13(self.write_secret)
        self.trace.secret("write_traffic_secret (updated)", self.write_secret)

    # -- the error boundary ------------------------------------------------------------------------
    def _check_usable(self, action: str) -> None:
        if self.error is not None:
            raise ConnectionNotUsable(f"cannot {action}: the connection failed ({self.error})")
        if self.closed:
            raise ConnectionNotUsable(f"cannot {action}: the connection is closed")

    @contextlib.contextmanager
    def _boundary(self) -> Any:
        """Turn every failure while handling peer bytes into an alert and a closed connection."""
        try:
            yield
        except RemoteAlert as error:
            self._fail(error, None)
            raise
        except AlertError as error:
            self._fail(error, error.description)
            raise
        except Exception as error:
            self._fail(error, AlertDescription.internal_error)
            raise InternalError(
                f"{type(error).__name__} while handling the peer's data: {error}"
            ) from error

    def _fail(self, error: BaseException, alert: int | None) -> None:
        self.trace.check(f"{self.role} aborts", False, str(error))
        self.error = error
        self._events = []
        if alert is not None:
            self._send_alert(alert)
        self._enter(State.CLOSED)

    # -- dispatch: the only place the state changes ---------------------------------------------
    def _message_of(self, unit: Inbound) -> Message:
        if unit.content_type == ContentType.handshake:
            return unit.data[0]
        if unit.content_type not in _RECORD_MESSAGES:
            raise UnexpectedMessage("unexpected record content type", seen=unit.content_type)
        return _RECORD_MESSAGES[unit.content_type]

    def _row(self, message: Message) -> Row:
        row = row_for(self.role, self.version, self._state, message)
        if row is None:
            what = describe(HandshakeType, message, 2) if isinstance(message, int) else message
            raise UnexpectedMessage(
                f"{what} is not allowed in state {self._state.value} "
                f"(TLS {family_of(self.version)}, {self.role})"
            )
        return row

    def _dispatch(self, message: Message, unit: Inbound | None) -> None:
        """Run the row for ``message``: decode, transcript, handler, key change, next state."""
        row = self._row(message)
        idle = (
            message in (ALERT, HandshakeType.key_update)
            or (message == APPLICATION_DATA and unit is not None and not unit.data)
            or (row.handler in ("on_hello_request", "on_renegotiation"))  # refused: nothing comes
        )
        if not idle:  # the bounds are on runs that deliver nothing, as OpenSSL's and BoringSSL's
            self._warning_alerts = self._empty_records = self._key_updates = 0
        decoded, transcript_hash = self._prepare(row, unit)
        after = getattr(self, row.handler)(decoded, transcript_hash)
        if after not in row.next_states:
            raise InternalError(
                f"{row.handler} led to {after}, which the table does not allow",
                expected=[s.value for s in row.next_states],
            )
        if row.key_change and self._next_reader is not None:
            if unit is not None and not unit.ends_record:
                raise UnexpectedMessage(
                    f"{row.message_name} must end its record: the keys change after it (RFC 8446 §5.1)"
                )
            self.records.reader, self._next_reader = self._next_reader, None
        self.transitions.append((row.family, row.state, message_name(message), after))
        self._enter(after)

    def _prepare(self, row: Row, unit: Inbound | None) -> tuple[Any, bytes]:
        """The handler's arguments: the decoded message and the transcript hash its row names."""
        if unit is None:
            return None, b""
        if unit.content_type != ContentType.handshake:
            return unit.data, b""
        context = self.version or ProtocolVersion.TLS13
        decoded = decode_handshake(unit.data, version=context, key_exchange=self.key_exchange_kind)
        self.trace.message("received", type(decoded).__name__, unit.data, protected=unit.protected)
        # The row says when the message joins the transcript; one hash (a copy and a finalize).
        if row.transcript == "before":  # the handler sees the hash including the message
            self._transcript_add(unit.data)
            return decoded, (self._transcript.hash() if self._transcript is not None else b"")
        before = self._transcript.hash() if self._transcript is not None else b""
        if row.transcript == "after":  # the handler sees the hash without it (Finished)
            self._transcript_add(unit.data)
        return decoded, before

    def _enter(self, state: State) -> None:
        self._state = state
        self.records.handshaking = state != State.CONNECTED
        self.records.alerts_in_clear = self.role == "server"
        if state == State.CONNECTED:
            self._completed = True

    def _start(self) -> None:
        """The local ``start`` row (a client's first flight), inside the error boundary."""
        self._check_usable("start")
        with self._boundary():
            self._dispatch("start", None)

    # -- rows every connection shares ----------------------------------------------------------
    def on_alert(self, content: bytes, _: bytes) -> State:
        """An alert from the peer (RFC 8446 §6, RFC 5246 §7.2): close_notify closes; a TLS 1.2
        warning, or a TLS 1.3 user_canceled, is noted and the connection goes on (at most
        :data:`MAX_WARNING_ALERTS` in a row); anything else ends it with :class:`RemoteAlert`.

        An alert is exactly two bytes (else decode_error, as OpenSSL; an empty one was already
        refused by the record layer) and its level is warning (1) or fatal (2): anything else is
        illegal_parameter, as OpenSSL and BoringSSL answer ("unknown alert type"). In TLS 1.3
        every alert but close_notify and user_canceled is an error whatever level it claims
        (RFC 8446 §6.2). A close_notify that claims to be fatal is a fatal alert, as OpenSSL
        reads it in both versions: only a warning-level close_notify is a clean close."""
        alert = Alert.decode(content)
        self.trace.note("alert received", f"{describe(AlertDescription, alert.description, 2)}")
        if alert.level not in (AlertLevel.warning, AlertLevel.fatal):
            raise IllegalParameter(
                "alert level is neither warning nor fatal (RFC 5246 §7.2)",
                expected="1 (warning) or 2 (fatal)",
                seen=alert.level,
            )
        if alert.description == AlertDescription.close_notify and alert.level == AlertLevel.warning:
            self._events.append(ConnectionClosed())
            self._send_alert(AlertDescription.close_notify, AlertLevel.warning)
            return State.CLOSED
        if self.version == ProtocolVersion.TLS13:
            tolerated = alert.description == AlertDescription.user_canceled  # RFC 8446 §6.1
        else:
            tolerated = self.version == ProtocolVersion.TLS12 and alert.level == AlertLevel.warning
        if not tolerated:
            raise RemoteAlert(alert.level, alert.description)
        self._count_warning()
        return self._state  # e.g. no_renegotiation: the connection goes on (RFC 5246 §7.2)

    def _count_warning(self) -> None:
        """One more warning exchange (a tolerated alert, or a refused renegotiation) in a run
        that delivers nothing: at :data:`MAX_WARNING_ALERTS`, unexpected_message."""
        self._warning_alerts += 1
        if self._warning_alerts >= MAX_WARNING_ALERTS:
            raise UnexpectedMessage(
                "too many warning alerts in a row (as OpenSSL: MAX_WARN_ALERT_COUNT)",
                expected=f"fewer than {MAX_WARNING_ALERTS}",
                seen=self._warning_alerts,
            )

    def on_application_data(self, content: bytes, _: bytes) -> State:
        """Protected application data (RFC 8446 §5.2). An empty record delivers nothing; more
        than :data:`MAX_EMPTY_RECORDS` of them in a row is unexpected_message."""
        if not content:
            self._empty_records += 1
            if self._empty_records > MAX_EMPTY_RECORDS:
                raise UnexpectedMessage(
                    "too many empty application data records in a row (as OpenSSL:"
                    " MAX_EMPTY_RECORDS, record too small)",
                    expected=f"at most {MAX_EMPTY_RECORDS}",
                    seen=self._empty_records,
                )
            return State.CONNECTED
        self._events.append(ApplicationData(content))
        self._trace_application_data("received", len(content))
        return State.CONNECTED

    def on_compatibility_ccs(self, content: bytes, _: bytes) -> State:
        """TLS 1.3 middlebox compatibility (RFC 8446 §5): a ChangeCipherSpec is dropped. A peer
        sends one dummy ChangeCipherSpec per handshake (Appendix D.4); a second is refused."""
        if self._compatibility_ccs_seen:
            raise UnexpectedMessage(
                "a second ChangeCipherSpec in a TLS 1.3 handshake (RFC 8446 Appendix D.4)"
            )
        self._compatibility_ccs_seen = True
        self.trace.note("ChangeCipherSpec ignored", "TLS 1.3 middlebox compatibility (RFC 8446 §5)")
        return self._state

    def on_change_cipher_spec_12(self, content: bytes, _: bytes) -> State:
        """TLS 1.2 ChangeCipherSpec (RFC 5246 §7.1): read with the new keys from the next record."""
        if self._next_reader is None:
            raise UnexpectedMessage("ChangeCipherSpec before the keys were agreed")
        self.trace.note("ChangeCipherSpec received", "reading with the new keys from now on")
        return State.WAIT_FINISHED_12

    def on_key_update(self, message: KeyUpdate, _: bytes) -> State:
        """KeyUpdate (RFC 8446 §4.6.3): the next read secret; answer if asked to, once while we
        are silent ("an implementation which receives multiple KeyUpdates while it is silent [...]
        respond[s] with a single update"). More than :data:`MAX_KEY_UPDATES` in a row, with no
        data between them, is unexpected_message (as BoringSSL)."""
        self._key_updates += 1
        if self._key_updates > MAX_KEY_UPDATES:
            raise UnexpectedMessage(
                "too many KeyUpdates in a row (as BoringSSL: kMaxKeyUpdates)",
                expected=f"at most {MAX_KEY_UPDATES}",
                seen=self._key_updates,
            )
        self.read_secret = next_traffic_secret(self.read_secret, self._hash_name)
        self._next_reader = self._protection_13(self.read_secret)
        self.trace.secret("read_traffic_secret (updated)", self.read_secret)
        if message.request_update and not self._update_answered:
            self.key_update(request_peer_update=False)
            self._update_answered = True
        return State.CONNECTED

    def on_hello_request(self, message: HandshakeMessage, _: bytes) -> State:
        """A TLS 1.2 HelloRequest: renegotiation is refused with a warning (RFC 5746 §4.2)."""
        return self._refuse_renegotiation("HelloRequest")

    def on_renegotiation(self, message: HandshakeMessage, _: bytes) -> State:
        """A ClientHello on an established TLS 1.2 connection: refused (RFC 5746 §4.4)."""
        return self._refuse_renegotiation("ClientHello")

    def _refuse_renegotiation(self, what: str) -> State:
        """Answered with a no_renegotiation warning; a run of refusals counts as warnings do
        (``_count_warning``), so a peer cannot ask for ever."""
        self._count_warning()
        self.trace.note(
            "renegotiation refused", f"{what}: answered with a no_renegotiation warning"
        )
        self._send_alert(AlertDescription.no_renegotiation, AlertLevel.warning)
        return State.CONNECTED

    # -- transcript (RFC 8446 §4.4.1) ------------------------------------------------------------
    def _transcript_add(self, raw: bytes) -> None:
        if self._transcript is not None:
            self._transcript.update(raw)
        else:
            self._unhashed.append(raw)

    def _start_transcript(self, hash_name: str, *, after_retry: bool = False) -> Transcript:
        """Once the suite (and so the hash) is known, hash what was buffered. ``after_retry``
        replaces ClientHello1 by its message_hash (the HelloRetryRequest rule)."""
        transcript = Transcript(hash_name)
        messages, self._unhashed = self._unhashed, []
        if after_retry:
            transcript.update(message_hash(messages[0], hash_name))
            messages = messages[1:]
        for raw in messages:
            transcript.update(raw)
        self._transcript = transcript
        return transcript

    @property
    def transcript(self) -> Transcript:
        if self._transcript is None:
            raise InternalError("the transcript hash has not started yet")
        return self._transcript

    # -- records out -------------------------------------------------------------------------------
    def _send(self, message: HandshakeMessage, *, transcript: bool = True) -> bytes:
        raw = message.encode()
        if transcript:
            self._transcript_add(raw)
        protected = self.records.writer is not None
        self.trace.message("sent", type(message).__name__, raw, protected=protected)
        self.records.write(ContentType.handshake, raw)
        return raw

    def _send_change_cipher_spec(self) -> None:
        self.records.write_change_cipher_spec()
        self.trace.message("sent", "ChangeCipherSpec", b"\x01")

    def _send_alert(self, description: int, level: int = AlertLevel.fatal) -> None:
        with contextlib.suppress(TLSError):  # nothing more can be done if even this fails
            self.records.write(ContentType.alert, Alert(level, description).encode())
        self.trace.note("alert sent", describe(AlertDescription, description, 2))

    def _check_finished_length(self, verify_data: bytes, length: int) -> None:
        """Finished.verify_data is exactly Hash.length (TLS 1.3) or 12 bytes (TLS 1.2)."""
        if len(verify_data) != length:
            raise DecodeError(
                "Finished has the wrong length (RFC 8446 §4.4.4, RFC 5246 §7.4.9)",
                expected=length,
                seen=len(verify_data),
            )

    # -- helpers for the TLS 1.3 handlers ---------------------------------------------------------
    @property
    def _hash_name(self) -> str:
        if self.suite is None:
            raise InternalError("no cipher suite negotiated yet")
        return self.suite.hash_name

    def _protection_13(self, secret: bytes) -> RecordProtection13:
        assert self.suite is not None
        return RecordProtection13(self.suite, traffic_keys(secret, self.suite))

    def _record_secrets(self, secrets: dict[str, bytes]) -> None:
        for name, value in secrets.items():
            self.trace.secret(name, value)

    def _session_keys_12(
        self, pre_master_secret: bytes, client_random: bytes, server_random: bytes, *,
        extended: bool, encrypt_then_mac: bool,
    ) -> Protection:  # fmt: skip
        """TLS 1.2 pre-master secret -> master secret -> key block -> protection, for either role
        (``keyschedule.keys_12``; RFC 5246 §8.1, §6.3, RFC 7627 §4). The new read protection waits
        for the peer's ChangeCipherSpec; the write protection is returned for our own."""
        assert self.suite is not None
        self.trace.secret("pre_master_secret", pre_master_secret)
        session_hash = self.transcript.hash() if extended else None
        self.keys_12 = keys_12(
            pre_master_secret, client_random, server_random, self.suite, session_hash
        )
        self.trace.parameter("extended_master_secret", extended)
        self.trace.secret("master_secret", self.keys_12.master_secret)
        reader, writer = self.keys_12.protection_pair(
            self.role, encrypt_then_mac=encrypt_then_mac, rng=self.rng
        )
        self._next_reader = reader
        return writer
