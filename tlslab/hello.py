"""Building the ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).

:func:`build_client_hello` is the client's first stage: every choice the client
makes (versions, cipher suites, groups, signature schemes, ALPN, key shares) is a
keyword argument with the default a modern client would send, and every random
byte comes from ``rng``.

Taught in notebook 01_client_hello.
"""

from __future__ import annotations

from collections.abc import Sequence

from .constants import (
    CipherSuite,
    ECPointFormat,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
)
from .extensions import (
    ApplicationLayerProtocolNegotiation,
    ECPointFormats,
    ExtendedMasterSecret,
    Extension,
    KeyShareClientHello,
    KeyShareEntry,
    PskKeyExchangeModes,
    RenegotiationInfo,
    ServerName,
    SessionTicket,
    SignatureAlgorithms,
    SupportedGroups,
    SupportedVersionsClient,
)
from .keyexchange import KeyShare, generate_key_share
from .messages import ClientHello
from .rng import Rng, system_rng

DEFAULT_VERSIONS = (ProtocolVersion.TLS13, ProtocolVersion.TLS12)
DEFAULT_CIPHER_SUITES = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
)
DEFAULT_GROUPS = (NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1)
DEFAULT_SIGNATURE_SCHEMES = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.ed25519,
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
)


def build_client_hello(
    server_name: str | None = None,
    *,
    versions: Sequence[int] = DEFAULT_VERSIONS,
    cipher_suites: Sequence[int] = DEFAULT_CIPHER_SUITES,
    groups: Sequence[int] = DEFAULT_GROUPS,
    signature_schemes: Sequence[int] = DEFAULT_SIGNATURE_SCHEMES,
    alpn: Sequence[str | bytes] = (),
    key_shares: Sequence[KeyShare] | None = None,
    key_share_groups: Sequence[int] | None = None,
    rng: Rng = system_rng,
    random: bytes | None = None,
    session_id: bytes | None = None,
    extended_master_secret: bool = True,
    extra_extensions: Sequence[Extension] = (),
) -> ClientHello:
    """Build a ClientHello as a real client would (RFC 8446 §4.1.2).

    - ``versions``: offered in ``supported_versions`` when TLS 1.3 is among them;
      ``legacy_version`` is always TLS 1.2 (0x0303), as RFC 8446 §4.1.2 requires.
    - ``key_shares``: :class:`~tlslab.keyexchange.KeyShare` objects whose public
      halves are sent (keep them: their private halves finish the exchange). If
      None, fresh ones are drawn from ``rng`` for ``key_share_groups`` (default:
      the first group).
    - ``session_id``: for TLS 1.3, 32 random bytes by default (the "middlebox
      compatibility mode" of RFC 8446 Appendix D.4); empty for a TLS 1.2-only hello.
    - ``random``: 32 bytes from ``rng`` unless given.
    """
    offers_13 = ProtocolVersion.TLS13 in versions
    offers_12 = any(v <= ProtocolVersion.TLS12 for v in versions)
    if random is None:
        random = rng(32)
    if session_id is None:
        session_id = rng(32) if offers_13 else b""

    extensions: list[Extension] = []
    if server_name:
        extensions.append(ServerName((server_name,)))
    if offers_12:
        extensions.append(ECPointFormats((ECPointFormat.uncompressed,)))
    if groups:
        extensions.append(SupportedGroups(tuple(groups)))
    if offers_12:
        extensions.append(SessionTicket())
    if alpn:
        names = tuple(a.encode() if isinstance(a, str) else a for a in alpn)
        extensions.append(ApplicationLayerProtocolNegotiation(names))
    if offers_12 and extended_master_secret:
        extensions.append(ExtendedMasterSecret())
    if offers_12:
        extensions.append(RenegotiationInfo())
    extensions.append(SignatureAlgorithms(tuple(signature_schemes)))
    if offers_13:
        extensions.append(SupportedVersionsClient(tuple(versions)))
        extensions.append(PskKeyExchangeModes((PskKeyExchangeMode.psk_dhe_ke,)))
        if key_shares is None:
            wanted = key_share_groups if key_share_groups is not None else tuple(groups[:1])
            key_shares = [generate_key_share(g, rng) for g in wanted]
        entries = tuple(KeyShareEntry(k.group, k.public) for k in key_shares)
        extensions.append(KeyShareClientHello(entries))
    extensions.extend(extra_extensions)

    return ClientHello(
        random=random,
        cipher_suites=tuple(cipher_suites),
        extensions=tuple(extensions),
        legacy_version=ProtocolVersion.TLS12,
        legacy_session_id=session_id,
    )
