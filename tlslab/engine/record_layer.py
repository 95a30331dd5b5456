"""The record layer of a sans-IO connection: bytes in, whole messages out, and back.

Incoming bytes are cut into records (``wire.record.RecordReader``), opened with the current read
protection, and handshake fragments are joined into whole messages
(``wire.record.HandshakeReassembler``). Each result is an :class:`Inbound` that says which record
carried it (plaintext or protected) and whether it ended that record, because a message that is
followed by a key change must (RFC 8446 §5.1). Which message may come now is *not* decided here:
that is the state table's job (``state.py``), applied by the dispatcher (``dispatcher.py``).

What this layer refuses by itself, whatever the state (RFC 8446 §5, RFC 5246 §6.2):
a ChangeCipherSpec that is not the single byte 01, any other record between the fragments of one
handshake message, an empty alert, and on TLS 1.2 a record version other than 0x0303.
Taught in notebooks 07_record_protection and 08_full_handshake.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..constants import ContentType, ProtocolVersion
from ..errors import ProtocolVersionError, UnexpectedMessage
from ..stages.protection import RecordProtection12, RecordProtection13
from ..wire.record import HandshakeReassembler, RecordReader, TLSPlaintext, fragment

Protection = RecordProtection13 | RecordProtection12


@dataclass(frozen=True)
class Inbound:
    """One unit from the peer: a whole handshake message, or the content of one other record."""

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

    def __init__(self) -> None:
        self.reader: Protection | None = None
        self.writer: Protection | None = None
        self.version: int | None = None  # the negotiated version, once known
        self.handshaking = True  # plaintext alerts are tolerated only during the handshake
        self.record_version = ProtocolVersion.TLS10  # legacy_record_version we write
        self._records = RecordReader()
        self._handshake = HandshakeReassembler()
        self._out = bytearray()

    # -- in -----------------------------------------------------------------------------------
    def receive(self, data: bytes) -> Iterator[Inbound]:
        """The units ``data`` completes, one at a time, so that a key change made after one
        unit applies to the next record."""
        for record in self._records.feed(data):
            yield from self._open(record)

    def _open(self, record: TLSPlaintext) -> Iterator[Inbound]:
        self._check_version(record)
        content_type, content, protected = self._unprotect(record)
        if content_type != ContentType.handshake and self._handshake.pending:
            raise UnexpectedMessage(
                "a record arrived between the fragments of one handshake message (RFC 8446 §5.1)",
                seen=ContentType(content_type).name,
            )
        if content_type == ContentType.handshake:
            messages = self._handshake.feed(content)
            for i, message in enumerate(messages):
                last = i == len(messages) - 1 and not self._handshake.pending
                yield Inbound(content_type, message, protected, last)
            return
        if content_type == ContentType.change_cipher_spec and content != b"\x01":
            raise UnexpectedMessage("ChangeCipherSpec must be the single byte 01", seen=content)
        if content_type == ContentType.alert and not content:
            raise UnexpectedMessage("an empty alert record", expected="2 bytes", seen=0)
        yield Inbound(content_type, content, protected, True)

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
        a TLS 1.3 peer that failed before its keys changed sends its alert in the clear."""
        if self.reader is None or record.type == ContentType.change_cipher_spec:
            return record.type, record.fragment, False
        if isinstance(self.reader, RecordProtection13):
            if record.type == ContentType.alert and self.handshaking:
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
        for record in fragment(content_type, data, legacy_record_version=self.record_version):
            if self.writer is not None:
                record = self.writer.seal(content_type, record.fragment)
            self._out += record.encode()

    def write_change_cipher_spec(self) -> None:
        """Queue a plaintext ChangeCipherSpec record (RFC 5246 §7.1; RFC 8446 Appendix D.4)."""
        self._out += TLSPlaintext(
            ContentType.change_cipher_spec, b"\x01", ProtocolVersion.TLS12
        ).encode()

    def data_to_send(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    def __repr__(self) -> str:
        def name(p: Protection | None) -> str:
            return "plaintext" if p is None else type(p).__name__

        return f"<RecordLayer read {name(self.reader)}, write {name(self.writer)}, {len(self._out)} bytes queued>"
