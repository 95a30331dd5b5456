"""Finished: computing verify_data and checking the peer's, in constant time.

- TLS 1.3 (RFC 8446 §4.4.4): verify_data = HMAC(finished_key, Transcript-Hash(...)),
  finished_key derived from the sender's *handshake* traffic secret.
- TLS 1.2 (RFC 5246 §7.4.9): verify_data = PRF(master_secret, finished_label,
  Hash(handshake_messages))[0..11].

A mismatch raises :class:`~tlslab.errors.DecryptError` (alert decrypt_error); the
comparison never stops at the first differing byte. Taught in notebook 06_finished.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import constant_time

from ..errors import DecryptError
from .keyschedule import verify_data_12, verify_data_13

__all__ = ["check_verify_data", "verify_data_12", "verify_data_13"]


def check_verify_data(expected: bytes, received: bytes, *, who: str = "peer") -> None:
    """Raise DecryptError unless ``received`` equals ``expected`` (constant-time compare)."""
    if not constant_time.bytes_eq(expected, received):
        raise DecryptError(
            f"{who} Finished.verify_data does not match the transcript: the handshake was altered "
            "or the two sides derived different keys",
            expected=expected,
            seen=received,
        )
