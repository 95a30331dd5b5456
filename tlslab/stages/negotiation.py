"""The server's choices (RFC 8446 §4.1.1, §4.1.3-4.1.4; RFC 5246 §7.4.1.3).

:func:`negotiate` takes a ClientHello and the server's :class:`ServerConfig` and returns
a :class:`Negotiated` decision (version, cipher suite, group and key share, signature
scheme, ALPN, TLS 1.2 extensions), or raises the alert a real server sends. Every choice
is explained in ``Negotiated.reasons``, so a notebook can show *why*.

The policy mirrors OpenSSL's where the RFC leaves room:

- version: the highest both support; without ``supported_versions`` the client speaks
  TLS 1.2 at most; anything below TLS 1.2 is refused with protocol_version.
- cipher suite and TLS 1.2 curve: the server's order when ``prefer_server_order`` is set,
  otherwise the client's.
- TLS 1.3 key share: the first share in the client's order whose group the server accepts
  (a share the client already sent saves a round trip); only if none fits does the server
  ask for one with a HelloRetryRequest, for the first common group in the *server's* order
  (OpenSSL does so whatever its preference setting; the tests check this against it).
- post-quantum first (``prefer_post_quantum``, on by default, like OpenSSL 3.5+'s default
  ``?*X25519MLKEM768 / ?*X25519:...`` tuples): when the client supports a post-quantum group
  the server has, the server picks among those, asking with a HelloRetryRequest if the client
  sent no share for one. A client that only sent X25519 does not get to skip the hybrid.
- post-quantum groups and ML-DSA certificates are TLS 1.3 only; a TLS 1.2 handshake stays
  classical.
- TLS 1.2 with an ECDSA certificate: the certificate's curve must be among the client's
  supported_groups (RFC 8422 §5.1: in TLS 1.2 the extension also constrains certificates).

:func:`build_server_hello` and :func:`build_hello_retry_request` turn the decision into
messages; the downgrade sentinel of RFC 8446 §4.1.3 is planted by :func:`downgrade_random`.

Taught in notebook 02_server_hello.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..constants import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    HELLO_RETRY_REQUEST_RANDOM,
    CipherSuite,
    ExtensionType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
    describe,
)
from ..errors import HandshakeFailure, NoApplicationProtocol, ProtocolVersionError
from ..rng import Rng, system_rng
from ..wire.extensions import (
    TLS12_ONLY,
    ApplicationLayerProtocolNegotiation,
    Cookie,
    ECPointFormats,
    EncryptThenMac,
    ExtendedMasterSecret,
    Extension,
    KeyShareClientHello,
    KeyShareEntry,
    KeyShareHelloRetryRequest,
    KeyShareServerHello,
    RenegotiationInfo,
    SignatureAlgorithms,
    SupportedGroups,
    SupportedVersionsClient,
    SupportedVersionsServer,
)
from ..wire.messages import ClientHello, ServerHello
from .keyexchange import ECDHE_GROUPS, FFDHE_GROUPS, is_post_quantum
from .suites import SUITES, SuiteInfo

SIGNATURE_SCHEMES_FOR_KEY: dict[str, tuple[int, ...]] = {
    "ecdsa-p256": (SignatureScheme.ecdsa_secp256r1_sha256,),
    "ecdsa-p384": (SignatureScheme.ecdsa_secp384r1_sha384,),
    "ed25519": (SignatureScheme.ed25519,),
    "mldsa44": (SignatureScheme.mldsa44,),
    "mldsa65": (SignatureScheme.mldsa65,),
    "mldsa87": (SignatureScheme.mldsa87,),
    "rsa": (
        SignatureScheme.rsa_pss_rsae_sha256,
        SignatureScheme.rsa_pss_rsae_sha384,
        SignatureScheme.rsa_pss_rsae_sha512,
        SignatureScheme.rsa_pkcs1_sha256,
        SignatureScheme.rsa_pkcs1_sha384,
        SignatureScheme.rsa_pkcs1_sha512,
    ),
}
# RFC 8446 §4.4.3: PKCS#1 v1.5 signatures are not allowed in TLS 1.3 handshake signatures.
_TLS13_FORBIDDEN = {
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
    SignatureScheme.rsa_pkcs1_sha1,
    SignatureScheme.ecdsa_sha1,
}

DEFAULT_SERVER_SUITES = (
    CipherSuite.TLS_AES_256_GCM_SHA384,
    CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
)


@dataclass(frozen=True)
class ServerConfig:
    """What a server supports and prefers. Immutable: use ``dataclasses.replace`` to turn a knob."""

    versions: tuple[int, ...] = (ProtocolVersion.TLS13, ProtocolVersion.TLS12)
    cipher_suites: tuple[int, ...] = DEFAULT_SERVER_SUITES
    groups: tuple[int, ...] = (
        NamedGroup.X25519MLKEM768,
        NamedGroup.x25519,
        NamedGroup.secp256r1,
        NamedGroup.secp384r1,
    )
    certificate_key: str = "ecdsa-p256"
    alpn: tuple[bytes, ...] = ()
    prefer_server_order: bool = True
    extended_master_secret: bool = True
    # RFC 7366 for CBC suites when the client offers it (OpenSSL's default too); False gives the
    # older MAC-then-encrypt records that notebook 00b opens by hand.
    encrypt_then_mac: bool = True
    hello_retry_cookie: bytes | None = None
    client_auth: bool = False
    client_trust_roots: tuple[Any, ...] = ()
    tickets: int = 0
    prefer_post_quantum: bool = True

    def replace(self, **changes: Any) -> ServerConfig:
        """A copy with some knobs changed: ``config.replace(prefer_server_order=False)``."""
        return dataclasses.replace(self, **changes)

    @property
    def signature_schemes(self) -> tuple[int, ...]:
        return SIGNATURE_SCHEMES_FOR_KEY[self.certificate_key]

    @property
    def authentication(self) -> str:
        """The TLS 1.2 suite family the key serves ("mldsa" serves none: ML-DSA is TLS 1.3 only)."""
        if self.certificate_key.startswith("mldsa"):
            return "mldsa"
        return "rsa" if self.certificate_key == "rsa" else "ecdsa"

    @property
    def certificate_curve(self) -> int | None:
        """The named curve of an ECDSA certificate key (it matters to TLS 1.2 clients)."""
        return {"ecdsa-p256": NamedGroup.secp256r1, "ecdsa-p384": NamedGroup.secp384r1}.get(
            self.certificate_key
        )


@dataclass(frozen=True)
class Negotiated:
    """The server's decision, with a sentence per choice in ``reasons``."""

    version: int
    cipher_suite: int
    group: int | None = None
    client_share: KeyShareEntry | None = None
    hello_retry_request: bool = False
    signature_scheme: int | None = None
    alpn: bytes | None = None
    extended_master_secret: bool = False
    secure_renegotiation: bool = False
    encrypt_then_mac: bool = False
    ec_point_formats: bool = False
    reasons: tuple[str, ...] = field(default=(), compare=False)

    @property
    def suite(self) -> SuiteInfo:
        return SUITES[self.cipher_suite]

    def __str__(self) -> str:
        head = (
            f"{describe(ProtocolVersion, self.version)}, {describe(CipherSuite, self.cipher_suite)}, "
            f"group {describe(NamedGroup, self.group) if self.group is not None else '-'}"
            f"{', HelloRetryRequest' if self.hello_retry_request else ''}"
        )
        return head + "".join(f"\n  - {r}" for r in self.reasons)


def _ordered(client: Sequence[int], server: Sequence[int], server_first: bool) -> list[int]:
    """The intersection of two preference lists, in the preferred side's order."""
    if server_first:
        return [x for x in server if x in client]
    return [x for x in client if x in server]


def _client_versions(ch: ClientHello) -> tuple[list[int], str]:
    ext = ch.extension(ExtensionType.supported_versions)
    if isinstance(ext, SupportedVersionsClient):
        return list(ext.versions), "supported_versions"
    # No supported_versions: the client speaks at most its legacy_version (RFC 8446 §4.2.1).
    top = ch.legacy_version
    return [
        v for v in (ProtocolVersion.TLS12, ProtocolVersion.TLS11, ProtocolVersion.TLS10) if v <= top
    ], "legacy_version"


def choose_version(ch: ClientHello, config: ServerConfig) -> tuple[int, str]:
    """The highest version both sides support (RFC 8446 §4.2.1), or protocol_version."""
    offered, source = _client_versions(ch)
    common = [v for v in config.versions if v in offered and v >= ProtocolVersion.TLS12]
    if not common:
        raise ProtocolVersionError(
            "no protocol version in common (tlslab speaks TLS 1.2 and 1.3)",
            expected=", ".join(describe(ProtocolVersion, v) for v in config.versions),
            seen=", ".join(describe(ProtocolVersion, v) for v in offered) or "none",
        )
    version = max(common)
    return (
        version,
        f"version {describe(ProtocolVersion, version)}: the highest in both lists (client's from {source})",
    )


def _client_groups(ch: ClientHello) -> list[int]:
    ext = ch.extension(ExtensionType.supported_groups)
    return list(ext.named_group_list) if isinstance(ext, SupportedGroups) else []


def _client_schemes(ch: ClientHello) -> list[int]:
    ext = ch.extension(ExtensionType.signature_algorithms)
    return list(ext.supported_signature_algorithms) if isinstance(ext, SignatureAlgorithms) else []


def choose_signature_scheme(ch: ClientHello, config: ServerConfig, version: int) -> int:
    """A scheme the server's key can sign with and the client accepts (RFC 8446 §4.2.3)."""
    offered = _client_schemes(ch)
    usable = [
        s
        for s in config.signature_schemes
        if version != ProtocolVersion.TLS13 or s not in _TLS13_FORBIDDEN
    ]
    if not offered and version == ProtocolVersion.TLS12:
        return usable[0]  # RFC 5246 §7.4.1.4.1: no extension means the client accepts the defaults
    common = _ordered(offered, usable, config.prefer_server_order)
    if not common:
        raise HandshakeFailure(
            "no signature scheme the server's certificate key can make is acceptable to the client",
            expected=", ".join(describe(SignatureScheme, s) for s in usable),
            seen=", ".join(describe(SignatureScheme, s) for s in offered)
            or "no signature_algorithms",
        )
    return common[0]


def choose_alpn(ch: ClientHello, config: ServerConfig) -> bytes | None:
    """RFC 7301 §3.2: the server's most preferred protocol the client offered; no overlap is fatal."""
    ext = ch.extension(ExtensionType.application_layer_protocol_negotiation)
    if not isinstance(ext, ApplicationLayerProtocolNegotiation) or not config.alpn:
        return None
    for protocol in config.alpn:
        if protocol in ext.protocol_name_list:
            return protocol
    raise NoApplicationProtocol(
        "no application protocol in common",
        expected=list(config.alpn),
        seen=list(ext.protocol_name_list),
    )


def negotiate(ch: ClientHello, config: ServerConfig) -> Negotiated:
    """The server's decision for this ClientHello, or the alert it sends (RFC 8446 §4.1.1)."""
    version, why_version = choose_version(ch, config)
    if version == ProtocolVersion.TLS13:
        return _negotiate_13(ch, config, why_version)
    return _negotiate_12(ch, config, why_version)


def _negotiate_13(ch: ClientHello, config: ServerConfig, why_version: str) -> Negotiated:
    reasons = [why_version]
    suites = _ordered(
        ch.cipher_suites,
        [
            s
            for s in config.cipher_suites
            if SUITES.get(s) and SUITES[s].version == ProtocolVersion.TLS13
        ],
        config.prefer_server_order,
    )
    if not suites:
        raise HandshakeFailure(
            "no TLS 1.3 cipher suite in common",
            seen=", ".join(describe(CipherSuite, s) for s in ch.cipher_suites),
        )
    who = "server's" if config.prefer_server_order else "client's"
    reasons.append(
        f"cipher suite {describe(CipherSuite, suites[0])}: first common suite in the {who} order"
    )
    groups = _ordered(_client_groups(ch), config.groups, config.prefer_server_order)
    if not groups:
        raise HandshakeFailure(
            "no group in common",
            expected=[describe(NamedGroup, g) for g in config.groups],
            seen=[describe(NamedGroup, g) for g in _client_groups(ch)] or "no supported_groups",
        )
    if config.prefer_post_quantum and any(is_post_quantum(g) for g in groups):
        groups = [g for g in groups if is_post_quantum(g)]
        reasons.append(
            "post-quantum first: the client supports a post-quantum group the server has, "
            "so only those are candidates"
        )
    shares = ch.extension(ExtensionType.key_share)
    entries = shares.client_shares if isinstance(shares, KeyShareClientHello) else ()
    usable = [e for e in entries if e.group in groups]
    scheme = choose_signature_scheme(ch, config, ProtocolVersion.TLS13)
    alpn = choose_alpn(ch, config)
    if usable:
        share = usable[0]
        reasons.append(
            f"group {describe(NamedGroup, share.group)}: the client already sent a key share for it"
        )
        return Negotiated(
            ProtocolVersion.TLS13,
            suites[0],
            share.group,
            share,
            False,
            scheme,
            alpn,
            reasons=tuple(reasons),
        )
    wanted = _ordered(_client_groups(ch), [g for g in config.groups if g in groups], True)[0]
    reasons.append(
        f"group {describe(NamedGroup, wanted)}: the server's first choice among the common groups, "
        "but the client sent no share for it, so the server asks for one (HelloRetryRequest)"
    )
    return Negotiated(
        ProtocolVersion.TLS13,
        suites[0],
        wanted,
        None,
        True,
        scheme,
        alpn,
        reasons=tuple(reasons),
    )


def _negotiate_12(ch: ClientHello, config: ServerConfig, why_version: str) -> Negotiated:
    reasons = [why_version]
    for code in TLS12_ONLY:  # their bodies matter now (a TLS 1.3 server leaves them unread):
        ch.extension(code)  # a malformed one is decode_error here, as in OpenSSL
    client_groups = _client_groups(ch)
    ec_groups = [g for g in config.groups if g in ECDHE_GROUPS]  # no post-quantum in TLS 1.2
    # RFC 8422 §4: a client without supported_groups is taken to accept the server's curves.
    shared_ec = (
        _ordered(client_groups, ec_groups, config.prefer_server_order)
        if client_groups
        else ec_groups
    )
    dh_groups = [g for g in config.groups if g in FFDHE_GROUPS]
    shared_dh = [g for g in dh_groups if g in client_groups] or dh_groups

    curve = config.certificate_curve
    certificate_curve_ok = curve is None or not client_groups or curve in client_groups

    def possible(info: SuiteInfo) -> bool:
        if info.version != ProtocolVersion.TLS12 or info.authentication != config.authentication:
            return False
        if info.authentication == "ecdsa" and not certificate_curve_ok:
            return False
        if info.key_exchange == "ecdhe":
            return bool(shared_ec)
        if info.key_exchange == "dhe":
            return bool(shared_dh)
        return info.key_exchange == "rsa"

    suites = _ordered(
        ch.cipher_suites,
        [s for s in config.cipher_suites if s in SUITES and possible(SUITES[s])],
        config.prefer_server_order,
    )
    if not suites:
        raise HandshakeFailure(
            "no TLS 1.2 cipher suite in common that the server's certificate and groups can serve",
            seen=", ".join(describe(CipherSuite, s) for s in ch.cipher_suites),
        )
    info = SUITES[suites[0]]
    who = "server's" if config.prefer_server_order else "client's"
    reasons.append(f"cipher suite {info.name}: first usable common suite in the {who} order")
    group = (
        shared_ec[0]
        if info.key_exchange == "ecdhe"
        else shared_dh[0]
        if info.key_exchange == "dhe"
        else None
    )
    if group is not None:
        reasons.append(
            f"group {describe(NamedGroup, group)} for the {info.key_exchange.upper()} key exchange"
        )
    scheme = (
        None
        if info.key_exchange == "rsa"
        else choose_signature_scheme(ch, config, ProtocolVersion.TLS12)
    )
    ems = (
        config.extended_master_secret
        and ch.extension(ExtensionType.extended_master_secret) is not None
    )
    reneg = (
        ch.extension(ExtensionType.renegotiation_info) is not None
        or CipherSuite.TLS_EMPTY_RENEGOTIATION_INFO_SCSV in ch.cipher_suites
    )
    etm = (
        config.encrypt_then_mac
        and not info.is_aead
        and ch.extension(ExtensionType.encrypt_then_mac) is not None
    )
    if ems:
        reasons.append("extended master secret: the client asked for it (RFC 7627)")
    return Negotiated(
        ProtocolVersion.TLS12,
        suites[0],
        group,
        None,
        False,
        scheme,
        choose_alpn(ch, config),
        ems,
        reneg,
        etm,
        info.key_exchange == "ecdhe" and ch.extension(ExtensionType.ec_point_formats) is not None,
        reasons=tuple(reasons),
    )


def downgrade_random(random: bytes, negotiated: int, server_versions: Sequence[int]) -> bytes:
    """RFC 8446 §4.1.3: a server that supports TLS 1.3 but negotiates 1.2 (or 1.2 and negotiates
    1.1 or below) ends its random with "DOWNGRD" 01 (or 00) so a modern client can notice."""
    if ProtocolVersion.TLS13 in server_versions and negotiated == ProtocolVersion.TLS12:
        return random[:24] + DOWNGRADE_TLS12
    if ProtocolVersion.TLS12 in server_versions and negotiated < ProtocolVersion.TLS12:
        return random[:24] + DOWNGRADE_TLS11
    return random


def build_server_hello(
    ch: ClientHello,
    decision: Negotiated,
    server_share: KeyShareEntry | None = None,
    *,
    config: ServerConfig | None = None,
    rng: Rng = system_rng,
) -> ServerHello:
    """The ServerHello for ``decision`` (RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3).

    TLS 1.3 puts the version in ``supported_versions`` and the server's ``key_share``;
    TLS 1.2 echoes the negotiated extensions and carries the downgrade sentinel when due.
    """
    config = config or ServerConfig()
    extensions: list[Extension] = []
    if decision.version == ProtocolVersion.TLS13:
        if server_share is None:
            raise ValueError("a TLS 1.3 ServerHello needs the server's key share")
        extensions = [
            SupportedVersionsServer(ProtocolVersion.TLS13),
            KeyShareServerHello(server_share),
        ]
        return ServerHello(
            rng(32),
            decision.cipher_suite,
            tuple(extensions),
            ProtocolVersion.TLS12,
            ch.legacy_session_id,
        )
    if decision.secure_renegotiation:
        extensions.append(RenegotiationInfo())
    if decision.ec_point_formats:
        extensions.append(ECPointFormats())
    if decision.extended_master_secret:
        extensions.append(ExtendedMasterSecret())
    if decision.encrypt_then_mac:
        extensions.append(EncryptThenMac())
    if decision.alpn is not None:
        extensions.append(ApplicationLayerProtocolNegotiation((decision.alpn,)))
    random = downgrade_random(rng(32), decision.version, config.versions)
    return ServerHello(
        random,
        decision.cipher_suite,
        tuple(extensions),
        ProtocolVersion.TLS12,
        b"",
        omit_extensions_block=not extensions,
    )


def build_hello_retry_request(
    ch: ClientHello, decision: Negotiated, cookie: bytes | None = None
) -> ServerHello:
    """RFC 8446 §4.1.4: a ServerHello with the special random, the selected group and optionally a cookie."""
    if decision.group is None:
        raise ValueError("a HelloRetryRequest needs the selected group")
    extensions: list[Extension] = [
        SupportedVersionsServer(ProtocolVersion.TLS13),
        KeyShareHelloRetryRequest(decision.group),
    ]
    if cookie:
        extensions.append(Cookie(cookie))
    return ServerHello(
        HELLO_RETRY_REQUEST_RANDOM,
        decision.cipher_suite,
        tuple(extensions),
        ProtocolVersion.TLS12,
        ch.legacy_session_id,
    )
