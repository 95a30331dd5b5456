"""The transcript hash (RFC 8446 §4.4.1; RFC 5246 §7.4.9 "handshake_messages").

Both versions hash the concatenation of the handshake messages (headers included,
record framing excluded). TLS 1.3 adds one rule: after a HelloRetryRequest,
ClientHello1 is replaced by a synthetic ``message_hash`` message holding its hash::

    Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
        Hash(message_hash ||        /* Handshake type */
             00 00 Hash.length  ||  /* Handshake message length (bytes) */
             Hash(ClientHello1) ||  /* Hash of ClientHello1 */
             HelloRetryRequest  || ... || Mn)

Taught in notebook 06_finished.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

from ..constants import HandshakeType
from .keyschedule import digest, hash_algorithm


def message_hash(client_hello1: bytes, hash_name: str = "sha256") -> bytes:
    """The synthetic handshake message that stands for ClientHello1 after an HRR."""
    h = digest(hash_name, client_hello1)
    return bytes([HandshakeType.message_hash, 0, 0, len(h)]) + h


class Transcript:
    """A running transcript hash. ``update`` with whole handshake messages; ``hash()`` any time."""

    def __init__(self, hash_name: str = "sha256") -> None:
        self.hash_name = hash_name
        self._hash = hashes.Hash(hash_algorithm(hash_name))
        self.messages: list[bytes] = []

    def update(self, message: bytes) -> None:
        self._hash.update(message)
        self.messages.append(message)

    def hash(self) -> bytes:
        """Transcript-Hash of every message so far (the running state is kept)."""
        return self._hash.copy().finalize()

    def restart_after_hello_retry_request(self) -> None:
        """Apply the HRR rule: replace ClientHello1 (the only message so far) by message_hash."""
        if len(self.messages) != 1:
            raise ValueError("the HRR rule applies when the transcript holds exactly ClientHello1")
        client_hello1 = self.messages[0]
        self._hash = hashes.Hash(hash_algorithm(self.hash_name))
        self.messages = []
        self.update(message_hash(client_hello1, self.hash_name))

    def __repr__(self) -> str:
        return f"Transcript({self.hash_name}, {len(self.messages)} messages, hash={self.hash().hex()[:16]}...)"


def transcript_hash(messages: list[bytes], hash_name: str = "sha256") -> bytes:
    """Transcript-Hash(M1, ..., Mn) = Hash(M1 || ... || Mn), without the HRR rule."""
    return digest(hash_name, b"".join(messages))
