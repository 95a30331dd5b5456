"""Decrypting a recorded session with nothing but its bytes and a key log.

This is what Wireshark does with an SSLKEYLOGFILE, written as tlslab stage calls:
read the plaintext hellos, find the session's secrets in the key log by the client
random, derive the traffic keys (``keyschedule``), open every record
(``protection``), and finally recompute both Finished messages from the decrypted
transcript (``finished``) as proof that every byte was read correctly.

Taught in notebook 07_record_protection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..constants import ContentType, ExtensionType, HandshakeType, ProtocolVersion
from ..errors import DecodeError, TLSError, UnexpectedMessage
from ..stages.finished import check_verify_data
from ..stages.keyexchange import decrypt_pre_master_secret
from ..stages.keylog import KeyLog
from ..stages.keyschedule import (
    KeyBlock,
    digest,
    extended_master_secret,
    key_block,
    master_secret,
    traffic_keys,
    verify_data_12,
    verify_data_13,
)
from ..stages.protection import RecordProtection12, RecordProtection13
from ..stages.suites import SuiteInfo, suite_info
from ..stages.transcript import message_hash
from ..wire.extensions import SupportedVersionsServer
from ..wire.messages import (
    ClientHello,
    ClientKeyExchangeRSA,
    Finished,
    ServerHello,
    decode_handshake,
)
from ..wire.record import HandshakeReassembler, RecordReader, TLSPlaintext


@dataclass(frozen=True)
class OpenedRecord:
    """One record as it crossed the wire, and what it carried once opened.

    ``keys`` names what opened it: ``"plaintext"`` (not protected), a TLS 1.3 key-log
    label (``"SERVER_HANDSHAKE_TRAFFIC_SECRET"``, ...; RFC 8446 §7.3) or
    ``"CLIENT_RANDOM"`` (the TLS 1.2 key block from the master secret, RFC 5246 §6.3).
    ``content_type`` is the real type: for TLS 1.3 the inner type hidden inside the
    encryption (RFC 8446 §5.2), not the ``application_data`` on the wire.
    """

    direction: str
    record: TLSPlaintext
    content_type: int
    content: bytes
    keys: str = "plaintext"


@dataclass
class DecryptedSession:
    """Everything recovered from a capture: messages in transcript order, data, and checks.

    ``records`` lists every record read, per direction in wire order, with its content
    (:class:`OpenedRecord`). ``error`` is set only by ``decrypt_session(..., partial=True)``
    when the session could be followed only up to that problem.
    """

    version: int
    suite: SuiteInfo
    client_random: bytes
    handshake: list[tuple[str, bytes]] = field(default_factory=list)
    client_data: bytes = b""
    server_data: bytes = b""
    alerts: list[tuple[str, bytes]] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    records: list[OpenedRecord] = field(default_factory=list)
    error: str | None = None

    def messages(self) -> list[tuple[str, str]]:
        """(direction, message name) in order, e.g. ("server", "ServerHello")."""
        return [
            (who, type(decode_handshake(m, version=self.version)).__name__)
            for who, m in self.handshake
        ]

    def __repr__(self) -> str:
        return (
            f"DecryptedSession({ProtocolVersion(self.version).name} {self.suite.name}, "
            f"{len(self.handshake)} handshake messages, client sent {len(self.client_data)} bytes, "
            f"server sent {len(self.server_data)} bytes, checks: {'; '.join(self.checks)})"
        )


class _Direction:
    """One direction of the capture: records in, plaintext handshake messages and data out."""

    def __init__(self, name: str, stream: bytes, opened: list[OpenedRecord] | None = None) -> None:
        self.name = name
        self.records = list(RecordReader().feed(stream))
        self.position = 0
        self.reassembler = HandshakeReassembler()
        self.pending: list[bytes] = []
        self.opened: list[OpenedRecord] = [] if opened is None else opened
        self.data = bytearray()  # application data, joined in place (not quadratic like bytes +=)

    def keep(self, record: TLSPlaintext, content_type: int, content: bytes, keys: str) -> None:
        """Remember what a record held (``DecryptedSession.records``)."""
        self.opened.append(OpenedRecord(self.name, record, content_type, content, keys))

    def next_record(self) -> TLSPlaintext | None:
        if self.position >= len(self.records):
            return None
        self.position += 1
        return self.records[self.position - 1]

    def next_plain_message(self) -> bytes:
        while not self.pending:
            record = self.next_record()
            if record is None:
                raise DecodeError(f"{self.name} stream ended before the expected handshake message")
            if record.type in (ContentType.change_cipher_spec, ContentType.handshake):
                self.keep(record, record.type, record.fragment, "plaintext")
            if record.type == ContentType.change_cipher_spec:
                continue
            if record.type != ContentType.handshake:
                raise UnexpectedMessage(
                    f"{self.name}: expected a plaintext handshake record", seen=record.type
                )
            self.pending.extend(self.reassembler.feed(record.fragment))
        return self.pending.pop(0)


def decrypt_session(
    client_to_server: bytes,
    server_to_client: bytes,
    keylog: str | KeyLog,
    *,
    partial: bool = False,
) -> DecryptedSession:
    """Decrypt a full TLS 1.2 or 1.3 session captured in both directions, using only the key log.

    With ``partial=True`` (how ``tlslab.net.capture`` reads a capture with a lost segment or
    a key log without this session), a problem after the two hellos stops the walk instead
    of raising: the session holds what was read up to there, and ``error`` says why it stopped.
    """
    log = keylog if isinstance(keylog, KeyLog) else KeyLog.parse(keylog)
    opened: list[OpenedRecord] = []
    client = _Direction("client", client_to_server, opened)
    server = _Direction("server", server_to_client, opened)
    ch_bytes = client.next_plain_message()
    sh_bytes = server.next_plain_message()
    ch, sh = decode_handshake(ch_bytes), decode_handshake(sh_bytes)
    if not isinstance(ch, ClientHello) or not isinstance(sh, ServerHello):
        raise UnexpectedMessage("a capture must start with ClientHello and ServerHello")
    retry: list[tuple[str, bytes]] = []
    if sh.is_hello_retry_request:
        # RFC 8446 §4.1.4: ClientHello1, HelloRetryRequest, then the second ClientHello and
        # the real ServerHello (the compatibility ChangeCipherSpec between is skipped); the
        # client random stays the same, so the key log line is the one for ClientHello1.
        retry = [("client", ch_bytes), ("server", sh_bytes)]
        ch_bytes, sh_bytes = client.next_plain_message(), server.next_plain_message()
        ch, sh = decode_handshake(ch_bytes), decode_handshake(sh_bytes)
        if not isinstance(ch, ClientHello) or not isinstance(sh, ServerHello):
            raise UnexpectedMessage(
                "a HelloRetryRequest must be followed by ClientHello and ServerHello"
            )
        if sh.is_hello_retry_request:
            raise UnexpectedMessage("a second HelloRetryRequest (RFC 8446 §4.1.4)")
    selected = sh.extension(ExtensionType.supported_versions)
    version = (
        int(selected.selected_version)
        if isinstance(selected, SupportedVersionsServer)
        else int(sh.legacy_version)
    )
    session = DecryptedSession(version, suite_info(sh.cipher_suite), ch.random, records=opened)
    session.handshake += retry + [("client", ch_bytes), ("server", sh_bytes)]
    try:
        secrets = log[ch.random]
        if version == ProtocolVersion.TLS13:
            _decrypt_13(session, client, server, secrets)
        else:
            etm = sh.extension(ExtensionType.encrypt_then_mac) is not None
            # RFC 5246 §7.4.1.3: a ServerHello that echoes a non-empty session_id resumes
            resumed = (
                bool(ch.legacy_session_id) and sh.legacy_session_id_echo == ch.legacy_session_id
            )
            _decrypt_12(session, client, server, secrets["CLIENT_RANDOM"], sh.random, etm, resumed)
    except (TLSError, KeyError) as error:
        if not partial:
            raise
        session.error = str(error).strip("'\"")
    session.client_data, session.server_data = bytes(client.data), bytes(server.data)
    return session


def _read_protected_13(
    direction: _Direction,
    protection: RecordProtection13,
    session: DecryptedSession,
    stop_at_finished: bool,
    label: str = "",
) -> RecordProtection13 | None:
    """Open records until this side's Finished (handshake keys) or the end (application keys)."""
    while True:
        record = direction.next_record()
        if record is None:
            return None
        if record.type == ContentType.change_cipher_spec:
            direction.keep(record, record.type, record.fragment, "plaintext")
            continue
        content_type, content = protection.open(record)
        direction.keep(record, content_type, content, label)
        if content_type == ContentType.handshake:
            for message in direction.reassembler.feed(content):
                session.handshake.append((direction.name, message))
                if stop_at_finished and message[0] == HandshakeType.finished:
                    return protection
        elif content_type == ContentType.application_data:
            direction.data += content
        elif content_type == ContentType.alert:
            session.alerts.append((direction.name, content))


def _decrypt_13(
    session: DecryptedSession, client: _Direction, server: _Direction, secrets: dict[str, bytes]
) -> None:
    suite, hash_name = session.suite, session.suite.hash_name

    def protector(label: str) -> RecordProtection13:
        return RecordProtection13(suite, traffic_keys(secrets[label], suite))

    # RFC 8446 order: the server's flight ends with its Finished, then the client's Finished.
    for side, direction in (("server", server), ("client", client)):
        label = f"{side.upper()}_HANDSHAKE_TRAFFIC_SECRET"
        if _read_protected_13(direction, protector(label), session, True, label) is None:
            raise DecodeError(f"{side} stream ended before its Finished")
        messages = [m for _, m in session.handshake]
        if _is_hello_retry_request(messages[1]):  # RFC 8446 §4.4.1: ClientHello1 -> message_hash
            messages[0] = message_hash(messages[0], hash_name)
        finished = decode_handshake(messages[-1])
        assert isinstance(finished, Finished)
        transcript = digest(hash_name, b"".join(messages[:-1]))
        check_verify_data(
            verify_data_13(secrets[label], transcript, hash_name), finished.verify_data, who=side
        )
        session.checks.append(f"{side} Finished verified")

    for side, direction in (("server", server), ("client", client)):
        label = f"{side.upper()}_TRAFFIC_SECRET_0"
        _read_protected_13(
            direction, protector(label), session, stop_at_finished=False, label=label
        )


def _is_hello_retry_request(message: bytes) -> bool:
    sh = decode_handshake(message)
    return isinstance(sh, ServerHello) and sh.is_hello_retry_request


def _decrypt_12(
    session: DecryptedSession,
    client: _Direction,
    server: _Direction,
    master: bytes,
    server_random: bytes,
    etm: bool,
    resumed: bool = False,
) -> None:
    """A TLS 1.2 session: full (RFC 5246 §7.3), or abbreviated when ``resumed`` (RFC 5077
    §3.1): then the server's [NewSessionTicket,] ChangeCipherSpec and Finished come first."""
    suite, hash_name = session.suite, session.suite.hash_name
    block: KeyBlock = key_block(master, session.client_random, server_random, suite)
    client_prot = RecordProtection12(
        suite,
        block.client_write_key,
        block.client_write_IV,
        block.client_write_MAC_key,
        encrypt_then_mac=etm,
    )
    server_prot = RecordProtection12(
        suite,
        block.server_write_key,
        block.server_write_IV,
        block.server_write_MAC_key,
        encrypt_then_mac=etm,
    )
    # server's first flight, plaintext, up to ServerHelloDone (none when resuming)
    while not resumed:
        message = server.next_plain_message()
        session.handshake.append(("server", message))
        if message[0] == HandshakeType.server_hello_done:
            break
    # each side's plaintext messages up to its ChangeCipherSpec, then its encrypted Finished
    order = [(server, server_prot), (client, client_prot)]
    for direction, prot in order if resumed else order[::-1]:
        finished = _flight_then_finished_12(direction, prot, session)
        messages = [m for _, m in session.handshake]
        label = f"{direction.name} finished"
        transcript_hash = digest(hash_name, b"".join(messages[:-1]))
        expected = verify_data_12(master, label, transcript_hash, hash_name)
        check_verify_data(expected, finished.verify_data, who=direction.name)
        session.checks.append(f"{direction.name} Finished verified")
    for direction, prot in ((client, client_prot), (server, server_prot)):
        while (record := direction.next_record()) is not None:
            content = prot.open(record)
            direction.keep(record, record.type, content, "CLIENT_RANDOM")
            if record.type == ContentType.application_data:
                direction.data += content
            elif record.type == ContentType.alert:
                session.alerts.append((direction.name, content))


def _flight_then_finished_12(
    direction: _Direction, prot: RecordProtection12, session: DecryptedSession
) -> Finished:
    """Plaintext handshake messages until ChangeCipherSpec, then the encrypted Finished."""
    while True:
        record = direction.next_record()
        if record is None:
            raise DecodeError(f"{direction.name} stream ended before its Finished")
        if record.type in (ContentType.change_cipher_spec, ContentType.handshake):
            direction.keep(record, record.type, record.fragment, "plaintext")
        if record.type == ContentType.change_cipher_spec:
            break
        if record.type != ContentType.handshake:
            raise UnexpectedMessage(
                f"{direction.name}: expected handshake before ChangeCipherSpec", seen=record.type
            )
        for message in direction.reassembler.feed(record.fragment):
            session.handshake.append((direction.name, message))
    while True:
        record = direction.next_record()
        if record is None:
            raise DecodeError(f"{direction.name} stream ended before its Finished")
        content = prot.open(record)
        direction.keep(record, record.type, content, "CLIENT_RANDOM")
        for message in direction.reassembler.feed(content):
            session.handshake.append((direction.name, message))
            finished = decode_handshake(message)
            if isinstance(finished, Finished):
                return finished


def recover_rsa_master_secret(
    client_to_server: bytes, server_to_client: bytes, server_private_key: Any
) -> KeyLog:
    """The missing forward secrecy of RSA key transport, as a function.

    Given a recorded TLS 1.2 session that used RSA key transport and the server's private key
    (stolen, subpoenaed or leaked, perhaps years later), decrypt the ClientKeyExchange to get the
    pre-master secret and rebuild the (extended) master secret: a key log for the session.
    With ECDHE there is no such ciphertext: the shared secret never crossed the wire.
    """
    client, server = _Direction("client", client_to_server), _Direction("server", server_to_client)
    ch_bytes, sh_bytes = client.next_plain_message(), server.next_plain_message()
    ch, sh = decode_handshake(ch_bytes), decode_handshake(sh_bytes)
    if not isinstance(ch, ClientHello) or not isinstance(sh, ServerHello):
        raise UnexpectedMessage("a capture must start with ClientHello and ServerHello")
    suite = suite_info(sh.cipher_suite)
    if suite.key_exchange != "rsa":
        raise UnexpectedMessage(
            f"{suite.name} uses {suite.key_exchange.upper()}: its shared secret was never sent, "
            "so the server's private key cannot recover it (forward secrecy)"
        )
    transcript = [ch_bytes, sh_bytes]
    while (message := server.next_plain_message())[0] != HandshakeType.server_hello_done:
        transcript.append(message)
    transcript.append(message)
    cke_bytes = client.next_plain_message()
    transcript.append(cke_bytes)
    cke = decode_handshake(cke_bytes, version=ProtocolVersion.TLS12, key_exchange="rsa")
    assert isinstance(cke, ClientKeyExchangeRSA)
    pre_master = decrypt_pre_master_secret(
        cke.encrypted_pre_master_secret, server_private_key, ch.legacy_version
    )
    if sh.extension(ExtensionType.extended_master_secret) is not None:
        session_hash = digest(suite.hash_name, b"".join(transcript))
        master = extended_master_secret(pre_master, session_hash, suite.hash_name)
    else:
        master = master_secret(pre_master, ch.random, sh.random, suite.hash_name)
    log = KeyLog()
    log.add("CLIENT_RANDOM", ch.random, master)
    return log
