"""Which root certificates the client trusts when it talks to real websites.

A TLS client only believes a server's certificate if the chain ends at a root it already trusts
(RFC 5280 §6.1; the "trust anchor"). Browsers and operating systems ship a list of a hundred or
so such roots. :func:`system_trust_roots` finds the one this machine has, the way OpenSSL does:

1. the bundle file OpenSSL itself was built to use (``ssl.get_default_verify_paths()``; the
   ``SSL_CERT_FILE`` variable overrides it), or its hashed directory (``SSL_CERT_DIR``);
2. the usual bundle files of Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine, macOS and the BSDs;
3. on Windows, the system's ROOT and CA stores;
4. failing all of those, ``certifi``'s copy of Mozilla's list.

``python -m tlslab client HOST 443`` uses it when no ``--cafile`` is given; ``--cafile`` replaces
it (:func:`load_trust_roots`). Path validation up to a trust anchor is taught in notebook
03_certificates.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.utils import CryptographyDeprecationWarning

USUAL_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL, CentOS
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora, RHEL (extracted)
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/ssl/cert.pem",  # macOS, Alpine, OpenBSD
    "/usr/local/etc/openssl/cert.pem",  # Homebrew
    "/usr/local/share/certs/ca-root-nss.crt",  # FreeBSD
)

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class TrustStore:
    """Root certificates and where they came from; ``skipped`` counts entries that did not parse."""

    roots: tuple[x509.Certificate, ...]
    source: str
    skipped: int = 0

    def __repr__(self) -> str:
        extra = f", {self.skipped} skipped" if self.skipped else ""
        return f"<TrustStore {len(self.roots)} roots from {self.source}{extra}>"


def parse_certificates(data: bytes) -> tuple[list[x509.Certificate], int]:
    """Every certificate in a PEM bundle (or one DER certificate), and how many could not be read.

    One unreadable root (an old one with a negative serial number, say) must not cost the others."""
    blocks = _PEM_BLOCK.findall(data)
    if not blocks and data[:1] == b"\x30":
        blocks = [data]
    certificates, skipped = [], 0
    for block in blocks:
        try:
            with warnings.catch_warnings():  # old roots with a non-positive serial still load
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                if block.startswith(b"-----"):
                    certificates.append(x509.load_pem_x509_certificate(block))
                else:
                    certificates.append(x509.load_der_x509_certificate(block))
        except ValueError:
            skipped += 1
    return certificates, skipped


def load_trust_roots(path: str | os.PathLike[str]) -> TrustStore:
    """Roots from a PEM bundle file, or from every file in a directory (``--cafile``).

    Raises ``ValueError`` if there is not a single certificate there."""
    where = Path(path)
    files = sorted(p for p in where.iterdir() if p.is_file()) if where.is_dir() else [where]
    roots: list[x509.Certificate] = []
    skipped = 0
    seen: set[bytes] = set()
    for file in files:
        found, bad = parse_certificates(file.read_bytes())
        skipped += bad
        for certificate in found:
            fingerprint = certificate.fingerprint(hashes.SHA256())
            if fingerprint not in seen:
                seen.add(fingerprint)
                roots.append(certificate)
    if not roots:
        raise ValueError(f"no certificate found in {where}")
    return TrustStore(tuple(roots), str(where), skipped)


def _candidates() -> list[str]:
    paths = ssl.get_default_verify_paths()
    found = [
        os.environ.get(paths.openssl_cafile_env or "SSL_CERT_FILE", ""),
        paths.cafile or "",
        paths.openssl_cafile,
        *USUAL_BUNDLES,
        os.environ.get(paths.openssl_capath_env or "SSL_CERT_DIR", ""),
        paths.capath or "",
    ]
    return [p for p in found if p and os.path.exists(p)]


def _windows_store() -> TrustStore | None:
    enum = getattr(ssl, "enum_certificates", None)
    if enum is None:
        return None
    roots: list[x509.Certificate] = []
    for store in ("ROOT", "CA"):
        for der, encoding, _trust in enum(store):
            if encoding == "x509_asn":
                try:
                    roots.append(x509.load_der_x509_certificate(der))
                except ValueError:
                    continue
    return TrustStore(tuple(roots), "the Windows certificate store") if roots else None


def certifi_trust_roots() -> TrustStore:
    """Mozilla's list, as packaged by ``certifi``."""
    import certifi

    return load_trust_roots(certifi.where())


def system_trust_roots() -> TrustStore:
    """The machine's trusted roots (see the module doc for the order), else ``certifi``'s."""
    for candidate in _candidates():
        try:
            return load_trust_roots(candidate)
        except (OSError, ValueError):
            continue
    if sys.platform == "win32":
        store = _windows_store()
        if store is not None:
            return store
    return certifi_trust_roots()
