"""A sketch of Encrypted Client Hello for notebook 14_sni_and_ech: real ClientHellos, real HPKE
(RFC 9180, from pyca/cryptography), the real extension layout, but *not* a wire-exact ECH.

RFC 9849 (TLS Encrypted Client Hello) has the client send two ClientHellos in one: an outer one,
in the clear, naming only the client-facing server's ``public_name``, and an inner one, with the
real server name, sealed with HPKE to a key the client-facing server publishes in DNS (RFC 9848).
The outer hello carries the sealed inner one in its ``encrypted_client_hello`` extension::

    struct {
        ECHClientHelloType type;            /* outer(0) */
        HpkeSymmetricCipherSuite cipher_suite;   /* kdf_id, aead_id */
        uint8 config_id;
        opaque enc<0..2^16-1>;
        opaque payload<1..2^16-1>;
    } ECHClientHello;

What this sketch leaves out, so that no one mistakes it for an implementation: the real payload is
sealed with the outer hello (with ``payload`` zeroed) as associated data, the inner hello is
compressed against the outer one, padded, and carries an ``encrypted_client_hello``
extension of its own (type inner), the HPKE ``info`` contains the exact ECHConfig
bytes, and the server confirms acceptance in its ServerHello.random. tlslab implements none of
that; its client never sends ECH.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..rng import Rng
from ..stages.hello import build_client_hello
from ..wire.extensions import UnknownExtension

ENCRYPTED_CLIENT_HELLO = 0xFE0D  # the extension code point of RFC 9849
_KDF_HKDF_SHA256, _AEAD_AES_128_GCM = 0x0001, 0x0001  # HPKE identifiers, RFC 9180 §7
_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
_ENC_LENGTH = 32  # an X25519 public key


@dataclass(frozen=True)
class EchSketch:
    """The two ClientHellos of one ECH connection, and the client-facing server's key pair."""

    public_name: str
    inner: bytes = field(repr=False)
    outer: bytes = field(repr=False)
    config_id: int
    public_key: bytes = field(repr=False)
    private_key: Any = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"EchSketch(public_name={self.public_name!r}, inner ClientHello {len(self.inner)} B, "
            f"outer ClientHello {len(self.outer)} B)"
        )

    def open_inner(self) -> bytes:
        """What only the client-facing server can do: decrypt the inner ClientHello."""
        from ..wire.messages import decode_handshake

        outer = decode_handshake(self.outer)
        extension = outer.extension(ENCRYPTED_CLIENT_HELLO)  # type: ignore[attr-defined]
        body: bytes = extension.data
        enc_len = int.from_bytes(body[6:8], "big")
        enc = body[8 : 8 + enc_len]
        payload = body[8 + enc_len + 2 :]
        return _SUITE.decrypt(enc + payload, self.private_key, info=_info(self))


def _info(
    sketch: EchSketch | None = None, *, public_name: str = "", public_key: bytes = b""
) -> bytes:
    name = sketch.public_name if sketch else public_name
    key = sketch.public_key if sketch else public_key
    stand_in_config = len(name).to_bytes(1, "big") + name.encode() + key  # not the real ECHConfig
    return b"tls ech\x00" + stand_in_config


def sketch_ech(real_name: str, public_name: str, rng: Rng, *, config_id: int = 7) -> EchSketch:
    """Build the inner ClientHello for ``real_name``, seal it with HPKE to a fresh client-facing
    server key, and carry it in an outer ClientHello that names only ``public_name``."""
    private_key = x25519.X25519PrivateKey.from_private_bytes(rng(32))
    public_key = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    inner = build_client_hello(real_name, alpn=("h2",), rng=rng).encode()
    sealed = _SUITE.encrypt(
        inner,
        private_key.public_key(),
        info=_info(public_name=public_name, public_key=public_key),
    )
    enc, payload = sealed[:_ENC_LENGTH], sealed[_ENC_LENGTH:]
    body = (
        b"\x00"
        + _KDF_HKDF_SHA256.to_bytes(2, "big")
        + _AEAD_AES_128_GCM.to_bytes(2, "big")
        + bytes([config_id])
        + len(enc).to_bytes(2, "big")
        + enc
        + len(payload).to_bytes(2, "big")
        + payload
    )
    outer = build_client_hello(
        public_name, rng=rng, extra_extensions=[UnknownExtension(ENCRYPTED_CLIENT_HELLO, body)]
    ).encode()
    return EchSketch(public_name, inner, outer, config_id, public_key, private_key)
