"""Attacks and failures, as labs (notebook 09). Everything here is deliberately broken on purpose.

- :func:`downgrade_attack` / :func:`strip_cipher_suites`: a man in the middle edits the ClientHello;
  the downgrade sentinel or the Finished check catches it.
- :class:`PaddingOracle` and :func:`bleichenbacher`: Bleichenbacher's 1998 attack on RSA PKCS#1 v1.5
  key transport, against a *deliberately vulnerable toy* decryptor that says whether a ciphertext's
  plaintext starts with 00 02. Real servers must not leak that (RFC 5246 §7.4.7.1's countermeasure,
  which ``keyexchange.decrypt_pre_master_secret`` implements). The toy key is 512 bits so the attack
  runs in a classroom in seconds; the arithmetic is the textbook one, for learning only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ..errors import TLSError
from ..rng import Rng
from ..wire.extensions import Extension, SupportedVersionsClient
from ..wire.messages import ClientHello


# -- man in the middle helpers -------------------------------------------------------------------
def rewrite_client_hello(records: bytes, edit: Callable[[ClientHello], ClientHello]) -> bytes:
    """What an attacker on the path does: decode the ClientHello record, change it, re-encode it."""
    from ..wire.messages import decode_handshake
    from ..wire.record import RecordReader, fragment

    record = RecordReader().feed(records)[0]
    hello = decode_handshake(record.fragment)
    assert isinstance(hello, ClientHello)
    changed = edit(hello).encode()
    return b"".join(
        r.encode()
        for r in fragment(22, changed, legacy_record_version=record.legacy_record_version)
    )


def remove_tls13(hello: ClientHello) -> ClientHello:
    """The downgrade: drop TLS 1.3 from supported_versions (keep only TLS 1.2)."""
    kept: list[Extension] = []
    for ext in hello.extensions:
        if isinstance(ext, SupportedVersionsClient):
            continue
        kept.append(ext)
    return hello.replace(extensions=tuple(kept))


def keep_only_suites(*suites: int) -> Callable[[ClientHello], ClientHello]:
    """Cipher-suite stripping: the attacker deletes every suite but ``suites``."""

    def edit(hello: ClientHello) -> ClientHello:
        return hello.replace(cipher_suites=tuple(s for s in hello.cipher_suites if s in suites))

    return edit


# -- Bleichenbacher's padding oracle -------------------------------------------------------------
@cache
def toy_rsa_key() -> rsa.RSAPrivateKey:
    """A 512-bit RSA key shipped with tlslab: far too small for real use, right for a classroom."""
    pem = resources.files("tlslab.vectors").joinpath("toy_rsa_512.pem").read_bytes()
    key = load_pem_private_key(pem, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


class PaddingOracle:
    """A DELIBERATELY VULNERABLE decryptor: answers whether ``c^d mod n`` starts with 00 02.

    This is the mistake Bleichenbacher exploited: a server that behaves differently (a different
    alert, a different timing) when the PKCS#1 v1.5 padding is wrong. The raw modular exponentiation
    is the textbook definition of RSA, written out because the point is to show the flaw."""

    def __init__(self, key: rsa.RSAPrivateKey | None = None) -> None:
        key = key or toy_rsa_key()
        numbers = key.private_numbers()
        self.n = numbers.public_numbers.n
        self.e = numbers.public_numbers.e
        self._crt = (numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp)
        self.k = (self.n.bit_length() + 7) // 8
        self.queries = 0

    def __call__(self, ciphertext: int) -> bool:
        self.queries += 1
        p, q, dp, dq, qinv = self._crt
        m1, m2 = pow(ciphertext, dp, p), pow(ciphertext, dq, q)  # RSA decryption with the CRT
        plaintext = (m2 + (qinv * (m1 - m2) % p) * q).to_bytes(self.k, "big")
        return plaintext[0] == 0 and plaintext[1] == 2


def encrypt_pkcs1_seeded(message: bytes, public_key: rsa.RSAPublicKey, rng: Rng) -> bytes:
    """PKCS#1 v1.5 encryption (RFC 8017 §7.2.1) with the random padding drawn from ``rng``.

    ``00 02 <nonzero padding from rng> 00 <message>``, raised to e mod n: the textbook operation,
    written out so notebook 09's victim ciphertext (and so the attack's query count) is the same on
    every run. Real encryption takes its padding from the operating system (``cryptography``'s
    ``PKCS1v15``), which is what tlslab's handshake uses."""
    numbers = public_key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    if len(message) > k - 11:
        raise ValueError(f"message too long for a {8 * k}-bit key: at most {k - 11} bytes")
    padding = b""
    while len(padding) < k - 3 - len(message):
        padding += bytes(b for b in rng(k) if b != 0)
    block = b"\x00\x02" + padding[: k - 3 - len(message)] + b"\x00" + message
    return pow(int.from_bytes(block, "big"), numbers.e, numbers.n).to_bytes(k, "big")


class AttackBudgetExceeded(TLSError):
    """The attack hit its query budget before recovering the plaintext (no alert: not a protocol
    failure, a lab that stopped on purpose)."""


@dataclass
class AttackResult:
    plaintext: bytes
    queries: int
    widths: list[float] = field(default_factory=list)  # log2 of the candidate interval, per step

    def __repr__(self) -> str:
        return f"<AttackResult {self.queries} oracle queries, {len(self.widths)} steps>"


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def bleichenbacher(
    ciphertext: bytes,
    oracle: PaddingOracle,
    progress: Callable[[int, float], Any] | None = None,
    *,
    max_queries: int = 200_000,
) -> AttackResult:
    """Recover the plaintext of a PKCS#1 v1.5 ``ciphertext`` using only ``oracle`` (Bleichenbacher 1998).

    Each step multiplies the ciphertext by s^e (so the plaintext by s), asks the oracle, and every
    "yes" narrows the interval that must contain the plaintext m, until one value is left.
    ``progress(queries, log2_width)`` is called after each step (for a progress bar and the plot).
    After ``max_queries`` oracle calls it gives up with :class:`AttackBudgetExceeded`, so a lab
    cell always ends (each query is one 512-bit RSA decryption, a few microseconds)."""
    n, e, k = oracle.n, oracle.e, oracle.k
    c0 = int.from_bytes(ciphertext, "big")
    start = oracle.queries
    B = 2 ** (8 * (k - 2))
    intervals = [(2 * B, 3 * B - 1)]
    widths = [math.log2(B)]

    def conformant(s: int) -> bool:
        if oracle.queries - start >= max_queries:
            raise AttackBudgetExceeded(f"no result after {max_queries} oracle queries")
        return oracle((c0 * pow(s, e, n)) % n)

    s = _ceil_div(n, 3 * B)  # step 2a: the smallest s that can give a conformant plaintext
    while not conformant(s):
        s += 1
    while True:
        new: list[tuple[int, int]] = []  # step 3: narrow every interval with the new s
        for a, b in intervals:
            for r in range(_ceil_div(a * s - 3 * B + 1, n), (b * s - 2 * B) // n + 1):
                lo, hi = max(a, _ceil_div(2 * B + r * n, s)), min(b, (3 * B - 1 + r * n) // s)
                if lo <= hi and (lo, hi) not in new:
                    new.append((lo, hi))
        intervals = new
        width = sum(b - a + 1 for a, b in intervals)
        widths.append(math.log2(width) if width > 0 else 0.0)
        if progress is not None:
            progress(oracle.queries, widths[-1])
        if len(intervals) == 1 and intervals[0][0] == intervals[0][1]:  # step 4: one value left
            m = intervals[0][0]
            return AttackResult(m.to_bytes(k, "big"), oracle.queries, widths)
        if len(intervals) > 1:  # step 2b
            s += 1
            while not conformant(s):
                s += 1
        else:  # step 2c: search r and s together
            a, b = intervals[0]
            r = _ceil_div(2 * (b * s - 2 * B), n)
            found = False
            while not found:
                for candidate in range(_ceil_div(2 * B + r * n, b), (3 * B + r * n) // a + 1):
                    if conformant(candidate):
                        s, found = candidate, True
                        break
                r += 1


def unpad_pkcs1(padded: bytes) -> bytes:
    """The message inside a PKCS#1 v1.5 encryption block: 00 02 <nonzero padding> 00 <message>."""
    if padded[:2] != b"\x00\x02" or b"\x00" not in padded[2:]:
        raise ValueError("not a PKCS#1 v1.5 encryption block")
    return padded[padded.index(b"\x00", 2) + 1 :]
