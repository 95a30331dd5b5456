"""The record layer's framing (RFC 8446 §5.1, RFC 5246 §6.2).

    struct {
        ContentType type;
        ProtocolVersion legacy_record_version;
        uint16 length;
        opaque fragment[TLSPlaintext.length];
    } TLSPlaintext;

A byte stream from a socket is cut into records by :class:`RecordReader`, one
byte at a time or all at once alike. Handshake messages may be split over
several records or packed several to a record; :class:`HandshakeReassembler`
turns the fragments back into whole messages, and :func:`fragment` goes the
other way. Protection (encryption) lives in ``protection.py``.

Taught in notebooks 01_client_hello and 07_record_protection.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..constants import AlertDescription, AlertLevel, ContentType, ProtocolVersion, lookup
from ..errors import DecodeError, ProtocolVersionError, RecordOverflow, UnexpectedMessage
from ._codec import Reader, Writer

MAX_PLAINTEXT = 2**14  # RFC 8446 §5.1
MAX_CIPHERTEXT_13 = 2**14 + 256  # RFC 8446 §5.2
MAX_CIPHERTEXT_12 = 2**14 + 2048  # RFC 5246 §6.2.3
MAX_HANDSHAKE_MESSAGE = 2**24 - 1
HEADER_LENGTH = 5


@dataclass(frozen=True)
class TLSPlaintext:
    """One record as it travels: header + fragment (which may be ciphertext)."""

    type: int
    fragment: bytes
    legacy_record_version: int = ProtocolVersion.TLS12

    def header(self) -> bytes:
        """The 5-byte record header (also the AEAD additional data in TLS 1.3)."""
        length = len(self.fragment)
        if (
            0 <= self.type <= 0xFF
            and 0 <= self.legacy_record_version <= 0xFFFF
            and length <= 0xFFFF
        ):
            return _HEADER.pack(self.type, self.legacy_record_version, length)
        w = Writer()  # a field does not fit: the Writer raises EncodeError naming it
        w.u8(self.type, "type")
        w.u16(self.legacy_record_version, "legacy_record_version")
        w.u16(length, "length")
        return w.getvalue()

    def encode(self) -> bytes:
        return self.header() + self.fragment

    @classmethod
    def decode(cls, data: bytes) -> TLSPlaintext:
        """Decode exactly one record."""
        r = Reader(data, what="TLSPlaintext")
        record = read_record(r)
        r.expect_end()
        return record


def read_record(r: Reader, max_length: int = MAX_CIPHERTEXT_12) -> TLSPlaintext:
    """Read one record from ``r``; length bounds are checked before the body is read."""
    content_type = r.u8("type", ContentType)
    version = r.u16("legacy_record_version", ProtocolVersion)
    length = r.u16("length")
    check_header(content_type, version, length, max_length)
    return TLSPlaintext(
        lookup(ContentType, content_type),
        r.fixed(length, "fragment"),
        lookup(ProtocolVersion, version),
    )


def check_header(content_type: int, version: int, length: int, max_length: int) -> None:
    """A record header's fields: a known content type, a 3.x version, a length within bounds."""
    if content_type not in _CONTENT_TYPES:
        raise UnexpectedMessage(
            "record of unknown content type",
            expected="change_cipher_spec, alert, handshake or application_data",
            seen=content_type,
        )
    if version >> 8 != 3:
        raise ProtocolVersionError(
            "not a TLS record: the version's major byte must be 3",
            expected="0x03xx",
            seen=f"0x{version:04x}",
        )
    if length > max_length:
        raise RecordOverflow(
            "record longer than the protocol allows", expected=f"<= {max_length}", seen=length
        )


_CONTENT_TYPES = frozenset(
    {
        ContentType.change_cipher_spec,
        ContentType.alert,
        ContentType.handshake,
        ContentType.application_data,
        ContentType.heartbeat,
    }
)
_CONTENT_TYPE_OF = {int(t): t for t in _CONTENT_TYPES}
_VERSION_OF: dict[int, ProtocolVersion] = {int(v): v for v in ProtocolVersion}
_HEADER = struct.Struct(">BHH")  # type, legacy_record_version, length


class RecordReader:
    """Cuts a byte stream into records. ``feed(data)`` returns the records now complete.

    Records are cut straight out of ``data`` (each fragment is copied once); only the tail
    that is not yet a whole record is kept for the next call."""

    def __init__(self, max_length: int = MAX_CIPHERTEXT_12) -> None:
        self._buffer = bytearray()
        self.max_length = max_length

    def feed(self, data: bytes) -> list[TLSPlaintext]:
        if self._buffer:
            self._buffer += data
            data, self._buffer = bytes(self._buffer), bytearray()
        elif not isinstance(data, bytes):
            data = bytes(data)
        records: list[TLSPlaintext] = []
        pos, end = 0, len(data)
        while end - pos >= HEADER_LENGTH:
            content_type, version, length = _HEADER.unpack_from(data, pos)
            start = pos + HEADER_LENGTH
            if end - start < length and length <= self.max_length:
                break  # the rest of this record has not arrived yet
            check_header(content_type, version, length, self.max_length)
            fragment = data[start : start + length]
            records.append(
                TLSPlaintext(
                    _CONTENT_TYPE_OF[content_type], fragment, _VERSION_OF.get(version, version)
                )
            )
            pos = start + length
        if pos < end:
            self._buffer += data[pos:] if pos else data
        return records

    def next_header(self, data: bytes = b"") -> bytes | None:
        """The 5-byte header of the first record not yet returned, with ``data`` appended to
        what is buffered, if that many bytes are there (nothing is consumed)."""
        head = bytes(self._buffer[:HEADER_LENGTH])
        if len(head) < HEADER_LENGTH:
            head += data[: HEADER_LENGTH - len(head)]
        return head if len(head) == HEADER_LENGTH else None

    @property
    def pending(self) -> int:
        """Bytes buffered that do not yet make a whole record."""
        return len(self._buffer)


class HandshakeReassembler:
    """Joins handshake fragments into whole messages (RFC 8446 §5.1).

    ``feed(fragment)`` returns the complete messages (header included) now available.
    """

    def __init__(self, max_message: int = MAX_HANDSHAKE_MESSAGE) -> None:
        self._buffer = bytearray()
        self.max_message = max_message

    def feed(self, fragment: bytes) -> list[bytes]:
        if not fragment:
            raise DecodeError(
                "zero-length handshake fragment (RFC 8446 §5.1 forbids them)",
                expected=">= 1 byte",
                seen=0,
            )
        self._buffer += fragment
        messages: list[bytes] = []
        while len(self._buffer) >= 4:
            length = int.from_bytes(self._buffer[1:4], "big")
            if length > self.max_message:
                raise DecodeError(
                    "handshake message larger than this endpoint accepts",
                    expected=f"<= {self.max_message} bytes",
                    seen=length,
                )
            if len(self._buffer) < 4 + length:
                break
            messages.append(bytes(self._buffer[: 4 + length]))
            del self._buffer[: 4 + length]
        return messages

    @property
    def pending(self) -> bool:
        """True while a message is only partly received (a key change must not happen now)."""
        return bool(self._buffer)


def fragment(
    content_type: int,
    data: bytes,
    *,
    max_fragment: int = MAX_PLAINTEXT,
    legacy_record_version: int = ProtocolVersion.TLS12,
) -> list[TLSPlaintext]:
    """Split ``data`` into records of at most ``max_fragment`` bytes each."""
    if not 1 <= max_fragment <= MAX_PLAINTEXT:
        raise ValueError(f"max_fragment must be 1..{MAX_PLAINTEXT}, got {max_fragment}")
    return [
        TLSPlaintext(content_type, data[i : i + max_fragment], legacy_record_version)
        for i in range(0, max(len(data), 1), max_fragment)
    ]


# RFC 5246 §7.1   struct { enum { change_cipher_spec(1), (255) } type; } ChangeCipherSpec;
@dataclass(frozen=True)
class ChangeCipherSpec:
    def encode(self) -> bytes:
        return b"\x01"

    @classmethod
    def decode(cls, data: bytes) -> ChangeCipherSpec:
        if data != b"\x01":
            raise UnexpectedMessage(
                "ChangeCipherSpec must be the single byte 0x01", expected="01", seen=data
            )
        return cls()


# RFC 8446 §6   struct { AlertLevel level; AlertDescription description; } Alert;
@dataclass(frozen=True)
class Alert:
    level: int
    description: int

    def encode(self) -> bytes:
        return bytes([self.level, self.description])

    @classmethod
    def decode(cls, data: bytes) -> Alert:
        r = Reader(data, what="Alert")
        level = lookup(AlertLevel, r.u8("level", AlertLevel))
        description = lookup(AlertDescription, r.u8("description", AlertDescription))
        r.expect_end()
        return cls(level, description)
