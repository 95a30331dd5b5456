"""Handshake signatures: TLS 1.3 CertificateVerify (RFC 8446 §4.4.3), TLS 1.2 ServerKeyExchange
(RFC 5246 §7.4.3, RFC 8422 §5.4) and TLS 1.2 CertificateVerify (RFC 5246 §7.4.8).

The certificate proves *whose* key this is; the signature proves the peer *holds* it, right now,
in this handshake. What is signed is built visibly:

- TLS 1.3: 64 spaces, a context string ("TLS 1.3, server CertificateVerify"), a zero byte, and
  the transcript hash. The spaces defeat attacks that reuse a TLS 1.2 signature prefix.
- TLS 1.2 ServerKeyExchange: client_random + server_random + the key-exchange params, which
  binds the ephemeral key to this connection's randoms.
- TLS 1.2 CertificateVerify: every handshake message so far.

ML-DSA (FIPS 204, draft-ietf-tls-mldsa: mldsa44/65/87) signs the same TLS 1.3 content with
"pure" ML-DSA and an empty context string; it is TLS 1.3 only, and its signatures are large
(2,420 / 3,309 / 4,627 bytes against 64-72 for ECDSA P-256).

``cryptography`` signs and verifies. A bad signature raises DecryptError naming the scheme and
the key; a scheme that does not fit the key or the version raises IllegalParameter.
Taught in notebooks 03_certificates and 10_post_quantum.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, padding, rsa

from ..constants import ProtocolVersion, SignatureScheme, describe
from ..errors import DecryptError, IllegalParameter
from ..wire.messages import CertificateVerify

SERVER_CONTEXT = b"TLS 1.3, server CertificateVerify"
CLIENT_CONTEXT = b"TLS 1.3, client CertificateVerify"

_HASH: dict[int, type[hashes.HashAlgorithm]] = {
    SignatureScheme.rsa_pss_rsae_sha256: hashes.SHA256,
    SignatureScheme.rsa_pss_rsae_sha384: hashes.SHA384,
    SignatureScheme.rsa_pss_rsae_sha512: hashes.SHA512,
    SignatureScheme.rsa_pss_pss_sha256: hashes.SHA256,
    SignatureScheme.rsa_pss_pss_sha384: hashes.SHA384,
    SignatureScheme.rsa_pss_pss_sha512: hashes.SHA512,
    SignatureScheme.rsa_pkcs1_sha256: hashes.SHA256,
    SignatureScheme.rsa_pkcs1_sha384: hashes.SHA384,
    SignatureScheme.rsa_pkcs1_sha512: hashes.SHA512,
    SignatureScheme.rsa_pkcs1_sha1: hashes.SHA1,
    SignatureScheme.ecdsa_secp256r1_sha256: hashes.SHA256,
    SignatureScheme.ecdsa_secp384r1_sha384: hashes.SHA384,
    SignatureScheme.ecdsa_secp521r1_sha512: hashes.SHA512,
    SignatureScheme.ecdsa_sha1: hashes.SHA1,
}
_PSS = {
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pss_pss_sha256,
    SignatureScheme.rsa_pss_pss_sha384,
    SignatureScheme.rsa_pss_pss_sha512,
}
_PKCS1 = {
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
    SignatureScheme.rsa_pkcs1_sha1,
}
_ECDSA_CURVE: dict[int, str] = {
    SignatureScheme.ecdsa_secp256r1_sha256: "secp256r1",
    SignatureScheme.ecdsa_secp384r1_sha384: "secp384r1",
    SignatureScheme.ecdsa_secp521r1_sha512: "secp521r1",
}
_NOT_IN_TLS13 = _PKCS1 | {SignatureScheme.ecdsa_sha1}
# draft-ietf-tls-mldsa: each scheme names one parameter set (and so one key type).
MLDSA_KEYS: dict[int, tuple[type[Any], type[Any]]] = {
    SignatureScheme.mldsa44: (mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
    SignatureScheme.mldsa65: (mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
    SignatureScheme.mldsa87: (mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
}


def certificate_verify_content(transcript_hash: bytes, *, server: bool = True) -> bytes:
    """RFC 8446 §4.4.3: 0x20 x 64 || context string || 0x00 || Transcript-Hash(Handshake Context, Certificate)."""
    return b" " * 64 + (SERVER_CONTEXT if server else CLIENT_CONTEXT) + b"\x00" + transcript_hash


def server_key_exchange_content(client_random: bytes, server_random: bytes, params: bytes) -> bytes:
    """RFC 5246 §7.4.3 / RFC 8422 §5.4: ClientHello.random + ServerHello.random + ServerDHParams/ServerECDHParams."""
    return client_random + server_random + params


def _key_name(key: Any) -> str:
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return f"RSA-{key.key_size}"
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return f"ECDSA {key.curve.name}"
    for scheme, (private, public) in MLDSA_KEYS.items():
        if isinstance(key, (private, public)):
            return f"ML-DSA-{SignatureScheme(scheme).name[5:]}"
    return type(key).__name__.replace("PublicKey", "").replace("PrivateKey", "")


def scheme_fits_key(scheme: int, key: Any, version: int = ProtocolVersion.TLS13) -> None:
    """Raise IllegalParameter unless ``scheme`` can be made with ``key`` under ``version``."""
    public = key.public_key() if hasattr(key, "public_key") else key
    if version == ProtocolVersion.TLS13 and scheme in _NOT_IN_TLS13:
        raise IllegalParameter(
            f"{describe(SignatureScheme, scheme)} is not allowed in TLS 1.3 CertificateVerify "
            "(RFC 8446 §4.4.3)"
        )
    if version != ProtocolVersion.TLS13 and scheme in MLDSA_KEYS:
        raise IllegalParameter(
            f"{describe(SignatureScheme, scheme)} is TLS 1.3 only (draft-ietf-tls-mldsa)"
        )
    if scheme in _PSS or scheme in _PKCS1:
        ok = isinstance(public, rsa.RSAPublicKey)
    elif scheme in _ECDSA_CURVE or scheme == SignatureScheme.ecdsa_sha1:
        ok = isinstance(public, ec.EllipticCurvePublicKey) and (
            version != ProtocolVersion.TLS13 or _ECDSA_CURVE.get(scheme) == public.curve.name
        )
    elif scheme == SignatureScheme.ed25519:
        ok = isinstance(public, ed25519.Ed25519PublicKey)
    elif scheme == SignatureScheme.ed448:
        ok = isinstance(public, ed448.Ed448PublicKey)
    elif scheme in MLDSA_KEYS:
        ok = isinstance(public, MLDSA_KEYS[scheme][1])
    else:
        ok = False
    if not ok:
        raise IllegalParameter(
            "signature scheme does not fit the certificate's key",
            expected=f"a scheme for {_key_name(public)}",
            seen=describe(SignatureScheme, scheme),
        )


def _padding(scheme: int) -> padding.AsymmetricPadding:
    if scheme in _PSS:
        algorithm = _HASH[scheme]()
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
    return padding.PKCS1v15()


def sign(
    private_key: Any, scheme: int, data: bytes, *, version: int = ProtocolVersion.TLS13
) -> bytes:
    """Sign ``data`` with ``scheme`` (RSA-PSS uses a salt as long as the hash, RFC 8446 §4.2.3)."""
    scheme_fits_key(scheme, private_key, version)
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, _padding(scheme), _HASH[scheme]())
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        # RFC 6979 deterministic ECDSA: same key and message, same signature (reproducible
        # notebooks); as secure as random nonces, and immune to a bad random generator.
        return private_key.sign(data, ec.ECDSA(_HASH[scheme](), deterministic_signing=True))
    # Ed25519 / Ed448 sign the message itself; so does pure ML-DSA, with an empty context string
    # (draft-ietf-tls-mldsa). ML-DSA signing is hedged: randomized, so it differs on every run.
    signature: bytes = private_key.sign(data)
    return signature


def verify(
    public_key: Any,
    scheme: int,
    data: bytes,
    signature: bytes,
    *,
    version: int = ProtocolVersion.TLS13,
) -> None:
    """Verify, or raise DecryptError naming the scheme and the key (RFC 8446 §4.4.3)."""
    scheme_fits_key(scheme, public_key, version)
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, _padding(scheme), _HASH[scheme]())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(_HASH[scheme]()))
        else:
            public_key.verify(signature, data)
    except (InvalidSignature, ValueError):
        raise DecryptError(
            f"{describe(SignatureScheme, scheme)} signature does not verify with the certificate's "
            f"{_key_name(public_key)} key: the peer does not hold the key, or the signed content differs"
        ) from None


def sign_certificate_verify(
    private_key: Any, scheme: int, transcript_hash: bytes, *, server: bool = True
) -> CertificateVerify:
    """Build a TLS 1.3 CertificateVerify over the transcript hash up to and including Certificate."""
    content = certificate_verify_content(transcript_hash, server=server)
    return CertificateVerify(scheme, sign(private_key, scheme, content))


def verify_certificate_verify(
    public_key: Any, message: CertificateVerify, transcript_hash: bytes, *, server: bool = True
) -> None:
    """Check a TLS 1.3 CertificateVerify; raises IllegalParameter or DecryptError."""
    verify(
        public_key,
        message.algorithm,
        certificate_verify_content(transcript_hash, server=server),
        message.signature,
    )


def sign_server_key_exchange(
    private_key: Any, scheme: int, client_random: bytes, server_random: bytes, params: bytes
) -> bytes:
    """The TLS 1.2 ServerKeyExchange signature over the randoms and the params."""
    content = server_key_exchange_content(client_random, server_random, params)
    return sign(private_key, scheme, content, version=ProtocolVersion.TLS12)


def verify_server_key_exchange(
    public_key: Any,
    scheme: int,
    client_random: bytes,
    server_random: bytes,
    params: bytes,
    signature: bytes,
) -> None:
    """Check a TLS 1.2 ServerKeyExchange signature; raises DecryptError on mismatch."""
    verify(
        public_key,
        scheme,
        server_key_exchange_content(client_random, server_random, params),
        signature,
        version=ProtocolVersion.TLS12,
    )


def sign_certificate_verify_12(
    private_key: Any, scheme: int, handshake_messages: bytes
) -> CertificateVerify:
    """TLS 1.2 client CertificateVerify: a signature over all handshake messages so far (RFC 5246 §7.4.8)."""
    return CertificateVerify(
        scheme, sign(private_key, scheme, handshake_messages, version=ProtocolVersion.TLS12)
    )


def verify_certificate_verify_12(
    public_key: Any, message: CertificateVerify, handshake_messages: bytes
) -> None:
    verify(
        public_key,
        message.algorithm,
        handshake_messages,
        message.signature,
        version=ProtocolVersion.TLS12,
    )


def default_scheme(key: Any, version: int = ProtocolVersion.TLS13) -> int:
    """The natural scheme for a key: RSA-PSS-SHA256 (or PKCS#1 in TLS 1.2), ECDSA with its curve's hash, Ed25519, ML-DSA."""
    public = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(public, rsa.RSAPublicKey):
        return SignatureScheme.rsa_pss_rsae_sha256
    if isinstance(public, ec.EllipticCurvePublicKey):
        return {
            "secp256r1": SignatureScheme.ecdsa_secp256r1_sha256,
            "secp384r1": SignatureScheme.ecdsa_secp384r1_sha384,
            "secp521r1": SignatureScheme.ecdsa_secp521r1_sha512,
        }[public.curve.name]
    if isinstance(public, ed25519.Ed25519PublicKey):
        return SignatureScheme.ed25519
    if isinstance(public, ed448.Ed448PublicKey):
        return SignatureScheme.ed448
    for scheme, (_, public_type) in MLDSA_KEYS.items():
        if isinstance(public, public_type):
            return scheme
    raise IllegalParameter("no signature scheme for this key type", seen=type(public).__name__)
