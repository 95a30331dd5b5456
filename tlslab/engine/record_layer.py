"""The record layer of a sans-IO connection: bytes in, whole messages out, and back.

Incoming bytes are cut into records one at a time (as ``wire.record.RecordReader`` does, but lazily:
a record is looked at only once the ones before it were handled), opened with the current read
protection, and handshake fragments are joined into whole messages
(``wire.record.HandshakeReassembler``). Each result is an :class:`Inbound` that says which record
carried it (plaintext or protected) and whether it ended that record, because a message that is
followed by a key change must (RFC 8446 §5.1). Which message may come now is *not* decided here:
that is the state table's job (``state.py``), applied by the dispatcher (``dispatcher.py``).

What this layer refuses by itself, whatever the state (RFC 8446 §5, RFC 5246 §6.2):
a record header of an unknown type, of a version that is not 3.x, or longer than the protocol
allows (2^14 plaintext, 2^14+256 TLS 1.3 ciphertext, 2^14+2048 TLS 1.2 ciphertext), checked as
soon as its 5 bytes arrive; an empty handshake record; a handshake message longer than its cap (64 KiB, larger for
Certificate), refused from its 4-byte header; a ChangeCipherSpec that is not the single byte 01,
or that arrives inside a protected TLS 1.3 record;
any other record between the fragments of one handshake message; an empty alert; on TLS 1.2 a
record version other than 0x0303; and a read sequence number that would wrap.
Taught in notebooks 07_record_protection and 08_full_handshake.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from ..constants import ContentType, HandshakeType, ProtocolVersion
from ..errors import (
    IllegalParameter,
    ProtocolVersionError,
    RecordOverflow,
    UnexpectedMessage,
)
from ..stages.protection import RecordProtection12, RecordProtection13
from ..wire.record import (
    HEADER_LENGTH,
    MAX_CIPHERTEXT_12,
    MAX_CIPHERTEXT_13,
    MAX_PLAINTEXT,
    HandshakeReassembler,
    TLSPlaintext,
    fragment,
)

Protection = RecordProtection13 | RecordProtection12
_HEADER = struct.Struct(">BHH")  # type, legacy_record_version, length
_CONTENT_TYPE_OF = {int(t): t for t in ContentType}  # dicts: cheaper than ContentType(value)
_VERSION_OF: dict[int, int] = {int(v): v for v in ProtocolVersion}

MAX_HANDSHAKE_MESSAGE = 2**16  # 64 KiB: more than any handshake message but Certificate needs
MAX_CERTIFICATE_MESSAGE = 2**18  # 256 KiB by default; configurable per connection
MAX_SEQUENCE = 2**64 - 1  # RFC 8446 §5.3, RFC 5246 §6.1: sequence numbers do not wrap
_RECORD_TYPES = frozenset(
    {
        ContentType.change_cipher_spec,
        ContentType.alert,
        ContentType.handshake,
        ContentType.application_data,
    }
)


class Inbound(NamedTuple):
    """One unit from the peer: a whole handshake message, or the content of one other record.

    (A NamedTuple rather than a frozen dataclass: one is made per record, and it is cheaper.)"""

    content_type: int
    data: bytes
    protected: bool
    ends_record: bool

    def __repr__(self) -> str:
        kind = ContentType(self.content_type).name
        lock = "protected" if self.protected else "plaintext"
        end = ", ends its record" if self.ends_record else ""
        return f"<Inbound {kind} {len(self.data)} bytes, {lock}{end}>"


class RecordLayer:
    """Framing, reassembly and protection for one connection (both directions)."""

    def __init__(self, max_certificate: int = MAX_CERTIFICATE_MESSAGE) -> None:
        self.reader: Protection | None = None
        self.writer: Protection | None = None
        self.version: int | None = None  # the negotiated version, once known
        self.handshaking = True  # plaintext alerts are tolerated only during the handshake
        self.alerts_in_clear = False  # ...and only by a server (the dispatcher sets it)
        self.record_version = ProtocolVersion.TLS10  # legacy_record_version we write
        self.max_certificate = max_certificate
        self._unframed = bytearray()  # the start of a record whose body has not all arrived
        self._handshake = HandshakeReassembler()  # the caps are checked in _reassemble
        self._partial = bytearray()  # the part of a handshake message not yet complete
        self._out: list[bytes] = []  # records to send, joined by data_to_send

    # -- in -----------------------------------------------------------------------------------
    def receive(self, data: bytes) -> Iterator[Inbound]:
        """The units ``data`` completes, one at a time, so that a key change made after one
        unit applies to the next record. Records are cut one at a time too: each header is
        judged (with the keys then in use) as soon as its 5 bytes are there and only when the
        records before it were handled, so whatever follows a close_notify in the same read is
        never even looked at (RFC 8446 §6.1: it MUST be ignored). Each fragment is copied once,
        straight out of the input."""
        if self._unframed:
            self._unframed += data
            if len(self._unframed) >= HEADER_LENGTH:
                header = bytes(self._unframed[:HEADER_LENGTH])
                self._check_header(header)
                if len(self._unframed) < HEADER_LENGTH + _HEADER.unpack(header)[2]:
                    return  # still waiting for this record's body: no copy
            data = bytes(self._unframed)
        elif not isinstance(data, bytes):
            data = bytes(data)
        self._unframed = bytearray()
        pos, end = 0, len(data)
        try:
            while end - pos >= HEADER_LENGTH:
                header = data[pos : pos + HEADER_LENGTH]
                self._check_header(header)  # before its body arrives
                content_type, version, length = _HEADER.unpack(header)
                start = pos + HEADER_LENGTH
                if end - start < length:
                    break
                fragment = data[start : start + length]
                pos = start + length
                record = TLSPlaintext(
                    _CONTENT_TYPE_OF[content_type], fragment, _VERSION_OF.get(version, version)
                )
                yield from self._open(record)
        finally:  # also when the caller stops early (a close_notify, an error)
            if pos < end:
                self._unframed = bytearray(data[pos:])

    def _check_header(self, header: bytes) -> None:
        """A record header is judged as soon as it arrives (type, version, length), so a peer
        cannot make us wait for a body that is wrong anyway."""
        content_type, version, length = _HEADER.unpack(header)
        major = version >> 8
        if content_type not in _RECORD_TYPES:
            raise UnexpectedMessage(
                "record of unknown content type (an SSLv2 hello starts with 0x80)",
                expected="change_cipher_spec, alert, handshake or application_data",
                seen=content_type,
            )
        if major != 3:
            raise ProtocolVersionError(
                "not a TLS record: the version's major byte must be 3", seen=header[1:3].hex()
            )
        limit = self._limit(content_type)
        if length > limit:
            raise RecordOverflow(
                "record longer than the protocol allows", expected=f"<= {limit}", seen=length
            )

    def _limit(self, content_type: int) -> int:
        """The longest record body allowed now (RFC 8446 §5.1-5.2, RFC 5246 §6.2)."""
        if self.reader is None or content_type == ContentType.change_cipher_spec:
            return MAX_PLAINTEXT
        if isinstance(self.reader, RecordProtection13):
            return (
                MAX_PLAINTEXT
                if content_type == ContentType.alert and self._alert_in_clear_allowed()
                else MAX_CIPHERTEXT_13
            )
        return MAX_CIPHERTEXT_12

    def _alert_in_clear_allowed(self) -> bool:
        """A TLS 1.3 client that could not use the ServerHello has no keys, so it alerts in the
        clear; a server reads that until the client's first protected record (as OpenSSL). A
        client never does: everything after a ServerHello is protected, alerts too (RFC 8446 §6),
        so a plaintext alert there is forged."""
        return (
            self.alerts_in_clear
            and self.handshaking
            and isinstance(self.reader, RecordProtection13)
            and self.reader.seq == 0
        )

    def _open(self, record: TLSPlaintext) -> Iterator[Inbound]:
        self._check_version(record)  # its header was judged in receive()
        content_type, content, protected = self._unprotect(record)
        if content_type != ContentType.handshake and self._handshake.pending:
            raise UnexpectedMessage(
                "a record arrived between the fragments of one handshake message (RFC 8446 §5.1)",
                seen=ContentType(content_type).name,
            )
        if content_type == ContentType.handshake:
            if not content:  # RFC 8446 §5.1, RFC 5246 §6.2.1; OpenSSL: bad length
                raise UnexpectedMessage(
                    "a zero-length handshake record (RFC 8446 §5.1 forbids them)",
                    expected=">= 1 byte",
                    seen=0,
                )
            messages = self._reassemble(content)
            for i, message in enumerate(messages):
                last = i == len(messages) - 1 and not self._handshake.pending
                yield Inbound(content_type, message, protected, last)
            return
        if content_type == ContentType.change_cipher_spec and content != b"\x01":
            raise UnexpectedMessage("ChangeCipherSpec must be the single byte 01", seen=content)
        if content_type == ContentType.change_cipher_spec and protected:
            raise UnexpectedMessage("a protected ChangeCipherSpec record (RFC 8446 §5)")
        if content_type == ContentType.alert and not content:
            raise UnexpectedMessage("an empty alert record", expected="2 bytes", seen=0)
        yield Inbound(content_type, content, protected, True)

    def _reassemble(self, content: bytes) -> list[bytes]:
        """Whole handshake messages; a partial one is refused from its header if too long."""
        messages = self._handshake.feed(content)
        self._partial += content
        del self._partial[: sum(len(m) for m in messages)]
        if len(self._partial) >= 4:
            msg_type, length = self._partial[0], int.from_bytes(self._partial[1:4], "big")
            cap = (
                self.max_certificate
                if msg_type == HandshakeType.certificate
                else MAX_HANDSHAKE_MESSAGE
            )
            if length > cap:
                raise IllegalParameter(
                    "handshake message larger than this endpoint accepts (as OpenSSL: excessive"
                    " message size)",
                    expected=f"<= {cap} bytes",
                    seen=length,
                )
        return messages

    def _check_version(self, record: TLSPlaintext) -> None:
        # TLS 1.3 ignores this field (RFC 8446 §5.1); a TLS 1.2 stack checks it, as OpenSSL does.
        if self.version == ProtocolVersion.TLS12 and record.legacy_record_version != 0x0303:
            raise ProtocolVersionError(
                "record version differs from the negotiated TLS 1.2",
                expected="0x0303",
                seen=f"0x{record.legacy_record_version:04x}",
            )

    def _unprotect(self, record: TLSPlaintext) -> tuple[int, bytes, bool]:
        """(content type, content, whether it was protected). ChangeCipherSpec is never protected;
        a TLS 1.3 client that failed before its keys changed sends its alert in the clear
        (``_alert_in_clear_allowed``)."""
        if self.reader is None or record.type == ContentType.change_cipher_spec:
            return record.type, record.fragment, False
        if self.reader.seq > MAX_SEQUENCE:
            raise UnexpectedMessage("the read sequence number would wrap (RFC 8446 §5.3)")
        if isinstance(self.reader, RecordProtection13):
            if record.type == ContentType.alert and self._alert_in_clear_allowed():
                return record.type, record.fragment, False
            content_type, content = self.reader.open(record)
            return content_type, content, True
        return record.type, self.reader.open(record), True

    @property
    def handshake_pending(self) -> bool:
        """True while part of a handshake message is buffered."""
        return self._handshake.pending

    # -- out ----------------------------------------------------------------------------------
    def write(self, content_type: int, data: bytes) -> None:
        """Queue ``data`` as records of ``content_type``, protected by the current writer."""
        if self.writer is None:
            for record in fragment(content_type, data, legacy_record_version=self.record_version):
                self._out += (record.header(), record.fragment)
            return
        for start in range(0, max(len(data), 1), MAX_PLAINTEXT):  # RFC 8446 §5.1: <= 2^14 each
            record = self.writer.seal(content_type, data[start : start + MAX_PLAINTEXT])
            self._out += (record.header(), record.fragment)

    def write_change_cipher_spec(self) -> None:
        """Queue a plaintext ChangeCipherSpec record (RFC 5246 §7.1; RFC 8446 Appendix D.4)."""
        self._out.append(
            TLSPlaintext(ContentType.change_cipher_spec, b"\x01", ProtocolVersion.TLS12).encode()
        )

    def data_to_send(self) -> bytes:
        out, self._out = b"".join(self._out), []
        return out

    def __repr__(self) -> str:
        def name(p: Protection | None) -> str:
            return "plaintext" if p is None else type(p).__name__

        return f"<RecordLayer read {name(self.reader)}, write {name(self.writer)}, {sum(map(len, self._out))} bytes queued>"
