"""Certificate path validation that explains itself (RFC 5280 §6, RFC 6125, CA/B Forum profile).

``validate_chain(leaf, intermediates, trust_roots, server_name, now)`` builds a path from the
server's certificate to a trusted root and returns a :class:`ValidationReport`: one line per
certificate per check, with a verdict and a reason. The policy follows the Web PKI profile
that ``cryptography.x509.verification`` implements, and every report also carries that
production verifier's verdict, so a learner sees both side by side:

- each certificate: X.509 v3, a serial of 1..20 octets and not negative, a non-empty issuer,
  valid at ``now``, no critical extension the validator does not understand;
- the leaf: not a CA, a subjectAltName that matches the server name (SAN only, never the
  CN; a wildcard only as the whole left-most label), serverAuth if it has an EKU, no
  keyCertSign, an authorityKeyIdentifier;
- each issuer: the child's issuer name equals its subject, the child's signature verifies
  with its key and uses a permitted algorithm, it is a CA (basicConstraints critical with
  cA=TRUE, keyUsage keyCertSign), its pathLenConstraint holds, its EKU (if any) allows
  serverAuth, its name constraints admit every name below it, its key is strong enough;
- the path ends at a certificate in the trust store, within 8 intermediates.

tlslab is deliberately a little stricter than ``cryptography`` where the CA/Browser Forum
Baseline Requirements say a certificate is misissued, because a learner should see those
rules: a leaf must carry an EKU with serverAuth and no anyExtendedKeyUsage, its CN (if any)
must be a character-for-character copy of a SAN, every CA needs a subjectKeyIdentifier,
intermediates need an authorityKeyIdentifier, trust anchors carry no EKU, serial numbers
are positive, RSA moduli are a multiple of 8 bits, and EC keys name their curve.
x509-limbo's expectations agree with these rules (tests/test_x509_limbo.py).

``strict=True`` raises the TLS error a client sends (bad_certificate, certificate_expired,
unknown_ca, unsupported_certificate). Taught in notebook 03_certificates.
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, SignatureAlgorithmOID

from ..errors import (
    AlertError,
    BadCertificate,
    CertificateExpired,
    UnknownCA,
    UnsupportedCertificate,
)

MAX_DEPTH = 8
WORK_BUDGET = 100  # candidate issuers tried per validation; bounds pathological chains
_UNDERSTOOD = {
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.EXTENDED_KEY_USAGE,
}
_PERMITTED_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA256,
    SignatureAlgorithmOID.RSA_WITH_SHA384,
    SignatureAlgorithmOID.RSA_WITH_SHA512,
    SignatureAlgorithmOID.RSASSA_PSS,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ECDSA_WITH_SHA512,
}
_PERMITTED_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
_NON_CRITICAL = {
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
}
NAME_CONSTRAINT_BUDGET = 1 << 16  # (names x subtrees) compared per validation


@dataclass(frozen=True, slots=True)
class Check:
    """One check on one certificate: what was checked, the verdict, and why."""

    certificate: str
    check: str
    ok: bool
    detail: str
    alert: type[AlertError] | None = None


class _Failed(Exception):
    def __init__(self, check: Check) -> None:
        super().__init__(check.detail)
        self.check = check


@dataclass
class ValidationReport:
    """Every check made, the path found (leaf first) and both verdicts."""

    server_name: str
    now: dt.datetime
    checks: list[Check] = field(default_factory=list)
    path: list[x509.Certificate] = field(default_factory=list)
    valid: bool = False
    production_verdict: bool | None = None
    production_detail: str = ""

    @property
    def failure(self) -> Check | None:
        """The check that decided a failed validation."""
        for check in reversed(self.checks):
            if not check.ok:
                return check
        return None

    @property
    def agrees_with_production(self) -> bool:
        return self.production_verdict is None or self.production_verdict == self.valid

    def raise_for_failure(self) -> None:
        """Raise the TLS error a client sends for this failure (strict mode)."""
        failure = self.failure
        if self.valid or failure is None:
            return
        raise (failure.alert or BadCertificate)(
            f"{failure.certificate}: {failure.check}: {failure.detail}"
        )

    def __str__(self) -> str:
        lines = [f"Validating for {self.server_name!r} at {self.now.isoformat()}"]
        for c in self.checks:
            lines.append(
                f"  [{'ok' if c.ok else 'FAIL'}] {c.certificate:34.34} {c.check:28} {c.detail}"
            )
        verdict = (
            "VALID" if self.valid else f"INVALID ({self.failure.check if self.failure else '?'})"
        )
        lines.append(f"tlslab: {verdict}")
        if self.production_verdict is not None:
            lines.append(
                f"cryptography.x509.verification: {'VALID' if self.production_verdict else 'INVALID'}"
                f"{' - ' + self.production_detail if self.production_detail else ''}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ValidationReport {'VALID' if self.valid else 'INVALID'} for {self.server_name!r}, {len(self.checks)} checks>"

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr style='background:{'#e6f4ea' if c.ok else '#fde7e9'}'><td>{'&#10004;' if c.ok else '&#10008;'}</td>"
            f"<td style='text-align:left'>{html.escape(c.certificate)}</td><td style='text-align:left'>{html.escape(c.check)}</td>"
            f"<td style='text-align:left'>{html.escape(c.detail)}</td></tr>"
            for c in self.checks
        )
        verdict = "VALID" if self.valid else "INVALID"
        production = (
            ""
            if self.production_verdict is None
            else f"<br>cryptography.x509.verification says: <b>{'VALID' if self.production_verdict else 'INVALID'}</b>"
        )
        return (
            f"<p>Validating for <code>{html.escape(self.server_name)}</code>: <b>{verdict}</b>{production}</p>"
            f"<table><tr><th></th><th>certificate</th><th>check</th><th>reason</th></tr>{rows}</table>"
        )


def _label(cert: x509.Certificate) -> str:
    try:
        names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    except ValueError:
        names = []
    return str(names[0].value) if names else (cert.subject.rfc4514_string() or "(empty subject)")


class _Validator:
    def __init__(
        self,
        report: ValidationReport,
        intermediates: Sequence[x509.Certificate],
        roots: Sequence[x509.Certificate],
        max_depth: int,
        profile: str = "webpki",
    ) -> None:
        self.report = report
        self.profile = profile
        self.leaf_certificate: x509.Certificate | None = None
        self.purpose = "server"
        self._labels: dict[int, str] = {}
        self._by_oid: dict[
            int, dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]]
        ] = {}
        self._der: dict[int, bytes] = {}
        self.wanted_eku = ExtendedKeyUsageOID.SERVER_AUTH
        self.intermediates = list(intermediates)
        self.roots = list(roots)
        self.root_der = {r.public_bytes(Encoding.DER) for r in roots}
        self.max_depth = max_depth
        self.budget = WORK_BUDGET
        self.nc_budget = NAME_CONSTRAINT_BUDGET

    def record(
        self,
        cert: x509.Certificate,
        check: str,
        ok: bool,
        detail: str,
        alert: type[AlertError] | None = BadCertificate,
    ) -> None:
        label = self._labels.get(id(cert))
        if label is None:
            label = self._labels[id(cert)] = _label(cert)
        entry = Check(label, check, ok, detail, None if ok else alert)
        self.report.checks.append(entry)
        if not ok:
            raise _Failed(entry)

    # -- checks every certificate gets ----------------------------------------------
    def basic(self, cert: x509.Certificate) -> None:
        self.record(
            cert,
            "X.509 version",
            cert.version == x509.Version.v3,
            f"{cert.version.name} (v3 required)",
        )
        serial = cert.serial_number
        size = (serial.bit_length() + 8) // 8 if serial >= 0 else 0
        # Some old roots in real trust stores have serial 0; a trust anchor is trusted as it is.
        lowest = 0 if self.der(cert) in self.root_der else 1
        ok = serial >= lowest and 1 <= size <= 21
        self.record(
            cert,
            "serial number",
            ok,
            "positive, at most 20 octets" if ok else f"serial {serial} is not allowed",
        )
        self.record(
            cert,
            "issuer name",
            len(cert.issuer) > 0,
            "non-empty" if len(cert.issuer) else "empty issuer",
        )
        _der_checks(self, cert)
        now = self.report.now
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        self.record(
            cert,
            "validity period",
            start <= now <= end,
            f"{start:%Y-%m-%d} .. {end:%Y-%m-%d} contains {now:%Y-%m-%d %H:%M}"
            if start <= now <= end
            else f"{'not yet valid: starts' if now < start else 'expired: ended'} "
            f"{start if now < start else end:%Y-%m-%d %H:%M}, validation time {now:%Y-%m-%d %H:%M}",
            CertificateExpired,
        )
        extensions = self.extensions(cert)
        unknown = [
            e.oid.dotted_string for e in extensions if e.critical and e.oid not in _UNDERSTOOD
        ]
        self.record(
            cert,
            "critical extensions",
            not unknown,
            "all understood" if not unknown else f"unknown critical extension {unknown[0]}",
            UnsupportedCertificate,
        )
        must_not_be_critical = [
            e.oid._name for e in extensions if e.critical and e.oid in _NON_CRITICAL
        ]
        self.record(
            cert,
            "extension criticality",
            not must_not_be_critical,
            "as RFC 5280 requires"
            if not must_not_be_critical
            else f"{must_not_be_critical[0]} must not be critical",
        )
        pc = [e for e in extensions if e.oid == ExtensionOID.POLICY_CONSTRAINTS and not e.critical]
        self.record(
            cert,
            "policyConstraints",
            not pc,
            "absent or critical" if not pc else "must be critical (RFC 5280 §4.2.1.11)",
        )
        self.key_strength(cert)

    def extensions(self, cert: x509.Certificate) -> x509.Extensions:
        try:
            return cert.extensions
        except (
            ValueError,
            TypeError,
            x509.DuplicateExtension,
            x509.UnsupportedGeneralNameType,
        ) as exc:
            self.record(cert, "extensions parse", False, f"malformed extensions: {exc}")
            raise AssertionError from exc  # unreachable: record raised

    def ext(
        self, cert: x509.Certificate, oid: x509.ObjectIdentifier
    ) -> x509.Extension[x509.ExtensionType] | None:
        by_oid = self._by_oid.get(id(cert))
        if by_oid is None:  # index each certificate's extensions once
            by_oid = self._by_oid[id(cert)] = {e.oid: e for e in self.extensions(cert)}
        return by_oid.get(oid)

    def der(self, cert: x509.Certificate) -> bytes:
        """The certificate's DER encoding, serialized once per validation."""
        value = self._der.get(id(cert))
        if value is None:
            value = self._der[id(cert)] = cert.public_bytes(Encoding.DER)
        return value

    # -- the leaf ----------------------------------------------------------------------
    def leaf(self, cert: x509.Certificate, name: _Name) -> None:
        self.basic(cert)
        bc = self.ext(cert, ExtensionOID.BASIC_CONSTRAINTS)
        webpki = self.profile == "webpki"
        is_ca = bc is not None and isinstance(bc.value, x509.BasicConstraints) and bc.value.ca
        ku = self.ext(cert, ExtensionOID.KEY_USAGE)
        cert_sign = (
            ku is not None and isinstance(ku.value, x509.KeyUsage) and ku.value.key_cert_sign
        )
        if webpki:
            self.record(
                cert,
                "leaf is not a CA",
                not is_ca,
                "basicConstraints cA=FALSE or absent"
                if not is_ca
                else "a CA certificate cannot be a server's end-entity certificate (CABF)",
            )
            self.record(
                cert,
                "keyUsage",
                not cert_sign,
                "no keyCertSign" if not cert_sign else "a leaf must not assert keyCertSign",
            )
        else:
            self.record(
                cert,
                "keyUsage",
                is_ca or not cert_sign,
                "consistent with basicConstraints"
                if is_ca or not cert_sign
                else "keyCertSign without cA=TRUE (RFC 5280 §4.2.1.9)",
            )
        eku = self.ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
        usages = (
            list(eku.value)
            if eku is not None and isinstance(eku.value, x509.ExtendedKeyUsage)
            else []
        )
        if eku is None and not webpki:
            usages = [self.wanted_eku]  # RFC 5280: no EKU means no restriction
        ok = (
            not (eku is not None and eku.critical)
            and (
                self.wanted_eku in usages
                or (not webpki and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages)
            )
            and not (webpki and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages)
            and (eku is not None or not webpki)
        )
        self.record(
            cert,
            "extendedKeyUsage",
            ok,
            "serverAuth present"
            if ok
            else "missing (CABF 7.1.2.7.10 requires serverAuth)"
            if eku is None
            else "must be non-critical"
            if eku.critical
            else "anyExtendedKeyUsage is not allowed in a server certificate"
            if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages
            else "serverAuth missing: not a TLS server certificate",
            UnsupportedCertificate,
        )
        aki = self.ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
        self.record(
            cert,
            "authorityKeyIdentifier",
            aki is not None and not aki.critical,
            "present" if aki is not None and not aki.critical else "missing or critical",
        )
        if self.ext(cert, ExtensionOID.NAME_CONSTRAINTS) is not None:
            self.record(cert, "nameConstraints", False, "only CAs may carry name constraints")
        san = self.ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        if san is None or not isinstance(san.value, x509.SubjectAlternativeName):
            self.record(
                cert, "server name", False, "no subjectAltName (the CN is never used, RFC 6125)"
            )
            return
        empty_subject = len(cert.subject) == 0
        self.record(
            cert,
            "subjectAltName criticality",
            san.critical == empty_subject,
            "ok"
            if san.critical == empty_subject
            else (
                "must be critical when the subject is empty"
                if empty_subject
                else "must not be critical when there is a subject"
            ),
        )
        common_names = [
            str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        ]
        allowed = {str(g.value) for g in san.value if isinstance(g, x509.DNSName)}
        allowed |= {str(g.value) for g in san.value if isinstance(g, x509.IPAddress)}
        stray = [cn for cn in common_names if cn not in allowed] if webpki else []
        self.record(
            cert,
            "subject CN",
            not stray,
            "absent or copied from a SAN"
            if not stray
            else f"CN {stray[0]!r} is not character-for-character one of the SANs (CABF 7.1.4.3)",
        )
        if self.purpose == "client":
            self.record(
                cert, "client identity", True, "a client certificate names no server: no name check"
            )
            return
        matched = name.matched_by(san.value)
        self.record(
            cert,
            "server name",
            matched is not None,
            f"{name.text!r} matches SAN {matched!r}"
            if matched
            else f"{name.text!r} matches none of {', '.join(repr(str(g.value)) for g in san.value)}",
        )

    # -- an issuer -----------------------------------------------------------------------
    def issuer(self, issuer: x509.Certificate, child: x509.Certificate, depth: int) -> None:
        self.basic(issuer)
        bc = self.ext(issuer, ExtensionOID.BASIC_CONSTRAINTS)
        ok_bc = (
            bc is not None
            and isinstance(bc.value, x509.BasicConstraints)
            and bc.value.ca
            and bc.critical
        )
        self.record(
            issuer,
            "basicConstraints",
            ok_bc,
            "critical, cA=TRUE"
            if ok_bc
            else "missing"
            if bc is None
            else "not critical"
            if not bc.critical
            else "cA=FALSE: this certificate may not issue certificates",
        )
        assert bc is not None and isinstance(bc.value, x509.BasicConstraints)
        limit = bc.value.path_length
        self.record(
            issuer,
            "pathLenConstraint",
            limit is None or depth <= limit,
            f"{depth} intermediate(s) below, limit {'none' if limit is None else limit}",
        )
        ku = self.ext(issuer, ExtensionOID.KEY_USAGE)
        ok_ku = ku is not None and isinstance(ku.value, x509.KeyUsage) and ku.value.key_cert_sign
        self.record(
            issuer,
            "keyUsage keyCertSign",
            ok_ku,
            "present"
            if ok_ku
            else "keyUsage missing"
            if ku is None
            else "keyCertSign not asserted",
        )
        eku = self.ext(issuer, ExtensionOID.EXTENDED_KEY_USAGE)
        if eku is not None:
            ok = isinstance(eku.value, x509.ExtendedKeyUsage) and (
                self.wanted_eku in eku.value
                or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku.value
            )
            self.record(
                issuer,
                "extendedKeyUsage",
                ok and not eku.critical,
                "allows serverAuth" if ok and not eku.critical else "does not allow serverAuth",
            )
        nc = self.ext(issuer, ExtensionOID.NAME_CONSTRAINTS)
        if nc is not None and isinstance(nc.value, x509.NameConstraints):
            empty = not (nc.value.permitted_subtrees or nc.value.excluded_subtrees)
            trees = [*(nc.value.permitted_subtrees or []), *(nc.value.excluded_subtrees or [])]
            malformed = [
                t.value
                for t in trees
                if isinstance(t, x509.DNSName)
                and (
                    t.value.startswith(".") or (t.value and not _valid_dns_name(t.value, labels=1))
                )
            ]
            # RFC 5280 §4.2.1.10 wants this extension critical; the CA/B Forum relaxes that to MAY.
            critical_ok = nc.critical or self.profile == "webpki"
            self.record(
                issuer,
                "nameConstraints",
                not empty and not malformed and critical_ok,
                "well-formed"
                if not (empty or malformed) and critical_ok
                else "empty name constraints"
                if empty
                else f"malformed dNSName constraint {malformed[0]!r}"
                if malformed
                else "must be critical (RFC 5280 §4.2.1.10)",
            )
        aki = self.ext(issuer, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
        if self.der(issuer) not in self.root_der:
            self.record(
                issuer,
                "authorityKeyIdentifier",
                aki is not None,
                "present"
                if aki is not None
                else "an intermediate CA needs an authorityKeyIdentifier",
            )
        if aki is not None:
            value = aki.value
            ok = (
                not aki.critical
                and isinstance(value, x509.AuthorityKeyIdentifier)
                and value.key_identifier is not None
                and value.authority_cert_issuer is None
                and value.authority_cert_serial_number is None
            )
            self.record(
                issuer, "authorityKeyIdentifier", ok, "well-formed" if ok else "malformed for a CA"
            )
        ski = self.ext(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER)
        self.record(
            issuer,
            "subjectKeyIdentifier",
            ski is not None,
            "present"
            if ski is not None
            else "a CA certificate needs a subjectKeyIdentifier (CABF 7.1.2)",
        )
        self.signature(issuer, child)

    def _is_leaf(self, cert: x509.Certificate) -> bool:
        return cert is self.leaf_certificate

    def anchor(self, root: x509.Certificate) -> None:
        """CABF 7.1.2.1: a self-signed root carries no EKU and an AKI (if any) names its own key;
        RFC 5280 §4.2.1.1: a trust anchor that is not self-signed needs an AKI like any CA."""
        aki, ski = (
            self.ext(root, ExtensionOID.AUTHORITY_KEY_IDENTIFIER),
            self.ext(root, ExtensionOID.SUBJECT_KEY_IDENTIFIER),
        )
        if root.subject != root.issuer:
            self.record(
                root,
                "authorityKeyIdentifier",
                aki is not None,
                "present"
                if aki is not None
                else "a cross-signed trust anchor needs an authorityKeyIdentifier",
            )
            return
        if self.profile != "webpki":
            return
        self.record(
            root,
            "root has no EKU",
            self.ext(root, ExtensionOID.EXTENDED_KEY_USAGE) is None,
            "none"
            if self.ext(root, ExtensionOID.EXTENDED_KEY_USAGE) is None
            else "a root certificate must not carry extendedKeyUsage",
        )
        if aki is not None and isinstance(aki.value, x509.AuthorityKeyIdentifier):
            same = (
                ski is not None
                and isinstance(ski.value, x509.SubjectKeyIdentifier)
                and aki.value.key_identifier == ski.value.digest
            )
            self.record(
                root,
                "root AKI = SKI",
                same,
                "matches" if same else "a self-signed root's AKI must equal its SKI",
            )

    def key_strength(self, issuer: x509.Certificate) -> None:
        """CABF 6.1.5 / 7.1.3.1 key rules (RSA at least 2048 bits, named NIST curves)."""
        try:
            key = issuer.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            self.record(issuer, "public key", False, f"unusable key: {exc}")
            return
        if isinstance(key, rsa.RSAPublicKey):
            ok = key.key_size >= 2048 and (key.key_size % 8 == 0 or self.profile != "webpki")
            self.record(
                issuer,
                "public key",
                ok,
                f"RSA-{key.key_size} (2048 bits at least, a multiple of 8)",
            )
        elif isinstance(key, ec.EllipticCurvePublicKey):
            self.record(
                issuer, "public key", key.curve.name in _PERMITTED_CURVES, f"ECDSA {key.curve.name}"
            )
        elif mldsa_parameter_set(key):
            self.record(issuer, "public key", True, f"{mldsa_parameter_set(key)} (FIPS 204)")
        elif self._is_leaf(issuer) and isinstance(
            key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)
        ):
            self.record(
                issuer,
                "public key",
                True,
                f"{type(key).__name__} (fine for a server; not for a CA)",
            )
        else:
            self.record(
                issuer,
                "public key",
                False,
                f"{type(key).__name__} is not allowed for a Web PKI CA",
                UnsupportedCertificate,
            )

    def signature(self, issuer: x509.Certificate, child: x509.Certificate) -> None:
        oid = child.signature_algorithm_oid
        self.record(
            child,
            "signature algorithm",
            oid in _PERMITTED_SIGNATURES or oid in MLDSA_SIGNATURES,
            getattr(oid, "_name", oid.dotted_string),
            UnsupportedCertificate,
        )
        try:
            child.verify_directly_issued_by(issuer)
            ok, detail = True, f"signed by {_label(issuer)}'s key"
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
            ok, detail = (
                False,
                f"does not verify with {_label(issuer)}'s key ({type(exc).__name__})",
            )
        # Not signed by the trusted root of that name: to a client, that is an unknown CA.
        alert = UnknownCA if self.der(issuer) in self.root_der else BadCertificate
        self.record(child, "signature", ok, detail, alert)

    def name_constraints(self, issuer: x509.Certificate, below: list[x509.Certificate]) -> None:
        nc = self.ext(issuer, ExtensionOID.NAME_CONSTRAINTS)
        if nc is None or not isinstance(nc.value, x509.NameConstraints):
            return
        trees = len(nc.value.permitted_subtrees or []) + len(nc.value.excluded_subtrees or [])
        for cert in below:
            if cert.subject == cert.issuer and cert is not below[0]:
                continue  # self-issued intermediates are exempt (RFC 5280 §6.1.4)
            san = self.ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
            names = (
                list(san.value)
                if san is not None and isinstance(san.value, x509.SubjectAlternativeName)
                else []
            )
            self.nc_budget -= len(names) * trees
            if self.nc_budget < 0:
                self.record(
                    issuer,
                    "name constraints",
                    False,
                    f"more than {NAME_CONSTRAINT_BUDGET} name/constraint comparisons: refusing (denial of service)",
                )
            for general in names:
                verdict = _constraint_verdict(nc.value, general)
                self.record(
                    issuer,
                    "name constraints",
                    verdict is None,
                    f"{_label(cert)}: {general.value} allowed"
                    if verdict is None
                    else f"{_label(cert)}: {verdict}",
                )

    # -- path building ---------------------------------------------------------------------
    def build(
        self, working: x509.Certificate, below: list[x509.Certificate], depth: int
    ) -> list[x509.Certificate]:
        if self.der(working) in self.root_der:
            self.record(working, "trust anchor", True, "in the trust store")
            if below:
                self.anchor(working)
            return [working]
        if depth > self.max_depth:
            self.record(
                working,
                "path length",
                False,
                f"more than {self.max_depth} intermediates",
                UnknownCA,
            )
        candidates = [
            c
            for c in [*self.roots, *self.intermediates]
            if c.subject == working.issuer and c != working
        ]
        if not candidates:
            self.record(
                working,
                "issuer found",
                False,
                f"no certificate named {working.issuer.rfc4514_string()!r} in the chain or the trust store",
                UnknownCA,
            )
        attempts: list[tuple[_Failed, list[Check]]] = []
        for candidate in candidates:
            if candidate in below:
                continue
            self.budget -= 1
            if self.budget < 0:
                self.record(
                    working,
                    "path building",
                    False,
                    f"gave up after {WORK_BUDGET} candidate issuers (a denial-of-service shaped chain)",
                    UnknownCA,
                )
            mark = len(self.report.checks)
            try:
                self.issuer(candidate, working, depth)
                self.name_constraints(candidate, [*below, working])
                next_depth = depth if candidate.subject == candidate.issuer else depth + 1
                return [working, *self.build(candidate, [*below, working], next_depth)]
            except _Failed as failure:
                attempts.append((failure, self.report.checks[mark:]))
                del self.report.checks[mark:]
        if not attempts:
            self.record(
                working,
                "issuer found",
                False,
                "every candidate issuer is already in the path",
                UnknownCA,
            )
        last_failure, checks = attempts[-1]  # report the last path tried
        self.report.checks.extend(checks)
        raise last_failure


def _der_checks(v: _Validator, cert: x509.Certificate) -> None:
    """Encoding rules cryptography's API does not expose: read the DER directly."""
    from .x509der import encoding_facts

    der = v.der(cert)
    try:
        same, times, named = encoding_facts(der)
    except ValueError as exc:
        v.record(cert, "DER structure", False, str(exc))
        return
    if not named:
        v.record(
            cert,
            "public key encoding",
            False,
            "EC key with explicit curve parameters (only named curves)",
        )
    v.record(
        cert,
        "signature algorithm fields",
        same,
        "tbsCertificate.signature equals signatureAlgorithm"
        if same
        else "the two algorithm fields differ",
    )
    bad = [year for kind, year in times if kind == "GeneralizedTime" and 1950 <= year < 2050]
    v.record(
        cert,
        "validity encoding",
        not bad,
        "UTCTime before 2050, GeneralizedTime after"
        if not bad
        else f"GeneralizedTime used for {bad[0]} (RFC 5280 §4.1.2.5 requires UTCTime)",
    )


@dataclass(frozen=True)
class _Name:
    text: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None

    @classmethod
    def parse(cls, server_name: str) -> _Name:
        try:
            return cls(server_name, ipaddress.ip_address(server_name))
        except ValueError:
            return cls(server_name.lower().rstrip("."), None)

    def matched_by(self, san: x509.SubjectAlternativeName) -> str | None:
        for general in san:
            if (
                self.ip is not None
                and isinstance(general, x509.IPAddress)
                and general.value == self.ip
            ):
                return str(general.value)
            if (
                self.ip is None
                and isinstance(general, x509.DNSName)
                and dns_name_matches(general.value, self.text)
            ):
                return str(general.value)
        return None


def _valid_dns_name(name: str, labels: int = 2) -> bool:
    parts = name.split(".")
    if len(name) > 253 or len(parts) < labels:
        return False
    for label in parts:
        if not 1 <= len(label) <= 63 or label.startswith("-") or label.endswith("-"):
            return False
        if not all(c.isascii() and (c.isalnum() or c == "-") for c in label):
            return False
    return True


def dns_name_matches(pattern: str, name: str) -> bool:
    """RFC 6125 §6.4.3: exact match, or a wildcard that is the whole left-most label of a
    pattern with at least two more labels, matching exactly one label. Case-insensitive."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if not _valid_dns_name(name, labels=1):
        return False
    if pattern.startswith("*."):
        rest = pattern[2:]
        if not _valid_dns_name(rest) or "*" in rest:
            return False
        first, _, remainder = name.partition(".")
        return bool(first) and remainder == rest
    return _valid_dns_name(pattern, labels=1) and pattern == name


def _constraint_verdict(nc: x509.NameConstraints, general: x509.GeneralName) -> str | None:
    """None if ``general`` satisfies the constraints, else the reason it does not."""
    kinds = (x509.DNSName, x509.IPAddress)
    if not isinstance(general, kinds):
        same = [
            t
            for t in [*(nc.permitted_subtrees or []), *(nc.excluded_subtrees or [])]
            if type(t) is type(general)
        ]
        return f"cannot evaluate {type(general).__name__} constraints" if same else None
    if isinstance(general, x509.DNSName) and not _valid_dns_name(
        general.value.removeprefix("*."), labels=1
    ):
        return f"{general.value!r} is not a valid DNS name"
    same_kind = [t for t in (nc.permitted_subtrees or []) if type(t) is type(general)]
    if same_kind and not any(_within(general, t) for t in same_kind):
        return f"{general.value} is outside the permitted subtrees"
    for t in nc.excluded_subtrees or []:
        if type(t) is type(general) and (_within(general, t) or _wildcard_covers(general, t)):
            return f"{general.value} is in (or covers part of) an excluded subtree ({t.value})"
    return None


def _wildcard_covers(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    """A wildcard SAN ``*.example.com`` can stand for ``bar.example.com``: if that name is excluded,
    so is the wildcard (CVE-2025-61727)."""
    if not (
        isinstance(name, x509.DNSName)
        and isinstance(tree, x509.DNSName)
        and name.value.startswith("*.")
    ):
        return False
    base = name.value[2:].lower().rstrip(".")
    constraint = tree.value.lower().rstrip(".")
    return constraint.endswith("." + base) and "." not in constraint[: -len(base) - 1]


def _within(name: x509.GeneralName, tree: x509.GeneralName) -> bool:
    if isinstance(name, x509.IPAddress) and isinstance(tree, x509.IPAddress):
        network = tree.value
        return (
            isinstance(network, (ipaddress.IPv4Network, ipaddress.IPv6Network))
            and name.value in network
        )
    if isinstance(name, x509.DNSName) and isinstance(tree, x509.DNSName):
        value = name.value.lower().rstrip(".").removeprefix("*.")
        constraint = tree.value.lower().rstrip(".")
        if not constraint:
            return True
        if constraint.startswith("."):
            return value.endswith(constraint)
        return value == constraint or value.endswith("." + constraint)
    return False


def production_verdict(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
    server_name: str,
    now: dt.datetime,
    max_depth: int | None = None,
) -> tuple[bool, str]:
    """The verdict of ``cryptography.x509.verification`` (the production verifier) on the same inputs."""
    from cryptography.x509 import verification as v

    try:
        subject: x509.GeneralName
        try:
            subject = x509.IPAddress(ipaddress.ip_address(server_name))
        except ValueError:
            subject = x509.DNSName(server_name)
        builder = v.PolicyBuilder().store(v.Store(list(trust_roots))).time(now)
        if max_depth is not None:
            builder = builder.max_chain_depth(max_depth)
        builder.build_server_verifier(subject).verify(leaf, list(intermediates))
        return True, ""
    except (v.VerificationError, ValueError, TypeError) as exc:
        return False, str(exc).splitlines()[0][:200]


def validate_chain(
    leaf: x509.Certificate,
    intermediates: Sequence[x509.Certificate],
    trust_roots: Sequence[x509.Certificate],
    server_name: str,
    now: dt.datetime,
    *,
    max_depth: int = MAX_DEPTH,
    profile: str = "webpki",
    purpose: str = "server",
    strict: bool = False,
    compare_with_production: bool = True,
) -> ValidationReport:
    """Validate ``leaf`` for ``server_name`` at ``now`` and explain every check (see the module doc).

    ``profile="webpki"`` (the default, what browsers and ``cryptography`` enforce) adds the CA/B
    Forum rules to RFC 5280; ``profile="rfc5280"`` checks RFC 5280 alone, so a learner can see
    which rules come from where. ``purpose="client"`` validates a TLS client certificate (clientAuth,
    no server name). With ``strict=True`` a failure raises the matching TLS error."""
    if profile not in ("webpki", "rfc5280"):
        raise ValueError("profile must be 'webpki' or 'rfc5280'")
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    now = now.replace(microsecond=0)  # X.509 times have one-second granularity
    report = ValidationReport(server_name, now)
    validator = _Validator(report, intermediates, trust_roots, max_depth, profile)
    try:
        name = _Name.parse(server_name)
        validator.leaf_certificate = leaf
        validator.purpose = purpose
        validator.wanted_eku = (
            ExtendedKeyUsageOID.CLIENT_AUTH
            if purpose == "client"
            else ExtendedKeyUsageOID.SERVER_AUTH
        )
        validator.leaf(leaf, name)
        report.path = validator.build(leaf, [], 0)
        report.valid = True
    except _Failed:
        report.valid = False
    if compare_with_production and purpose == "server":
        report.production_verdict, report.production_detail = production_verdict(
            leaf, intermediates, trust_roots, server_name, now, max_depth
        )
    if strict:
        report.raise_for_failure()
    return report


# -- ML-DSA (post-quantum) certificates -------------------------------------------------------------
# draft-ietf-lamps-dilithium-certificates: ML-DSA-44/65/87 sign certificates directly (no pre-hash,
# no parameters). ``cryptography``'s production verifier accepts such chains, so tlslab does too;
# the CA/Browser Forum has not yet admitted them to the public Web PKI. Notebook 10_post_quantum.
MLDSA_SIGNATURES = {
    SignatureAlgorithmOID.ML_DSA_44,
    SignatureAlgorithmOID.ML_DSA_65,
    SignatureAlgorithmOID.ML_DSA_87,
}


def mldsa_parameter_set(key: object) -> str | None:
    """ "ML-DSA-65" (etc.) for an ML-DSA public key, else None."""
    for name in ("44", "65", "87"):
        if isinstance(key, getattr(mldsa, f"MLDSA{name}PublicKey")):
            return f"ML-DSA-{name}"
    return None
