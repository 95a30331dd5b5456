"""Key exchange: ECDHE over the named curves (RFC 8446 §4.2.8.2, RFC 8422).

A :class:`KeyShare` holds one side's private key and the public bytes that go
on the wire; ``exchange(peer_public)`` gives the shared secret. Key material
comes from the passed ``rng`` so notebooks are reproducible.

Encodings (RFC 8446 §4.2.8.2): X25519/X448 public keys are the raw 32/56
bytes; NIST curves send the uncompressed point ``04 || X || Y``. A peer share
of the wrong length or not on the curve is illegal_parameter; an all-zero
X25519/X448 result is rejected too (RFC 8446 §7.4.2).

Taught in notebook 04_key_exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .constants import NamedGroup, describe
from .errors import HandshakeFailure, IllegalParameter
from .rng import Rng, system_rng

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
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
        16,
    ),
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
        """The shared secret with the peer's public share (RFC 8446 §7.4)."""
        return ecdhe_shared_secret(self.group, self.private_key, peer_public)

    def __repr__(self) -> str:
        return f"KeyShare({describe(NamedGroup, self.group)}, public={self.public[:8].hex()}...)"


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
    raise HandshakeFailure(
        "no key exchange implemented for this group", seen=describe(NamedGroup, group)
    )


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
