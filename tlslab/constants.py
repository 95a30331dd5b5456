"""Code points of TLS, named as in the RFCs.

Every registry is an ``IntEnum`` whose member names are the RFC's names
(RFC 8446 §4 and Appendix B.3, RFC 5246 §7.4 and Appendix A, and the IANA
TLS registries). Values that are not in an enum (GREASE, extensions newer than
tlslab) stay plain ``int`` everywhere: :func:`lookup` turns a number into the
enum member when one exists and returns the number unchanged otherwise, so
unknown code points survive decode and encode untouched.

Taught in notebook 01_client_hello.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

E = TypeVar("E", bound=IntEnum)


def lookup(enum: type[E], value: int) -> E | int:
    """Return ``enum(value)`` when ``value`` is a known code point, else ``value``."""
    return members(enum).get(value, value)


def describe(enum: type[IntEnum], value: int, width: int = 4) -> str:
    """``0x1301 TLS_AES_128_GCM_SHA256``; unknown values say so (and spot GREASE)."""
    hexval = f"0x{value:0{width}x}"
    member = members(enum).get(value)
    if member is not None:
        return f"{hexval} {member.name}"
    if is_grease(value):
        return f"{hexval} GREASE (RFC 8701, a value the peer must ignore)"
    return f"{hexval} unknown {enum.__name__}"


_MEMBERS: dict[type[IntEnum], dict[int, IntEnum]] = {}


def members(enum: type[E]) -> dict[int, E]:
    """``{value: member}`` of an enum, built once: a dict lookup, where ``enum(value)`` would
    raise and catch ValueError for every unknown code point a peer sends."""
    table = _MEMBERS.get(enum)
    if table is None:
        table = _MEMBERS[enum] = {int(m): m for m in enum.__members__.values()}
    return table  # type: ignore[return-value]


def is_grease(value: int) -> bool:
    """RFC 8701 GREASE values: 0x0a0a, 0x1a1a, ... 0xfafa."""
    return (value & 0x0F0F) == 0x0A0A and (value >> 8) == (value & 0xFF)


class ContentType(IntEnum):
    """RFC 8446 §5.1 / RFC 5246 §6.2.1."""

    invalid = 0
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24


class ProtocolVersion(IntEnum):
    """RFC 8446 §4.2.1 (``supported_versions``) and the legacy version field."""

    SSL30 = 0x0300
    TLS10 = 0x0301
    TLS11 = 0x0302
    TLS12 = 0x0303
    TLS13 = 0x0304


class HandshakeType(IntEnum):
    """RFC 8446 §4 and RFC 5246 §7.4."""

    hello_request = 0
    client_hello = 1
    server_hello = 2
    hello_verify_request = 3
    new_session_ticket = 4
    end_of_early_data = 5
    hello_retry_request = 6  # never on the wire in TLS 1.3: an HRR is a ServerHello
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    certificate_url = 21
    certificate_status = 22
    key_update = 24
    message_hash = 254


class ExtensionType(IntEnum):
    """IANA TLS ExtensionType Values (RFC 8446 §4.2 and others)."""

    server_name = 0
    max_fragment_length = 1
    status_request = 5
    supported_groups = 10
    ec_point_formats = 11
    signature_algorithms = 13
    use_srtp = 14
    heartbeat = 15
    application_layer_protocol_negotiation = 16
    signed_certificate_timestamp = 18
    client_certificate_type = 19
    server_certificate_type = 20
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    compress_certificate = 27
    record_size_limit = 28
    session_ticket = 35
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    renegotiation_info = 0xFF01


class CipherSuite(IntEnum):
    """IANA TLS Cipher Suites: the TLS 1.3 suites (RFC 8446 B.4) and common TLS 1.2 ones."""

    # TLS 1.3
    TLS_AES_128_GCM_SHA256 = 0x1301
    TLS_AES_256_GCM_SHA384 = 0x1302
    TLS_CHACHA20_POLY1305_SHA256 = 0x1303
    TLS_AES_128_CCM_SHA256 = 0x1304
    TLS_AES_128_CCM_8_SHA256 = 0x1305
    # TLS 1.2, RSA key transport
    TLS_RSA_WITH_AES_128_CBC_SHA = 0x002F
    TLS_RSA_WITH_AES_256_CBC_SHA = 0x0035
    TLS_RSA_WITH_AES_128_CBC_SHA256 = 0x003C
    TLS_RSA_WITH_AES_256_CBC_SHA256 = 0x003D
    TLS_RSA_WITH_AES_128_GCM_SHA256 = 0x009C
    TLS_RSA_WITH_AES_256_GCM_SHA384 = 0x009D
    # TLS 1.2, finite-field Diffie-Hellman
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA = 0x0033
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA = 0x0039
    TLS_DHE_RSA_WITH_AES_128_CBC_SHA256 = 0x0067
    TLS_DHE_RSA_WITH_AES_256_CBC_SHA256 = 0x006B
    TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 = 0x009E
    TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 = 0x009F
    TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAA
    # TLS 1.2, elliptic-curve Diffie-Hellman
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA = 0xC009
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA = 0xC00A
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA = 0xC013
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA = 0xC014
    TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256 = 0xC023
    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384 = 0xC024
    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 = 0xC027
    TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 = 0xC028
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 = 0xC02B
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 = 0xC02C
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 = 0xC02F
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 = 0xC030
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA8
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 = 0xCCA9
    # Signalling cipher suite values
    TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF
    TLS_FALLBACK_SCSV = 0x5600


class NamedGroup(IntEnum):
    """RFC 8446 §4.2.7, RFC 7919, and the post-quantum groups IANA registered for
    draft-ietf-tls-ecdhe-mlkem (hybrids) and draft-ietf-tls-mlkem (pure ML-KEM)."""

    secp256r1 = 0x0017
    secp384r1 = 0x0018
    secp521r1 = 0x0019
    x25519 = 0x001D
    x448 = 0x001E
    ffdhe2048 = 0x0100
    ffdhe3072 = 0x0101
    ffdhe4096 = 0x0102
    ffdhe6144 = 0x0103
    ffdhe8192 = 0x0104
    MLKEM512 = 0x0200
    MLKEM768 = 0x0201
    MLKEM1024 = 0x0202
    SecP256r1MLKEM768 = 0x11EB
    X25519MLKEM768 = 0x11EC
    SecP384r1MLKEM1024 = 0x11ED


class SignatureScheme(IntEnum):
    """RFC 8446 §4.2.3."""

    rsa_pkcs1_sha1 = 0x0201
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha256 = 0x0401
    rsa_pkcs1_sha384 = 0x0501
    rsa_pkcs1_sha512 = 0x0601
    ecdsa_secp256r1_sha256 = 0x0403
    ecdsa_secp384r1_sha384 = 0x0503
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    # draft-ietf-tls-mldsa: pure ML-DSA (FIPS 204), TLS 1.3 only
    mldsa44 = 0x0904
    mldsa65 = 0x0905
    mldsa87 = 0x0906
    # TLS 1.2 legacy (hash, signature) pairs seen in the wild (RFC 5246 §7.4.1.4.1)
    dsa_sha256 = 0x0402
    dsa_sha384 = 0x0502
    dsa_sha512 = 0x0602
    rsa_pkcs1_sha224 = 0x0301
    ecdsa_sha224 = 0x0303
    dsa_sha224 = 0x0302
    dsa_sha1 = 0x0202


class AlertLevel(IntEnum):
    """RFC 8446 §6."""

    warning = 1
    fatal = 2


class AlertDescription(IntEnum):
    """RFC 8446 §6 and RFC 5246 §7.2."""

    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    no_application_protocol = 120


class PskKeyExchangeMode(IntEnum):
    """RFC 8446 §4.2.9."""

    psk_ke = 0
    psk_dhe_ke = 1


class ECPointFormat(IntEnum):
    """RFC 8422 §5.1.2."""

    uncompressed = 0
    ansiX962_compressed_prime = 1
    ansiX962_compressed_char2 = 2


class ECCurveType(IntEnum):
    """RFC 8422 §5.4."""

    explicit_prime = 1
    explicit_char2 = 2
    named_curve = 3


class ClientCertificateType(IntEnum):
    """RFC 5246 §7.4.4 and RFC 8422 §5.5."""

    rsa_sign = 1
    dss_sign = 2
    rsa_fixed_dh = 3
    dss_fixed_dh = 4
    ecdsa_sign = 64
    rsa_fixed_ecdh = 65
    ecdsa_fixed_ecdh = 66


class KeyUpdateRequest(IntEnum):
    """RFC 8446 §4.6.3."""

    update_not_requested = 0
    update_requested = 1


class NameType(IntEnum):
    """RFC 6066 §3."""

    host_name = 0


class CertificateStatusType(IntEnum):
    """RFC 6066 §8."""

    ocsp = 1


@dataclass(frozen=True)
class SharePart:
    """One component of a post-quantum key share: its name and its sizes in bytes in the
    client's share, the server's share and the shared secret."""

    name: str
    client: int
    server: int
    secret: int


# The layout of every post-quantum key share, in wire order (draft-ietf-tls-ecdhe-mlkem §4.1 and
# draft-ietf-tls-mlkem). The client sends an ML-KEM encapsulation key, the server answers with a
# ciphertext; the ECDH parts are ordinary X25519 / uncompressed NIST points. X25519MLKEM768 puts
# ML-KEM *first*; the two SecP*MLKEM groups put ECDH first (FIPS-approved part first).
_MLKEM768 = SharePart("ML-KEM-768", 1184, 1088, 32)
_MLKEM1024 = SharePart("ML-KEM-1024", 1568, 1568, 32)
KEM_GROUP_PARTS: dict[int, tuple[SharePart, ...]] = {
    NamedGroup.X25519MLKEM768: (_MLKEM768, SharePart("X25519", 32, 32, 32)),
    NamedGroup.SecP256r1MLKEM768: (SharePart("secp256r1", 65, 65, 32), _MLKEM768),
    NamedGroup.SecP384r1MLKEM1024: (SharePart("secp384r1", 97, 97, 48), _MLKEM1024),
    NamedGroup.MLKEM512: (SharePart("ML-KEM-512", 800, 768, 32),),
    NamedGroup.MLKEM768: (_MLKEM768,),
    NamedGroup.MLKEM1024: (_MLKEM1024,),
}
HYBRID_GROUPS = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
)
MLDSA_SCHEMES = (SignatureScheme.mldsa44, SignatureScheme.mldsa65, SignatureScheme.mldsa87)

# RFC 8446 §4.1.3: the special Random of a HelloRetryRequest (SHA-256 of "HelloRetryRequest").
HELLO_RETRY_REQUEST_RANDOM = bytes.fromhex(
    "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
)
# RFC 8446 §4.1.3: downgrade sentinels in the last 8 bytes of ServerHello.random.
DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")  # "DOWNGRD" 01
DOWNGRADE_TLS11 = bytes.fromhex("444f574e47524400")  # "DOWNGRD" 00

TLS13_CIPHER_SUITES = (
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
)
