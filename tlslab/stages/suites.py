"""What each cipher suite means: its version, key exchange, record cipher and hashes.

A TLS 1.3 suite (RFC 8446 B.4) names only the AEAD and the HKDF hash. A TLS 1.2 suite
(RFC 5246 Appendix C, RFC 5288, RFC 7905, RFC 8422) also fixes the key exchange and the
server's signature type, and its hash is the PRF hash.

Taught in notebooks 01_client_hello and 05_key_derivation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..constants import CipherSuite, ProtocolVersion, describe
from ..errors import HandshakeFailure

Cipher = Literal["AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305", "AES-128-CBC", "AES-256-CBC"]
KeyExchange = Literal["any", "ecdhe", "dhe", "rsa"]


@dataclass(frozen=True)
class SuiteInfo:
    """The parameters a cipher suite fixes."""

    suite: int
    version: int
    key_exchange: KeyExchange
    authentication: Literal["any", "rsa", "ecdsa"]
    cipher: Cipher
    key_length: int
    hash_name: Literal["sha256", "sha384"]
    mac_name: Literal["sha1", "sha256", "sha384"] | None = None

    @property
    def name(self) -> str:
        return describe(CipherSuite, self.suite).split(" ", 1)[1]

    @property
    def is_aead(self) -> bool:
        return self.mac_name is None

    @property
    def mac_length(self) -> int:
        """MAC key and tag length for CBC suites (0 for AEAD)."""
        return {"sha1": 20, "sha256": 32, "sha384": 48, None: 0}[self.mac_name]

    @property
    def fixed_iv_length(self) -> int:
        """TLS 1.2 key-block IV bytes: 4 (GCM salt), 12 (ChaCha20), 0 (CBC: explicit IV per record).

        In TLS 1.3 every AEAD's IV is 12 bytes (RFC 8446 §7.3)."""
        if self.version == ProtocolVersion.TLS13:
            return 12
        return {"AES-128-GCM": 4, "AES-256-GCM": 4, "CHACHA20-POLY1305": 12}.get(self.cipher, 0)

    @property
    def hash_length(self) -> int:
        return 48 if self.hash_name == "sha384" else 32


_S = CipherSuite
_T13 = ProtocolVersion.TLS13
_T12 = ProtocolVersion.TLS12

SUITES: dict[int, SuiteInfo] = {
    s.suite: s
    for s in (
        SuiteInfo(_S.TLS_AES_128_GCM_SHA256, _T13, "any", "any", "AES-128-GCM", 16, "sha256"),
        SuiteInfo(_S.TLS_AES_256_GCM_SHA384, _T13, "any", "any", "AES-256-GCM", 32, "sha384"),
        SuiteInfo(
            _S.TLS_CHACHA20_POLY1305_SHA256, _T13, "any", "any", "CHACHA20-POLY1305", 32, "sha256"
        ),
        # ECDHE, AEAD
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            _T12,
            "ecdhe",
            "ecdsa",
            "AES-128-GCM",
            16,
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            _T12,
            "ecdhe",
            "ecdsa",
            "AES-256-GCM",
            32,
            "sha384",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            _T12,
            "ecdhe",
            "rsa",
            "AES-128-GCM",
            16,
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            _T12,
            "ecdhe",
            "rsa",
            "AES-256-GCM",
            32,
            "sha384",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            _T12,
            "ecdhe",
            "ecdsa",
            "CHACHA20-POLY1305",
            32,
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            _T12,
            "ecdhe",
            "rsa",
            "CHACHA20-POLY1305",
            32,
            "sha256",
        ),
        # DHE, AEAD
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, _T12, "dhe", "rsa", "AES-128-GCM", 16, "sha256"
        ),
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_AES_256_GCM_SHA384, _T12, "dhe", "rsa", "AES-256-GCM", 32, "sha384"
        ),
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            _T12,
            "dhe",
            "rsa",
            "CHACHA20-POLY1305",
            32,
            "sha256",
        ),
        # RSA key transport, AEAD
        SuiteInfo(
            _S.TLS_RSA_WITH_AES_128_GCM_SHA256, _T12, "rsa", "rsa", "AES-128-GCM", 16, "sha256"
        ),
        SuiteInfo(
            _S.TLS_RSA_WITH_AES_256_GCM_SHA384, _T12, "rsa", "rsa", "AES-256-GCM", 32, "sha384"
        ),
        # CBC + HMAC (MAC-then-encrypt, or encrypt-then-MAC with RFC 7366)
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
            _T12,
            "ecdhe",
            "ecdsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha1",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
            _T12,
            "ecdhe",
            "ecdsa",
            "AES-256-CBC",
            32,
            "sha256",
            "sha1",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
            _T12,
            "ecdhe",
            "rsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha1",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
            _T12,
            "ecdhe",
            "rsa",
            "AES-256-CBC",
            32,
            "sha256",
            "sha1",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
            _T12,
            "ecdhe",
            "ecdsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
            _T12,
            "ecdhe",
            "ecdsa",
            "AES-256-CBC",
            32,
            "sha384",
            "sha384",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
            _T12,
            "ecdhe",
            "rsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
            _T12,
            "ecdhe",
            "rsa",
            "AES-256-CBC",
            32,
            "sha384",
            "sha384",
        ),
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_AES_128_CBC_SHA,
            _T12,
            "dhe",
            "rsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha1",
        ),
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_AES_256_CBC_SHA,
            _T12,
            "dhe",
            "rsa",
            "AES-256-CBC",
            32,
            "sha256",
            "sha1",
        ),
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_AES_128_CBC_SHA256,
            _T12,
            "dhe",
            "rsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,
            _T12,
            "dhe",
            "rsa",
            "AES-256-CBC",
            32,
            "sha256",
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_RSA_WITH_AES_128_CBC_SHA, _T12, "rsa", "rsa", "AES-128-CBC", 16, "sha256", "sha1"
        ),
        SuiteInfo(
            _S.TLS_RSA_WITH_AES_256_CBC_SHA, _T12, "rsa", "rsa", "AES-256-CBC", 32, "sha256", "sha1"
        ),
        SuiteInfo(
            _S.TLS_RSA_WITH_AES_128_CBC_SHA256,
            _T12,
            "rsa",
            "rsa",
            "AES-128-CBC",
            16,
            "sha256",
            "sha256",
        ),
        SuiteInfo(
            _S.TLS_RSA_WITH_AES_256_CBC_SHA256,
            _T12,
            "rsa",
            "rsa",
            "AES-256-CBC",
            32,
            "sha256",
            "sha256",
        ),
    )
}


def suite_info(suite: int) -> SuiteInfo:
    """The parameters of ``suite``; an unsupported suite is handshake_failure."""
    try:
        return SUITES[suite]
    except KeyError:
        raise HandshakeFailure(
            "cipher suite not supported by tlslab", seen=describe(CipherSuite, suite)
        ) from None
