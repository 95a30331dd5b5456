"""Bring your own handshake: a real capture file plus a key log, walked through tlslab.

Browsers and OpenSSL write their secrets to the file named by ``SSLKEYLOGFILE``;
tcpdump, dumpcap or Wireshark save the packets. :func:`open_capture` reads both:

1. the file (pcap or pcapng, read by ``tlslab.net._pcap``, whose docstring says why
   tlslab reads these documented formats itself instead of using dpkt or python-pcapng)
   down to its TCP segments;
2. groups the segments into TCP connections and **reassembles each direction by
   sequence number** (``tlslab.net.tcp``, RFC 9293 §3.4): retransmitted and overlapping segments are
   merged (the copy placed first wins, a disagreement is noted), out-of-order segments are put in
   place, and a lost segment becomes a reported *gap*: the direction is read up to it;
3. cuts each direction into TLS records (RFC 8446 §5.1), reads the plaintext hellos
   (client random, server name, version, cipher suite), and, where the key log holds
   this client random's secrets, decrypts the rest with
   :func:`tlslab.engine.decrypt.decrypt_session` (TLS 1.3 and TLS 1.2), which also
   recomputes both Finished messages as proof that every byte was read right.

Whatever cannot be parsed or decrypted becomes a note on that connection; one broken
connection never loses the others. Only a damaged *file* raises
(:class:`CaptureFileError`, saying where).

A :class:`CapturedConnection` has the attributes of
:class:`~tlslab.engine.decrypt.DecryptedSession` (``version``, ``suite``,
``client_random``, ``handshake``, ``client_data``, ``server_data``, ``alerts``,
``checks``, ``messages()``), so whatever draws a decrypted session draws a capture;
``version`` and ``suite`` are ``None`` only when the capture lacks the hellos.
It adds ``records`` (every record with its frame, time and, once opened, its content),
``notes``, ``gaps``, the addresses and ``keylog`` (this connection's own secrets, which
:func:`tlslab.lab.illustrated.illustrate_session` uses to open every record by hand).

From the shell: ``python -m tlslab capture FILE.pcapng --keylog sslkeys.log``.
Taught in notebook 15_your_own_handshake.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..constants import (
    HELLO_RETRY_REQUEST_RANDOM,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    describe,
)
from ..engine.decrypt import DecryptedSession, decrypt_session
from ..engine.trace import Trace
from ..errors import TLSError
from ..stages.keylog import KeyLog
from ..stages.suites import SuiteInfo, suite_info
from ..wire._codec import Reader
from ..wire.explain import Explanation, explain
from ..wire.extensions import ServerName, SupportedVersionsServer
from ..wire.messages import ClientHello, ServerHello, decode_handshake
from ..wire.record import Alert, HandshakeReassembler, TLSPlaintext, read_record
from ._pcap import CaptureFileError, read_capture, tcp_segments
from .tcp import Endpoint, Gap, Reassembled, TCPConnection, group_connections, reassemble

__all__ = [
    "Capture",
    "CaptureFileError",
    "CapturedConnection",
    "CapturedRecord",
    "Gap",
    "open_capture",
    "reassemble",
]

# -- records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CapturedRecord:
    """One TLS record of a captured connection, and what it held once opened.

    ``offset`` is where it starts in its direction's stream; ``time`` and ``frame`` say
    when the capture had all of it. ``content_type``/``content``/``keys`` are those of
    :class:`~tlslab.engine.decrypt.OpenedRecord`, or ``None`` while the record stays
    encrypted (no key log for it).
    """

    direction: str
    index: int
    offset: int
    time: float
    frame: int
    record: TLSPlaintext
    content_type: int | None = None
    content: bytes | None = None
    keys: str | None = None
    label: str = ""  # the handshake messages it carries, set when the connection is read

    @property
    def wire(self) -> bytes:
        """The record's bytes as they crossed the wire (header and fragment)."""
        return self.record.encode()

    @property
    def encrypted(self) -> bool:
        """Protected on the wire (opened with ``keys``, or still closed when ``keys`` is None)."""
        return self.keys != "plaintext"

    def explain(self, version: int | None = None) -> Explanation:
        """The record's wire bytes annotated field by field (``tlslab.explain``)."""
        return explain(self.wire, version=version)

    def describe(self) -> str:
        """What the record carries, in a few words ("client_hello", "application data, 18 bytes").

        A handshake message split over several records reads "certificate (first part)",
        then "certificate (continued)"."""
        if self.content_type is None:
            return f"encrypted, {len(self.record.fragment)} bytes, not opened"
        content = self.content or b""
        kind = int(self.content_type)
        if kind == ContentType.handshake:
            return self.label or "handshake fragment"
        if kind == ContentType.alert and len(content) == 2:
            alert = Alert.decode(content)
            return f"alert {describe_alert(alert)}"
        if kind == ContentType.change_cipher_spec:
            return "ChangeCipherSpec"
        return f"application data, {len(content)} bytes"

    def __repr__(self) -> str:
        lock = f" opened with {self.keys}" if self.encrypted and self.keys else ""
        return (
            f"<CapturedRecord {self.direction} #{self.index} frame {self.frame}: "
            f"{self.describe()}{lock}>"
        )


def describe_alert(alert: Alert) -> str:
    level = getattr(alert.level, "name", str(alert.level))
    return f"{level} {getattr(alert.description, 'name', str(alert.description))}"


def message_name(message: bytes, version: int | None = None) -> str:
    """The class name tlslab decodes ``message`` to ("ServerHello"), or the RFC's name of a type
    tlslab does not decode (a browser's ``compressed_certificate``, RFC 8879)."""
    try:
        return type(decode_handshake(message, version=version)).__name__
    except TLSError:
        return f"{_type_name(message[0]) if message else 'empty'} (not decoded by tlslab)"


# handshake types that browsers meet and tlslab's HandshakeType does not list
_OTHER_TYPES = {25: "compressed_certificate", 67: "next_protocol"}  # RFC 8879; NPN (obsolete)


def _type_name(kind: int) -> str:
    return _OTHER_TYPES.get(kind) or describe(HandshakeType, kind, 2).split(" ", 1)[-1]


def _label_handshake_records(records: list[CapturedRecord]) -> list[CapturedRecord]:
    """Name the handshake messages in each record of one direction, following messages that
    are split over records (RFC 8446 §5.1 allows any split) and records holding several."""
    out: list[CapturedRecord] = []
    carried, left = "", 0  # the message continuing from the previous record, bytes still due
    for rec in records:
        if rec.content_type != ContentType.handshake or not rec.content:
            out.append(rec)
            continue
        content, offset, names = rec.content, 0, []
        if left:
            offset = min(left, len(content))
            left -= offset
            names.append(f"{carried} (continued)")
        while offset < len(content):
            if offset + 4 > len(content):
                names.append("start of a handshake message")
                carried, left = "handshake message", 0
                break
            carried = _type_name(content[offset])
            size = 4 + int.from_bytes(content[offset + 1 : offset + 4], "big")
            if offset + size > len(content):
                names.append(f"{carried} (first part)")
                left = offset + size - len(content)
                break
            if _is_hello_retry_request(content[offset : offset + size]):
                carried = "server_hello (HelloRetryRequest)"
            names.append(carried)
            offset += size
        out.append(replace(rec, label=", ".join(names)))
    return out


def _frame_records(
    stream: Reassembled, direction: str, notes: list[str]
) -> tuple[list[CapturedRecord], bytes]:
    """Cut a direction into records; returns them and the bytes they cover."""
    data, offset = stream.data, 0
    records: list[CapturedRecord] = []
    while offset + 5 <= len(data):
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        if offset + 5 + length > len(data) and data[offset] in (20, 21, 22, 23):
            break
        try:
            record = read_record(Reader(data[offset : offset + 5 + length], what="record"))
        except TLSError as error:
            notes.append(
                f"{direction}: bytes at stream offset {offset} are not a TLS record ({error}); "
                f"the remaining {len(data) - offset} bytes of this direction were skipped"
            )
            return records, data[:offset]
        time, frame = stream.delivered(offset + 5 + length)
        records.append(CapturedRecord(direction, len(records), offset, time, frame, record))
        offset += 5 + length
    if offset < len(data) and stream.gap is None:
        notes.append(
            f"{direction}: the last {len(data) - offset} bytes are an unfinished record "
            "(the capture stopped before the rest arrived)"
        )
    return records, data[:offset]


# -- one connection ----------------------------------------------------------------------


@dataclass
class CapturedConnection:
    """One TLS connection found in a capture (see the module docstring for its shape)."""

    stream: int
    client: Endpoint
    server: Endpoint
    client_stream: bytes = b""
    server_stream: bytes = b""
    records: list[CapturedRecord] = field(default_factory=list)
    version: int | None = None
    suite: SuiteInfo | None = None
    cipher_suite: int | None = None
    client_random: bytes | None = None
    server_name: str | None = None
    handshake: list[tuple[str, bytes]] = field(default_factory=list)
    client_data: bytes = b""
    server_data: bytes = b""
    alerts: list[tuple[str, bytes]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    session: DecryptedSession | None = None
    segments: int = 0
    keylog: KeyLog | None = None  # this connection's secrets only, when the key log had them

    @property
    def decrypted(self) -> bool:
        """True when the whole connection was read (no gap) and decrypted, both Finished checked."""
        return self.session is not None and self.session.error is None and not self.gaps

    def messages(self) -> list[tuple[str, str]]:
        """(direction, message name) in transcript order, e.g. ("server", "ServerHello")."""
        return [(who, message_name(m, self.version)) for who, m in self.handshake]

    def explain_handshake(self) -> list[tuple[str, Explanation]]:
        """Every handshake message read (decrypted or plaintext), each annotated by ``explain``."""
        return [(who, explain(m, version=self.version)) for who, m in self.handshake]

    def to_trace(self) -> Trace:
        """The connection as the client's :class:`~tlslab.engine.trace.Trace` would log it, in
        capture order: every handshake message, ChangeCipherSpec, application data and alert
        (``tlslab.lab.viz.plot_ladder(conn.to_trace())`` draws it). Records that stay closed
        appear as "encrypted record"; checks and notes follow the messages."""
        trace = Trace("client", client_random=self.client_random or b"")
        reassemblers = {"client": HandshakeReassembler(), "server": HandshakeReassembler()}
        for rec in self.records:
            way = "sent" if rec.direction == "client" else "received"
            protected = rec.encrypted
            if rec.content_type is None or rec.content is None:
                trace.message(way, "encrypted record", rec.wire, protected=True)
            elif rec.content_type == ContentType.handshake:
                try:
                    messages = reassemblers[rec.direction].feed(rec.content)
                except TLSError:
                    messages = []
                for message in messages:
                    trace.message(
                        way, message_name(message, self.version), message, protected=protected
                    )
            elif rec.content_type == ContentType.change_cipher_spec:
                trace.message(way, "ChangeCipherSpec", rec.content)
            elif rec.content_type == ContentType.alert:
                name = rec.describe().replace("alert ", "Alert ")
                trace.message(way, name, rec.content, protected=protected)
            else:
                trace.message(way, "ApplicationData", rec.content, protected=protected)
        for check in self.checks:
            trace.check(check, True)
        for note in self.notes:
            trace.note("capture", note)
        return trace

    def summary(self) -> str:
        """One line: who talked to whom, version, suite, and how far tlslab could read."""
        version = _VERSION_NAMES.get(self.version or 0, f"version {self.version}")
        suite = (
            self.suite.name
            if self.suite
            else (
                f"suite 0x{self.cipher_suite:04x}" if self.cipher_suite is not None else "suite ?"
            )
        )
        name = f" {self.server_name}" if self.server_name else ""
        state = (
            "decrypted"
            if self.decrypted
            else ("partly decrypted" if self.session is not None else "not decrypted")
        )
        return (
            f"{self.client[0]}:{self.client[1]} -> {self.server[0]}:{self.server[1]}"
            f"{name}: {version} {suite}, {len(self.records)} records, {state}"
        )

    def trace(self, *, explain_messages: bool = True) -> str:
        """The annotated trace: every record in capture order, then each message's fields."""
        lines = [self.summary(), ""]
        lines.append(f"{'time':>10} {'frame':>6}  {'':<16} {'record':<24} contents")
        start = self.records[0].time if self.records else 0.0
        for rec in self.records:
            arrow = "client -> server" if rec.direction == "client" else "server -> client"
            wire = f"{describe(ContentType, rec.record.type, 2).split(' ', 1)[-1]} {len(rec.record.fragment)}B"
            lines.append(
                f"{rec.time - start:>10.6f} {rec.frame:>6}  {arrow:<16} {wire:<24} {rec.describe()}"
                + (f"  [{rec.keys}]" if rec.keys not in (None, "plaintext") else "")
            )
        for label, data in (("client", self.client_data), ("server", self.server_data)):
            if data:
                lines.append(f"{label} application data ({len(data)} bytes): {data[:120]!r}")
        for check in self.checks:
            lines.append(f"check: {check}")
        for note in self.notes:
            lines.append(f"note: {note}")
        if explain_messages:
            for who, explanation in self.explain_handshake():
                name = message_name(explanation.data, self.version)
                lines += ["", f"== {who}: {name} ({len(explanation.data)} bytes)", str(explanation)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CapturedConnection {self.summary()}>"


_VERSION_NAMES = {
    0: "TLS ?",
    0x0304: "TLS 1.3",
    0x0303: "TLS 1.2",
    0x0302: "TLS 1.1",
    0x0301: "TLS 1.0",
}


def _is_hello_retry_request(message: bytes) -> bool:
    """A ServerHello whose random is RFC 8446 §4.1.3's fixed HelloRetryRequest value."""
    return message[:1] == b"\x02" and message[6:38] == HELLO_RETRY_REQUEST_RANDOM


def _read_hellos(
    conn: CapturedConnection, by_direction: dict[str, list[CapturedRecord]]
) -> dict[str, int | None]:
    """The plaintext start of each direction: hellos (and TLS 1.2's first flights), in the
    order the capture saw each message complete.

    Returns, per direction, the index of the ChangeCipherSpec after which records are
    protected (``None`` if no ChangeCipherSpec ended the plaintext). After a
    HelloRetryRequest the middlebox-compatibility ChangeCipherSpec (RFC 8446 §D.4) comes
    *before* the second ClientHello and the real ServerHello, which are still plaintext."""
    found: list[tuple[float, int, int, str, bytes]] = []
    protected_after: dict[str, int | None] = {}
    retried = False
    for direction in ("server", "client"):  # the server's side says whether there was an HRR
        reassembler = HandshakeReassembler()
        hellos = 0  # ClientHellos (client) or ServerHellos and HRRs (server) read so far
        protected_after[direction] = None
        for rec in by_direction[direction]:
            if rec.record.type == ContentType.change_cipher_spec:
                if retried and hellos == 1:
                    continue  # the compatibility CCS around the HelloRetryRequest
                protected_after[direction] = rec.index
                break
            if rec.record.type != ContentType.handshake:
                break  # alert or application_data: the plaintext handshake ends here
            try:
                messages = reassembler.feed(rec.record.fragment)
            except TLSError as error:
                conn.notes.append(f"{direction}: record {rec.index}: {error}")
                break
            for message in messages:
                if message[0] in (HandshakeType.client_hello, HandshakeType.server_hello):
                    hellos += 1
                    retried = retried or _is_hello_retry_request(message)
                found.append((rec.time, rec.frame, len(found), direction, message))
    for *_, direction, message in sorted(found):
        conn.handshake.append((direction, message))
        _learn_from(conn, message)
    return protected_after


def _learn_from(conn: CapturedConnection, message: bytes) -> None:
    try:
        hello = decode_handshake(message)
    except TLSError as error:
        conn.notes.append(f"could not decode a {describe(HandshakeType, message[0], 2)}: {error}")
        return
    if isinstance(hello, ClientHello):
        conn.client_random = hello.random
        sni = hello.extension(ExtensionType.server_name)
        if isinstance(sni, ServerName) and sni.host_names:
            conn.server_name = sni.host_names[0]
    elif isinstance(hello, ServerHello) and not hello.is_hello_retry_request:
        selected = hello.extension(ExtensionType.supported_versions)
        conn.version = (
            int(selected.selected_version)
            if isinstance(selected, SupportedVersionsServer)
            else int(hello.legacy_version)
        )
        conn.cipher_suite = int(hello.cipher_suite)
        try:
            conn.suite = suite_info(hello.cipher_suite)
        except TLSError:
            conn.notes.append(
                f"the server chose {describe(CipherSuite, hello.cipher_suite)}, "
                "a cipher suite tlslab does not implement: it cannot be decrypted here"
            )


def _decrypt(
    conn: CapturedConnection,
    keylog: KeyLog | None,
    wire: dict[str, bytes],
    by_direction: dict[str, list[CapturedRecord]],
) -> None:
    if conn.client_random is None:
        conn.notes.append(
            "no ClientHello in the capture (it started after the handshake began): "
            "without the client random no key-log line can be matched"
        )
        return
    if keylog is None:
        conn.notes.append("no key log given: the encrypted records stay closed")
        return
    if conn.client_random not in keylog:
        conn.notes.append(
            f"the key log has no secrets for client random {conn.client_random.hex()[:16]}...: "
            "was SSLKEYLOGFILE set before the browser started?"
        )
        return
    try:
        session = decrypt_session(wire["client"], wire["server"], keylog, partial=True)
    except TLSError as error:
        conn.notes.append(f"could not decrypt: {error}")
        return
    conn.session = session
    conn.version, conn.suite = session.version, session.suite
    conn.handshake = list(session.handshake)
    conn.client_data, conn.server_data = session.client_data, session.server_data
    conn.alerts, conn.checks = list(session.alerts), list(session.checks)
    if session.error:
        conn.notes.append(f"decryption stopped: {session.error}")
        if "CLIENT_EARLY_TRAFFIC_SECRET" in keylog[conn.client_random]:
            conn.notes.append(
                "the key log has 0-RTT secrets for this connection: the client sent early data "
                "(RFC 8446 §2.3), which tlslab does not decrypt yet"
            )
    position = {"client": 0, "server": 0}
    for opened in session.records:
        records = by_direction[opened.direction]
        index = position[opened.direction]
        position[opened.direction] += 1
        if index < len(records) and records[index].record == opened.record:
            records[index] = replace(
                records[index],
                content_type=opened.content_type,
                content=opened.content,
                keys=opened.keys,
            )


def _plaintext_contents(
    records: list[CapturedRecord], protected_after: int | None
) -> list[CapturedRecord]:
    """Records nobody opened: plaintext types show their own fragment, ciphertext stays closed.

    ``protected_after`` is the index of the ChangeCipherSpec that ends the plaintext (see
    :func:`_read_hellos`); handshake and alert records after it are encrypted."""
    out = []
    for rec in records:
        before = protected_after is None or rec.index < protected_after
        plain = rec.record.type in (ContentType.handshake, ContentType.alert) and before
        if rec.record.type == ContentType.change_cipher_spec:
            plain = True
        if rec.keys is None and plain:
            fragment = rec.record.fragment
            rec = replace(rec, content_type=rec.record.type, content=fragment, keys="plaintext")
        out.append(rec)
    return out


def analyse_connection(
    stream: int,
    client: Endpoint,
    server: Endpoint,
    client_bytes: Reassembled,
    server_bytes: Reassembled,
    keylog: KeyLog | None,
) -> CapturedConnection:
    """Records, hellos and (with the key log) the decrypted session of one TCP connection."""
    conn = CapturedConnection(stream, client, server, client_bytes.data, server_bytes.data)
    by_direction: dict[str, list[CapturedRecord]] = {}
    wire: dict[str, bytes] = {}
    for direction, reassembled in (("client", client_bytes), ("server", server_bytes)):
        conn.notes += reassembled.notes
        if reassembled.gap is not None:
            conn.gaps.append(reassembled.gap)
            conn.notes.append(str(reassembled.gap))
        by_direction[direction], wire[direction] = _frame_records(
            reassembled, direction, conn.notes
        )
    protected_after = _read_hellos(conn, by_direction)
    if keylog is not None and conn.client_random is not None and conn.client_random in keylog:
        own = KeyLog()
        for label, secret in keylog[conn.client_random].items():
            own.add(label, conn.client_random, secret)
        conn.keylog = own
    _decrypt(conn, keylog, wire, by_direction)
    for direction in by_direction:
        plain = _plaintext_contents(by_direction[direction], protected_after[direction])
        by_direction[direction] = _label_handshake_records(plain)
    conn.records = sorted(
        by_direction["client"] + by_direction["server"],
        key=lambda r: (r.time, r.frame, r.direction != "client", r.index),
    )
    return conn


# -- the whole capture -------------------------------------------------------------------


BUG_NOTE = "tlslab failed on this connection (a bug in tlslab; please report it)"


def _client_side(tcp: TCPConnection) -> Endpoint:
    """The SYN's sender; without one (the capture began later), the sender of a ClientHello."""
    if tcp.client is not None:
        return tcp.client
    for seg in tcp.segments:
        if seg.payload[:2] == b"\x16\x03" and seg.payload[5:6] == b"\x01":
            return (seg.src, seg.sport)
    return tcp.first


def _looks_like_tls(data: bytes) -> bool:
    return len(data) >= 5 and data[0] in (20, 21, 22, 23) and data[1] == 3 and data[2] <= 4


@dataclass
class Capture:
    """The TLS connections of a capture file (``capture[0]`` is the first)."""

    name: str
    format: str
    frames: int
    connections: list[CapturedConnection]
    other_tcp: int = 0
    notes: list[str] = field(default_factory=list)
    keylog: KeyLog | None = None

    def __getitem__(self, index: int) -> CapturedConnection:
        return self.connections[index]

    def __len__(self) -> int:
        return len(self.connections)

    def __iter__(self) -> Iterator[CapturedConnection]:
        return iter(self.connections)

    def summary(self) -> str:
        head = (
            f"{self.name}: {self.format}, {self.frames} frames, {len(self.connections)} TLS "
            f"connection(s)"
            + (f", {self.other_tcp} other TCP connection(s)" if self.other_tcp else "")
        )
        lines = [head] + [
            f"  {i}: {c.summary()} (tcp.stream {c.stream})" for i, c in enumerate(self.connections)
        ]
        return "\n".join(lines + [f"note: {note}" for note in self.notes])

    def __repr__(self) -> str:
        return f"<Capture {self.name}: {self.format}, {self.frames} frames, {len(self)} TLS connections>"


def _load_keylog(
    keylog: str | os.PathLike[str] | KeyLog | None, embedded: str, notes: list[str]
) -> KeyLog | None:
    """The key log to use: the file (or KeyLog) plus any embedded in the pcapng file.

    A browser's SSLKEYLOGFILE holds lines tlslab has no use for: ECH_SECRET and ECH_CONFIG
    (RFC 9850), labels of later drafts, a last line cut short when the browser stopped.
    Like Wireshark, and as RFC 9850 asks of readers, such lines are skipped; one note on
    the capture says how many and which."""
    text = embedded
    if isinstance(keylog, KeyLog):
        if not text:
            return keylog
        text += keylog.dumps()
    elif keylog is not None:
        text += Path(keylog).read_text(encoding="utf-8", errors="replace")
    if not text:
        return None
    log = KeyLog()
    skipped: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            one = KeyLog.parse([line])
        except TLSError:
            skipped.append((number, line.strip()[:40]))
            continue
        for client_random, secrets in one.entries.items():
            log.entries[client_random].update(secrets)
        log.rsa_pre_master_secrets.update(one.rsa_pre_master_secrets)
    if skipped:
        shown = ", ".join(f"line {n} ({line!r})" for n, line in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        notes.append(
            f"key log: skipped {len(skipped)} line(s) tlslab cannot use (not "
            f"'<LABEL> <client_random> <secret>' with a TLS 1.2/1.3 label): {shown}{more}"
        )
    return log


def open_capture(
    path: str | os.PathLike[str] | bytes,
    keylog: str | os.PathLike[str] | KeyLog | None = None,
) -> Capture:
    """Read a pcap/pcapng capture and walk every TLS connection in it through tlslab.

    ``path`` is the capture file (or its bytes); ``keylog`` the ``SSLKEYLOGFILE`` (a path or
    a :class:`~tlslab.stages.keylog.KeyLog`); a key log embedded in a pcapng file is used too.
    A damaged file raises :class:`CaptureFileError`; key-log lines tlslab cannot use are
    skipped with a note on the capture; anything wrong inside one connection is a note on it.
    """
    if isinstance(path, bytes):
        name, data = "capture", path
    else:
        name, data = Path(path).name, Path(path).read_bytes()
    file = read_capture(data, name)
    keylog_notes: list[str] = []
    log = _load_keylog(keylog, file.embedded_keylog, keylog_notes)
    decoded = tcp_segments(file.frames)
    capture = Capture(name, file.format, len(file.frames), [], keylog=log, notes=keylog_notes)
    for reason, count in sorted(decoded.skipped.items()):
        capture.notes.append(f"{count} frame(s) skipped: {reason}")
    for tcp in group_connections(decoded.segments):
        client = _client_side(tcp)
        (server,) = tcp.endpoints() - {client} or {client}
        sides = {
            role: reassemble(tcp.sent_by(endpoint), role, tcp.isn.get(endpoint))
            for role, endpoint in (("client", client), ("server", server))
        }
        if not any(_looks_like_tls(half.data) for half in sides.values()):
            capture.other_tcp += 1
            continue
        try:
            conn = analyse_connection(
                tcp.stream, client, server, sides["client"], sides["server"], log
            )
        except Exception as error:  # a bug in tlslab must not lose the other connections
            conn = CapturedConnection(tcp.stream, client, server)
            conn.notes.append(f"{BUG_NOTE}: {type(error).__name__}: {error}")
        conn.segments = len(tcp.segments)
        capture.connections.append(conn)
    if not capture.connections:
        capture.notes.append(
            "no TLS connection found: was the capture filter 'tcp port 443' and did the browser "
            "use TCP? (HTTP/3 runs over QUIC/UDP; see notebook 15)"
        )
    return capture
