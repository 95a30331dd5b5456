"""One connection illustrated byte by byte: every record in order, every field explained,
every encrypted record opened step by step (notebook 00b_illustrated_connection).

``illustrated_connection(ProtocolVersion.TLS13)`` runs a seeded tlslab client against a seeded
tlslab server in memory (handshake, one request, one response, close_notify in both directions)
and returns an :class:`IllustratedConnection`:

- each :class:`IllustratedRecord` holds the record exactly as it crossed the wire, its
  field-by-field :class:`~tlslab.wire.explain.Explanation`, and for a protected record the
  :class:`Step` list that opens it (traffic secret, key, IV, nonce = IV xor sequence number,
  additional data, ciphertext, tag; for TLS 1.2 CBC the explicit IV, padding and MAC) and the
  explanation of the plaintext inside;
- in Jupyter it renders as HTML with the full hex of every record; hovering a field's bytes
  highlights its explanation and the other way round (pure CSS, so it also works in a static HTML
  export and in the standalone page of :meth:`IllustratedConnection.to_html`);
- :meth:`IllustratedConnection.pcap` and ``keylog`` give the same connection as a capture file
  and NSS key log that Wireshark decrypts.

Every record is opened twice: by hand here, with the primitive and the RFC's formula written out,
and by tlslab's own :mod:`tlslab.stages.protection`; the two must agree or this module raises.

``illustrate_session(session)`` shows any :class:`~tlslab.engine.decrypt.DecryptedSession`-like
object (a decrypted capture): its messages, data and alerts, explained field by field.

RFC 8446 §4-5 and §7 (TLS 1.3); RFC 5246 §6.2-7.4, RFC 5288, RFC 7627 (TLS 1.2).
"""

from __future__ import annotations

import html
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import constant_time
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from ..constants import (
    AlertDescription,
    AlertLevel,
    ContentType,
    ExtensionType,
    NamedGroup,
    ProtocolVersion,
)
from ..engine.client import ClientConfig, TLSClient
from ..engine.memory import handshake_in_memory
from ..engine.server import ServerIdentity, TLSServer
from ..errors import DecodeError, TLSError
from ..net.capture import CapturedConnection, CapturedRecord
from ..pki.certificates import LAB_NOW, build_chain
from ..rng import seeded_rng
from ..stages.keylog import KeyLog
from ..stages.keyschedule import hmac_digest, key_block, traffic_keys
from ..stages.negotiation import ServerConfig
from ..stages.protection import RecordProtection12, RecordProtection13, xor_nonce
from ..stages.suites import SuiteInfo, suite_info
from ..wire._codec import Note
from ..wire.explain import Explanation, explain
from ..wire.extensions import SupportedVersionsServer
from ..wire.messages import ClientHello, ServerHello, rfc_message_name
from ..wire.record import RecordReader, TLSPlaintext

__all__ = [
    "IllustratedConnection",
    "IllustratedRecord",
    "RecordedConnection",
    "Step",
    "export_folder",
    "field_prose",
    "illustrate",
    "illustrate_session",
    "illustrated_connection",
    "record_connection",
]

REQUEST = b"GET / HTTP/1.1\r\nHost: lab.example\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"


# -- one connection, recorded ------------------------------------------------------------------
@dataclass(frozen=True)
class RecordedConnection:
    """The bytes of one connection in the order they crossed the wire, and its key log."""

    flights: tuple[tuple[str, bytes], ...]
    keylog: KeyLog
    suite: int

    def stream(self, sender: str) -> bytes:
        """Everything ``sender`` ("client" or "server") sent, back to back."""
        return b"".join(data for who, data in self.flights if who == sender)

    def __repr__(self) -> str:
        return (
            f"<RecordedConnection {suite_info(self.suite).name}: {len(self.flights)} flights, "
            f"client sent {len(self.stream('client'))} bytes, server {len(self.stream('server'))}>"
        )


def record_connection(
    version: int = ProtocolVersion.TLS13,
    *,
    cipher_suite: int | None = None,
    seed: str = "illustrated connection",
    request: bytes = REQUEST,
    response: bytes = RESPONSE,
) -> RecordedConnection:
    """Run a seeded tlslab client against a seeded tlslab server in memory: the handshake (with one
    NewSessionTicket in TLS 1.3), one request, one response, then close_notify from both sides.
    For TLS 1.3 the client offers TLS 1.3 and 1.2 (as real clients do); for TLS 1.2 it offers
    only TLS 1.2.

    Same seed, same bytes, on every machine (teaching PKI with a fixed "now", deterministic
    ECDSA signatures). ``cipher_suite`` limits the client's offer to that one suite."""
    chain = build_chain("lab.example")
    # A TLS 1.3 client offers 1.2 as well, like every real client; "TLS 1.2" means a client
    # that offers only 1.2 (the server, which supports both, then sets the downgrade sentinel).
    # Classical groups only (P-256 too: a TLS 1.2 ECDSA certificate must be on a curve the client
    # lists, RFC 8422 §5.1.1), so a seeded rng fixes every byte. The hybrid X25519MLKEM768 that
    # tlslab (like a browser) offers by default cannot be replayed: cryptography's ML-KEM
    # encapsulation takes no randomness from us, so its ciphertext changes on every run
    # (notebook 10 shows that group).
    options: dict[str, Any] = {"groups": (NamedGroup.x25519, NamedGroup.secp256r1)}
    if version != ProtocolVersion.TLS13:
        options["versions"] = (version,)
    if cipher_suite is not None:
        options["cipher_suites"] = (cipher_suite,)
    client = TLSClient(
        ClientConfig(
            server_name="lab.example", trust_roots=tuple(chain.trust_roots), now=LAB_NOW, **options
        ),
        seeded_rng(f"{seed} client"),
    )
    # MAC-then-encrypt for a CBC suite, the record layout RFC 5246 §6.2.3.2 describes (clients
    # offer encrypt_then_mac, RFC 7366; this server declines so the classic layout can be shown).
    server_options: dict[str, Any] = {
        "tickets": 1 if version == ProtocolVersion.TLS13 else 0,
        "encrypt_then_mac": False,
    }
    if cipher_suite is not None:
        server_options["cipher_suites"] = (cipher_suite,)
    server = TLSServer(
        ServerConfig(**server_options),
        ServerIdentity.from_chain(chain),
        seeded_rng(f"{seed} server"),
    )
    result = handshake_in_memory(client, server)
    if not result.completed:
        raise RuntimeError(f"the illustrated handshake did not complete: {result.error!r}")
    flights = [(f.sender, f.data) for f in result.flights]

    def deliver(sender: Any, receiver: Any, who: str) -> None:
        data = sender.data_to_send()
        if data:
            flights.append((who, data))
            if receiver is not None:
                receiver.receive_data(data)

    deliver(server, client, "server")  # anything the server still had queued (a ticket)
    client.send_application_data(request)
    deliver(client, server, "client")
    server.send_application_data(response)
    deliver(server, client, "server")
    client.close()
    deliver(client, server, "client")
    deliver(server, None, "server")  # the server's close_notify in answer (the client has closed)
    suite = server.decision.suite.suite if server.decision is not None else 0
    return RecordedConnection(tuple(flights), client.trace.keylog(), int(suite))


# -- the illustrated records ---------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """One step of opening a protected record: a named value and why it is what it is."""

    name: str
    value: bytes | str
    note: str

    def text(self) -> str:
        shown = self.value.hex(" ") if isinstance(self.value, bytes) else self.value
        return f"{self.name}: {shown}\n    {self.note}"


@dataclass(frozen=True)
class IllustratedRecord:
    """One record as it crossed the wire, explained; if protected, opened step by step."""

    index: int
    sender: str
    raw: bytes
    title: str
    story: str
    explanation: Explanation
    steps: tuple[Step, ...] = ()
    plaintext: Explanation | None = None

    @property
    def protected(self) -> bool:
        return bool(self.steps)

    def text(self, *, full: bool = True) -> str:
        """The text form: record explanation, opening steps, plaintext explanation."""
        parts = [
            f"== record {self.index}: {self.sender} -> {self.title} ({len(self.raw)} bytes) ==",
            self.story,
            _full_text(self.explanation) if full else str(self.explanation),
        ]
        if self.steps:
            parts.append("-- opening it --")
            parts += [step.text() for step in self.steps]
        if self.plaintext is not None:
            parts.append("-- the plaintext inside --")
            parts.append(_full_text(self.plaintext) if full else str(self.plaintext))
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return (
            _STYLE
            + _hover_style(_record_fields(self))
            + "<div class='tlsill'>"
            + _record_html(self)
            + "</div>"
        )

    def __repr__(self) -> str:
        kind = "protected" if self.protected else "plaintext"
        return f"<IllustratedRecord {self.index} {self.sender} {self.title!r}, {len(self.raw)} bytes, {kind}>"


@dataclass
class IllustratedConnection:
    """A whole connection, record by record. ``_repr_html_`` is the interactive page."""

    title: str
    version: int | None  # None only for a capture without its hellos
    suite: SuiteInfo | None
    records: list[IllustratedRecord]
    keylog: KeyLog
    flights: tuple[tuple[str, bytes], ...] = ()
    intro: str = ""

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> IllustratedRecord:
        return self.records[index]

    def __iter__(self) -> Any:
        return iter(self.records)

    def find(self, title: str) -> IllustratedRecord:
        """The first record whose title contains ``title`` (e.g. ``"Certificate"``)."""
        for record in self.records:
            if title in record.title:
                return record
        raise KeyError(title)

    def text(self, *, full: bool = True) -> str:
        """Everything as plain text (the ``explain(..., full=True)`` form of each record)."""
        return "\n\n".join(record.text(full=full) for record in self.records)

    def __repr__(self) -> str:
        return (
            f"<IllustratedConnection {_version_name(self.version)} {_suite_name(self.suite)}: "
            f"{len(self.records)} records, {sum(r.protected for r in self.records)} opened>"
        )

    # -- HTML ------------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        return _STYLE + self._hover() + self._body_html()

    def record_html(self, index: int) -> str:
        """One record's HTML (with the page style), for showing records one at a time."""
        return self.records[index]._repr_html_()

    def _hover(self) -> str:
        return _hover_style(set().union(*(_record_fields(r) for r in self.records)))

    def _body_html(self) -> str:
        head = (
            f"<div class='tlsill-intro'><b>{html.escape(self.title)}</b> &middot; "
            f"{html.escape(_version_name(self.version))} &middot; "
            f"{html.escape(_suite_name(self.suite))} &middot; {len(self.records)} records. "
            "Hover over bytes or explanations: both light up together.</div>"
        )
        return (
            "<div class='tlsill'>"
            + head
            + "".join(_record_html(r) for r in self.records)
            + "</div>"
        )

    def to_html(self) -> str:
        """A standalone HTML page of the whole connection (no scripts, no external files)."""
        intro = f"<p>{html.escape(self.intro)}</p>" if self.intro else ""
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(self.title)}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<style>body{font-family:system-ui,sans-serif;max-width:72em;margin:2em auto;"
            "padding:0 1em;line-height:1.45}</style>"
            f"</head><body><h1>{html.escape(self.title)}</h1>{intro}"
            + _STYLE
            + self._hover()
            + self._body_html()
            + "<p class='tlsill-foot'>Generated by tlslab (tlslab.lab.illustrated). The same "
            "connection as a pcap and an NSS key log: Wireshark decrypts it.</p></body></html>\n"
        )

    def write_html(self, path: str | Path) -> Path:
        target = Path(path)
        target.write_text(self.to_html(), encoding="utf-8")
        return target

    # -- capture ----------------------------------------------------------------------------------
    def pcap(self) -> bytes:
        """The connection as a classic pcap file (Ethernet, IPv4 127.0.0.1, TCP 50000 -> 443)
        with a TCP three-way handshake first, so Wireshark's TLS dissector follows the stream."""
        if not self.flights:
            raise ValueError("this connection has no wire bytes (it came from a decrypted session)")
        return tcp_pcap(self.flights)

    def write_capture(self, directory: str | Path, stem: str = "illustrated") -> tuple[Path, Path]:
        """Write ``stem.pcap`` and ``stem.keys`` (NSS key log) into ``directory``: in Wireshark,
        Preferences > Protocols > TLS > (Pre)-Master-Secret log filename = the .keys file."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        pcap_path, keys_path = folder / f"{stem}.pcap", folder / f"{stem}.keys"
        pcap_path.write_bytes(self.pcap())
        keys_path.write_text(self.keylog.dumps(), encoding="ascii")
        return pcap_path, keys_path


def _version_name(version: int | None) -> str:
    return ProtocolVersion(version).name if version is not None else "version unknown"


def _suite_name(suite: SuiteInfo | None) -> str:
    return suite.name if suite is not None else "cipher suite unknown"


def export_folder() -> Path:
    """Where the notebook writes its page and capture: ``<temp dir>/tlslab-illustrated``."""
    import tempfile

    folder = Path(tempfile.gettempdir()) / "tlslab-illustrated"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- building ------------------------------------------------------------------------------------
def illustrated_connection(
    version: int = ProtocolVersion.TLS13,
    *,
    cipher_suite: int | None = None,
    seed: str = "illustrated connection",
) -> IllustratedConnection:
    """Record one seeded connection (:func:`record_connection`) and illustrate it."""
    recorded = record_connection(version, cipher_suite=cipher_suite, seed=seed)
    suite = suite_info(recorded.suite)
    name = ProtocolVersion(version).name.replace("TLS1", "TLS 1.")
    return illustrate(
        recorded.flights, recorded.keylog, title=f"The illustrated {name} connection ({suite.name})"
    )


def illustrate(
    flights: Sequence[tuple[str, bytes]] | RecordedConnection,
    keylog: str | KeyLog | None = None,
    *,
    title: str = "One TLS connection, byte by byte",
) -> IllustratedConnection:
    """Illustrate a connection given as (sender, bytes) flights in wire order and its key log."""
    if isinstance(flights, RecordedConnection):
        keylog = keylog if keylog is not None else flights.keylog
        flights = flights.flights
    if keylog is None:
        raise ValueError("illustrate() needs the connection's key log")
    log = keylog if isinstance(keylog, KeyLog) else KeyLog.parse(keylog)
    walker = _Walker(log)
    records: list[IllustratedRecord] = []
    for sender, data in flights:
        for record in RecordReader().feed(data):
            records.append(walker.record(len(records), sender, record))
    if walker.suite is None or walker.version is None:
        raise DecodeError("no ServerHello in these flights")
    return IllustratedConnection(
        title, walker.version, walker.suite, records, log, tuple((s, d) for s, d in flights)
    )


class _Walker:
    """Follows the connection record by record, as a passive observer holding the key log."""

    def __init__(self, keylog: KeyLog, *, need_keys: bool = True) -> None:
        self.keylog = keylog
        # need_keys=False (a capture): without this connection's secrets the protected records
        # stay closed instead of raising KeyError
        self.need_keys = need_keys
        self.version: int | None = None
        self.suite: SuiteInfo | None = None
        self.client_random = b""
        self.server_random = b""
        self.readers: dict[str, RecordProtection13 | RecordProtection12 | None] = {
            "client": None,
            "server": None,
        }
        self.labels: dict[str, str] = {}
        self.finished: dict[str, bool] = {"client": False, "server": False}
        self.cbc_seq: dict[str, int] = {"client": 0, "server": 0}
        self.encrypt_then_mac = False  # RFC 7366, from the ServerHello

    # TLS 1.3: which secret protects the next record of ``sender``
    def _secret_13(self, sender: str) -> str:
        phase = "TRAFFIC_SECRET_0" if self.finished[sender] else "HANDSHAKE_TRAFFIC_SECRET"
        return f"{sender.upper()}_{phase}"

    def record(self, index: int, sender: str, record: TLSPlaintext) -> IllustratedRecord:
        raw = record.encode()
        reader = self.readers[sender]
        if record.type == ContentType.change_cipher_spec:
            if self.version == ProtocolVersion.TLS12:
                self._start_12(sender)
            return IllustratedRecord(
                index,
                sender,
                raw,
                "ChangeCipherSpec",
                _ccs_story(self.version, sender),
                explain(raw, version=self.version),
            )
        if reader is None:
            return self._plaintext(index, sender, record, raw)
        if isinstance(reader, RecordProtection13):
            return self._open_13(index, sender, record, raw, reader)
        return self._open_12(index, sender, record, raw, reader)

    def _plaintext(
        self, index: int, sender: str, record: TLSPlaintext, raw: bytes
    ) -> IllustratedRecord:
        exp = explain(raw, version=self.version)
        names = [_message_name(m) for m in exp.messages]
        for message in exp.messages:
            if isinstance(message, ClientHello):
                self.client_random = message.random
            elif isinstance(message, ServerHello) and not message.is_hello_retry_request:
                self._server_hello(message)
        story = " ".join(_MESSAGE_STORY.get(n, "") for n in names).strip()
        if self.version == ProtocolVersion.TLS13 and self.readers["server"] is None:
            pass
        return IllustratedRecord(index, sender, raw, ", ".join(names) or "record", story, exp)

    def _server_hello(self, sh: ServerHello) -> None:
        self.server_random = sh.random
        self.encrypt_then_mac = sh.extension(ExtensionType.encrypt_then_mac) is not None
        self.suite = suite_info(sh.cipher_suite)
        selected = sh.extension(ExtensionType.supported_versions)
        self.version = (
            int(selected.selected_version)
            if isinstance(selected, SupportedVersionsServer)
            else int(sh.legacy_version)
        )
        if not self.need_keys and self.client_random not in self.keylog:
            return
        if self.version == ProtocolVersion.TLS13:
            secrets = self.keylog[self.client_random]
            for side in ("client", "server"):
                label = f"{side.upper()}_HANDSHAKE_TRAFFIC_SECRET"
                self.labels[side] = label
                self.readers[side] = RecordProtection13(
                    self.suite, traffic_keys(secrets[label], self.suite)
                )

    def _start_12(self, sender: str) -> None:
        assert self.suite is not None
        if not self.need_keys and self.client_random not in self.keylog:
            return
        master = self.keylog[self.client_random]["CLIENT_RANDOM"]
        block = key_block(master, self.client_random, self.server_random, self.suite)
        prefix = "client" if sender == "client" else "server"
        self.readers[sender] = RecordProtection12(
            self.suite,
            getattr(block, f"{prefix}_write_key"),
            getattr(block, f"{prefix}_write_IV"),
            getattr(block, f"{prefix}_write_MAC_key"),
            encrypt_then_mac=self.encrypt_then_mac,
        )

    # -- TLS 1.3 ---------------------------------------------------------------------------------
    def _open_13(
        self,
        index: int,
        sender: str,
        record: TLSPlaintext,
        raw: bytes,
        reader: RecordProtection13,
    ) -> IllustratedRecord:
        assert self.suite is not None and self.version is not None
        label = self.labels[sender]
        secret = self.keylog[self.client_random][label]
        keys = reader.keys
        seq = reader.seq
        nonce = xor_nonce(keys.iv, seq)
        aad = record.header()
        tag_length = 16
        ciphertext, tag = record.fragment[:-tag_length], record.fragment[-tag_length:]
        aead: AESGCM | ChaCha20Poly1305 = (
            ChaCha20Poly1305(keys.key)
            if self.suite.cipher == "CHACHA20-POLY1305"
            else AESGCM(keys.key)
        )
        inner = aead.decrypt(nonce, record.fragment, aad)  # by hand
        content_type, content = reader.open(record)  # and by tlslab's record layer
        if inner.rstrip(b"\x00") != content + bytes([content_type]):
            raise AssertionError("the hand-opened record differs from tlslab's record layer")
        padding = len(inner) - len(content) - 1
        hash_len = len(secret)
        aead_name = self.suite.cipher
        steps = (
            Step(
                "traffic secret",
                secret,
                f"{label} from the key log (line {label} <client_random> <secret>). "
                + _SECRET_STORY[label.split("_", 1)[1]],
            ),
            Step(
                "write key",
                keys.key,
                f'HKDF-Expand-Label(secret, "key", "", {len(keys.key)}) (RFC 8446 §7.3): the {aead_name} key '
                f"for everything the {sender} sends under this secret ({hash_len}-byte secret, "
                f"{self.suite.hash_name}).",
            ),
            Step(
                "write IV",
                keys.iv,
                f'HKDF-Expand-Label(secret, "iv", "", {len(keys.iv)}) (RFC 8446 §7.3). Never sent: '
                "both sides derive it.",
            ),
            Step(
                "sequence number",
                str(seq),
                f"records the {sender} has sent under this key so far (RFC 8446 §5.3). It starts "
                "at 0 for each new key and is never sent: a dropped, replayed or reordered record "
                "gets the wrong nonce and fails to open.",
            ),
            Step(
                "nonce",
                nonce,
                f"write IV xor sequence number (64 bits, left-padded with zeros to {len(keys.iv)} "
                "bytes) (RFC 8446 §5.3): a fresh nonce per record without sending one.",
            ),
            Step(
                "additional data",
                aad,
                "the 5-byte record header: opaque_type 23, legacy_record_version 0x0303, length "
                f"{len(record.fragment)} (RFC 8446 §5.2). Authenticated, not encrypted: change the "
                "header and the tag fails.",
            ),
            Step(
                "ciphertext",
                ciphertext,
                f"the encrypted TLSInnerPlaintext, {len(ciphertext)} bytes: as long as the "
                "plaintext (a stream cipher mode).",
            ),
            Step(
                "tag",
                tag,
                f"the last {tag_length} bytes of the record: the {aead_name} authentication tag "
                "over ciphertext and additional data.",
            ),
            Step(
                "TLSInnerPlaintext",
                inner,
                f"AEAD-Decrypt(key, nonce, additional data, ciphertext || tag) = content "
                f"({len(content)} bytes) || true content type {content_type} "
                f"({ContentType(content_type).name}) || {padding} zero bytes of padding "
                "(RFC 8446 §5.2, §5.4). The outer type 23 hid the true type.",
            ),
        )
        plaintext = _explain_content(content_type, content, self.version)
        names = _content_names(content_type, plaintext)
        for message in plaintext.messages:
            if _message_name(message) == "Finished":
                self.finished[sender] = True
                self.labels[sender] = self._secret_13(sender)
                self.readers[sender] = RecordProtection13(
                    self.suite,
                    traffic_keys(self.keylog[self.client_random][self.labels[sender]], self.suite),
                )
        story = " ".join(_MESSAGE_STORY.get(n, "") for n in names).strip()
        return IllustratedRecord(
            index,
            sender,
            raw,
            f"{', '.join(names)} (encrypted)",
            story,
            _protected_wire(
                record,
                [
                    (
                        "encrypted_record",
                        len(ciphertext),
                        "ciphertext: the TLSInnerPlaintext, encrypted",
                    ),
                    ("tag", tag_length, f"{aead_name} authentication tag"),
                ],
            ),
            steps,
            plaintext,
        )

    # -- TLS 1.2 ---------------------------------------------------------------------------------
    def _open_12(
        self,
        index: int,
        sender: str,
        record: TLSPlaintext,
        raw: bytes,
        reader: RecordProtection12,
    ) -> IllustratedRecord:
        assert self.suite is not None and self.version is not None
        master = self.keylog[self.client_random]["CLIENT_RANDOM"]
        seq = reader.seq
        content = reader.open(record)  # tlslab's record layer
        steps: list[Step] = [
            Step(
                "master secret",
                master,
                "CLIENT_RANDOM line of the key log: the 48-byte (extended) master secret "
                "(RFC 5246 §8.1, RFC 7627 §4).",
            ),
        ]
        if self.suite.is_aead:
            steps += self._aead_steps_12(sender, record, reader, seq, content)
        elif not self.encrypt_then_mac:  # the by-hand steps are those of MAC-then-encrypt
            steps += self._cbc_steps_12(sender, record, reader, seq, content)
        plaintext = _explain_content(record.type, content, self.version)
        names = _content_names(record.type, plaintext)
        story = " ".join(_MESSAGE_STORY.get(n, "") for n in names).strip()
        size = len(record.fragment)
        if self.suite.cipher == "CHACHA20-POLY1305":
            parts = [("ciphertext", size - 16, "encrypted content"), ("tag", 16, "Poly1305 tag")]
        elif self.suite.is_aead:
            parts = [
                ("nonce_explicit", 8, "sent part of the GCM nonce (RFC 5288 §3)"),
                ("ciphertext", size - 24, "encrypted content"),
                ("tag", 16, "GCM tag"),
            ]
        else:
            parts = [
                ("IV", 16, "explicit per-record CBC IV (RFC 5246 §6.2.3.2)"),
                ("ciphertext", size - 16, "AES-CBC(content || MAC || padding || padding_length)"),
            ]
        return IllustratedRecord(
            index,
            sender,
            raw,
            f"{', '.join(names)} (encrypted)",
            story,
            _protected_wire(record, parts, self.version),
            tuple(steps),
            plaintext,
        )

    def _aead_steps_12(
        self,
        sender: str,
        record: TLSPlaintext,
        reader: RecordProtection12,
        seq: int,
        content: bytes,
    ) -> list[Step]:
        assert self.suite is not None
        fragment = record.fragment
        aad = (
            seq.to_bytes(8, "big")
            + bytes([record.type])
            + record.legacy_record_version.to_bytes(2, "big")
            + len(content).to_bytes(2, "big")
        )
        steps = [
            Step(
                "write key",
                reader.key,
                f'{sender}_write_key from the key block = PRF(master secret, "key expansion", '
                "server_random + client_random) (RFC 5246 §6.3).",
            ),
        ]
        if self.suite.cipher == "CHACHA20-POLY1305":
            nonce, body = xor_nonce(reader.iv, seq), fragment
            steps += [
                Step("write IV", reader.iv, f"{sender}_write_IV: 12 bytes (RFC 7905 §2)."),
                Step("sequence number", str(seq), "records sent under this key, never sent."),
                Step("nonce", nonce, "write IV xor padded sequence number (RFC 7905 §2)."),
            ]
            aead: AESGCM | ChaCha20Poly1305 = ChaCha20Poly1305(reader.key)
        else:
            explicit, body = fragment[:8], fragment[8:]
            nonce = reader.iv + explicit
            steps += [
                Step(
                    "implicit salt",
                    reader.iv,
                    f"{sender}_write_IV: the 4-byte salt of the 12-byte GCM nonce, from the key "
                    "block, never sent (RFC 5288 §3).",
                ),
                Step(
                    "sequence number",
                    str(seq),
                    "records this side sent since its ChangeCipherSpec; goes into the additional "
                    "data (RFC 5246 §6.2.3.3).",
                ),
                Step(
                    "explicit nonce",
                    explicit,
                    "the first 8 bytes of the record: nonce_explicit, chosen by the sender "
                    "(tlslab, like OpenSSL, uses the sequence number) (RFC 5288 §3).",
                ),
                Step("nonce", nonce, "salt || nonce_explicit: the 12-byte GCM nonce."),
            ]
            aead = AESGCM(reader.key)
        ciphertext, tag = body[:-16], body[-16:]
        opened = aead.decrypt(nonce, body, aad)
        if opened != content:
            raise AssertionError("the hand-opened record differs from tlslab's record layer")
        steps += [
            Step(
                "additional data",
                aad,
                "seq_num (8) + type (1) + version (2) + length of the plaintext (2) "
                "(RFC 5246 §6.2.3.3): the sequence number is authenticated without being sent.",
            ),
            Step("ciphertext", ciphertext, f"{len(ciphertext)} bytes, as long as the plaintext."),
            Step("tag", tag, "the 16-byte GCM tag at the end of the record."),
            Step(
                "plaintext",
                content,
                f"AEAD-Decrypt(key, nonce, additional data, ciphertext || tag): {len(content)} "
                f"bytes of {ContentType(record.type).name}. Unlike TLS 1.3, the record header "
                "shows the true content type.",
            ),
        ]
        return steps

    def _cbc_steps_12(
        self,
        sender: str,
        record: TLSPlaintext,
        reader: RecordProtection12,
        seq: int,
        content: bytes,
    ) -> list[Step]:
        assert self.suite is not None
        mac_name = self.suite.mac_name or "sha1"
        mac_length = self.suite.mac_length
        record_iv, ciphertext = record.fragment[:16], record.fragment[16:]
        decryptor = Cipher(algorithms.AES(reader.key), modes.CBC(record_iv)).decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        padding_length = padded[-1]
        padding = padded[-(padding_length + 1) :]
        body = padded[: -(padding_length + 1)]
        data, mac = body[:-mac_length], body[-mac_length:]
        mac_input = (
            seq.to_bytes(8, "big")
            + bytes([record.type])
            + record.legacy_record_version.to_bytes(2, "big")
            + len(data).to_bytes(2, "big")
            + data
        )
        expected = hmac_digest(mac_name, reader.mac_key, mac_input)
        if data != content or not constant_time.bytes_eq(expected, mac):
            raise AssertionError("the hand-opened record differs from tlslab's record layer")
        return [
            Step(
                "write MAC key",
                reader.mac_key,
                f"{sender}_write_MAC_key, the first bytes of the key block (RFC 5246 §6.3): "
                f"HMAC-{mac_name.upper()} needs a {mac_length}-byte key.",
            ),
            Step("write key", reader.key, f"{sender}_write_key: the AES key (RFC 5246 §6.3)."),
            Step(
                "explicit IV",
                record_iv,
                "the first 16 bytes of the record: a fresh random IV per record, sent in the clear "
                "(RFC 5246 §6.2.3.2; TLS 1.0 chained IVs and BEAST exploited that).",
            ),
            Step(
                "ciphertext",
                ciphertext,
                f"{len(ciphertext)} bytes = {len(ciphertext) // 16} AES blocks: CBC needs whole "
                "blocks, hence padding.",
            ),
            Step(
                "decrypted",
                padded,
                "AES-CBC-Decrypt(key, explicit IV, ciphertext) = content || MAC || padding || "
                "padding_length (RFC 5246 §6.2.3.2): MAC-then-encrypt, the MAC is inside.",
            ),
            Step(
                "padding",
                padding,
                f"the last byte says {padding_length}: {padding_length} padding bytes each equal "
                f"to {padding_length}, then that length byte. The receiver must check every one "
                "and must not reveal, by alert or by timing, whether padding or MAC failed: that "
                "difference is a padding oracle (Vaudenay 2002; Lucky Thirteen 2013 by timing; "
                "POODLE 2014 against SSL 3.0, which never checked the padding bytes).",
            ),
            Step(
                "MAC",
                mac,
                f"HMAC-{mac_name.upper()}(MAC key, seq_num || type || version || length || "
                f"content), {mac_length} bytes, read from just before the padding.",
            ),
            Step(
                "MAC input",
                mac_input,
                f"sequence number {seq} (8 bytes, never sent) || type {record.type} || version "
                f"0x{record.legacy_record_version:04x} || length {len(data)} || content.",
            ),
            Step(
                "MAC check",
                "MAC matches" if constant_time.bytes_eq(expected, mac) else "MAC differs",
                "recomputed with the receiver's copy of the MAC key and compared in constant "
                "time: the plaintext is accepted only now.",
            ),
            Step(
                "plaintext",
                content,
                f"{len(content)} bytes of {ContentType(record.type).name}.",
            ),
        ]


def _protected_wire(
    record: TLSPlaintext, parts: list[tuple[str, int, str]], version: int = ProtocolVersion.TLS13
) -> Explanation:
    """The wire form of a protected record: its header, then the named parts of the fragment."""
    raw = record.encode()
    section = "RFC 8446 §5.2" if version == ProtocolVersion.TLS13 else "RFC 5246 §6.2.3"
    notes = [
        Note(0, len(raw), 0, "record[0]", "", f"TLSCiphertext ({section})"),
        Note(
            0,
            1,
            1,
            "type",
            str(record.type),
            f"0x{record.type:02x} {ContentType(record.type).name}",
        ),
        Note(
            1,
            2,
            1,
            "legacy_record_version",
            str(record.legacy_record_version),
            f"0x{record.legacy_record_version:04x}",
        ),
        Note(3, 2, 1, "length", str(len(record.fragment)), str(len(record.fragment))),
    ]
    offset = 5
    for name, length, meaning in parts:
        notes.append(Note(offset, length, 1, name, "", meaning))
        offset += length
    return Explanation(raw, tuple(notes), ())


# -- decrypted sessions (captures) ----------------------------------------------------------------
class DecryptedSessionLike(Protocol):
    """What :func:`illustrate_session` needs: the shape of :class:`tlslab.engine.decrypt.DecryptedSession`."""

    version: int
    suite: SuiteInfo
    handshake: list[tuple[str, bytes]]
    client_data: bytes
    server_data: bytes
    alerts: list[tuple[str, bytes]]


def illustrate_session(
    session: DecryptedSessionLike | CapturedConnection,
    *,
    title: str = "A decrypted capture",
    keylog: KeyLog | None = None,
) -> IllustratedConnection:
    """Illustrate a capture.

    A :class:`~tlslab.net.capture.CapturedConnection` (notebook 15) is shown record by record in
    wire order, exactly as :func:`illustrate` shows tlslab's own connections: every record's full
    hex and fields, the TLS 1.3 compatibility ChangeCipherSpec records included, and every
    protected record opened step by step with the connection's secrets (its own ``keylog``, or
    ``keylog`` given here). A record that cannot be opened (no secrets, a cipher tlslab lacks,
    a record cut by a capture gap) stays in the list, closed, with a note saying why.

    Any other :class:`~tlslab.engine.decrypt.DecryptedSession`-like object has no wire order:
    it is shown message by message (the handshake messages, the application data and the alerts
    it recovered)."""
    if isinstance(session, CapturedConnection):
        return _illustrate_capture(session, title, keylog)
    items: list[tuple[str, int, bytes]] = [
        (who, ContentType.handshake, m) for who, m in session.handshake
    ]
    items += [(who, ContentType.alert, a) for who, a in session.alerts]
    for who, data in (("client", session.client_data), ("server", session.server_data)):
        if data:
            items.append((who, ContentType.application_data, data))
    records: list[IllustratedRecord] = []
    for index, (who, content_type, data) in enumerate(items):
        exp = _explain_content(content_type, data, session.version)
        names = _content_names(content_type, exp)
        story = " ".join(_MESSAGE_STORY.get(n, "") for n in names).strip()
        records.append(IllustratedRecord(index, who, data, ", ".join(names), story, exp))
    keylog = getattr(session, "keylog", None)
    return IllustratedConnection(
        title,
        session.version,
        session.suite,
        records,
        keylog if isinstance(keylog, KeyLog) else KeyLog(),
    )


_OPEN_FAILURES = (TLSError, KeyError, ValueError, AssertionError, InvalidTag)


def _illustrate_capture(
    conn: CapturedConnection, title: str, keylog: KeyLog | None
) -> IllustratedConnection:
    """One IllustratedRecord per captured record, in wire order (see :func:`illustrate_session`)."""
    log = keylog if keylog is not None else (conn.keylog or KeyLog())
    walker = _Walker(log, need_keys=False)
    closed: dict[str, str] = {}  # why a direction's records can no longer be opened
    records: list[IllustratedRecord] = []
    for captured in conn.records:
        index, sender, record = len(records), captured.direction, captured.record
        protected = captured.keys != "plaintext"
        reason = closed.get(sender)
        if reason is None and protected and walker.readers[sender] is None:
            reason = _why_closed(conn, walker)
        if reason is None:
            try:
                records.append(walker.record(index, sender, record))
                continue
            except _OPEN_FAILURES as error:
                reason = f"tlslab could not open it here ({type(error).__name__}: {error})"
                if protected:
                    closed[sender] = (
                        "an earlier record from this side could not be opened, so its sequence "
                        "number and keys are no longer known"
                    )
        records.append(_closed_record(index, captured, walker.version or conn.version, reason))
    flights = tuple((r.direction, r.wire) for r in conn.records)
    return IllustratedConnection(
        title,
        walker.version if walker.version is not None else conn.version,
        walker.suite if walker.suite is not None else conn.suite,
        records,
        log,
        flights,
        intro="; ".join(conn.notes),
    )


def _why_closed(conn: CapturedConnection, walker: _Walker) -> str:
    if walker.suite is None:
        return "the capture holds no ServerHello before it, so the cipher suite is unknown"
    if walker.client_random not in walker.keylog:
        return (
            "the key log has no secrets for this connection's client random "
            "(was SSLKEYLOGFILE set before the browser started?)"
        )
    return "its keys are not known at this point of the connection"


def _closed_record(
    index: int, captured: CapturedRecord, version: int | None, reason: str
) -> IllustratedRecord:
    """A record shown with its wire fields but not opened by hand, and why."""
    record = captured.record
    if captured.keys == "plaintext":
        exp = explain(captured.wire, version=version)
    else:
        exp = _protected_wire(
            record,
            [("encrypted_record", len(record.fragment), "protected fragment, not opened here")],
            version or ProtocolVersion.TLS13,
        )
    plaintext = None
    story = f"Not opened step by step: {reason}."
    if captured.keys not in (None, "plaintext") and captured.content_type is not None:
        plaintext = _explain_content(captured.content_type, captured.content or b"", version)
        story += f" The capture reader opened it with {captured.keys}; its content is below."
    return IllustratedRecord(
        index, captured.direction, captured.wire, captured.describe(), story, exp, (), plaintext
    )


# -- content explanations ---------------------------------------------------------------------------
def _explain_content(content_type: int, content: bytes, version: int | None) -> Explanation:
    """Explain decrypted content: handshake messages back to back, an alert, or data."""
    notes: list[Note] = []
    messages: list[object] = []
    if content_type == ContentType.handshake:
        offset = 0
        while offset + 4 <= len(content):
            size = 4 + int.from_bytes(content[offset + 1 : offset + 4], "big")
            try:
                one = explain(content[offset : offset + size], version=version, strict=True)
            except TLSError:  # e.g. a browser's compressed_certificate (RFC 8879): shown raw
                one = explain(content[offset : offset + size], version=version)
            notes += [
                Note(n.offset + offset, n.length, n.depth, n.field, n.value, n.meaning)
                for n in one.rows
            ]
            messages += one.messages
            offset += size
        if offset != len(content):
            notes.append(
                Note(offset, len(content) - offset, 0, "handshake fragment", "", "continues")
            )
    elif content_type == ContentType.alert and len(content) == 2:
        level, description = content
        messages.append(("alert", description))
        notes.append(Note(0, 1, 0, "Alert.level", str(level), _enum_name(AlertLevel, level)))
        notes.append(
            Note(
                1,
                1,
                0,
                "Alert.description",
                str(description),
                _enum_name(AlertDescription, description),
            )
        )
    else:
        messages.append(("data", content))
        shown = content.decode("utf-8", "replace")
        notes.append(
            Note(
                0,
                len(content),
                0,
                "application_data",
                shown if len(shown) <= 40 else "",
                repr(shown),
            )
        )
    return Explanation(content, tuple(notes), tuple(messages))


def _enum_name(enum: Any, value: int) -> str:
    try:
        return str(enum(value).name)
    except ValueError:
        return f"unknown ({value})"


def _message_name(message: object) -> str:
    if isinstance(message, tuple):
        if message[0] == "alert":
            return f"Alert {_enum_name(AlertDescription, message[1])}"
        return "application data"
    if hasattr(message, "description") and hasattr(message, "level"):
        return f"Alert {_enum_name(AlertDescription, message.description)}"
    name = type(message).__name__
    if isinstance(message, ServerHello) and message.is_hello_retry_request:
        return "HelloRetryRequest"
    return rfc_message_name(name)


def _content_names(content_type: int, exp: Explanation) -> list[str]:
    return [_message_name(m) for m in exp.messages] or [ContentType(content_type).name]


_SECRET_STORY = {
    "HANDSHAKE_TRAFFIC_SECRET": 'Derive-Secret(handshake secret, "c hs traffic" or "s hs traffic", '
    "ClientHello..ServerHello) (RFC 8446 §7.1): it protects the rest of the handshake, so the "
    "certificate is never in the clear.",
    "TRAFFIC_SECRET_0": 'Derive-Secret(master secret, "c ap traffic" or "s ap traffic", '
    "ClientHello..server Finished) (RFC 8446 §7.1): the first application traffic secret, used "
    "after this side's Finished.",
}

_MESSAGE_STORY = {
    "ClientHello": "The client's opening offer, in the clear: its random, the versions, cipher "
    "suites, groups and signature schemes it supports, the server name it wants, and (TLS 1.3) "
    "a key share guessed for the server's favourite group (RFC 8446 §4.1.2).",
    "ServerHello": "The server's choices, in the clear: version, cipher suite, its random and "
    "(TLS 1.3) its own key share. After this both sides can compute the (EC)DHE shared secret "
    "(RFC 8446 §4.1.3, RFC 5246 §7.4.1.3).",
    "HelloRetryRequest": "A ServerHello with a special random: the client must send a second "
    "ClientHello with a key share for the group named here (RFC 8446 §4.1.4).",
    "EncryptedExtensions": "The server's answers to extensions that do not shape the key "
    "exchange (ALPN, server_name acknowledgement), already encrypted (RFC 8446 §4.3.1).",
    "Certificate": "The server's certificate chain, leaf first (RFC 8446 §4.4.2, RFC 5246 "
    "§7.4.2). In TLS 1.3 it travels encrypted, in TLS 1.2 in the clear.",
    "CertificateVerify": "A signature with the certificate's private key over the transcript "
    "hash so far: it proves the server holds the key, for this very handshake (RFC 8446 §4.4.3).",
    "Finished": "HMAC of the transcript under a key from the handshake secrets: any change to "
    "any earlier handshake byte makes it fail (RFC 8446 §4.4.4, RFC 5246 §7.4.9).",
    "NewSessionTicket": "A ticket the client may present later to resume without a full "
    "handshake (RFC 8446 §4.6.1), sent under the application key.",
    "ServerKeyExchange": "The server's ephemeral ECDHE public key and curve, signed with the "
    "certificate's key over both randoms, so it cannot be swapped (RFC 5246 §7.4.3, RFC 8422 §5.4).",
    "ServerHelloDone": "The end of the server's first TLS 1.2 flight (RFC 5246 §7.4.5).",
    "ClientKeyExchange": "The client's ephemeral public key. With the server's, it gives the "
    "pre-master secret, then the master secret (RFC 5246 §7.4.7, §8.1).",
    "application data": "Application bytes (here an HTTP request or response), readable only with "
    "the application traffic keys.",
    "Alert close_notify": "close_notify: the sender will send nothing more. It lets the receiver "
    "tell a complete message from a connection cut by an attacker (RFC 8446 §6.1).",
}


def _ccs_story(version: int | None, sender: str) -> str:
    if version == ProtocolVersion.TLS13:
        return (
            "A dummy ChangeCipherSpec (the single byte 0x01): meaningless in TLS 1.3, sent only so "
            "middleboxes that expect TLS 1.2 let the connection through (RFC 8446 §D.4). It is "
            "never encrypted and not part of the transcript."
        )
    return (
        f"ChangeCipherSpec: from the next record on, everything the {sender} sends is protected "
        "with the keys from the key block (RFC 5246 §7.1). Not a handshake message, so not in "
        "the transcript."
    )


# -- field prose --------------------------------------------------------------------------------
_FIELD_PROSE: list[tuple[str, str]] = [
    (r"^record\[\]$", "One TLS record: a 5-byte header, then the fragment (RFC 8446 §5.1)."),
    (
        r"^type$",
        "Content type of the record: 22 handshake, 23 application_data, 21 alert, 20 change_cipher_spec. In TLS 1.3 a protected record always says 23; the true type is inside.",
    ),
    (
        r"^legacy_record_version$",
        "Record-layer version: 0x0303 (TLS 1.2) in almost every record, even in TLS 1.3, because middleboxes reject anything else (RFC 8446 §5.1). A first ClientHello may say 0x0301 for the same reason.",
    ),
    (
        r"^fragment$",
        "The record's payload (for handshake records: handshake messages, which may span records).",
    ),
    (
        r"^msg_type$",
        "Handshake message type (RFC 8446 §4): 1 ClientHello, 2 ServerHello, 4 NewSessionTicket, 8 EncryptedExtensions, 11 Certificate, 12 ServerKeyExchange, 14 ServerHelloDone, 15 CertificateVerify, 16 ClientKeyExchange, 20 Finished.",
    ),
    (
        r"legacy_version$",
        "Version field frozen at 0x0303 (TLS 1.2): TLS 1.3 moved real version negotiation into the supported_versions extension, because servers broke on a new value here (RFC 8446 §4.1.2).",
    ),
    (
        r"^random$",
        "32 bytes from this side's random generator. Both randoms feed the key derivation, so no two connections share keys; a TLS 1.3-capable server that agrees to TLS 1.2 ends its random with the downgrade sentinel 44 4f 57 4e 47 52 44 01 ('DOWNGRD' 01) (RFC 8446 §4.1.3).",
    ),
    (
        r"legacy_session_id",
        "Legacy session ID: a length byte, then 0 to 32 bytes. A TLS 1.3 client sends 32 random bytes here (middlebox compatibility mode, RFC 8446 §D.4) and the server echoes them; a TLS 1.2 client may leave it empty.",
    ),
    (
        r"^cipher_suites",
        "Cipher suites the client accepts, best first, 2 bytes each: TLS 1.3 suites name only the AEAD and hash; TLS 1.2 suites also name key exchange and authentication.",
    ),
    (r"^cipher_suite$", "The one suite the server picked from the client's list."),
    (
        r"legacy_compression_method",
        "Compression: only 0 (null). TLS-level compression enabled the CRIME attack and TLS 1.3 forbids anything else (RFC 8446 §4.1.2).",
    ),
    (
        r"server_name|(?i:hostname)|name_type",
        "Server Name Indication: which host the client wants, so one IP address can serve many sites (RFC 6066 §3). Sent in the clear.",
    ),
    (
        r"supported_groups|named_group",
        "Key-exchange groups the client supports, best first (RFC 8446 §4.2.7).",
    ),
    (
        r"signature_algorithms|supported_signature_algorithms",
        "Signature schemes the client accepts in CertificateVerify / ServerKeyExchange (RFC 8446 §4.2.3).",
    ),
    (
        r"supported_versions|selected_version|^versions",
        "The real version negotiation (RFC 8446 §4.2.1): the client lists versions, the server answers with the one it picked.",
    ),
    (
        r"psk_key_exchange_modes|ke_modes",
        "Resumption modes the client allows: psk_dhe_ke means a resumed handshake still does a fresh (EC)DHE, keeping forward secrecy (RFC 8446 §4.2.9).",
    ),
    (
        r"key_share|client_shares|^group$",
        "Key shares: a group and an ephemeral public key for it (RFC 8446 §4.2.8). The client guesses the server's group to save a round trip.",
    ),
    (
        r"key_exchange|^public|ecdh_Yc",
        "An ephemeral (EC)DH public key. Each side combines its own private key with the other's public key: both get the same shared secret, which never crosses the wire (notebook 04).",
    ),
    (
        r"extended_master_secret",
        "RFC 7627: the master secret hashes the whole handshake, which defeats the triple-handshake attack.",
    ),
    (
        r"renegotiation_info|renegotiated_connection",
        "Secure renegotiation indication (RFC 5746), empty on a first handshake.",
    ),
    (r"ec_point_format", "Point formats for TLS 1.2 ECDHE: uncompressed only (RFC 8422 §5.1.2)."),
    (r"session_ticket", "TLS 1.2 session tickets (RFC 5077): empty means 'I accept a ticket'."),
    (r"^extension_type$", "Which extension (IANA TLS ExtensionType registry)."),
    (r"^extension_data length$", "Length of this extension's body."),
    (
        r"^extensions",
        "Extensions: type (2 bytes), length (2 bytes), body each. Nearly every feature added since 2003 lives here (RFC 8446 §4.2).",
    ),
    (
        r"certificate_request_context",
        "Empty in the server's Certificate; lets a client certificate answer a specific request (RFC 8446 §4.4.2).",
    ),
    (
        r"certificate_list|cert_data|ASN\.1Cert|CertificateEntry|^certificate",
        "A DER-encoded X.509 certificate (notebook 03): the leaf first, then the intermediates; the root is not sent, the client already has it.",
    ),
    (r"curve_type|namedcurve", "ECDHE parameters: a named curve (RFC 8422 §5.4)."),
    (r"^algorithm$", "The signature scheme of the signature that follows."),
    (r"signature", "The signature bytes (ECDSA: a DER SEQUENCE of two integers r and s)."),
    (
        r"verify_data",
        "The Finished value: HMAC over the transcript hash (TLS 1.3, as long as the hash) or PRF(master secret, label, hash) cut to 12 bytes (TLS 1.2).",
    ),
    (r"ticket_lifetime", "How many seconds the client may keep the ticket (at most 7 days)."),
    (
        r"ticket_age_add",
        "A random number the client adds to the ticket's age, so an observer cannot link the resumption to this connection (RFC 8446 §4.6.1).",
    ),
    (r"ticket_nonce", "A per-ticket value mixed into the resumption PSK."),
    (r"^ticket", "The ticket itself: opaque to the client, only the server can read it."),
    (
        r"Alert\.level",
        "1 warning, 2 fatal. TLS 1.3 treats every alert as fatal except close_notify and user_canceled (RFC 8446 §6).",
    ),
    (r"Alert\.description", "Which alert (RFC 8446 §6)."),
    (r"ChangeCipherSpec", "The single byte 0x01."),
    (r"encrypted_record|^ciphertext$", "Ciphertext: opened step by step below."),
    (
        r"^tag$",
        "Authentication tag: a single changed bit anywhere in header, ciphertext or tag and the record is rejected.",
    ),
    (r"^nonce_explicit$", "The 8 sent bytes of the GCM nonce (RFC 5288 §3)."),
    (r"^IV$", "The explicit CBC IV of this record (RFC 5246 §6.2.3.2)."),
    (r"application_data", "The application's bytes."),
]


def field_prose(name: str, length: int | None = None) -> str:
    """The prose explanation of a field (by the field name explain() gives it), or "".

    ``length`` tells apart the two fields explain() calls "length": the 2-byte record length
    and the 3-byte handshake message length."""
    if name == "length":
        if length == 3:
            return "Length of the handshake message body (3 bytes): a message may span several records."
        return "Length of the fragment that follows: at most 2^14 bytes of plaintext, a little more when protected."
    bare = re.sub(r"\[\d+\]", "[]", name)
    for pattern, text in _FIELD_PROSE:
        if re.search(pattern, bare):
            return text
    return ""


def _full_text(exp: Explanation) -> str:
    """explain()'s text form with every byte shown (the table cuts values at 16 bytes)."""
    lines = []
    for row in exp.rows:
        raw = exp.raw(row)
        name = "  " * row.depth + row.field
        meaning = row.meaning or (row.value if len(row.value) <= 40 else "")
        lines.append(f"{row.offset:>6} {row.length:>5}  {name}  {meaning}".rstrip())
        if row.value or not row.field.endswith("]"):
            for start in range(0, len(raw), 32):
                lines.append(" " * 14 + "  " * row.depth + raw[start : start + 32].hex(" "))
    if exp.error:
        lines.append(f"!! {exp.error}")
    return "\n".join(lines)


# -- HTML ----------------------------------------------------------------------------------------
_PLAIN_BASE = 1000  # field numbers of the plaintext explanation start here


def _record_fields(record: IllustratedRecord) -> set[int]:
    """The field numbers a record uses (plaintext fields are numbered from 1000)."""
    numbers = set(range(len(record.explanation.rows)))
    if record.plaintext is not None:
        numbers |= set(range(_PLAIN_BASE, _PLAIN_BASE + len(record.plaintext.rows)))
    return numbers


def _hover_style(numbers: set[int]) -> str:
    """CSS-only hover linking: hovering bytes (class th<i>) lights up row tr<i> and the other way
    round; a row also lights the bytes of its sub-fields (class ti<i>). Uses :has(), so it works
    in JupyterLab, in a static HTML export and in any current browser, without scripts."""
    if not numbers:
        return ""
    rules = ",".join(
        f".tlsill-rec:has(.th{i}:hover) :is(.th{i},.tr{i}),"
        f".tlsill-rec:has(.tr{i}:hover) :is(.th{i},.ti{i},.tr{i})"
        for i in sorted(numbers)
    )
    return "<style>" + rules + "{background:#ffe38a;outline:1px solid #d9a400}</style>"


_STYLE = (
    "<style>"
    ".tlsill{font-family:system-ui,sans-serif;font-size:13px;color:#222}"
    ".tlsill-rec{border:1px solid #ccd;border-radius:6px;margin:10px 0;padding:8px 10px}"
    ".tlsill-rec.client{border-left:6px solid #4e79a7}.tlsill-rec.server{border-left:6px solid #e15759}"
    ".tlsill-rec h4{margin:2px 0 6px 0;font-size:14px}"
    ".tlsill-hex{font-family:ui-monospace,monospace;font-size:12px;line-height:1.6;"
    "word-break:break-all;background:#f6f7f9;padding:6px;border-radius:4px}"
    ".tlsill-hex span{cursor:default;border-radius:2px}"
    # ".tlsill .tlsill-tab td" outranks JupyterLab's ".jp-RenderedHTMLCommon td" (right-aligned)
    ".tlsill .tlsill-tab{border-collapse:collapse;width:100%;margin-top:6px;table-layout:auto}"
    ".tlsill .tlsill-tab td,.tlsill .tlsill-tab th{border-top:1px solid #eee;padding:2px 6px;"
    "vertical-align:top;text-align:left;max-width:none}"
    ".tlsill .tlsill-tab td.n{font-family:ui-monospace,monospace;white-space:nowrap}"
    ".tlsill .tlsill-tab td.m{font-family:ui-monospace,monospace;max-width:30em;"
    "overflow-wrap:anywhere}"
    ".tlsill .tlsill-tab td.tlsill-step{font-family:ui-monospace,monospace;word-break:break-all}"
    ".tlsill-story{margin:4px 0 6px 0}"
    ".tlsill details{margin-top:6px}.tlsill summary{cursor:pointer;font-weight:600}"
    ".tlsill-alt0{color:#1d4f91}.tlsill-alt1{color:#8a3b12}" + "</style>"
)


def _explanation_html(exp: Explanation, base: int) -> str:
    """Full hex with one span per leaf field, and the table of fields; ``base`` keeps class
    names unique when a record shows two explanations (wire form and plaintext)."""
    rows = list(exp.rows)
    leaves: list[int] = []
    for i, row in enumerate(rows):
        covered_by_child = any(
            j != i
            and other.depth > row.depth
            and row.offset <= other.offset
            and other.offset + other.length <= row.offset + row.length
            and other.length > 0
            for j, other in enumerate(rows)
        )
        if row.length > 0 and not covered_by_child:
            leaves.append(i)
    owner: list[int | None] = [None] * len(exp.data)
    for i in leaves:
        row = rows[i]
        for b in range(row.offset, min(row.offset + row.length, len(exp.data))):
            owner[b] = i
    pieces = []
    b = 0
    while b < len(exp.data):
        who = owner[b]
        end = b
        while end < len(exp.data) and owner[end] == who:
            end += 1
        text = exp.data[b:end].hex(" ")
        if who is None:
            pieces.append(f"<span>{text}</span>")
        else:
            row = rows[who]
            ancestors = [
                f"ti{base + j}"
                for j, other in enumerate(rows)
                if other.offset <= row.offset
                and row.offset + row.length <= other.offset + other.length
                and other.depth < row.depth
            ]
            classes = " ".join(
                [f"th{base + who}", f"tlsill-alt{leaves.index(who) % 2}"] + ancestors
            )
            title = html.escape(row.field, quote=True)
            pieces.append(f"<span class='{classes}' title='{title}'>{text}</span>")
        b = end
    table = []
    shown = ""
    for i, row in enumerate(rows):
        meaning = row.meaning or (row.value if len(row.value) <= 40 else "")
        prose = field_prose(row.field, row.length)
        prose, shown = ("" if prose == shown else prose), (prose or shown)
        table.append(
            f"<tr class='tr{base + i}'><td style='text-align:right'>{row.offset}</td>"
            f"<td style='text-align:right'>{row.length}</td>"
            f"<td class='n' style='padding-left:{0.4 + row.depth}em'>{html.escape(row.field)}</td>"
            f"<td class='m'>{html.escape(meaning)}</td><td>{html.escape(prose)}</td></tr>"
        )
    return (
        f"<div class='tlsill-hex'>{' '.join(pieces)}</div>"
        "<table class='tlsill-tab'><tr><th>offset</th><th>len</th><th>field</th><th>value</th>"
        "<th>what it is, why it is there</th></tr>" + "".join(table) + "</table>"
    )


def _record_html(record: IllustratedRecord) -> str:
    arrow = "client &rarr; server" if record.sender == "client" else "server &rarr; client"
    parts = [
        f"<div class='tlsill-rec {record.sender}'>",
        f"<h4>Record {record.index}: {html.escape(record.title)} <small>({arrow}, "
        f"{len(record.raw)} bytes)</small></h4>",
        f"<div class='tlsill-story'>{html.escape(record.story)}</div>",
        _explanation_html(record.explanation, 0),
    ]
    if record.steps:
        steps = "".join(
            f"<tr><td class='n'>{html.escape(s.name)}</td>"
            f"<td class='tlsill-step'>{html.escape(s.value.hex(' ') if isinstance(s.value, bytes) else s.value)}</td>"
            f"<td>{html.escape(s.note)}</td></tr>"
            for s in record.steps
        )
        parts.append(
            "<details open><summary>Opening the record, step by step</summary>"
            f"<table class='tlsill-tab'>{steps}</table></details>"
        )
    if record.plaintext is not None:
        parts.append(
            "<details open><summary>The plaintext inside</summary>"
            + _explanation_html(record.plaintext, _PLAIN_BASE)
            + "</details>"
        )
    parts.append("</div>")
    return "".join(parts)


# -- pcap ----------------------------------------------------------------------------------------
def tcp_pcap(
    flights: Iterable[tuple[str, bytes]],
    *,
    client_port: int = 50000,
    server_port: int = 443,
    start_time: int = 1_700_000_000,
) -> bytes:
    """A pcap (LINKTYPE_ETHERNET) of one TCP connection over 127.0.0.1 carrying ``flights``:
    SYN, SYN-ACK, ACK, then each flight in segments of at most 1400 bytes, each answered by an
    ACK, then FIN/ACK both ways. Deterministic timestamps (one millisecond per packet)."""
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    seq = {"client": 1000, "server": 5000}
    ports = {"client": (client_port, server_port), "server": (server_port, client_port)}
    clock = [0]

    def packet(sender: str, flags: int, payload: bytes = b"") -> None:
        other = "server" if sender == "client" else "client"
        src, dst = ports[sender]
        tcp = struct.pack(
            "!HHIIBBHHH", src, dst, seq[sender], seq[other], 5 << 4, flags, 65535, 0, 0
        )
        ip_len = 20 + len(tcp) + len(payload)
        ip = struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            ip_len,
            0,
            0x4000,
            64,
            6,
            0,
            bytes([127, 0, 0, 1]),
            bytes([127, 0, 0, 1]),
        )
        checksum = _ip_checksum(ip)
        ip = ip[:10] + checksum.to_bytes(2, "big") + ip[12:]
        frame = bytes(6) + bytes(6) + b"\x08\x00" + ip + tcp + payload
        clock[0] += 1
        seconds, micros = start_time + clock[0] // 1000, (clock[0] % 1000) * 1000
        out.extend(struct.pack("<IIII", seconds, micros, len(frame), len(frame)))
        out.extend(frame)

    syn, ack, psh, fin = 0x02, 0x10, 0x08, 0x01
    packet("client", syn)
    seq["client"] += 1
    packet("server", syn | ack)
    seq["server"] += 1
    packet("client", ack)
    for sender, data in flights:
        receiver = "server" if sender == "client" else "client"
        for start in range(0, len(data), 1400):
            chunk = data[start : start + 1400]
            packet(sender, psh | ack, chunk)
            seq[sender] += len(chunk)
        packet(receiver, ack)
    for sender in ("client", "server"):
        packet(sender, fin | ack)
        seq[sender] += 1
    packet("client", ack)
    return bytes(out)


def _ip_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack("!10H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
