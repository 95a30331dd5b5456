"""Send tlslab a forbidden thing and watch it refuse: the notebooks' hostile-peer helpers.

Every RFC MUST that a peer can break has a negative test in ``tests/test_engine_conformance.py``.
The notebooks show a few of them live, with these helpers and nothing else: a client and a
server wired together in memory (:func:`lab_pair`), the raw records between them
(:func:`split_records`, :func:`hello_record`), a record correctly protected under a connection's
current read keys, which is what a misbehaving peer that holds the keys would send
(:func:`sealed_for`), and :func:`deliver`, which feeds bytes to a connection and returns a
:class:`Refusal` when it aborts: the alert it sent, why, whether a ServerHello ever left, and
that nothing reached the application.

Taught in notebooks 02 (hello checks), 06 (Finished), 07 (records) and 08 (the engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from ..constants import AlertDescription, ContentType, ProtocolVersion
from ..engine.client import ClientConfig, TLSClient
from ..engine.connection import ApplicationData
from ..engine.server import ServerIdentity, TLSServer
from ..errors import AlertError
from ..pki.certificates import LAB_NOW, Chain, build_chain
from ..rng import seeded_rng
from ..stages.hello import CLASSICAL_GROUPS
from ..stages.negotiation import ServerConfig
from ..stages.protection import RecordProtection12, RecordProtection13
from ..wire.messages import HandshakeMessage
from ..wire.record import TLSPlaintext


@cache
def lab_chain(key_type: str = "ecdsa-p256") -> Chain:
    """The seeded certificate chain for ``lab.example`` the refusal demonstrations use."""
    return build_chain("lab.example", key_type=key_type, seed="refusals")


@cache
def lab_client_chain() -> Chain:
    """A seeded client certificate chain (``clientAuth``) for client-authentication demos."""
    return build_chain(
        "client.lab.example",
        seed="refusals client",
        leaf_options={"extended_key_usage": ["clientAuth"]},
    )


def lab_pair(
    client: dict[str, Any] | None = None,
    server: dict[str, Any] | None = None,
    *,
    seed: str = "refusals",
    key_type: str = "ecdsa-p256",
) -> tuple[TLSClient, TLSServer]:
    """A tlslab client and server for ``lab.example``, seeded and at the lab's fixed time, with
    classical groups (so every byte repeats run to run). ``client`` and ``server`` change
    :class:`ClientConfig` and :class:`ServerConfig` fields; ``client={"client_certificate":
    True}`` gives the client the lab's client certificate."""
    chain = lab_chain(key_type)
    changes = dict(client or {})
    if changes.pop("client_certificate", False):
        own = lab_client_chain()
        changes.update(certificate_chain=tuple(own.served()), private_key=own.leaf.private_key)
    config = ClientConfig(
        server_name="lab.example",
        trust_roots=tuple(chain.trust_roots),
        now=LAB_NOW,
        groups=CLASSICAL_GROUPS,
    ).replace(**changes)
    server_config = dict(server or {})
    if server_config.get("client_auth"):
        server_config.setdefault("client_trust_roots", tuple(lab_client_chain().trust_roots))
    if key_type == "rsa":
        server_config.setdefault("certificate_key", "rsa")
    return (
        TLSClient(config, seeded_rng(f"{seed} client")),
        TLSServer(
            ServerConfig(**server_config),
            ServerIdentity.from_chain(chain),
            seeded_rng(f"{seed} server"),
        ),
    )


def split_records(data: bytes) -> list[bytes]:
    """Cut a byte stream into whole records (5-byte header + body each)."""
    out, at = [], 0
    while at + 5 <= len(data):
        length = int.from_bytes(data[at + 3 : at + 5], "big")
        out.append(data[at : at + 5 + length])
        at += 5 + length
    return out


def hello_record(hello: HandshakeMessage) -> bytes:
    """A handshake message (a ClientHello, usually) in one plaintext record, as a client sends it."""
    return TLSPlaintext(ContentType.handshake, hello.encode(), ProtocolVersion.TLS10).encode()


def sealed_for(connection: Any, content_type: int, payload: bytes) -> bytes:
    """A record that ``connection`` will open as ``payload``: protected under its current read
    keys and next sequence number (plaintext if it reads plaintext). It is what a peer holding the
    keys, a buggy or malicious server, would send: the record layer is satisfied, so the check
    that follows is the one under study."""
    reader = connection.records.reader
    if reader is None or content_type == ContentType.change_cipher_spec:
        return TLSPlaintext(content_type, payload, ProtocolVersion.TLS12).encode()
    if isinstance(reader, RecordProtection13):
        twin13 = RecordProtection13(reader.suite, reader.keys)
        twin13.seq = reader.seq
        return twin13.seal(content_type, payload).encode()
    twin12 = RecordProtection12(
        reader.suite,
        reader.key,
        reader.iv,
        reader.mac_key,
        encrypt_then_mac=reader.encrypt_then_mac,
    )
    twin12.seq = reader.seq
    return twin12.seal(content_type, payload).encode()


def deliver_until(connection: Any, data: bytes, state: Any) -> bytes:
    """Feed ``data`` one record at a time until ``connection`` reaches ``state``; return the
    records not delivered."""
    pieces = split_records(data)
    for i, record in enumerate(pieces):
        if connection.state == state:
            return b"".join(pieces[i:])
        connection.receive_data(record)
    return b""


@dataclass(frozen=True)
class Refusal:
    """How a connection refused what it was sent: who refused, the alert (RFC 8446 §6.2,
    RFC 5246 §7.2.2), the reason tlslab gives, the bytes it queued for the peer, and what did
    not happen (no ServerHello, no data delivered, the connection closed)."""

    who: str
    alert: int
    reason: str
    sent: bytes
    server_hello_sent: bool
    delivered: tuple[bytes, ...]
    closed: bool

    @property
    def alert_name(self) -> str:
        return AlertDescription(self.alert).name

    def __repr__(self) -> str:
        kinds = [ContentType(r[0]).name for r in split_records(self.sent)]
        plain = self.sent[:1] == bytes([ContentType.alert]) and len(self.sent) == 7
        wire = self.sent.hex(" ") if plain else f"{len(self.sent)} bytes ({', '.join(kinds)})"
        lines = [
            f"{self.who} refused: {self.alert_name} ({self.alert})",
            f"  why: {self.reason}",
            f"  it sent back: {wire}",
        ]
        if self.who == "server":
            lines.append(f"  ServerHello sent: {'yes' if self.server_hello_sent else 'no'}")
        delivered = ", ".join(repr(d) for d in self.delivered) or "nothing"
        lines.append(f"  connection closed: {self.closed}; application data delivered: {delivered}")
        return "\n".join(lines)


def deliver(connection: Any, data: bytes) -> Refusal | list[Any]:
    """Feed ``data`` to ``connection``. If it aborts with an alert, return the :class:`Refusal`;
    otherwise the events it produced (so a cell shows both outcomes)."""
    try:
        events = connection.receive_data(data)
    except AlertError as error:
        sent = connection.data_to_send()
        hello_sent = any(
            e.direction == "sent" and e.name == "ServerHello" for e in connection.trace.messages()
        )
        delivered = tuple(
            e.data for e in getattr(error, "events", ()) if isinstance(e, ApplicationData)
        )
        return Refusal(
            who=connection.role,
            alert=int(error.description),
            reason=error.message if error.message else str(error),
            sent=sent,
            server_hello_sent=hello_sent,
            delivered=delivered,
            closed=bool(connection.closed),
        )
    return list(events)


__all__ = [
    "Refusal",
    "deliver",
    "deliver_until",
    "hello_record",
    "lab_chain",
    "lab_pair",
    "split_records",
    "sealed_for",
]
