"""Field-by-field explanation of TLS bytes.

``explain(data)`` accepts a record (or several back to back), a handshake message,
as bytes, a hex string, or a tlslab message object, and returns an
:class:`Explanation`: one row per field with offset, length, the RFC's field
name, the raw bytes and what they mean (``0x1301 TLS_AES_128_GCM_SHA256``).
``print()`` it for text; in Jupyter it renders as an HTML table.

The rows are recorded by the very decoders tlslab uses, so the explanation and
the parser cannot disagree. Also on the command line: ``python -m tlslab explain HEX``.

Taught in notebook 01_client_hello.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

from ..constants import ContentType, ProtocolVersion
from ..errors import TLSError
from ._codec import Note, Reader
from .extensions import SupportedVersionsServer
from .messages import HandshakeMessage, ServerHello, decode_handshake, set_html_renderer
from .record import Alert, TLSPlaintext, read_record

_MAX_SHOWN = 16


@dataclass(frozen=True)
class Explanation:
    """The annotated fields of some TLS bytes; ``messages`` are the decoded objects."""

    data: bytes
    rows: tuple[Note, ...]
    messages: tuple[object, ...]
    error: str | None = None

    def field(self, name: str) -> Note:
        """The first row whose field is ``name`` (e.g. ``"cipher_suites[0]"``)."""
        for row in self.rows:
            if row.field == name:
                return row
        raise KeyError(name)

    def raw(self, row: Note) -> bytes:
        return self.data[row.offset : row.offset + row.length]

    def _shown(self, row: Note) -> str:
        raw = self.raw(row)
        text = raw[:_MAX_SHOWN].hex(" ")
        return text + (f" ... ({len(raw)} bytes)" if len(raw) > _MAX_SHOWN else "")

    def __str__(self) -> str:
        lines = [f"{'offset':>6} {'len':>5}  {'field':<44} {'bytes':<50} value"]
        for row in self.rows:
            name = "  " * row.depth + row.field
            value = row.meaning or row.value
            if len(row.value) > 40:
                value = row.meaning or ""
            raw = self._shown(row) if row.value or not row.field.endswith("]") else ""
            lines.append(f"{row.offset:>6} {row.length:>5}  {name:<44} {raw:<50} {value}")
        if self.error:
            lines.append(f"!! {self.error}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Explanation of {len(self.data)} bytes, {len(self.rows)} fields>"

    def _repr_html_(self) -> str:
        cells = []
        for row in self.rows:
            pad = row.depth * 1.2
            weight = "bold" if not row.value else "normal"
            value = html.escape(row.meaning or (row.value if len(row.value) <= 40 else ""))
            cells.append(
                "<tr>"
                f"<td style='text-align:right'>{row.offset}</td>"
                f"<td style='text-align:right'>{row.length}</td>"
                f"<td style='text-align:left;padding-left:{pad}em;font-weight:{weight}'>"
                f"{html.escape(row.field)}</td>"
                f"<td style='text-align:left;font-family:monospace'>{html.escape(self._shown(row))}</td>"
                f"<td style='text-align:left'>{value}</td></tr>"
            )
        error = f"<p style='color:#b00'>{html.escape(self.error)}</p>" if self.error else ""
        return (
            "<table><thead><tr><th>offset</th><th>len</th><th>field</th><th>bytes</th>"
            "<th>meaning</th></tr></thead><tbody>" + "".join(cells) + "</tbody></table>" + error
        )


def _as_bytes(data: bytes | bytearray | str | HandshakeMessage | TLSPlaintext) -> bytes:
    if isinstance(data, (HandshakeMessage, TLSPlaintext)):
        return data.encode()
    if isinstance(data, str):
        cleaned = "".join(data.split()).replace(":", "")
        try:
            return bytes.fromhex(cleaned)
        except ValueError:
            raise ValueError("explain() got a string that is not hex") from None
    return bytes(data)


def _looks_like_record(data: bytes) -> bool:
    return len(data) >= 5 and data[0] in (20, 21, 22, 23) and data[1] == 3


def explain(
    data: bytes | bytearray | str | HandshakeMessage | TLSPlaintext,
    *,
    version: int | None = None,
    strict: bool = False,
) -> Explanation:
    """Annotate every field of ``data`` (records or one handshake message).

    ``version`` (``ProtocolVersion.TLS12``/``TLS13``) chooses between the two forms
    of Certificate, CertificateRequest and NewSessionTicket; without it tlslab
    guesses. Malformed bytes are explained up to the problem and the error is
    shown at the end; with ``strict=True`` it is raised instead.
    """
    raw = _as_bytes(data)
    notes: list[Note] = []
    messages: list[object] = []
    error: str | None = None
    try:
        if _looks_like_record(raw):
            _explain_records(raw, notes, messages, version)
        else:
            messages.append(decode_handshake(raw, version=version, notes=notes))
    except TLSError as exc:
        if strict:
            raise
        error = str(exc)
    return Explanation(raw, tuple(notes), tuple(messages), error)


def _explain_records(
    raw: bytes, notes: list[Note], messages: list[object], version: int | None
) -> None:
    r = Reader(raw, what="records", notes=notes)
    index = 0
    pending = b""
    while not r.at_end():
        start = r.offset
        with r.section(f"record[{index}]", "TLSPlaintext (RFC 8446 §5.1)"):
            record = read_record(r)
        base = start + 5
        if record.type == ContentType.handshake:
            pending += record.fragment
            offset_of_pending = base + len(record.fragment) - len(pending)
            while len(pending) >= 4 and len(pending) >= 4 + int.from_bytes(pending[1:4], "big"):
                size = 4 + int.from_bytes(pending[1:4], "big")
                local: list[Note] = []
                message = decode_handshake(pending[:size], version=version, notes=local)
                notes.extend(
                    replace(n, offset=n.offset + offset_of_pending, depth=n.depth + 2)
                    for n in local
                )
                messages.append(message)
                version = version or _version_after(message)
                pending = pending[size:]
                offset_of_pending += size
            if pending:
                notes.append(
                    Note(
                        offset_of_pending,
                        len(pending),
                        1,
                        "handshake fragment",
                        "",
                        "continues in the next record",
                    )
                )
        elif record.type == ContentType.alert and len(record.fragment) == 2:
            alert = Alert.decode(record.fragment)
            messages.append(alert)
            notes.append(
                Note(
                    base,
                    1,
                    1,
                    "Alert.level",
                    str(alert.level),
                    str(getattr(alert.level, "name", "")),
                )
            )
            notes.append(
                Note(
                    base + 1,
                    1,
                    1,
                    "Alert.description",
                    str(alert.description),
                    str(getattr(alert.description, "name", "")),
                )
            )
        elif record.type == ContentType.change_cipher_spec:
            notes.append(
                Note(
                    base,
                    len(record.fragment),
                    1,
                    "ChangeCipherSpec",
                    record.fragment.hex(),
                    "compatibility no-op in TLS 1.3 (RFC 8446 D.4)",
                )
            )
        else:
            notes.append(
                Note(
                    base,
                    len(record.fragment),
                    1,
                    "encrypted_record",
                    "",
                    "AEAD-protected: needs the traffic keys (notebook 07)",
                )
            )
        index += 1


def _version_after(message: object) -> int | None:
    if isinstance(message, ServerHello):
        selected = message.extension(43)
        if isinstance(selected, SupportedVersionsServer):
            return int(selected.selected_version)
        return ProtocolVersion.TLS12
    return None


set_html_renderer(lambda encoded: explain(encoded)._repr_html_())
