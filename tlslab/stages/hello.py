"""The client's side of the hellos (RFC 8446 §4.1.2-4.1.4, RFC 5246 §7.4.1.2).

- :func:`build_client_hello`: every choice the client makes (versions, cipher suites,
  groups, signature schemes, ALPN, key shares) is a keyword argument with the default a
  modern client would send; every random byte comes from ``rng``.
- :func:`check_server_hello`, :func:`check_hello_retry_request`, :func:`check_downgrade`:
  the client's checks on the server's answer, each raising the alert the RFC names.
- :func:`build_client_hello_after_retry`: the second ClientHello after a HelloRetryRequest.

The server's side lives in ``negotiation.py``. Taught in notebooks 01_client_hello and
02_server_hello.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..constants import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    CipherSuite,
    ECPointFormat,
    ExtensionType,
    NamedGroup,
    ProtocolVersion,
    PskKeyExchangeMode,
    SignatureScheme,
    describe,
)
from ..errors import (
    HandshakeFailure,
    IllegalParameter,
    InappropriateFallback,
    MissingExtension,
    ProtocolVersionError,
    UnsupportedExtension,
)
from ..rng import Rng, system_rng
from ..wire.extensions import (
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
    OfferedPsks,
    PskIdentity,
    PskKeyExchangeModes,
    RenegotiationInfo,
    ServerName,
    SessionTicket,
    SignatureAlgorithms,
    SupportedGroups,
    SupportedVersionsClient,
    SupportedVersionsServer,
)
from ..wire.messages import ClientHello, ServerHello
from .keyexchange import KeyShare, generate_key_share, is_post_quantum
from .suites import suite_info

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
# As browsers and OpenSSL 3.5+ send today: the post-quantum hybrid first, then the classical
# curves (draft-ietf-tls-ecdhe-mlkem; notebook 10_post_quantum).
DEFAULT_GROUPS = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
)
# The groups before post-quantum key exchange. A seeded handshake over them repeats byte for byte,
# which the notebooks rely on; one over X25519MLKEM768 cannot, because cryptography's ML-KEM
# encapsulation draws its own randomness (notebook 10_post_quantum).
CLASSICAL_GROUPS = (NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1)
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
    # ML-DSA (draft-ietf-tls-mldsa), which OpenSSL 3.5+ offers too: TLS 1.3 only, so a
    # server with an ML-DSA certificate can finish a fully post-quantum handshake.
    SignatureScheme.mldsa65,
    SignatureScheme.mldsa87,
    SignatureScheme.mldsa44,
)


def default_key_share_groups(groups: Sequence[int]) -> tuple[int, ...]:
    """The groups a client sends key shares for when not told: the first group, and when that is
    post-quantum also the first classical one, as Chrome, Firefox and OpenSSL 3.5+ do. The hybrid
    share costs 1,216 bytes, but a server without it still finds an X25519 share and needs no
    HelloRetryRequest (draft-ietf-tls-ecdhe-mlkem; notebook 10_post_quantum)."""
    if not groups:
        return ()
    if not is_post_quantum(groups[0]):
        return (groups[0],)
    classical = [g for g in groups if not is_post_quantum(g)]
    return (groups[0], *classical[:1])


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
    session_ticket: bytes = b"",
) -> ClientHello:
    """Build a ClientHello as a real client would (RFC 8446 §4.1.2).

    - ``versions``: offered in ``supported_versions`` when TLS 1.3 is among them;
      ``legacy_version`` is always TLS 1.2 (0x0303), as RFC 8446 §4.1.2 requires.
    - ``key_shares``: :class:`~tlslab.stages.keyexchange.KeyShare` objects whose public
      halves are sent (keep them: their private halves finish the exchange). If
      None, fresh ones are drawn from ``rng`` for ``key_share_groups`` (default:
      :func:`default_key_share_groups`: the first group, plus the first classical
      one when the first is a post-quantum hybrid).
    - ``groups``: a hello that cannot negotiate TLS 1.3 leaves the post-quantum groups
      out of ``supported_groups`` (they are TLS 1.3 only).
    - ``session_id``: for TLS 1.3, 32 random bytes by default (the "middlebox
      compatibility mode" of RFC 8446 Appendix D.4); empty for a TLS 1.2-only hello.
    - ``random``: 32 bytes from ``rng`` unless given.
    - ``session_ticket``: a TLS 1.2 ticket to resume with (RFC 5077 §3.4), sent in the
      SessionTicket extension; empty (the default) only says "I accept a ticket".
    """
    offers_13 = ProtocolVersion.TLS13 in versions
    offers_12 = any(v <= ProtocolVersion.TLS12 for v in versions)
    if random is None:
        random = rng(32)
    if session_id is None:
        session_id = rng(32) if offers_13 else b""

    extensions: list[Extension] = []
    if server_name and not is_ip_literal(server_name):  # RFC 6066 §3: no IP literals in SNI
        extensions.append(ServerName((server_name,)))
    if offers_12:
        extensions.append(ECPointFormats((ECPointFormat.uncompressed,)))
    if not offers_13:
        groups = [g for g in groups if not is_post_quantum(g)]
    if groups:
        extensions.append(SupportedGroups(tuple(groups)))
    if offers_12:
        extensions.append(SessionTicket(session_ticket))
    if alpn:
        names = tuple(a.encode() if isinstance(a, str) else a for a in alpn)
        extensions.append(ApplicationLayerProtocolNegotiation(names))
    if offers_12 and extended_master_secret:
        extensions.append(ExtendedMasterSecret())
    if offers_12 and any(_is_cbc_suite(c) for c in cipher_suites):
        extensions.append(EncryptThenMac())  # RFC 7366: MAC over the ciphertext for CBC
    if offers_12:
        extensions.append(RenegotiationInfo())
    extensions.append(SignatureAlgorithms(tuple(signature_schemes)))
    if offers_13:
        extensions.append(SupportedVersionsClient(tuple(versions)))
        extensions.append(PskKeyExchangeModes((PskKeyExchangeMode.psk_dhe_ke,)))
        if key_shares is None:
            wanted = (
                key_share_groups
                if key_share_groups is not None
                else default_key_share_groups(groups)
            )
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


def is_ip_literal(name: str) -> bool:
    """True for "192.0.2.1" or "2001:db8::1": RFC 6066 §3 forbids them in server_name."""
    import ipaddress

    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _is_cbc_suite(code: int) -> bool:
    from .suites import SUITES

    info = SUITES.get(code)
    return info is not None and info.version != ProtocolVersion.TLS13 and not info.is_aead


def _is_tls13_suite(code: int) -> bool:
    from .suites import SUITES

    info = SUITES.get(code)
    return info is not None and info.version == ProtocolVersion.TLS13


# ---------------------------------------------------------------------------
# The client's checks on the server's answer (RFC 8446 §4.1.3, §4.1.4)
# ---------------------------------------------------------------------------


def offered_versions(ch: ClientHello) -> tuple[int, ...]:
    """The versions a ClientHello offers: supported_versions, or legacy_version alone."""
    ext = ch.extension(ExtensionType.supported_versions)
    if isinstance(ext, SupportedVersionsClient):
        return tuple(ext.versions)
    return (ch.legacy_version,)


def check_downgrade(server_random: bytes, negotiated: int, client_versions: Sequence[int]) -> None:
    """RFC 8446 §4.1.3: a TLS 1.3 client that negotiated 1.2 and finds "DOWNGRD" 01 at the end of
    ServerHello.random (or a 1.2 client negotiating lower and finding "DOWNGRD" 00) must abort."""
    tail = server_random[-8:]
    if (
        ProtocolVersion.TLS13 in client_versions
        and negotiated <= ProtocolVersion.TLS12
        and tail in (DOWNGRADE_TLS12, DOWNGRADE_TLS11)
    ):
        raise IllegalParameter(
            "downgrade detected: the server supports a newer version (its random ends with "
            f"DOWNGRD {tail[-1]:02x}) but the handshake is not TLS 1.3; someone may have altered "
            "the ClientHello",
            expected="TLS 1.3",
            seen=f"{describe(ProtocolVersion, negotiated)} with the downgrade sentinel",
        )
    if (
        ProtocolVersion.TLS12 in client_versions
        and negotiated < ProtocolVersion.TLS12
        and tail == DOWNGRADE_TLS11
    ):
        raise IllegalParameter(
            "downgrade detected: DOWNGRD 00 in ServerHello.random", seen=hex(negotiated)
        )


# RFC 8446 §4.2: the only extensions a TLS 1.3 ServerHello may carry.
SERVER_HELLO_13_ALLOWED = frozenset(
    {ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key}
)


def check_server_hello(ch: ClientHello, sh: ServerHello) -> int:
    """Validate a ServerHello (not an HRR) against our ClientHello; return the negotiated version.

    Raises the alert RFC 8446 §4.1.3 calls for: an unoffered version or suite, a key share for
    a group we sent no share for, a session id that is not echoed (illegal_parameter), an
    extension we did not ask for (unsupported_extension), an extension a TLS 1.3 ServerHello may
    not carry (illegal_parameter), a non-empty renegotiation_info (handshake_failure, RFC 5746
    §3.4), or a downgrade sentinel.
    """
    offered = offered_versions(ch)
    selected = sh.extension(ExtensionType.supported_versions)
    if isinstance(selected, SupportedVersionsServer):
        version = int(selected.selected_version)
        if version not in offered or version < ProtocolVersion.TLS13:
            raise IllegalParameter(
                "server selected a version we did not offer in supported_versions",
                expected=[describe(ProtocolVersion, v) for v in offered],
                seen=describe(ProtocolVersion, version),
            )
    else:
        version = int(sh.legacy_version)
        if version > max(offered) or version < ProtocolVersion.TLS12:
            raise ProtocolVersionError(
                "server chose a version we do not speak",
                expected="TLS 1.2",
                seen=describe(ProtocolVersion, version),
            )
    if sh.cipher_suite not in ch.cipher_suites:
        raise IllegalParameter(
            "server chose a cipher suite we did not offer",
            seen=describe(CipherSuite, sh.cipher_suite),
        )
    suite = suite_info(sh.cipher_suite)
    if (suite.version == ProtocolVersion.TLS13) != (version == ProtocolVersion.TLS13):
        raise IllegalParameter(
            "cipher suite does not belong to the negotiated version",
            seen=f"{suite.name} with {describe(ProtocolVersion, version)}",
        )
    if sh.legacy_compression_method != 0:
        raise IllegalParameter(
            "compression must be null", expected=0, seen=sh.legacy_compression_method
        )
    for ext in sh.extensions:
        if ch.extension(ext.type_code) is None:
            raise UnsupportedExtension(
                "server sent an extension we did not offer",
                seen=describe(ExtensionType, ext.type_code),
            )
    if version == ProtocolVersion.TLS13:
        for ext in sh.extensions:
            if ext.type_code not in SERVER_HELLO_13_ALLOWED:
                raise IllegalParameter(
                    "this extension may not appear in a TLS 1.3 ServerHello (RFC 8446 §4.2)",
                    seen=describe(ExtensionType, ext.type_code),
                )
        if sh.legacy_session_id_echo != ch.legacy_session_id:
            raise IllegalParameter(
                "legacy_session_id_echo does not echo our session id",
                expected=ch.legacy_session_id,
                seen=sh.legacy_session_id_echo,
            )
        share = sh.extension(ExtensionType.key_share)
        ours = ch.extension(ExtensionType.key_share)
        sent = (
            [e.group for e in ours.client_shares] if isinstance(ours, KeyShareClientHello) else []
        )
        if not isinstance(share, KeyShareServerHello):
            raise MissingExtension(
                "TLS 1.3 ServerHello without key_share (tlslab does not do PSK-only)"
            )
        if share.server_share.group not in sent:
            raise IllegalParameter(
                "server's key share is for a group we sent no share for",
                expected=[describe(NamedGroup, g) for g in sent],
                seen=describe(NamedGroup, share.server_share.group),
            )
    reneg = sh.extension(ExtensionType.renegotiation_info)
    if isinstance(reneg, RenegotiationInfo) and reneg.renegotiated_connection:
        raise HandshakeFailure(
            "renegotiation_info must be empty on an initial handshake (RFC 5746 §3.4)",
            seen=reneg.renegotiated_connection,
        )
    check_downgrade(sh.random, version, offered)
    return version


def check_hello_retry_request(ch1: ClientHello, hrr: ServerHello) -> None:
    """RFC 8446 §4.1.4: the HRR must select TLS 1.3 and an offered suite, and must change something:
    a selected_group we offered but sent no share for, or a cookie."""
    selected = hrr.extension(ExtensionType.supported_versions)
    if (
        not isinstance(selected, SupportedVersionsServer)
        or selected.selected_version != ProtocolVersion.TLS13
    ):
        raise IllegalParameter("HelloRetryRequest must select TLS 1.3 in supported_versions")
    if hrr.cipher_suite not in ch1.cipher_suites or not _is_tls13_suite(hrr.cipher_suite):
        raise IllegalParameter(
            "HelloRetryRequest chose a cipher suite we did not offer for TLS 1.3",
            seen=describe(CipherSuite, hrr.cipher_suite),
        )
    if hrr.legacy_session_id_echo != ch1.legacy_session_id:
        raise IllegalParameter(
            "HelloRetryRequest does not echo our legacy_session_id",
            expected=ch1.legacy_session_id,
            seen=hrr.legacy_session_id_echo,
        )
    if hrr.legacy_compression_method != 0:
        raise IllegalParameter(
            "compression must be null", expected=0, seen=hrr.legacy_compression_method
        )
    for ext in hrr.extensions:
        if ext.type_code != ExtensionType.cookie and ch1.extension(ext.type_code) is None:
            raise UnsupportedExtension(
                "HelloRetryRequest has an extension we did not offer",
                seen=describe(ExtensionType, ext.type_code),
            )
    key_share = hrr.extension(ExtensionType.key_share)
    cookie = hrr.extension(ExtensionType.cookie)
    if isinstance(key_share, KeyShareHelloRetryRequest):
        groups = ch1.extension(ExtensionType.supported_groups)
        offered = groups.named_group_list if isinstance(groups, SupportedGroups) else ()
        shares = ch1.extension(ExtensionType.key_share)
        sent = (
            [e.group for e in shares.client_shares]
            if isinstance(shares, KeyShareClientHello)
            else []
        )
        if key_share.selected_group not in offered:
            raise IllegalParameter(
                "HelloRetryRequest selected a group we did not offer",
                seen=describe(NamedGroup, key_share.selected_group),
            )
        if key_share.selected_group in sent:
            raise IllegalParameter(
                "HelloRetryRequest asks for a group we already sent a share for: "
                "it would change nothing",
                seen=describe(NamedGroup, key_share.selected_group),
            )
    elif cookie is None:
        raise IllegalParameter("HelloRetryRequest that changes nothing (no key_share, no cookie)")


def build_client_hello_after_retry(
    ch1: ClientHello, hrr: ServerHello, new_share: KeyShare | None = None
) -> ClientHello:
    """The second ClientHello (RFC 8446 §4.1.2): the first one unchanged except that key_share holds
    only a share for the selected group, the HRR's cookie is echoed, and early_data is dropped."""
    check_hello_retry_request(ch1, hrr)
    cookie = hrr.extension(ExtensionType.cookie)
    selected = hrr.extension(ExtensionType.key_share)
    extensions: list[Extension] = []
    for ext in ch1.extensions:
        if ext.type_code == ExtensionType.early_data:
            continue
        if ext.type_code == ExtensionType.key_share and isinstance(
            selected, KeyShareHelloRetryRequest
        ):
            if new_share is None or new_share.group != selected.selected_group:
                raise ValueError("pass a KeyShare for the group the HelloRetryRequest selected")
            ext = KeyShareClientHello((KeyShareEntry(new_share.group, new_share.public),))
        if ext.type_code == ExtensionType.pre_shared_key and isinstance(cookie, Cookie):
            extensions.append(cookie)  # pre_shared_key must stay last
            cookie = None
        extensions.append(ext)
    if isinstance(cookie, Cookie):
        extensions.append(cookie)
    return replace(ch1, extensions=tuple(extensions))


def offer_psk(
    ch: ClientHello,
    ticket: bytes,
    psk: bytes,
    obfuscated_ticket_age: int,
    hash_name: str = "sha256",
    prior_transcript: bytes = b"",
) -> ClientHello:
    """Add a ``pre_shared_key`` extension (always last) with its binder (RFC 8446 §4.2.11.2).

    The binder is an HMAC, keyed from the PSK's binder_key, over the transcript up to this
    ClientHello *truncated before the binders list*; it proves the client holds the PSK.
    ``prior_transcript`` is message_hash(ClientHello1) + HelloRetryRequest after a retry."""
    from .keyschedule import hash_length

    size = hash_length(hash_name)
    base = tuple(e for e in ch.extensions if e.type_code != ExtensionType.pre_shared_key)
    identity = PskIdentity(ticket, obfuscated_ticket_age % 2**32)
    placeholder = OfferedPsks((identity,), (bytes(size),))
    raw = ch.replace(extensions=(*base, placeholder)).encode()
    truncated = raw[: len(raw) - len(placeholder.encode_binders())]
    binder = resumption_binder(psk, prior_transcript, truncated, hash_name)
    return ch.replace(extensions=(*base, OfferedPsks((identity,), (binder,))))


def resumption_binder(
    psk: bytes, prior_transcript: bytes, truncated_hello: bytes, hash_name: str = "sha256"
) -> bytes:
    """The binder of a resumption PSK (RFC 8446 §4.2.11.2): HMAC keyed from the PSK's
    "res binder" key over Transcript-Hash(prior messages + the truncated ClientHello).

    The one binder function: the client computes it to offer a ticket, the server to check one."""
    from .keyschedule import binder_key, digest, early_secret, psk_binder

    key = binder_key(early_secret(psk, hash_name), external=False, hash_name=hash_name)
    return psk_binder(key, digest(hash_name, prior_transcript + truncated_hello), hash_name)


def truncated_client_hello(raw: bytes, offered: OfferedPsks) -> bytes:
    """The ClientHello bytes a binder covers: everything before the binders list."""
    return raw[: len(raw) - len(offered.encode_binders())]


# ---------------------------------------------------------------------------
# The server's checks on a ClientHello that choosing parameters does not make
# (RFC 8446 §4.1.2, §4.2, §9.2, Appendix D.5; RFC 7507; RFC 5746 §3.6)
# ---------------------------------------------------------------------------


def check_client_hello(ch: ClientHello, negotiated: int, server_versions: Sequence[int]) -> None:
    """What a server must refuse in a ClientHello whatever it would choose. Raises the alert."""
    if ch.legacy_version <= ProtocolVersion.SSL30:
        raise ProtocolVersionError(
            "legacy_version of SSL 3.0 or less (RFC 8446 Appendix D.5)",
            seen=f"0x{ch.legacy_version:04x}",
        )
    offered = offered_versions(ch)
    if CipherSuite.TLS_FALLBACK_SCSV in ch.cipher_suites and max(offered) < max(server_versions):
        raise InappropriateFallback(
            "TLS_FALLBACK_SCSV, yet the client's best version is below ours: a downgrade",
            expected=describe(ProtocolVersion, max(server_versions)),
            seen=describe(ProtocolVersion, max(offered)),
        )
    methods = tuple(ch.legacy_compression_methods)
    if (negotiated == ProtocolVersion.TLS13 and methods != (0,)) or 0 not in methods:
        raise IllegalParameter("compression methods must be exactly [null]", seen=methods)
    psk = ch.extension(ExtensionType.pre_shared_key)
    if psk is not None and ch.extensions[-1] is not psk:
        raise IllegalParameter("pre_shared_key must be the last extension (RFC 8446 §4.2.11)")
    if negotiated != ProtocolVersion.TLS13:  # a TLS 1.2 extension: 1.3 ignores it, body unread
        reneg = ch.extension(ExtensionType.renegotiation_info)
        if isinstance(reneg, RenegotiationInfo) and reneg.renegotiated_connection:
            raise HandshakeFailure("renegotiation_info must be empty on an initial handshake")
    groups, shares = (
        ch.extension(t) for t in (ExtensionType.supported_groups, ExtensionType.key_share)
    )
    if negotiated == ProtocolVersion.TLS13 and groups is not None and shares is None:
        raise MissingExtension("supported_groups without key_share (RFC 8446 §9.2)")
    if negotiated == ProtocolVersion.TLS13 and groups is None and shares is not None:
        raise MissingExtension("key_share without supported_groups (RFC 8446 §9.2)")
    if negotiated == ProtocolVersion.TLS13 and isinstance(shares, KeyShareClientHello):
        _check_key_share_groups(shares, groups)


def _check_key_share_groups(shares: KeyShareClientHello, groups: object) -> None:
    """RFC 8446 §4.2.8: one share per group, each for a group in supported_groups (a server
    may check; OpenSSL does, with illegal_parameter)."""
    offered = groups.named_group_list if isinstance(groups, SupportedGroups) else ()
    seen: list[int] = []
    for entry in shares.client_shares:
        if entry.group in seen:
            raise IllegalParameter(
                "two key shares for one group (RFC 8446 §4.2.8)",
                seen=describe(NamedGroup, entry.group),
            )
        if entry.group not in offered:
            raise IllegalParameter(
                "key share for a group not in supported_groups (RFC 8446 §4.2.8)",
                expected=[describe(NamedGroup, g) for g in offered],
                seen=describe(NamedGroup, entry.group),
            )
        seen.append(entry.group)


def check_second_client_hello(ch1: ClientHello, ch2: ClientHello, hrr: ServerHello) -> None:
    """RFC 8446 §4.1.2: after a HelloRetryRequest the client sends the same ClientHello except
    for one key share for the selected group, the echoed cookie, and an updated PSK."""
    same = ("random", "legacy_session_id", "cipher_suites", "legacy_compression_methods")
    for name in same:
        if getattr(ch1, name) != getattr(ch2, name):
            raise IllegalParameter(f"the second ClientHello changed its {name}")
    if offered_versions(ch1) != offered_versions(ch2):
        raise IllegalParameter("the second ClientHello changed its versions")
    cookie = hrr.extension(ExtensionType.cookie)
    if cookie is not None and ch2.extension(ExtensionType.cookie) != cookie:
        raise IllegalParameter("the second ClientHello does not echo the cookie")
    selected = hrr.extension(ExtensionType.key_share)
    shares = ch2.extension(ExtensionType.key_share)
    if isinstance(selected, KeyShareHelloRetryRequest):
        groups = (
            [e.group for e in shares.client_shares]
            if isinstance(shares, KeyShareClientHello)
            else []
        )
        if groups != [selected.selected_group]:
            raise IllegalParameter(
                "the second ClientHello must hold one key share, for the group the HelloRetryRequest selected",
                expected=describe(NamedGroup, selected.selected_group),
                seen=[describe(NamedGroup, g) for g in groups],
            )
