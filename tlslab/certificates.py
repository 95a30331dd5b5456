"""Certificates for the lab: a small, deterministic certificate builder.

``self_signed_certificate`` makes a key and certificate from a seed and a fixed
``now``, so a notebook's certificate is the same on every run and never expires
during the course. The full teaching PKI and path validation grow here in the
certificates chapter (notebook 03).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .rng import Rng, seeded_rng

# A fixed teaching "now": notebooks and tests pass it so nothing ever expires.
LAB_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class Credential:
    """A certificate and its private key, with PEM helpers for ``ssl`` and OpenSSL."""

    certificate: x509.Certificate
    private_key: Any

    @property
    def cert_der(self) -> bytes:
        return self.certificate.public_bytes(Encoding.DER)

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(Encoding.PEM)

    def key_pem(self) -> bytes:
        return bytes(
            self.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        )

    def __repr__(self) -> str:
        return f"Credential({self.certificate.subject.rfc4514_string()}, key={type(self.private_key).__name__})"


def ecdsa_p256_key(rng: Rng) -> ec.EllipticCurvePrivateKey:
    """A P-256 key drawn from ``rng`` (deterministic with a seeded rng)."""
    return ec.derive_private_key(
        int.from_bytes(rng(40), "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1()
    )


def teaching_rsa_key(name: str = "a") -> rsa.RSAPrivateKey:
    """A fixed RSA-2048 key shipped with tlslab (``cryptography`` cannot derive RSA keys from a
    seed, and notebooks must show the same bytes every run). Public knowledge: teaching only."""
    from importlib import resources

    pem = resources.files("tlslab.vectors").joinpath(f"teaching_rsa_2048_{name}.pem").read_bytes()
    key = load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def self_signed_certificate(
    hostname: str = "localhost",
    *,
    key_type: str = "ecdsa-p256",
    rng: Rng | None = None,
    now: dt.datetime = LAB_NOW,
    days: int = 3650,
) -> Credential:
    """A self-signed server certificate for ``hostname`` (DNS SAN, serverAuth), valid from
    ``now`` - 1 day for ``days`` days. ``key_type``: "ecdsa-p256", "rsa" (the shipped teaching
    key) or "ed25519"."""
    rng = rng or seeded_rng(f"self-signed {hostname}")
    key: Any
    if key_type == "ecdsa-p256":
        key = ecdsa_p256_key(rng)
        algorithm: hashes.SHA256 | None = hashes.SHA256()
    elif key_type == "ed25519":
        key = ed25519.Ed25519PrivateKey.from_private_bytes(rng(32))
        algorithm = None
    elif key_type == "rsa":
        key = teaching_rsa_key()
        algorithm = hashes.SHA256()
    else:
        raise ValueError(f"unsupported key_type {key_type!r}: use 'ecdsa-p256', 'rsa' or 'ed25519'")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(rng(8), "big") >> 1 | 1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, algorithm)
    )
    return Credential(cert, key)
