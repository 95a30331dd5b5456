"""A teaching PKI: certificates and chains built with every knob a keyword.

- :func:`issue_certificate` makes one certificate: key type, validity window, names,
  SANs (DNS, IP, wildcard), basicConstraints, keyUsage, extendedKeyUsage, name
  constraints, extra (critical) extensions; signed by an issuer or self-signed.
- :func:`build_chain` makes root -> intermediate(s) -> leaf with sensible defaults, and
  :class:`Chain` carries it to ``validate_chain`` (``validation.py``) and to OpenSSL.
- Everything is deterministic given ``rng`` and ``now``: a notebook's chain is the same
  on every run and never expires during the course (:data:`LAB_NOW`).

``cryptography``'s x509 builders do all the encoding and signing. Taught in notebook
03_certificates.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from ..rng import Rng, seeded_rng

KeyType = str  # "ecdsa-p256" | "ecdsa-p384" | "rsa" | "rsa-b" | "ed25519" | "mldsa44|65|87"

# ML-DSA (FIPS 204) keys, derived from a 32-byte seed; certificates per
# draft-ietf-lamps-dilithium-certificates (no parameters, no pre-hash). Notebook 10_post_quantum.
MLDSA_KEY_TYPES: dict[str, Any] = {
    "mldsa44": mldsa.MLDSA44PrivateKey,
    "mldsa65": mldsa.MLDSA65PrivateKey,
    "mldsa87": mldsa.MLDSA87PrivateKey,
}

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


@functools.cache
def teaching_rsa_key(name: str = "a") -> rsa.RSAPrivateKey:
    """A fixed RSA-2048 key shipped with tlslab (``cryptography`` cannot derive RSA keys from a
    seed, and notebooks must show the same bytes every run). Public knowledge: teaching only.
    Loaded once per process: checking an RSA key on load costs far more than using it."""
    from importlib import resources

    pem = resources.files("tlslab.vectors").joinpath(f"teaching_rsa_2048_{name}.pem").read_bytes()
    key = load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def real_now() -> dt.datetime:
    """The actual current time (UTC), for certificates that real peers such as OpenSSL must accept.
    Notebooks otherwise use the fixed :data:`LAB_NOW`."""
    return dt.datetime.now(dt.timezone.utc)


def make_key(key_type: KeyType, rng: Rng) -> Any:
    """A private key of ``key_type``, drawn from ``rng`` (RSA keys are the shipped teaching keys)."""
    if key_type == "ecdsa-p256":
        return ecdsa_p256_key(rng)
    if key_type == "ecdsa-p384":
        order = int(
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
            16,
        )
        return ec.derive_private_key(
            int.from_bytes(rng(56), "big") % (order - 1) + 1, ec.SECP384R1()
        )
    if key_type == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(rng(32))
    if key_type in ("rsa", "rsa-a"):
        return teaching_rsa_key("a")
    if key_type == "rsa-b":
        return teaching_rsa_key("b")
    if key_type in MLDSA_KEY_TYPES:
        return mldsa_key(key_type, rng)
    raise ValueError(
        f"unsupported key_type {key_type!r}: use ecdsa-p256, ecdsa-p384, rsa, rsa-b, ed25519, "
        "mldsa44, mldsa65 or mldsa87"
    )


def mldsa_key(key_type: KeyType, rng: Rng) -> Any:
    """An ML-DSA private key ("mldsa44", "mldsa65" or "mldsa87") from a 32-byte seed drawn from
    ``rng``: the same key every run with a seeded rng. (Signatures are still randomized.)"""
    return MLDSA_KEY_TYPES[key_type].from_seed_bytes(rng(32))


def _signature_hash(key: Any) -> hashes.SHA256 | hashes.SHA384 | None:
    if isinstance(key, (ed25519.Ed25519PrivateKey, *MLDSA_KEY_TYPES.values())):
        return None  # these sign the whole message: no separate hash
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        return hashes.SHA384()
    return hashes.SHA256()


_HASHES: dict[str, Any] = {
    "sha1": hashes.SHA1(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_KEY_USAGE_FLAGS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)
_EKU = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
    "any": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}


def _tagged(value: str) -> x509.GeneralName | None:
    """``dn:O=Foo Corp`` (directoryName, RFC 4514 order), ``email:a@b.example`` (rfc822Name),
    ``uri:https://x.example/`` (uniformResourceIdentifier); None for a plain DNS name or IP."""
    kind, sep, rest = value.partition(":")
    if not sep:
        return None
    if kind == "dn":
        return x509.DirectoryName(x509.Name.from_rfc4514_string(rest))
    if kind == "email":
        return x509.RFC822Name(rest)
    if kind == "uri":
        return x509.UniformResourceIdentifier(rest)
    return None


def _general_name(value: str) -> x509.GeneralName:
    tagged = _tagged(value)
    if tagged is not None:
        return tagged
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def _subtree(value: str) -> x509.GeneralName:
    tagged = _tagged(value)
    if tagged is not None:
        return tagged
    try:
        return x509.IPAddress(ipaddress.ip_network(value))
    except ValueError:
        return x509.DNSName(value)


@dataclass(frozen=True, repr=False)
class Issued(Credential):
    """A certificate from :func:`issue_certificate`, with its private key: a :class:`Credential`
    that also knows its place in a chain (its subject ``name`` and its issuer)."""

    @property
    def der(self) -> bytes:
        return self.cert_der

    @property
    def name(self) -> str:
        return self.certificate.subject.rfc4514_string() or "(empty subject)"

    def __repr__(self) -> str:
        return f"Issued({self.name}, issuer={self.certificate.issuer.rfc4514_string()})"


def issue_certificate(
    common_name: str,
    *,
    issuer: Issued | None = None,
    key_type: KeyType = "ecdsa-p256",
    rng: Rng | None = None,
    now: dt.datetime = LAB_NOW,
    valid_from_days: float = -1,
    valid_for_days: float = 365,
    san: Sequence[str] | None = None,
    ca: bool = False,
    path_length: int | None = None,
    key_usage: Sequence[str] | None = None,
    extended_key_usage: Sequence[str] | None = None,
    permitted_names: Sequence[str] = (),
    excluded_names: Sequence[str] = (),
    basic_constraints: bool = True,
    basic_constraints_critical: bool = True,
    subject_key_id: bool = True,
    authority_key_id: bool = True,
    unknown_critical_extension: bool = False,
    corrupt_signature: bool = False,
    subject: str | None = None,
    pss: tuple[str, str, int] | None = None,
) -> Issued:
    """Issue one certificate. Every field a validator checks is a keyword.

    Defaults follow the CA/Browser Forum profile: a CA gets basicConstraints (critical,
    cA=TRUE), keyUsage keyCertSign+cRLSign; a leaf gets keyUsage digitalSignature,
    extendedKeyUsage serverAuth and a DNS SAN equal to ``common_name``. ``issuer=None``
    makes a self-signed certificate. ``corrupt_signature`` flips one bit of the signature
    (for the gallery of broken chains).

    ``san``, ``permitted_names`` and ``excluded_names`` take DNS names, IP addresses (networks for
    constraints) and tagged names: ``dn:O=Foo Corp``, ``email:a@b.example``, ``uri:...``.
    ``subject`` replaces the subject DN (RFC 4514 string, e.g. ``CN=x,O=Evil Corp``).
    ``pss=(hash, mgf1_hash, salt_length)`` signs with RSASSA-PSS (an RSA issuer), e.g.
    ``("sha256", "sha256", 32)``."""
    rng = rng or seeded_rng(f"issue {common_name} {key_type}")
    key = make_key(key_type, rng)
    signer_key = issuer.private_key if issuer else key
    subject_name = (
        x509.Name.from_rfc4514_string(subject)
        if subject is not None
        else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        if common_name
        else x509.Name([])
    )
    issuer_name = issuer.certificate.subject if issuer else subject_name
    start = now + dt.timedelta(days=valid_from_days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(rng(16), "big") >> 1 | 1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=valid_for_days))
    )
    if basic_constraints:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None),
            critical=basic_constraints_critical,
        )
    usage = (
        key_usage
        if key_usage is not None
        else (["key_cert_sign", "crl_sign"] if ca else ["digital_signature"])
    )
    if usage:
        flags = {flag: flag in usage for flag in _KEY_USAGE_FLAGS}
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    ekus = extended_key_usage if extended_key_usage is not None else ([] if ca else ["serverAuth"])
    if ekus:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([_EKU[e] for e in ekus]), critical=False
        )
    names = san if san is not None else ([] if ca else [common_name])
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in names]),
            critical=len(subject_name) == 0,
        )
    if permitted_names or excluded_names:
        builder = builder.add_extension(
            x509.NameConstraints(
                permitted_subtrees=[_subtree(n) for n in permitted_names] or None,
                excluded_subtrees=[_subtree(n) for n in excluded_names] or None,
            ),
            critical=True,
        )
    if subject_key_id:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    if authority_key_id and (issuer is not None or not ca):
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
    if unknown_critical_extension:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.55738.666.1"), b"\x05\x00"),
            critical=True,
        )
    if pss is not None:
        digest, mgf_digest, salt = (_HASHES[pss[0]], _HASHES[pss[1]], pss[2])
        padding_ = padding.PSS(mgf=padding.MGF1(mgf_digest), salt_length=salt)
        certificate = builder.sign(signer_key, digest, rsa_padding=padding_)
    else:
        # RFC 6979 deterministic ECDSA: the same teaching PKI yields the same bytes on every run
        ec_key = isinstance(signer_key, ec.EllipticCurvePrivateKey)
        certificate = builder.sign(
            signer_key, _signature_hash(signer_key), ecdsa_deterministic=True if ec_key else None
        )
    if corrupt_signature:
        der = bytearray(certificate.public_bytes(Encoding.DER))
        der[-3] ^= 0x01
        certificate = x509.load_der_x509_certificate(bytes(der))
    return Issued(certificate, key)


@dataclass(frozen=True)
class Chain:
    """A trust anchor, intermediates (closest to the root last) and a leaf."""

    root: Issued
    intermediates: tuple[Issued, ...]
    leaf: Issued
    extra_roots: tuple[Issued, ...] = field(default=())

    @property
    def trust_roots(self) -> list[x509.Certificate]:
        return [self.root.certificate, *(r.certificate for r in self.extra_roots)]

    @property
    def intermediate_certificates(self) -> list[x509.Certificate]:
        return [i.certificate for i in self.intermediates]

    def served(self) -> list[bytes]:
        """What a server sends in its Certificate message: leaf first, then intermediates (DER)."""
        return [self.leaf.der, *(i.der for i in self.intermediates)]

    def __repr__(self) -> str:
        parts = [self.leaf.name, *(i.name for i in self.intermediates), self.root.name + " (root)"]
        return "Chain(" + " <- ".join(parts) + ")"


def build_chain(
    hostname: str = "lab.example",
    *,
    intermediates: int = 1,
    key_type: KeyType = "ecdsa-p256",
    now: dt.datetime = LAB_NOW,
    seed: str = "teaching pki",
    root_options: dict[str, Any] | None = None,
    intermediate_options: dict[str, Any] | None = None,
    leaf_options: dict[str, Any] | None = None,
) -> Chain:
    """A root, ``intermediates`` intermediate CAs and a leaf for ``hostname``.

    The ``*_options`` dicts pass knobs to :func:`issue_certificate` for that tier, e.g.
    ``leaf_options={"valid_for_days": -2}`` or ``intermediate_options={"ca": False}``."""
    rng = seeded_rng(seed)
    root = issue_certificate(
        "tlslab Teaching Root CA",
        ca=True,
        key_type=key_type,
        rng=rng,
        now=now,
        valid_from_days=-30,
        valid_for_days=3650,
        **(root_options or {}),
    )
    issuer = root
    chain: list[Issued] = []
    for level in range(intermediates):
        options = {"ca": True, **(intermediate_options or {})}
        issuer = issue_certificate(
            f"tlslab Teaching Intermediate CA {level + 1}",
            issuer=issuer,
            key_type=key_type,
            rng=rng,
            now=now,
            valid_from_days=-20,
            valid_for_days=1825,
            **options,
        )
        chain.insert(0, issuer)
    leaf_knobs = {"key_type": key_type, **(leaf_options or {})}
    leaf = issue_certificate(hostname, issuer=issuer, rng=rng, now=now, **leaf_knobs)
    return Chain(root, tuple(chain), leaf)


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Load PEM (one or many) or a single DER certificate."""
    raw = data.encode() if isinstance(data, str) else data
    if b"-----BEGIN" in raw:
        return list(x509.load_pem_x509_certificates(raw))
    return [x509.load_der_x509_certificate(raw)]


def describe_certificate(certificate: x509.Certificate) -> list[tuple[str, str]]:
    """The fields of a certificate a learner looks at, as (field, value) rows."""
    rows = [
        ("version", certificate.version.name),
        ("serial_number", hex(certificate.serial_number)),
        (
            "signature_algorithm",
            getattr(
                certificate.signature_algorithm_oid,
                "_name",
                str(certificate.signature_algorithm_oid),
            ),
        ),
        ("issuer", certificate.issuer.rfc4514_string()),
        ("validity.not_before", certificate.not_valid_before_utc.isoformat()),
        ("validity.not_after", certificate.not_valid_after_utc.isoformat()),
        ("subject", certificate.subject.rfc4514_string()),
        ("subject_public_key", type(certificate.public_key()).__name__.replace("_", "")),
    ]
    try:
        extensions = list(certificate.extensions)
    except ValueError as exc:
        return [*rows, ("extensions", f"unparseable: {exc}")]
    for ext in extensions:
        name = getattr(ext.oid, "_name", ext.oid.dotted_string)
        rows.append(
            (f"extension {name}{' (critical)' if ext.critical else ''}", _short_value(ext.value))
        )
    return rows


def _short_value(value: Any) -> str:
    if isinstance(value, x509.SubjectAlternativeName):
        return ", ".join(str(n.value) for n in value)
    if isinstance(value, x509.BasicConstraints):
        return f"cA={value.ca}" + (
            f", pathLen={value.path_length}" if value.path_length is not None else ""
        )
    if isinstance(value, x509.KeyUsage):
        flags = []
        for flag in _KEY_USAGE_FLAGS:
            try:
                if getattr(value, flag):
                    flags.append(flag)
            except ValueError:
                pass
        return ", ".join(flags)
    if isinstance(value, x509.ExtendedKeyUsage):
        return ", ".join(getattr(o, "_name", o.dotted_string) for o in value)
    if isinstance(value, (x509.SubjectKeyIdentifier,)):
        return value.digest.hex()
    if isinstance(value, x509.AuthorityKeyIdentifier):
        return (value.key_identifier or b"").hex()
    if isinstance(value, x509.NameConstraints):
        permitted = ", ".join(str(n.value) for n in value.permitted_subtrees or [])
        excluded = ", ".join(str(n.value) for n in value.excluded_subtrees or [])
        return f"permitted: {permitted or '-'}; excluded: {excluded or '-'}"
    return str(value)[:80]


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
    key), "ed25519" or "mldsa44"/"mldsa65"/"mldsa87"."""
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
    elif key_type in MLDSA_KEY_TYPES:
        key = mldsa_key(key_type, rng)
        algorithm = None
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
        .sign(
            key,
            algorithm,
            ecdsa_deterministic=True if isinstance(key, ec.EllipticCurvePrivateKey) else None,
        )
    )
    return Credential(cert, key)
