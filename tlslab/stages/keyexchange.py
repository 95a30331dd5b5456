"""Key exchange: ECDHE (RFC 8446 §4.2.8.2, RFC 8422), FFDHE (RFC 7919), post-quantum ML-KEM and
the hybrids browsers send today (draft-ietf-tls-ecdhe-mlkem, draft-ietf-tls-mlkem), and TLS 1.2
RSA key transport (RFC 5246 §7.4.7.1).

A :class:`KeyShare` holds one side's private key and the public bytes that go on the
wire; ``exchange(peer_public)`` gives the shared secret. Key material comes from the
passed ``rng`` so notebooks are reproducible.

Encodings (RFC 8446 §4.2.8): X25519/X448 public keys are the raw 32/56 bytes; NIST
curves send the uncompressed point ``04 || X || Y``; FFDHE sends Y left-padded to the
prime's length. A peer share of the wrong length, not on the curve, or outside
1 < Y < p-1 is illegal_parameter; an all-zero X25519/X448 result is rejected too
(RFC 8446 §7.4.2).

RSA key transport has no ephemeral key at all: the client picks the pre-master secret
and encrypts it to the server's certificate key, which is why recording a session and
later stealing that key decrypts it (no forward secrecy; notebooks 04 and 09).

ML-KEM (FIPS 203) is a key *encapsulation*, not a Diffie-Hellman: the client sends an
encapsulation key, the server answers with a ciphertext that only the client's decapsulation key
opens. So the server cannot make its share before it has seen the client's:
:func:`server_key_share` is the server's one call for every group (a fresh key plus DH, or an
encapsulation). A hybrid share is the ML-KEM part and the ECDH part side by side, and its shared
secret is the two secrets concatenated in the same order (:data:`~tlslab.constants.KEM_GROUP_PARTS`
holds every layout). Post-quantum groups are TLS 1.3 only.

Taught in notebooks 04_key_exchange and 10_post_quantum.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import dh, ec, mlkem, padding, rsa, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..constants import KEM_GROUP_PARTS, NamedGroup, SharePart, describe, lookup
from ..errors import HandshakeFailure, IllegalParameter, InsufficientSecurity
from ..rng import Rng, system_rng

# cryptography 50 marks finite-field DH as deprecated. TLS still defines it (RFC 7919) and
# learners meet it, so tlslab keeps teaching it and silences exactly that one warning.
warnings.filterwarnings("ignore", message=".*Diffie-Hellman over finite fields.*")

_CURVES: dict[int, tuple[type[ec.EllipticCurve], int]] = {
    NamedGroup.secp256r1: (ec.SECP256R1, 32),
    NamedGroup.secp384r1: (ec.SECP384R1, 48),
    NamedGroup.secp521r1: (ec.SECP521R1, 66),
}
_ORDERS: dict[int, int] = {
    NamedGroup.secp256r1: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    NamedGroup.secp384r1: int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
        16,
    ),
    NamedGroup.secp521r1: int(
        "1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
        16,
    ),
}
FFDHE_GROUPS = (NamedGroup.ffdhe2048, NamedGroup.ffdhe3072, NamedGroup.ffdhe4096)
# RFC 7919 Appendix A: p = 2^b - 2^{b-64} + {[2^{b-130} e] + X} * 2^64 - 1, the smallest X making
# p a safe prime. The generator is 2. Exponent sizes follow RFC 7919 §5.2 (about twice the security level).
_FFDHE_X: dict[int, tuple[int, int, int]] = {
    NamedGroup.ffdhe2048: (2048, 560316, 225),
    NamedGroup.ffdhe3072: (3072, 2625351, 275),
    NamedGroup.ffdhe4096: (4096, 5736041, 325),
}
ECDHE_GROUPS = (
    NamedGroup.x25519,
    NamedGroup.x448,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
    NamedGroup.secp521r1,
)


@dataclass(frozen=True, repr=False)
class KeyShare:
    """One side's ephemeral key for ``group``: the private key and its public encoding."""

    group: int
    private_key: Any
    public: bytes

    def exchange(self, peer_public: bytes) -> bytes:
        """The shared secret with the peer's public share (RFC 8446 §7.4); for an ML-KEM group
        the client's side: decapsulate the server's ciphertext."""
        return key_exchange(self, peer_public)

    def parts(self, *, server: bool = False) -> list[tuple[SharePart, bytes]]:
        """The named components of ``public`` (one for a classical group; ML-KEM and ECDH for a
        hybrid). ``server=True`` reads it as the server's share (ciphertext, not key)."""
        return split_key_share(self.group, self.public, server=server)

    def __repr__(self) -> str:
        return f"KeyShare({describe(NamedGroup, self.group)}, public={self.public[:8].hex()}...)"


def _e_times_power_of_two(bits: int) -> int:
    """floor(2^bits * e), from the series e = sum 1/k!, in exact integer arithmetic."""
    guard = 64
    scale = 1 << (bits + guard)
    total, term, k = 0, scale, 0
    while term:
        total += term
        k += 1
        term //= k
    return total >> guard


@cache
def ffdhe_prime(group: int) -> int:
    """The RFC 7919 prime for ``group``, computed from its defining formula (Appendix A)."""
    b, x, _ = _FFDHE_X[group]
    p: int = (1 << b) - (1 << (b - 64)) + (_e_times_power_of_two(b - 130) + x) * (1 << 64) - 1
    return p


def ffdhe_parameters(group: int) -> dh.DHParameters:
    """``cryptography`` DH parameters (p, g = 2) for an RFC 7919 group."""
    return dh.DHParameterNumbers(ffdhe_prime(group), 2).parameters()


def generate_key_share(group: int, rng: Rng = system_rng) -> KeyShare:
    """A fresh ephemeral key for ``group``, drawn from ``rng``."""
    if group == NamedGroup.x25519:
        priv25519 = x25519.X25519PrivateKey.from_private_bytes(rng(32))
        return KeyShare(group, priv25519, priv25519.public_key().public_bytes_raw())
    if group == NamedGroup.x448:
        priv448 = x448.X448PrivateKey.from_private_bytes(rng(56))
        return KeyShare(group, priv448, priv448.public_key().public_bytes_raw())
    if group in _CURVES:
        curve, size = _CURVES[group]
        order = _ORDERS[group]
        scalar = int.from_bytes(rng(size + 8), "big") % (order - 1) + 1
        priv = ec.derive_private_key(scalar, curve())
        public = priv.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return KeyShare(group, priv, public)
    if group in KEM_GROUP_PARTS:
        return generate_kem_share(group, rng)
    if group in _FFDHE_X:
        p = ffdhe_prime(group)
        exponent_bits = _FFDHE_X[group][2]
        x = int.from_bytes(rng((exponent_bits + 7) // 8 + 8), "big") % (2**exponent_bits) + 2
        y = pow(2, x, p)  # the textbook g^x mod p; cryptography does the exchange and its checks
        pn = dh.DHParameterNumbers(p, 2)
        priv_dh = dh.DHPrivateNumbers(x, dh.DHPublicNumbers(y, pn)).private_key()
        return KeyShare(group, priv_dh, y.to_bytes((p.bit_length() + 7) // 8, "big"))
    raise HandshakeFailure(
        "no key exchange implemented for this group", seen=describe(NamedGroup, group)
    )


def check_dh_public(p: int, y: int) -> None:
    """RFC 7919 §5.1 / RFC 8446 §4.2.8.1: the peer's Y must satisfy 1 < Y < p-1."""
    if not 1 < y < p - 1:
        raise IllegalParameter(
            "Diffie-Hellman public value outside 1 < Y < p-1",
            expected="1 < Y < p-1",
            seen=f"Y = {y}" if y < 2**32 else "Y >= p-1",
        )


def ffdhe_shared_secret(group: int, private_key: Any, peer_public: bytes) -> bytes:
    """FFDHE shared secret, left-padded to the prime's length (the TLS 1.3 rule, RFC 8446 §7.4.1)."""
    p = ffdhe_prime(group)
    size = (p.bit_length() + 7) // 8
    if len(peer_public) != size:
        raise IllegalParameter(
            f"{NamedGroup(group).name} key share must be {size} bytes",
            expected=size,
            seen=len(peer_public),
        )
    y = int.from_bytes(peer_public, "big")
    check_dh_public(p, y)
    peer = dh.DHPublicNumbers(y, dh.DHParameterNumbers(p, 2)).public_key()
    return bytes(private_key.exchange(peer)).rjust(size, b"\x00")


def generate_dh_key(p: int, g: int, rng: Rng = system_rng) -> KeyShare:
    """A TLS 1.2 DHE key for the (p, g) a server sent in its ServerKeyExchange.

    Refuses primes below 2048 bits (insufficient_security: Logjam showed why)."""
    if p.bit_length() < 2048:
        raise InsufficientSecurity(
            "Diffie-Hellman prime too small", expected=">= 2048 bits", seen=p.bit_length()
        )
    x = int.from_bytes(rng(40), "big") % (2**256) + 2
    y = pow(g, x, p)
    pn = dh.DHParameterNumbers(p, g)
    key = dh.DHPrivateNumbers(x, dh.DHPublicNumbers(y, pn)).private_key()
    known = next((grp for grp in _FFDHE_X if ffdhe_prime(grp) == p and g == 2), 0)
    return KeyShare(known, key, y.to_bytes((p.bit_length() + 7) // 8, "big"))


def dh_shared_secret(private_key: Any, peer_public: bytes) -> bytes:
    """Z = Y_peer^x mod p for any (p, g), left-padded to the prime's length."""
    numbers = private_key.parameters().parameter_numbers()
    size = (numbers.p.bit_length() + 7) // 8
    y = int.from_bytes(peer_public, "big")
    check_dh_public(numbers.p, y)
    peer = dh.DHPublicNumbers(y, numbers).public_key()
    return bytes(private_key.exchange(peer)).rjust(size, b"\x00")


def dhe_pre_master_secret(shared_secret: bytes) -> bytes:
    """TLS 1.2 DHE strips leading zero bytes from Z (RFC 5246 §8.1.2); TLS 1.3 keeps them."""
    return shared_secret.lstrip(b"\x00")


def key_exchange(share: KeyShare, peer_public: bytes) -> bytes:
    """The shared secret for any supported group."""
    if share.group in _FFDHE_X:
        return ffdhe_shared_secret(share.group, share.private_key, peer_public)
    if share.group == 0:
        return dh_shared_secret(share.private_key, peer_public)
    if share.group in KEM_GROUP_PARTS:
        return decapsulate_key_share(share, peer_public)
    return ecdhe_shared_secret(share.group, share.private_key, peer_public)


# -- TLS 1.2 RSA key transport (RFC 5246 §7.4.7.1) -----------------------------


def rsa_pre_master_secret(client_version: int, rng: Rng = system_rng) -> bytes:
    """struct { ProtocolVersion client_version; opaque random[46]; } PreMasterSecret;

    ``client_version`` is the version the client *offered* in its ClientHello, so the
    server can detect a version rollback."""
    return client_version.to_bytes(2, "big") + rng(46)


def encrypt_pre_master_secret(
    pre_master_secret: bytes, server_public_key: rsa.RSAPublicKey
) -> bytes:
    """RSAES-PKCS1-v1_5 encryption of the pre-master secret to the server's certificate key."""
    return server_public_key.encrypt(pre_master_secret, padding.PKCS1v15())


def decrypt_pre_master_secret(
    encrypted: bytes,
    server_private_key: rsa.RSAPrivateKey,
    client_version: int,
    rng: Rng = system_rng,
) -> bytes:
    """The server's side, with the RFC 5246 §7.4.7.1 countermeasure against Bleichenbacher's attack.

    Draw a random 48-byte secret R first; then decrypt. If decryption fails, the result is
    not 48 bytes, or its version is not ``client_version``, continue with R and say nothing:
    the handshake then fails later at Finished, indistinguishably from a wrong key."""
    fallback = client_version.to_bytes(2, "big") + rng(46)
    try:
        candidate = server_private_key.decrypt(encrypted, padding.PKCS1v15())
    except ValueError:
        return fallback
    if len(candidate) != 48 or candidate[:2] != client_version.to_bytes(2, "big"):
        return fallback
    return candidate


def ecdhe_shared_secret(group: int, private_key: Any, peer_public: bytes) -> bytes:
    """ECDH between our private key and the peer's encoded public share."""
    if group in (NamedGroup.x25519, NamedGroup.x448):
        size = 32 if group == NamedGroup.x25519 else 56
        if len(peer_public) != size:
            raise IllegalParameter(
                f"{NamedGroup(group).name} key share has the wrong length",
                expected=size,
                seen=len(peer_public),
            )
        module: Any = x25519.X25519PublicKey if size == 32 else x448.X448PublicKey
        try:
            secret: bytes = private_key.exchange(module.from_public_bytes(peer_public))
        except ValueError:
            raise IllegalParameter(
                "key share gives an all-zero shared secret (RFC 8446 §7.4.2)"
            ) from None
        if secret == bytes(size):
            raise IllegalParameter("key share gives an all-zero shared secret (RFC 8446 §7.4.2)")
        return secret
    if group in _CURVES:
        curve, size = _CURVES[group]
        if len(peer_public) != 1 + 2 * size or peer_public[0] != 4:
            raise IllegalParameter(
                f"{NamedGroup(group).name} key share must be an uncompressed point 04||X||Y",
                expected=f"{1 + 2 * size} bytes starting 04",
                seen=peer_public,
            )
        try:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(curve(), peer_public)
        except ValueError:
            raise IllegalParameter(
                "key share is not a point on the curve", seen=peer_public
            ) from None
        return bytes(private_key.exchange(ec.ECDH(), peer))
    raise HandshakeFailure(
        "no key exchange implemented for this group", seen=describe(NamedGroup, group)
    )


# -- post-quantum: ML-KEM and the hybrids (draft-ietf-tls-ecdhe-mlkem, draft-ietf-tls-mlkem) -------

KEM_GROUPS = tuple(KEM_GROUP_PARTS)
_MLKEM: dict[str, tuple[Any, Any]] = {
    "ML-KEM-768": (mlkem.MLKEM768PrivateKey, mlkem.MLKEM768PublicKey),
    "ML-KEM-1024": (mlkem.MLKEM1024PrivateKey, mlkem.MLKEM1024PublicKey),
}
_ECDH_PART = {
    "X25519": NamedGroup.x25519,
    "secp256r1": NamedGroup.secp256r1,
    "secp384r1": NamedGroup.secp384r1,
}


def is_post_quantum(group: int) -> bool:
    """True for the ML-KEM and hybrid groups (TLS 1.3 only: TLS 1.2 has no KEM key exchange)."""
    return group in KEM_GROUP_PARTS


def mlkem_keygen(parameter_set: str = "ML-KEM-768", rng: Rng = system_rng) -> tuple[Any, bytes]:
    """FIPS 203 ML-KEM.KeyGen: a decapsulation key (kept) and the encapsulation key (sent).

    The key is derived from a 64-byte seed (d || z) drawn from ``rng``, so a seeded rng gives the
    same key every run."""
    if parameter_set not in _MLKEM:
        raise HandshakeFailure(
            "cryptography implements ML-KEM-768 and ML-KEM-1024 only",
            expected=" or ".join(_MLKEM),
            seen=parameter_set,
        )
    key = _MLKEM[parameter_set][0].from_seed_bytes(rng(64))
    return key, bytes(key.public_key().public_bytes_raw())


def mlkem_encapsulate(parameter_set: str, encapsulation_key: bytes) -> tuple[bytes, bytes]:
    """FIPS 203 ML-KEM.Encaps: (ciphertext, shared_secret) for the peer's encapsulation key.

    The key must pass the FIPS 203 §7.2 input check (every coefficient below q = 3329), else
    illegal_parameter. The encapsulation randomness comes from OpenSSL (``cryptography`` takes no
    seed for it), so the ciphertext differs on every run even with a seeded rng."""
    try:
        key = _MLKEM[parameter_set][1].from_public_bytes(encapsulation_key)
    except ValueError:
        raise IllegalParameter(
            f"{parameter_set} encapsulation key fails the FIPS 203 §7.2 check",
            expected="every 12-bit coefficient below q = 3329",
            seen=encapsulation_key,
        ) from None
    secret, ciphertext = key.encapsulate()
    return bytes(ciphertext), bytes(secret)


def mlkem_decapsulate(decapsulation_key: Any, ciphertext: bytes) -> bytes:
    """FIPS 203 ML-KEM.Decaps: the shared secret. A tampered ciphertext does not fail: it yields
    an unrelated secret ("implicit rejection"), so the handshake fails later, at Finished."""
    return bytes(decapsulation_key.decapsulate(ciphertext))


def split_key_share(
    group: int, data: bytes, *, server: bool = False
) -> list[tuple[SharePart, bytes]]:
    """Cut a post-quantum key share into its parts in wire order (draft-ietf-tls-ecdhe-mlkem §4.1).

    A share of any other length is illegal_parameter. Classical groups give one unnamed part."""
    if group not in KEM_GROUP_PARTS:
        name = getattr(lookup(NamedGroup, group), "name", f"group 0x{group:04x}")
        return [(SharePart(name, len(data), len(data), 0), data)]
    parts = KEM_GROUP_PARTS[group]
    sizes = [p.server if server else p.client for p in parts]
    if len(data) != sum(sizes):
        side = "server" if server else "client"
        raise IllegalParameter(
            f"{NamedGroup(group).name} {side} key share has the wrong length",
            expected=f"{sum(sizes)} bytes ("
            + " + ".join(f"{p.name} {n}" for p, n in zip(parts, sizes, strict=True))
            + ")",
            seen=len(data),
        )
    out, at = [], 0
    for part, size in zip(parts, sizes, strict=True):
        out.append((part, data[at : at + size]))
        at += size
    return out


def generate_kem_share(group: int, rng: Rng = system_rng) -> KeyShare:
    """The client's post-quantum share: an ML-KEM encapsulation key and, for a hybrid, an ECDH
    public key, in the group's order. ``private_key`` holds the private halves in the same order."""
    privates: list[Any] = []
    publics: list[bytes] = []
    for part in KEM_GROUP_PARTS[group]:
        if part.name in _ECDH_PART:
            ecdh = generate_key_share(_ECDH_PART[part.name], rng)
            privates.append(ecdh)
            publics.append(ecdh.public)
        else:
            key, encapsulation_key = mlkem_keygen(part.name, rng)
            privates.append(key)
            publics.append(encapsulation_key)
    return KeyShare(group, tuple(privates), b"".join(publics))


def combine_secrets(group: int, secrets: list[bytes]) -> bytes:
    """The hybrid shared secret: the parts' secrets concatenated in wire order (the draft's
    combiner; HKDF-Extract in the key schedule does the mixing, RFC 8446 §7.1)."""
    parts = KEM_GROUP_PARTS[group]
    if [len(s) for s in secrets] != [p.secret for p in parts]:
        raise ValueError(
            f"{NamedGroup(group).name} combines "
            + " || ".join(f"{p.name} ({p.secret} bytes)" for p in parts)
        )
    return b"".join(secrets)


def encapsulate_key_share(
    group: int, client_share: bytes, rng: Rng = system_rng
) -> tuple[KeyShare, bytes]:
    """The server's side of a post-quantum group: encapsulate to the client's ML-KEM key and, for
    a hybrid, do ECDH with a fresh key. Returns the server's share (ciphertext and ECDH key in the
    group's order) and the shared secret. Bad lengths, keys or points are illegal_parameter."""
    answer: list[bytes] = []
    secrets: list[bytes] = []
    for part, piece in split_key_share(group, client_share):
        if part.name in _ECDH_PART:
            ecdh = generate_key_share(_ECDH_PART[part.name], rng)
            secrets.append(ecdhe_shared_secret(ecdh.group, ecdh.private_key, piece))
            answer.append(ecdh.public)
        else:
            ciphertext, secret = mlkem_encapsulate(part.name, piece)
            secrets.append(secret)
            answer.append(ciphertext)
    return KeyShare(group, None, b"".join(answer)), combine_secrets(group, secrets)


def decapsulate_key_share(share: KeyShare, server_share: bytes) -> bytes:
    """The client's side: decapsulate the server's ciphertext and finish ECDH with its key."""
    if not isinstance(share.private_key, tuple):
        raise ValueError("a server's post-quantum share has no private half to decapsulate with")
    secrets: list[bytes] = []
    pieces = split_key_share(share.group, server_share, server=True)
    for (part, piece), private in zip(pieces, share.private_key, strict=True):
        if part.name in _ECDH_PART:
            secrets.append(private.exchange(piece))
        else:
            secrets.append(mlkem_decapsulate(private, piece))
    return combine_secrets(share.group, secrets)


def server_key_share(
    group: int, client_share: bytes, rng: Rng = system_rng
) -> tuple[KeyShare, bytes]:
    """The server's key share for ``group`` and the shared secret, given the client's share
    (RFC 8446 §4.2.8): a fresh key and (EC)DH for a classical group, an encapsulation for ML-KEM
    and the hybrids. The one call a TLS 1.3 server makes for any group."""
    if group in KEM_GROUP_PARTS:
        return encapsulate_key_share(group, client_share, rng)
    share = generate_key_share(group, rng)
    return share, share.exchange(client_share)
