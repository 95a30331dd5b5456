"""Certificate revocation lists, checked by hand (RFC 5280 §5 and §6.3).

A CRL is the issuer's signed list of serial numbers it has revoked. Before a relying party
believes one, it checks what RFC 5280 §6.3.3 lists: the CRL names the certificate's issuer,
the issuer's key signed it, the issuer may sign CRLs (keyUsage cRLSign, if keyUsage is
present), the CRL is current (thisUpdate <= now <= nextUpdate), and it carries no critical
extension the checker does not understand (its cRLNumber is present and non-critical,
§5.2.3). Only then is "serial on the list" a verdict.

Browsers mostly stopped fetching CRLs: lists grew to megabytes, a fetch that fails has to
fail open, and OCSP leaked browsing history. Firefox ships every revocation compressed
(CRLite), Chrome a curated CRLSet, and the CA/B Forum is moving to certificates that live
days, not years. Taught in notebook 03_certificates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID

from ..errors import AlertError, BadCertificate, CertificateRevoked
from .names import same_name

Record = Callable[[x509.Certificate, str, bool, str, "type[AlertError] | None", str], None]
_UNDERSTOOD_CRL = {
    ExtensionOID.CRL_NUMBER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.ISSUER_ALTERNATIVE_NAME,
}
_UNDERSTOOD_ENTRY = {CRLEntryExtensionOID.CRL_REASON, CRLEntryExtensionOID.INVALIDITY_DATE}


def crls_for(
    crls: Sequence[x509.CertificateRevocationList], cert: x509.Certificate
) -> list[x509.CertificateRevocationList]:
    """The CRLs whose issuer is the certificate's issuer (RFC 5280 §6.3.3 (b)): a serial on a
    list from another CA says nothing about this certificate. Names compare as RFC 5280 §7.1
    says (ASCII case and spaces folded, as OpenSSL does): a CRL the CA signed under a
    differently-cased name is still its CRL (ignoring it would accept a revoked certificate)."""
    return [crl for crl in crls if same_name(crl.issuer, cert.issuer)]


def crl_signed_by_issuer(
    record: Record,
    crl: x509.CertificateRevocationList,
    cert: x509.Certificate,
    issuer: x509.Certificate,
) -> None:
    """RFC 5280 §6.3.3 (f)/(g): the CRL's signature verifies with the certificate issuer's key."""
    try:
        ok = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        ok = False
    record(
        cert,
        "CRL signature",
        ok,
        "verifies with the issuer's key" if ok else "does not verify",
        BadCertificate,
        "RFC 5280 §6.3.3 (g)",
    )


def issuer_may_sign_crls(record: Record, cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """RFC 5280 §6.3.3 (f), §4.2.1.3: if the issuer has keyUsage, it must assert cRLSign."""
    try:
        ku = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        record(
            cert,
            "CRL issuer cRLSign",
            True,
            "issuer has no keyUsage: no restriction",
            None,
            "RFC 5280 §6.3.3 (f)",
        )
        return
    record(
        cert,
        "CRL issuer cRLSign",
        ku.crl_sign,
        "cRLSign asserted" if ku.crl_sign else "the issuer's keyUsage lacks cRLSign",
        BadCertificate,
        "RFC 5280 §6.3.3 (f)",
    )


def crl_is_current(
    record: Record, crl: x509.CertificateRevocationList, cert: x509.Certificate, now: dt.datetime
) -> None:
    """RFC 5280 §6.3.3 (a): thisUpdate <= now, and nextUpdate (if present) >= now."""
    start, end = crl.last_update_utc, crl.next_update_utc
    ok = start <= now and (end is None or now <= end)
    detail = (
        f"issued {start:%Y-%m-%d}, next update {end:%Y-%m-%d}"
        if end
        else f"issued {start:%Y-%m-%d}"
    )
    record(
        cert,
        "CRL validity",
        ok,
        detail if ok else f"stale or future CRL: {detail}",
        BadCertificate,
        "RFC 5280 §6.3.3 (a)",
    )


def crl_extensions_understood(
    record: Record, crl: x509.CertificateRevocationList, cert: x509.Certificate
) -> None:
    """RFC 5280 §5.2.3: cRLNumber MUST be present and non-critical; §5.2: a critical extension
    the checker does not understand makes the CRL unusable."""
    try:
        extensions = list(crl.extensions)
    except ValueError as exc:
        record(cert, "CRL extensions", False, f"malformed: {exc}", BadCertificate, "RFC 5280 §5.2")
        return
    number = [e for e in extensions if e.oid == ExtensionOID.CRL_NUMBER]
    unknown = [
        e.oid.dotted_string for e in extensions if e.critical and e.oid not in _UNDERSTOOD_CRL
    ]
    problem = (
        "cRLNumber missing"
        if not number
        else "cRLNumber must not be critical"
        if number[0].critical
        else f"unknown critical extension {unknown[0]}"
        if unknown
        else ""
    )
    record(
        cert,
        "CRL extensions",
        not problem,
        problem or "cRLNumber present, nothing unknown is critical",
        BadCertificate,
        "RFC 5280 §5.2.3",
    )


def not_revoked(
    record: Record, crl: x509.CertificateRevocationList, cert: x509.Certificate
) -> None:
    """RFC 5280 §6.3.3 (i)/(j): the certificate's serial number is not on the list."""
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None:
        critical = [
            e.oid.dotted_string
            for e in entry.extensions
            if e.critical and e.oid not in _UNDERSTOOD_ENTRY
        ]
        if critical:
            record(
                cert,
                "revocation",
                False,
                f"CRL entry has unknown critical extension {critical[0]}",
                BadCertificate,
                "RFC 5280 §5.3",
            )
    record(
        cert,
        "revocation",
        entry is None,
        "serial not on the issuer's CRL"
        if entry is None
        else f"revoked on {entry.revocation_date_utc:%Y-%m-%d} (serial {cert.serial_number:#x})",
        CertificateRevoked,
        "RFC 5280 §6.3.3 (i)",
    )


def check_revocation(
    record: Record,
    crls: Sequence[x509.CertificateRevocationList],
    cert: x509.Certificate,
    issuer: x509.Certificate,
    now: dt.datetime,
) -> None:
    """Every check of RFC 5280 §6.3.3 for ``cert`` against each CRL from its issuer. A
    certificate with no CRL from its issuer is not checked (status undetermined; browsers treat
    that as "not revoked", and so does tlslab)."""
    for crl in crls_for(crls, cert):
        crl_signed_by_issuer(record, crl, cert, issuer)
        issuer_may_sign_crls(record, cert, issuer)
        crl_is_current(record, crl, cert, now)
        crl_extensions_understood(record, crl, cert)
        not_revoked(record, crl, cert)


def issue_crl(
    issuer: Any,
    revoked: Sequence[int] = (),
    *,
    now: dt.datetime | None = None,
    valid_for_days: float = 7,
    number: int = 1,
) -> x509.CertificateRevocationList:
    """A CRL from ``issuer`` (an ``Issued`` CA of the teaching PKI) revoking the serial numbers
    in ``revoked``: thisUpdate one hour before ``now`` (default LAB_NOW), nextUpdate
    ``valid_for_days`` later, a cRLNumber (RFC 5280 §5.2.3), signed with the CA's key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from .certificates import LAB_NOW

    start = (now or LAB_NOW) - dt.timedelta(hours=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(start)
        .next_update(start + dt.timedelta(days=valid_for_days))
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(start)
        builder = builder.add_revoked_certificate(entry.build())
    key = issuer.private_key
    return builder.sign(
        key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    )


def describe_crl(crl: x509.CertificateRevocationList) -> list[tuple[str, str]]:
    """The fields of a CRL a learner looks at, as (field, value) rows (RFC 5280 §5.1)."""
    rows = [
        ("issuer", crl.issuer.rfc4514_string()),
        ("thisUpdate", crl.last_update_utc.isoformat()),
        ("nextUpdate", crl.next_update_utc.isoformat() if crl.next_update_utc else "(none)"),
        ("signature_algorithm", getattr(crl.signature_algorithm_oid, "_name", "?")),
    ]
    rows += [
        (
            f"extension {getattr(e.oid, '_name', e.oid.dotted_string)}",
            str(getattr(e.value, "crl_number", e.value)),
        )
        for e in crl.extensions
    ]
    rows += [
        (f"revoked serial {entry.serial_number:#x}", entry.revocation_date_utc.isoformat())
        for entry in crl
    ]
    return rows
