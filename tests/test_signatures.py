"""Handshake signatures: RFC 8448's CertificateVerify, every scheme round trip, and signatures
checked by the openssl command in both directions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from tlslab.constants import ProtocolVersion
from tlslab.constants import SignatureScheme as S
from tlslab.errors import DecryptError, IllegalParameter
from tlslab.pki.certificates import make_key
from tlslab.rng import seeded_rng
from tlslab.stages.signatures import (
    certificate_verify_content,
    sign,
    sign_certificate_verify,
    sign_server_key_exchange,
    verify,
    verify_certificate_verify,
    verify_server_key_exchange,
)
from tlslab.wire.messages import CertificateVerify, decode_handshake

H = bytes.fromhex
CASES = [
    (S.rsa_pss_rsae_sha256, "rsa"),
    (S.rsa_pss_rsae_sha384, "rsa"),
    (S.rsa_pss_rsae_sha512, "rsa"),
    (S.ecdsa_secp256r1_sha256, "ecdsa-p256"),
    (S.ecdsa_secp384r1_sha384, "ecdsa-p384"),
    (S.ed25519, "ed25519"),
]


def test_rfc8448_certificate_verify(rfc8448: dict[str, Any]) -> None:
    cert = x509.load_der_x509_certificate(H(rfc8448["keys"]["server_certificate_der"]))
    cv = decode_handshake(H(rfc8448["handshake_messages"]["certificate_verify"]))
    assert isinstance(cv, CertificateVerify)
    transcript = H(rfc8448["transcript_hashes"]["ch_to_certificate"])
    assert (
        certificate_verify_content(transcript).hex() == rfc8448["certificate_verify_signed_content"]
    )
    verify_certificate_verify(cert.public_key(), cv, transcript)
    with pytest.raises(DecryptError, match="rsa_pss_rsae_sha256"):
        verify_certificate_verify(cert.public_key(), cv, bytes(32))
    with pytest.raises(DecryptError):  # a client-context signature is not a server one
        verify_certificate_verify(cert.public_key(), cv, transcript, server=False)


@pytest.mark.parametrize("scheme,key_type", CASES, ids=[S(c[0]).name for c in CASES])
def test_round_trip_and_tamper(scheme: int, key_type: str) -> None:
    key = make_key(key_type, seeded_rng(key_type))
    cv = sign_certificate_verify(key, scheme, bytes(range(32)))
    verify_certificate_verify(key.public_key(), cv, bytes(range(32)))
    bad = CertificateVerify(cv.algorithm, cv.signature[:-1] + bytes([cv.signature[-1] ^ 1]))
    with pytest.raises(DecryptError):
        verify_certificate_verify(key.public_key(), bad, bytes(range(32)))


def test_pkcs1_is_rejected_in_tls13_but_allowed_in_tls12() -> None:
    key = make_key("rsa", seeded_rng(1))
    with pytest.raises(IllegalParameter, match="not allowed in TLS 1.3"):
        sign(key, S.rsa_pkcs1_sha256, b"x")
    with pytest.raises(IllegalParameter):
        verify(key.public_key(), S.rsa_pkcs1_sha256, b"x", b"sig")
    params = b"\x03\x00\x1d\x20" + bytes(32)
    signature = sign_server_key_exchange(
        key, S.rsa_pkcs1_sha256, bytes(32), bytes(range(32)), params
    )
    verify_server_key_exchange(
        key.public_key(), S.rsa_pkcs1_sha256, bytes(32), bytes(range(32)), params, signature
    )
    with pytest.raises(DecryptError):  # the randoms are part of what is signed
        verify_server_key_exchange(
            key.public_key(), S.rsa_pkcs1_sha256, bytes(32), bytes(32), params, signature
        )


def test_scheme_must_fit_key() -> None:
    p256 = make_key("ecdsa-p256", seeded_rng(2))
    with pytest.raises(IllegalParameter, match="does not fit"):
        sign(p256, S.ecdsa_secp384r1_sha384, b"x")  # TLS 1.3 binds the curve to the scheme
    sign(p256, S.ecdsa_secp384r1_sha384, b"x", version=ProtocolVersion.TLS12)  # TLS 1.2 does not
    with pytest.raises(IllegalParameter):
        sign(p256, S.rsa_pss_rsae_sha256, b"x")


OPENSSL = shutil.which("openssl")


def _openssl_args(scheme: int) -> tuple[list[str], bool]:
    """(openssl dgst/pkeyutl options, uses pkeyutl -rawin)"""
    if scheme == S.ed25519:
        return [], True
    digest = {
        S.rsa_pss_rsae_sha256: "-sha256",
        S.rsa_pss_rsae_sha384: "-sha384",
        S.rsa_pss_rsae_sha512: "-sha512",
        S.ecdsa_secp256r1_sha256: "-sha256",
        S.ecdsa_secp384r1_sha384: "-sha384",
    }[scheme]
    pss = (
        ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"]
        if scheme in (S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512)
        else []
    )
    return [digest, *pss], False


@pytest.mark.interop
@pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")
@pytest.mark.parametrize("scheme,key_type", CASES, ids=[S(c[0]).name for c in CASES])
def test_openssl_verifies_tlslab_and_back(tmp_path: Path, scheme: int, key_type: str) -> None:
    key = make_key(key_type, seeded_rng(f"openssl {key_type}"))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (tmp_path / "pub.pem").write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    content = certificate_verify_content(bytes(range(48)))
    (tmp_path / "content").write_bytes(content)
    options, raw = _openssl_args(scheme)
    # tlslab signs, openssl verifies
    (tmp_path / "sig").write_bytes(sign(key, scheme, content))
    if raw:
        cmd = [
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-rawin",
            "-in",
            "content",
            "-sigfile",
            "sig",
        ]
    else:
        cmd = ["dgst", *options, "-verify", "pub.pem", "-signature", "sig", "content"]
    out = subprocess.run([OPENSSL, *cmd], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0 and "Verified" in out.stdout + out.stderr, out.stderr
    # openssl signs, tlslab verifies
    if raw:
        cmd = ["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "content", "-out", "osig"]
    else:
        cmd = ["dgst", *options, "-sign", "key.pem", "-out", "osig", "content"]
    subprocess.run([OPENSSL, *cmd], cwd=tmp_path, check=True, capture_output=True)
    loaded = load_pem_private_key((tmp_path / "key.pem").read_bytes(), None)
    verify(loaded.public_key(), scheme, content, (tmp_path / "osig").read_bytes())
