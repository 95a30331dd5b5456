"""Reader and Writer for the TLS presentation language (RFC 8446 §3).

``uint8/16/24/32``, fixed ``opaque[n]``, and variable-length vectors
``opaque x<floor..ceiling>`` whose length prefix is as wide as the ceiling needs.

Every read checks bounds and raises :class:`~tlslab.errors.DecodeError` naming the
field, what was expected and what was seen: never ``IndexError`` or
``struct.error``. A length-prefixed block is a context manager that, on exit,
rejects bytes left over inside it.

A Reader can also record *notes* (offset, length, field, value) while it decodes;
:func:`tlslab.explain` uses them, so the annotation is the decoder itself and can
never drift from it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from types import TracebackType

from ..constants import describe, lookup, members
from ..errors import DecodeError, EncodeError

_MAX_FOR_SIZE = {1: 0xFF, 2: 0xFFFF, 3: 0xFFFFFF, 4: 0xFFFFFFFF}
_STRUCT_CODE = {1: "B", 2: "H", 4: "I"}  # uint8/16/32 for struct
_TYPE_AND_LENGTH = struct.Struct(">HH")


@dataclass(frozen=True)
class Note:
    """One annotated span of a decoded message (used by explain)."""

    offset: int
    length: int
    depth: int
    field: str
    value: str
    meaning: str = ""


class Reader:
    """Consumes bytes from ``data[start:end]``; every overrun is a DecodeError."""

    __slots__ = ("_data", "_pos", "_end", "_notes", "_depth", "_what")

    def __init__(
        self,
        data: bytes,
        *,
        what: str = "message",
        notes: list[Note] | None = None,
        start: int = 0,
        end: int | None = None,
        depth: int = 0,
    ) -> None:
        self._data = data
        self._pos = start
        self._end = len(data) if end is None else end
        self._notes = notes
        self._depth = depth
        self._what = what

    # -- state ---------------------------------------------------------------
    @property
    def data(self) -> bytes:
        """All the bytes this Reader reads from (offsets are positions in them)."""
        return self._data

    @property
    def offset(self) -> int:
        return self._pos

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def at_end(self) -> bool:
        return self._pos >= self._end

    def peek(self, n: int) -> bytes:
        """Up to ``n`` next bytes, without consuming them."""
        return self._data[self._pos : min(self._pos + n, self._end)]

    def expect_end(self) -> None:
        """Reject trailing bytes after the last field."""
        if self._pos != self._end:
            raise DecodeError(
                f"{self._what}: trailing bytes after the last field",
                expected="end of data",
                seen=f"{self._end - self._pos} more bytes",
            )

    # -- notes (for explain) -------------------------------------------------
    @property
    def annotating(self) -> bool:
        return self._notes is not None

    def note(
        self, field: str, value: str = "", meaning: str = "", start: int | None = None
    ) -> None:
        """Record a note; with ``start`` the span runs from there to the current offset."""
        if self._notes is not None:
            begin = self._pos if start is None else start
            self._notes.append(Note(begin, self._pos - begin, self._depth, field, value, meaning))

    def section(self, title: str, meaning: str = "") -> _Section | _NoSection:
        """Group the notes of a sub-structure under a heading, one level deeper:
        ``with r.section("client_shares[0]"): ...`` (does nothing when not annotating)."""
        if self._notes is None:
            return _NO_SECTION
        return _Section(self, title, meaning)

    # -- primitives ----------------------------------------------------------
    def _take(self, n: int, field: str) -> bytes:
        if n > self._end - self._pos:
            raise DecodeError(
                f"{self._what}: {field} runs past the end of its enclosing data",
                expected=f"{n} bytes",
                seen=f"{self._end - self._pos} bytes left",
            )
        out = self._data[self._pos : self._pos + n]
        self._pos += n
        return out

    def uint(self, size: int, field: str, enum: type[IntEnum] | None = None) -> int:
        start = self._pos
        if start + size > self._end:
            self._take(size, field)  # raises the DecodeError that says what is missing
        self._pos = start + size
        value = int.from_bytes(self._data[start : self._pos], "big")
        if self._notes is not None:
            meaning = describe(enum, value, size * 2) if enum is not None else ""
            self.note(field, str(value), meaning, start=start)
        return value

    def u8(self, field: str, enum: type[IntEnum] | None = None) -> int:
        return self.uint(1, field, enum)

    def u16(self, field: str, enum: type[IntEnum] | None = None) -> int:
        return self.uint(2, field, enum)

    def u24(self, field: str) -> int:
        return self.uint(3, field)

    def u32(self, field: str) -> int:
        return self.uint(4, field)

    def fixed(self, n: int, field: str, meaning: str = "", text: bool = False) -> bytes:
        """``opaque field[n]``; ``text=True`` shows printable ASCII as its meaning."""
        start = self._pos
        out = self._take(n, field)
        if self._notes is not None:
            if text and out.isascii() and out.decode("ascii").isprintable():
                meaning = repr(out.decode("ascii"))
            self.note(field, out.hex(), meaning, start=start)
        return out

    def _length(self, size: int, field: str, floor: int, ceiling: int) -> int:
        length = self.uint(size, f"{field} length")
        if not floor <= length <= ceiling:
            raise DecodeError(
                f"{self._what}: {field} length out of bounds",
                expected=f"{floor}..{ceiling}",
                seen=length,
            )
        return length

    def opaque(
        self,
        size: int,
        field: str,
        floor: int = 0,
        ceiling: int | None = None,
        meaning: str = "",
        text: bool = False,
    ) -> bytes:
        """``opaque field<floor..ceiling>`` with a ``size``-byte length prefix."""
        top = _MAX_FOR_SIZE[size] if ceiling is None else ceiling
        length = self._length(size, field, floor, top)
        return self.fixed(length, field, meaning, text)

    def block(self, size: int, field: str, floor: int = 0, ceiling: int | None = None) -> _Block:
        """A length-prefixed block: ``with r.block(2, "extensions") as b: ...``.

        The returned Reader is confined to the block; leaving the ``with`` with bytes
        unread inside it raises DecodeError (trailing bytes).
        """
        top = _MAX_FOR_SIZE[size] if ceiling is None else ceiling
        length = self._length(size, field, floor, top)
        if length > self.remaining:
            raise DecodeError(
                f"{self._what}: {field} runs past the end of its enclosing data",
                expected=f"{length} bytes",
                seen=f"{self.remaining} bytes left",
            )
        inner = self.sub(field, self._pos, self._pos + length)
        self._pos += length
        return _Block(inner)

    def sub(self, field: str, start: int, end: int) -> Reader:
        """A Reader confined to ``data[start:end]`` (inside this one), named ``what.field``."""
        return Reader(
            self._data,
            what=f"{self._what}.{field}",
            notes=self._notes,
            start=start,
            end=end,
            depth=self._depth + 1,
        )

    def tagged_entries(self, field: str) -> list[tuple[int, int, int]]:
        """Cut the rest into ``struct { uint16 type; opaque data<0..2^16-1>; }`` entries (the
        shape of RFC 8446 §4.2's Extension) without reading any body: ``(type, start, end)``
        of each body in this Reader's data. One pass, two integers per entry; a body is read
        later (with :meth:`sub`) only if someone needs it."""
        data, pos, end = self._data, self._pos, self._end
        entries: list[tuple[int, int, int]] = []
        read_header, append = _TYPE_AND_LENGTH.unpack_from, entries.append
        at = pos  # where the entry being read starts
        try:
            while pos < end:
                at = pos
                kind, length = read_header(data, at)
                pos = at + 4 + length
                append((kind, at + 4, pos))
        except struct.error:  # the header itself is cut short at the end of all the data
            pos = end + 1
        if pos > end:  # the entry at ``at`` runs past the end: its header, or its body
            index = len(entries) - (1 if entries and entries[-1][1] == at + 4 else 0)
            if end - at < 4:
                raise DecodeError(
                    f"{self._what}: {field}[{index}] header runs past the end of its"
                    " enclosing data",
                    expected="4 bytes (type, length)",
                    seen=f"{end - at} bytes left",
                )
            raise DecodeError(
                f"{self._what}: {field}[{index}] runs past the end of its enclosing data",
                expected=f"{int.from_bytes(data[at + 2 : at + 4], 'big')} bytes",
                seen=f"{end - at - 4} bytes left",
            )
        self._pos = pos
        return entries

    def uint_list(
        self,
        size: int,
        item_size: int,
        field: str,
        enum: type[IntEnum] | None = None,
        floor: int = 0,
        ceiling: int | None = None,
    ) -> tuple[int, ...]:
        """A vector of fixed-width integers, e.g. ``CipherSuite cipher_suites<2..2^16-2>``."""
        items: list[int] = []
        with self.block(size, field, floor, ceiling) as b:
            if b.remaining % item_size:
                raise DecodeError(
                    f"{self._what}: {field} length is not a multiple of {item_size}",
                    expected=f"a multiple of {item_size}",
                    seen=b.remaining,
                )
            if b.annotating or item_size not in _STRUCT_CODE:  # one note per item, for explain()
                while not b.at_end():
                    raw = b.uint(item_size, f"{field}[{len(items)}]", enum)
                    items.append(lookup(enum, raw) if enum is not None else raw)
                return tuple(items)
            # All items in one struct call, then known values become enum members.
            count = b.remaining // item_size
            values = struct.unpack_from(f">{count}{_STRUCT_CODE[item_size]}", b._data, b._pos)
            b._pos = b._end
        if enum is None:
            return values
        known = members(enum)
        return tuple([known.get(v, v) for v in values])

    def rest(self, field: str) -> bytes:
        """Everything left (for bodies whose length is given by the enclosing frame)."""
        return self.fixed(self.remaining, field)


class _Block:
    """Context manager around a confined Reader; checks it was fully consumed."""

    __slots__ = ("reader",)

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def __enter__(self) -> Reader:
        return self.reader

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.reader.expect_end()


class _Section:
    """``with r.section(title):`` while annotating: the notes inside go one level deeper, under a
    heading note inserted where the section began."""

    __slots__ = ("_reader", "_title", "_meaning", "_index", "_start")

    def __init__(self, reader: Reader, title: str, meaning: str) -> None:
        self._reader, self._title, self._meaning = reader, title, meaning

    def __enter__(self) -> None:
        reader = self._reader
        assert reader._notes is not None
        self._index, self._start = len(reader._notes), reader._pos
        reader._depth += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        reader = self._reader
        reader._depth -= 1
        if exc_type is None:
            assert reader._notes is not None
            note = Note(
                self._start,
                reader._pos - self._start,
                reader._depth,
                self._title,
                "",
                self._meaning,
            )
            reader._notes.insert(self._index, note)


class _NoSection:
    """The section of a Reader that is not annotating: nothing to do."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_SECTION = _NoSection()


class Writer:
    """Builds bytes; a length-prefixed block patches its length when it closes."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self._buf)

    def uint(self, size: int, value: int, field: str = "value") -> None:
        if not 0 <= value <= _MAX_FOR_SIZE[size]:
            raise EncodeError(
                f"{field} does not fit in uint{size * 8}",
                expected=f"0..{_MAX_FOR_SIZE[size]}",
                seen=value,
            )
        self._buf += value.to_bytes(size, "big")

    def u8(self, value: int, field: str = "value") -> None:
        self.uint(1, value, field)

    def u16(self, value: int, field: str = "value") -> None:
        self.uint(2, value, field)

    def u24(self, value: int, field: str = "value") -> None:
        self.uint(3, value, field)

    def u32(self, value: int, field: str = "value") -> None:
        self.uint(4, value, field)

    def raw(self, data: bytes) -> None:
        self._buf += data

    def fixed(self, data: bytes, n: int, field: str = "value") -> None:
        if len(data) != n:
            raise EncodeError(f"{field} must be exactly {n} bytes", expected=n, seen=len(data))
        self._buf += data

    def opaque(
        self,
        size: int,
        data: bytes,
        field: str = "value",
        floor: int = 0,
        ceiling: int | None = None,
    ) -> None:
        length = len(data)
        if not floor <= length <= (_MAX_FOR_SIZE[size] if ceiling is None else ceiling):
            self._check_length(size, length, field, floor, ceiling)  # raises, naming the bounds
        self._buf += length.to_bytes(size, "big")
        self._buf += data

    def _check_length(
        self, size: int, length: int, field: str, floor: int, ceiling: int | None
    ) -> None:
        top = _MAX_FOR_SIZE[size] if ceiling is None else ceiling
        if not floor <= length <= top:
            raise EncodeError(
                f"{field} length out of bounds", expected=f"{floor}..{top}", seen=length
            )

    def block(
        self, size: int, field: str = "block", floor: int = 0, ceiling: int | None = None
    ) -> _WriterBlock:
        """``with w.block(2, "extensions"): ...``: reserve a ``size``-byte length, write the
        body, then patch the length in (checked against ``floor..ceiling``)."""
        return _WriterBlock(self, size, field, floor, ceiling)

    def uint_list(
        self,
        size: int,
        item_size: int,
        values: tuple[int, ...] | list[int],
        field: str = "vector",
        floor: int = 0,
        ceiling: int | None = None,
    ) -> None:
        code = _STRUCT_CODE.get(item_size)
        if code is not None:  # the common case: all items in range, packed by one struct call
            try:
                body = struct.pack(f">{len(values)}{code}", *values)
            except (struct.error, TypeError):
                pass  # an item out of range or not an int: the loop below names it as before
            else:
                self.opaque(size, body, field, floor, ceiling)
                return
        with self.block(size, field, floor, ceiling):  # else each item, naming the one that fails
            for v in values:
                self.uint(item_size, int(v), field)


class _WriterBlock:
    """The length-prefixed block of a Writer: on exit, the body's length is checked and
    written into the ``size`` bytes reserved on entry."""

    __slots__ = ("_writer", "_size", "_field", "_floor", "_ceiling", "_at")

    def __init__(
        self, writer: Writer, size: int, field: str, floor: int, ceiling: int | None
    ) -> None:
        self._writer, self._size, self._field = writer, size, field
        self._floor, self._ceiling = floor, ceiling

    def __enter__(self) -> Writer:
        buf = self._writer._buf
        self._at = len(buf)
        buf += bytes(self._size)
        return self._writer

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            return
        buf, at, size = self._writer._buf, self._at, self._size
        length = len(buf) - at - size
        self._writer._check_length(size, length, self._field, self._floor, self._ceiling)
        buf[at : at + size] = length.to_bytes(size, "big")
