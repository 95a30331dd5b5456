"""Certificate path validation that explains itself (RFC 5280 §6, RFC 6125/9525, CA/B Forum).

``validate_chain(leaf, intermediates, trust_roots, server_name, now)`` builds a path from the
server's certificate to a trusted root and returns a :class:`ValidationReport`: one line per
check per certificate, each naming the rule it applies, then a **verdict** and, apart from it,
**lints**.

- The **verdict** is what a production Web PKI verifier decides (RFC 5280 path validation plus
  the CA/B Forum rules that ``cryptography.x509.verification`` and Chrome apply when they
  *validate*). It names the failing check and the TLS alert a client sends.
- **Lints** are the Baseline Requirements' rules for *issuing* certificates (the CN copies a SAN,
  CAs carry a subjectKeyIdentifier, intermediates an authorityKeyIdentifier, serials are
  positive, CAs carry keyUsage). A browser does not refuse a certificate for them, so they never
  change the verdict, unless the caller asks for ``profile="strict"``.

Each check below is one small function whose docstring cites its rule; the report line it writes
carries the same citation, so a learner can go from a line of the report to the line of code.

Profiles: ``"webpki"`` (default: the production verdict), ``"strict"`` (webpki, and every lint
fails the chain), ``"rfc5280"`` (RFC 5280 alone: no CA/B Forum rule; RFC 5280's own profile
rules, such as AKI/SKI presence, fail the chain). ``strict=True`` raises the TLS error a client
sends (bad_certificate, certificate_expired, certificate_revoked, unknown_ca,
unsupported_certificate). Taught in notebook 03_certificates.
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID, SignatureAlgorithmOID

from ..errors import (
    AlertError,
    BadCertificate,
    CertificateExpired,
    UnknownCA,
    UnsupportedCertificate,
)
from .crl import check_revocation
from .names import (
    SubjectEmail,
    constraint_verdict,
    dns_name_matches,
    looks_like_ip,
    malformed_subtree,
    subject_emails,
)
from .x509der import Parts, certificate_parts, encoding_facts, pss_parameters, raw_names

__all__ = [
    "MAX_DEPTH",
    "Check",
    "Lint",
    "ValidationReport",
    "dns_name_matches",
    "production_verdict",
    "validate_chain",
]

MAX_DEPTH = 8
WORK_BUDGET = 1024  # candidate issuers tried per validation (all path attempts together)
SIGNATURE_BUDGET = 128  # distinct signature verifications per validation (the costly step)
CANDIDATES_PER_CERTIFICATE = 256  # candidate issuers tried for one certificate
NAME_CONSTRAINT_BUDGET = 1 << 16  # (names x subtrees) compared per validation
PROFILES = ("webpki", "strict", "rfc5280")

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
_PKCS1_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA256,
    SignatureAlgorithmOID.RSA_WITH_SHA384,
    SignatureAlgorithmOID.RSA_WITH_SHA512,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ECDSA_WITH_SHA512,
}
_PSS_SALT = {"sha256": 32, "sha384": 48, "sha512": 64}
_PERMITTED_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
_NON_CRITICAL = {
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
}

RFC5280 = "RFC 5280"
_EMPTY_NAME = b"\x30\x00"  # an empty SEQUENCE OF RelativeDistinguishedName


Text = str | Callable[[], str]  # a string, or a function that formats it when it is first read


class Check:
    """One check on one certificate: what was checked, the verdict, why, and the rule.

    ``certificate`` (the certificate's label) and ``detail`` may be given as functions: they are
    formatted the first time they are read. A chain is checked 50-odd times per handshake and the
    report is mostly never shown, so dates and names are not formatted for nothing."""

    __slots__ = ("_certificate", "check", "ok", "_detail", "alert", "cite")

    def __init__(
        self,
        certificate: Text,
        check: str,
        ok: bool,
        detail: Text,
        alert: type[AlertError] | None = None,
        cite: str = "",
    ) -> None:
        self._certificate = certificate
        self.check = check
        self.ok = ok
        self._detail = detail
        self.alert = alert
        self.cite = cite

    @property
    def certificate(self) -> str:
        if not isinstance(self._certificate, str):
            self._certificate = self._certificate()
        return self._certificate

    @property
    def detail(self) -> str:
        if not isinstance(self._detail, str):
            self._detail = self._detail()
        return self._detail

    def _key(self) -> tuple[object, ...]:
        return (self.certificate, self.check, self.ok, self.detail, self.alert, self.cite)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Check) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Check(certificate={self.certificate!r}, check={self.check!r}, ok={self.ok!r}, "
            f"detail={self.detail!r}, alert={self.alert!r}, cite={self.cite!r})"
        )


@dataclass(frozen=True, slots=True)
class Lint:
    """An issuance rule the certificate breaks: shown to the learner, not part of the verdict
    (unless ``profile="strict"``)."""

    certificate: str
    rule: str
    detail: str
    cite: str


class _Failed(Exception):
    def __init__(self, check: Check) -> None:
        super().__init__(check.detail)
        self.check = check


@dataclass
class ValidationReport:
    """Every check made, the path found (leaf first), the verdict, the lints, and the
    production verifier's verdict for comparison."""

    server_name: str
    now: dt.datetime
    checks: list[Check] = field(default_factory=list)
    path: list[x509.Certificate] = field(default_factory=list)
    valid: bool = False
    production_verdict: bool | None = None
    production_detail: str = ""
    lints: list[Lint] = field(default_factory=list)
    profile: str = "webpki"

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
        lines = [f"Validating for {self.server_name!r} at {self.now.isoformat()} ({self.profile})"]
        for c in self.checks:
            lines.append(
                f"  [{'ok' if c.ok else 'FAIL'}] {c.certificate:30.30} {c.check:28} {c.detail}"
                + (f"  [{c.cite}]" if c.cite else "")
            )
        verdict = (
            "VALID" if self.valid else f"INVALID ({self.failure.check if self.failure else '?'})"
        )
        lines.append(f"tlslab verdict: {verdict}")
        if self.lints:
            lines.append(
                f"lints ({len(self.lints)}, issuance rules; they do not change the verdict):"
            )
            lines += [f"  - {x.certificate}: {x.rule}: {x.detail}  [{x.cite}]" for x in self.lints]
        if self.production_verdict is not None:
            lines.append(
                f"cryptography.x509.verification: {'VALID' if self.production_verdict else 'INVALID'}"
                f"{' - ' + self.production_detail if self.production_detail else ''}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<ValidationReport {'VALID' if self.valid else 'INVALID'} for {self.server_name!r}, "
            f"{len(self.checks)} checks, {len(self.lints)} lints>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr style='background:{'#e6f4ea' if c.ok else '#fde7e9'}'><td>{'&#10004;' if c.ok else '&#10008;'}</td>"
            f"<td style='text-align:left'>{html.escape(c.certificate)}</td><td style='text-align:left'>{html.escape(c.check)}</td>"
            f"<td style='text-align:left'>{html.escape(c.detail)}</td>"
            f"<td style='text-align:left'><small>{html.escape(c.cite)}</small></td></tr>"
            for c in self.checks
        )
        verdict = "VALID" if self.valid else "INVALID"
        production = (
            ""
            if self.production_verdict is None
            else f"<br>cryptography.x509.verification says: <b>{'VALID' if self.production_verdict else 'INVALID'}</b>"
        )
        lints = ""
        if self.lints:
            items = "".join(
                f"<tr style='background:#fff8e1'><td>&#9888;</td><td style='text-align:left'>{html.escape(x.certificate)}</td>"
                f"<td style='text-align:left'>{html.escape(x.rule)}</td><td style='text-align:left'>{html.escape(x.detail)}</td>"
                f"<td style='text-align:left'><small>{html.escape(x.cite)}</small></td></tr>"
                for x in self.lints
            )
            lints = (
                "<p><b>Lints</b>: issuance rules this chain breaks. A browser still accepts it; "
                "they do not change the verdict.</p>"
                f"<table><tr><th></th><th>certificate</th><th>rule</th><th>what</th><th>source</th></tr>{items}</table>"
            )
        return (
            f"<p>Validating for <code>{html.escape(self.server_name)}</code>: <b>{verdict}</b>{production}</p>"
            f"<table><tr><th></th><th>certificate</th><th>check</th><th>reason</th><th>rule</th></tr>{rows}</table>"
            f"{lints}"
        )


def _label(cert: x509.Certificate) -> str:
    try:
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        names = []
    return str(names[0].value) if names else (cert.subject.rfc4514_string() or "(empty subject)")


@dataclass(frozen=True)
class _Name:
    """The reference identifier: the name the client wanted (RFC 6125 §6.2)."""

    text: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None

    @classmethod
    def parse(cls, server_name: str) -> _Name:
        try:
            return cls(server_name, ipaddress.ip_address(server_name))
        except ValueError:
            return cls(server_name, None)


class _Validator:
    """The state of one validation: the inputs, the report being written, budgets and caches."""

    def __init__(
        self,
        report: ValidationReport,
        intermediates: Sequence[x509.Certificate],
        roots: Sequence[x509.Certificate],
        max_depth: int,
        profile: str,
        purpose: str,
        crls: Sequence[x509.CertificateRevocationList],
    ) -> None:
        self.report = report
        self.profile = profile
        self.webpki = profile != "rfc5280"
        self.purpose = purpose
        self.wanted_eku = (
            ExtendedKeyUsageOID.CLIENT_AUTH
            if purpose == "client"
            else ExtendedKeyUsageOID.SERVER_AUTH
        )
        self.leaf_certificate: x509.Certificate | None = None
        self.intermediates = list(intermediates)
        self.roots = list(roots)
        self.crls = list(crls)
        self.max_depth = max_depth
        self.budget = WORK_BUDGET
        self.signature_budget = SIGNATURE_BUDGET
        self._spkis: dict[int, bytes] = {}
        self._signatures: dict[tuple[bytes, int], tuple[bool, str]] = {}
        self.nc_budget = NAME_CONSTRAINT_BUDGET
        self._labels: dict[int, str] = {}
        self._by_oid: dict[
            int, dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]]
        ] = {}
        self._der: dict[int, bytes] = {}
        self._parts: dict[int, Parts] = {}
        self._label_thunks: dict[int, Callable[[], str]] = {}
        self._own_checks: dict[int, tuple[list[Check], list[Lint], _Failed | None]] = {}
        self._names: dict[int, tuple[bytes, bytes]] = {}
        self._keys: dict[int, Any] = {}
        # Certificates are compared by their DER (what x509.Certificate's == compares), read
        # once per certificate: hashing a Certificate re-reads its DER each time (~5 us).
        self.root_ders = {self.der(r) for r in self.roots}
        self.exhausted = False
        # Candidate issuers by subject name, trust anchors first (RFC 4158 §3.5), each
        # certificate once (a root also sent as an intermediate is the root).
        self.by_subject: dict[bytes, list[tuple[int, x509.Certificate]]] = {}
        seen: set[bytes] = set()
        for order, c in enumerate([*self.roots, *self.intermediates]):
            der = self.der(c)
            if der not in seen:
                seen.add(der)
                self.by_subject.setdefault(self.subject(c), []).append((order, c))

    # -- writing the report ---------------------------------------------------------------------
    def record(
        self,
        cert: x509.Certificate,
        check: str,
        ok: bool,
        detail: Text,
        alert: type[AlertError] | None = BadCertificate,
        cite: str = "",
    ) -> None:
        """Add a line to the report; a failed check ends this path. ``detail`` may be a function
        that formats the text when the line is shown (see :class:`Check`)."""
        entry = Check(self.lazy_label(cert), check, ok, detail, None if ok else alert, cite)
        self.report.checks.append(entry)
        if not ok:
            raise _Failed(entry)

    def lint(self, cert: x509.Certificate, rule: str, ok: bool, detail: str, cite: str) -> None:
        """An issuance rule: a lint in the webpki profile; a failing check in ``strict`` (and in
        ``rfc5280`` when RFC 5280 itself states the rule)."""
        if ok:
            return
        if self.profile == "strict" or (self.profile == "rfc5280" and cite.startswith(RFC5280)):
            self.record(cert, rule, False, detail, BadCertificate, cite)
        self.report.lints.append(Lint(self.label(cert), rule, detail, cite))

    def lazy_label(self, cert: x509.Certificate) -> Text:
        """The certificate's label, or a function that computes it when a report line is shown
        (its common name goes through cryptography's Python Name layer)."""
        label = self._labels.get(id(cert))
        if label is not None:
            return label
        thunk = self._label_thunks.get(id(cert))
        if thunk is None:
            thunk = self._label_thunks[id(cert)] = lambda: self.label(cert)
        return thunk

    def label(self, cert: x509.Certificate) -> str:
        label = self._labels.get(id(cert))
        if label is None:
            label = self._labels[id(cert)] = _label(cert)
        return label

    # -- reading certificates (each parsed once per validation) -----------------------------------
    def extensions(
        self, cert: x509.Certificate
    ) -> dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]]:
        by_oid = self._by_oid.get(id(cert))
        if by_oid is None:
            try:
                by_oid = {e.oid: e for e in cert.extensions}
            except (
                ValueError,
                TypeError,
                x509.DuplicateExtension,
                x509.UnsupportedGeneralNameType,
            ) as exc:
                self.record(
                    cert,
                    "extensions parse",
                    False,
                    f"malformed extensions: {exc}",
                    cite="RFC 5280 §4.2",
                )
                raise AssertionError from exc  # unreachable: record raised
            self._by_oid[id(cert)] = by_oid
        return by_oid

    def ext(
        self, cert: x509.Certificate, oid: x509.ObjectIdentifier
    ) -> x509.Extension[x509.ExtensionType] | None:
        return self.extensions(cert).get(oid)

    def value(
        self, cert: x509.Certificate, kind: type[x509.ExtensionType]
    ) -> x509.ExtensionType | None:
        """The parsed value of the extension of class ``kind``, or None."""
        extension = self.ext(cert, kind.oid)
        return (
            extension.value if extension is not None and isinstance(extension.value, kind) else None
        )

    def der(self, cert: x509.Certificate) -> bytes:
        value = self._der.get(id(cert))
        if value is None:
            value = self._der[id(cert)] = cert.public_bytes(Encoding.DER)
        return value

    def der_parts(self, cert: x509.Certificate) -> Parts:
        """The DER's top-level structure, read once (raises ValueError if malformed)."""
        parts = self._parts.get(id(cert))
        if parts is None:
            parts = self._parts[id(cert)] = certificate_parts(self.der(cert))
        return parts

    def signature_verdict(
        self, issuer: x509.Certificate, child: x509.Certificate
    ) -> tuple[bool, str] | None:
        """(verifies, why not) for the child's signature under the issuer's key, computed once
        per (key, child) pair; None once the verification budget is spent."""
        key = (self._spki(issuer), id(child))
        verdict = self._signatures.get(key)
        if verdict is None:
            self.signature_budget -= 1
            if self.signature_budget < 0:
                return None
            try:
                verify_certificate_signature(self.public_key(issuer), child)
                verdict = (True, "")
            except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm) as exc:
                verdict = (False, type(exc).__name__)
            self._signatures[key] = verdict
        return verdict

    def _spki(self, cert: x509.Certificate) -> bytes:
        spki = self._spkis.get(id(cert))
        if spki is None:
            try:
                key = self.public_key(cert)
                spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
            except (ValueError, UnsupportedAlgorithm):
                spki = self.der(cert)
            self._spkis[id(cert)] = spki
        return spki

    def subject(self, cert: x509.Certificate) -> bytes:
        """The subject name's DER (names are matched byte for byte in path building)."""
        return self._subject_and_issuer(cert)[0]

    def issuer_name(self, cert: x509.Certificate) -> bytes:
        return self._subject_and_issuer(cert)[1]

    def self_issued(self, cert: x509.Certificate) -> bool:
        """RFC 5280 §6.1: subject and issuer are the same name."""
        subject, issuer = self._subject_and_issuer(cert)
        return subject == issuer

    def _subject_and_issuer(self, cert: x509.Certificate) -> tuple[bytes, bytes]:
        names = self._names.get(id(cert))
        if names is None:
            try:
                names = raw_names(self.der(cert), self.der_parts(cert))
            except ValueError:  # unreachable for a certificate cryptography parsed
                names = (cert.subject.public_bytes(), cert.issuer.public_bytes())
            self._names[id(cert)] = names
        return names

    def public_key(self, cert: x509.Certificate) -> Any:
        """The certificate's public key, loaded once (raises ValueError/UnsupportedAlgorithm)."""
        key = self._keys.get(id(cert))
        if key is None:
            key = self._keys[id(cert)] = cert.public_key()
        return key

    def is_anchor(self, cert: x509.Certificate) -> bool:
        return self.der(cert) in self.root_ders

    def is_leaf(self, cert: x509.Certificate) -> bool:
        return cert is self.leaf_certificate

    # -- running groups of checks -----------------------------------------------------------------
    def own_checks(self, cert: x509.Certificate) -> None:
        """The checks that depend on the certificate alone, run once per validation: a
        certificate tried as an issuer on many paths replays its recorded result."""
        cached = self._own_checks.get(id(cert))
        if cached is None:
            mark, lint_mark = len(self.report.checks), len(self.report.lints)
            failure = None
            try:
                for check in EVERY_CERTIFICATE:
                    check(self, cert)
            except _Failed as exc:
                failure = exc
            cached = (self.report.checks[mark:], self.report.lints[lint_mark:], failure)
            self._own_checks[id(cert)] = cached
            del self.report.checks[mark:]
            del self.report.lints[lint_mark:]
        checks, lints, failure = cached
        self.report.checks.extend(checks)
        self.report.lints.extend(lints)
        if failure is not None:
            raise failure

    # -- path building ---------------------------------------------------------------------------
    def candidates(
        self, working: x509.Certificate, below: list[x509.Certificate]
    ) -> list[x509.Certificate]:
        """Certificates that could have issued ``working`` (RFC 4158 §3.5): the same name, not
        already on the path, and no key-identifier mismatch; those whose subjectKeyIdentifier
        equals the child's authorityKeyIdentifier first, trust anchors before intermediates."""
        aki = self.value(working, x509.AuthorityKeyIdentifier)
        wanted = aki.key_identifier if isinstance(aki, x509.AuthorityKeyIdentifier) else None
        # RFC 4158 §2.4.2: a certificate with the name and key of one already on the path is a loop.
        name = self.issuer_name(working)
        on_path = {self._spki(c) for c in [*below, working] if self.subject(c) == name}
        ranked = []
        for order, c in self.by_subject.get(name, []):
            if self._spki(c) in on_path:  # every candidate has that name: compare keys
                continue
            try:
                ski = self.value(c, x509.SubjectKeyIdentifier)
            except _Failed:
                del self.report.checks[-1]
                ski = None
            digest = ski.digest if isinstance(ski, x509.SubjectKeyIdentifier) else None
            if wanted is not None and digest is not None and wanted != digest:
                continue  # OpenSSL's X509_check_akid: a key-identifier mismatch is not an issuer
            ranked.append((0 if wanted is not None and digest == wanted else 1, order, c))
        return [c for *_, c in sorted(ranked, key=lambda t: (t[0], t[1]))]

    def build(
        self, working: x509.Certificate, below: list[x509.Certificate], depth: int
    ) -> list[x509.Certificate]:
        """Depth-first path building from ``working`` up to a trust anchor (RFC 5280 §6.1,
        RFC 4158): every candidate issuer is tried until one path validates, within budgets."""
        if self.is_anchor(working):
            self.record(
                working, "trust anchor", True, "in the trust store", cite="RFC 5280 §6.1.1 (d)"
            )
            if below:
                for check in ANCHOR:
                    check(self, working)
            return [working]
        self.record(
            working,
            "path length",
            depth <= self.max_depth and len(below) <= 2 * self.max_depth,
            f"{depth} intermediate(s) so far, at most {self.max_depth}",
            UnknownCA,
            "RFC 5280 §6.1 (max_depth)",
        )
        candidates = self.candidates(working, below)
        if not candidates:
            self.record(
                working,
                "issuer found",
                False,
                f"no certificate named {working.issuer.rfc4514_string()!r} (with a matching key "
                "identifier) in the chain or the trust store",
                UnknownCA,
                "RFC 5280 §6.1",
            )
        last: tuple[_Failed, list[Check]] | None = None
        for candidate in candidates[:CANDIDATES_PER_CERTIFICATE]:
            self.budget -= 1
            if self.budget < 0:
                self.exhausted = True
                self.record(
                    working,
                    "path building",
                    False,
                    f"gave up after {WORK_BUDGET} candidate issuers (a denial-of-service shaped chain)",
                    UnknownCA,
                    "RFC 4158 §3",
                )
            mark, lint_mark = len(self.report.checks), len(self.report.lints)
            try:
                for issuer_check in ISSUER:
                    issuer_check(self, candidate, working, depth)
                name_constraints(self, candidate, [*below, working])
                if self.crls:
                    check_revocation(self.record, self.crls, working, candidate, self.report.now)
                next_depth = depth if self.self_issued(candidate) else depth + 1
                return [working, *self.build(candidate, [*below, working], next_depth)]
            except _Failed as failure:
                if self.exhausted:
                    raise  # a spent budget ends the whole search, not just this branch
                last = (failure, self.report.checks[mark:])
                del self.report.checks[mark:]
                del self.report.lints[lint_mark:]
        assert last is not None
        self.report.checks.extend(last[1])  # report the last path tried
        raise last[0]


# =================================================================================================
# Checks on every certificate (RFC 5280 §4.1, §4.2; CA/B Forum 6.1.5, 7.1)
# =================================================================================================


def version_is_v3(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.1.2.1: extensions need version 3 (CABF 7.1.1)."""
    v.record(
        cert,
        "X.509 version",
        cert.version == x509.Version.v3,
        f"{cert.version.name} (v3 required)",
        cite="RFC 5280 §4.1.2.1",
    )


def serial_number_size(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.1.2.2: at most 20 octets (a verifier MUST accept 20; more is malformed)."""
    serial = cert.serial_number
    size = (abs(serial).bit_length() + 8) // 8
    v.record(
        cert,
        "serial number",
        size <= 21,
        f"{size} octet(s)" if size <= 21 else f"{size} octets: too long",
        cite="RFC 5280 §4.1.2.2",
    )


def serial_number_positive(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.1.2.2: a CA MUST give a positive serial (an issuance rule; trust anchors are
    trusted as they are, and some real roots have serial 0)."""
    ok = cert.serial_number > 0 or v.is_anchor(cert)
    v.lint(
        cert,
        "serial number positive",
        ok,
        f"serial {cert.serial_number} is not positive",
        "RFC 5280 §4.1.2.2; CABF BR 7.1",
    )


def issuer_name_present(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.1.2.4: the issuer field MUST contain a non-empty distinguished name."""
    v.record(
        cert,
        "issuer name",
        v.issuer_name(cert) != _EMPTY_NAME,
        "non-empty" if v.issuer_name(cert) != _EMPTY_NAME else "empty issuer",
        cite="RFC 5280 §4.1.2.4",
    )


def der_encoding(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.1.1.2 (the two algorithm fields agree), §4.1.2.5 (UTCTime until 2049), RFC
    5480 §2.1.1 (EC keys name their curve): details the parsed API hides, read from the DER."""
    try:
        same, times, named = encoding_facts(v.der(cert), v.der_parts(cert))
    except ValueError as exc:
        v.record(cert, "DER structure", False, str(exc), cite="X.690")
        return
    v.record(
        cert,
        "public key encoding",
        named,
        "named curve" if named else "EC key with explicit curve parameters (only named curves)",
        cite="RFC 5480 §2.1.1",
    )
    v.record(
        cert,
        "signature algorithm fields",
        same,
        "tbsCertificate.signature equals signatureAlgorithm"
        if same
        else "the two algorithm fields differ",
        cite="RFC 5280 §4.1.1.2",
    )
    bad = [year for kind, year in times if kind == "GeneralizedTime" and 1950 <= year < 2050]
    v.record(
        cert,
        "validity encoding",
        not bad,
        "UTCTime before 2050, GeneralizedTime after"
        if not bad
        else f"GeneralizedTime used for {bad[0]} (UTCTime required)",
        cite="RFC 5280 §4.1.2.5",
    )


def validity_period(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §6.1.3 (a)(2): ``now`` lies within notBefore..notAfter."""
    now, start, end = v.report.now, cert.not_valid_before_utc, cert.not_valid_after_utc
    ok = start <= now <= end

    def detail() -> str:
        if ok:
            return f"{start:%Y-%m-%d} .. {end:%Y-%m-%d} contains {now:%Y-%m-%d %H:%M}"
        return (
            f"{'not yet valid: starts' if now < start else 'expired: ended'} "
            f"{start if now < start else end:%Y-%m-%d %H:%M}, validation time {now:%Y-%m-%d %H:%M}"
        )

    v.record(cert, "validity period", ok, detail, CertificateExpired, "RFC 5280 §6.1.3 (a)(2)")


def critical_extensions_understood(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.2: a certificate with a critical extension the verifier does not understand
    MUST be rejected (fail closed)."""
    unknown = [
        e.oid.dotted_string
        for e in v.extensions(cert).values()
        if e.critical and e.oid not in _UNDERSTOOD
    ]
    v.record(
        cert,
        "critical extensions",
        not unknown,
        "all understood" if not unknown else f"unknown critical extension {unknown[0]}",
        UnsupportedCertificate,
        "RFC 5280 §4.2",
    )


def extension_criticality(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.2.1.1, §4.2.1.2, §4.2.2.1: AKI, SKI and AIA MUST be non-critical; §4.2.1.11:
    policyConstraints MUST be critical."""
    wrong = [
        e.oid._name for e in v.extensions(cert).values() if e.critical and e.oid in _NON_CRITICAL
    ]
    pc = v.ext(cert, ExtensionOID.POLICY_CONSTRAINTS)
    if pc is not None and not pc.critical:
        wrong.append("policyConstraints (must be critical)")
    v.record(
        cert,
        "extension criticality",
        not wrong,
        "as RFC 5280 requires" if not wrong else f"{wrong[0]} has the wrong criticality",
        cite="RFC 5280 §4.2.1",
    )


def public_key_allowed(v: _Validator, cert: x509.Certificate) -> None:
    """CABF 6.1.5 / 7.1.3.1: RSA of at least 2048 bits whose size is a multiple of 8, or ECDSA
    on P-256/P-384/P-521. (A leaf's Ed25519/Ed448 key is accepted: TLS 1.3 can use it.)"""
    try:
        key = v.public_key(cert)
    except (ValueError, UnsupportedAlgorithm) as exc:
        v.record(
            cert,
            "public key",
            False,
            f"unusable key: {exc}",
            UnsupportedCertificate,
            "RFC 5280 §4.1.2.7",
        )
        return
    if isinstance(key, rsa.RSAPublicKey):
        ok = key.key_size >= 2048 and (key.key_size % 8 == 0 or not v.webpki)
        v.record(
            cert,
            "public key",
            ok,
            f"RSA-{key.key_size} (2048 bits at least, a multiple of 8)",
            cite="CABF 6.1.5",
        )
    elif isinstance(key, ec.EllipticCurvePublicKey):
        v.record(
            cert,
            "public key",
            key.curve.name in _PERMITTED_CURVES,
            f"ECDSA {key.curve.name}",
            cite="CABF 6.1.5",
        )
    elif mldsa_parameter_set(key):
        v.record(
            cert,
            "public key",
            True,
            f"{mldsa_parameter_set(key)} (FIPS 204)",
            cite="draft-ietf-lamps-dilithium-certificates",
        )
    elif v.is_leaf(cert) and isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        v.record(
            cert,
            "public key",
            True,
            f"{type(key).__name__} (fine for a server; not for a CA)",
            cite="RFC 8446 §4.2.3",
        )
    else:
        v.record(
            cert,
            "public key",
            False,
            f"{type(key).__name__} is not allowed in the Web PKI",
            UnsupportedCertificate,
            "CABF 6.1.5",
        )


EVERY_CERTIFICATE: list[Callable[[_Validator, x509.Certificate], None]] = [
    version_is_v3,
    serial_number_size,
    serial_number_positive,
    issuer_name_present,
    der_encoding,
    validity_period,
    critical_extensions_understood,
    extension_criticality,
    public_key_allowed,
]


# =================================================================================================
# Checks on the leaf (RFC 5280 §4.2.1, RFC 6125 §6, CABF 7.1.2.7)
# =================================================================================================


def leaf_is_not_a_ca(v: _Validator, cert: x509.Certificate) -> None:
    """CABF 7.1.2.7.8: a subscriber certificate is not a CA (RFC 5280 alone allows it)."""
    bc = v.value(cert, x509.BasicConstraints)
    is_ca = isinstance(bc, x509.BasicConstraints) and bc.ca
    if v.webpki:
        v.record(
            cert,
            "leaf is not a CA",
            not is_ca,
            "basicConstraints cA=FALSE or absent"
            if not is_ca
            else "a CA certificate cannot be a server's end-entity certificate",
            cite="CABF 7.1.2.7.8",
        )


def leaf_key_usage(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.2.1.9: keyCertSign only with cA=TRUE; CABF 7.1.2.7.11: never in a leaf."""
    ku = v.value(cert, x509.KeyUsage)
    bc = v.value(cert, x509.BasicConstraints)
    cert_sign = isinstance(ku, x509.KeyUsage) and ku.key_cert_sign
    is_ca = isinstance(bc, x509.BasicConstraints) and bc.ca
    ok = not cert_sign if v.webpki else (is_ca or not cert_sign)
    v.record(
        cert,
        "keyUsage",
        ok,
        "no keyCertSign" if ok else "a leaf must not assert keyCertSign",
        cite="RFC 5280 §4.2.1.9",
    )


def leaf_extended_key_usage(v: _Validator, cert: x509.Certificate) -> None:
    """CABF 7.1.2.7.10: extendedKeyUsage present, non-critical, with serverAuth (clientAuth for a
    client) and without anyExtendedKeyUsage. RFC 5280 §4.2.1.12 alone: absent means any use."""
    eku = v.ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    usages = (
        list(eku.value) if eku is not None and isinstance(eku.value, x509.ExtendedKeyUsage) else []
    )
    anyeku = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE
    if eku is None:
        ok, why = not v.webpki, "missing (CABF 7.1.2.7.10 requires it)"
    elif eku.critical:
        ok, why = False, "must be non-critical"
    elif v.webpki and anyeku in usages:
        ok, why = False, "anyExtendedKeyUsage is not allowed in a subscriber certificate"
    else:
        ok = v.wanted_eku in usages or (not v.webpki and anyeku in usages)
        why = f"{v.wanted_eku._name} missing: not a TLS {v.purpose} certificate"
    v.record(
        cert,
        "extendedKeyUsage",
        ok,
        f"{v.wanted_eku._name} allowed" if ok else why,
        UnsupportedCertificate,
        "CABF 7.1.2.7.10",
    )


def leaf_authority_key_identifier(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.2.1.1: AKI present and non-critical (``cryptography`` requires it in a leaf)."""
    aki = v.ext(cert, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    ok = aki is not None and not aki.critical
    v.record(
        cert,
        "authorityKeyIdentifier",
        ok,
        "present" if ok else "missing or critical",
        cite="RFC 5280 §4.2.1.1",
    )


def leaf_has_no_name_constraints(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 5280 §4.2.1.10: name constraints MUST be used only in a CA certificate."""
    ok = v.ext(cert, ExtensionOID.NAME_CONSTRAINTS) is None
    v.record(
        cert,
        "nameConstraints",
        ok,
        "absent" if ok else "only CAs may carry name constraints",
        cite="RFC 5280 §4.2.1.10",
    )


def leaf_subject_alt_name(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 6125 §6.4.4 / CABF 7.1.2.7.12: the names are in the subjectAltName (never the CN);
    RFC 5280 §4.2.1.6: critical exactly when the subject is empty."""
    san = v.ext(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if v.purpose == "client" and san is None:
        return
    v.record(
        cert,
        "subjectAltName",
        san is not None,
        "present" if san is not None else "no subjectAltName (the CN is never used, RFC 6125)",
        cite="RFC 6125 §6.4.4",
    )
    assert san is not None
    empty_subject = v.subject(cert) == _EMPTY_NAME
    ok = san.critical == empty_subject
    v.record(
        cert,
        "subjectAltName criticality",
        ok,
        "ok"
        if ok
        else "must be critical when the subject is empty"
        if empty_subject
        else "must not be critical when there is a subject",
        cite="RFC 5280 §4.2.1.6",
    )


def leaf_common_name_copies_a_san(v: _Validator, cert: x509.Certificate) -> None:
    """CABF 7.1.4.3 (issuance): a CN, if present, is a character-for-character copy of a SAN.
    Browsers ignore the CN, so this is a lint, not a verdict."""
    san = v.value(cert, x509.SubjectAlternativeName)
    if not isinstance(san, x509.SubjectAlternativeName):
        return
    allowed = {str(g.value) for g in san if isinstance(g, (x509.DNSName, x509.IPAddress))}
    common_names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    stray = [cn for cn in common_names if cn not in allowed]
    v.lint(
        cert,
        "subject CN",
        not stray,
        f"CN {stray[0]!r} is not character-for-character one of the SANs" if stray else "",
        "CABF BR 7.1.4.3",
    )


def leaf_matches_server_name(v: _Validator, cert: x509.Certificate) -> None:
    """RFC 6125 §6.4 / RFC 9525 §6.3: a dNSName (ASCII, wildcard only as the whole left-most
    label) or iPAddress SAN matches the name the client asked for. Nothing else is consulted."""
    if v.purpose == "client":
        v.record(
            cert,
            "client identity",
            True,
            "a client certificate names no server: no name check",
            None,
            "RFC 8446 §4.4.2.4",
        )
        return
    san = v.value(cert, x509.SubjectAlternativeName)
    assert isinstance(san, x509.SubjectAlternativeName)
    name = _Name.parse(v.report.server_name)
    if name.ip is None and looks_like_ip(name.text):
        v.record(
            cert,
            "server name",
            False,
            f"{name.text!r} is an IP address in a legacy form, never a DNS name",
            cite="RFC 9525 §6.2",
        )
    matched = None
    for general in san:
        if name.ip is not None and isinstance(general, x509.IPAddress) and general.value == name.ip:
            matched = str(general.value)
        elif (
            name.ip is None
            and isinstance(general, x509.DNSName)
            and dns_name_matches(general.value, name.text)
        ):
            matched = general.value
        if matched:
            break
    shown = ", ".join(repr(str(g.value)) for g in san)
    v.record(
        cert,
        "server name",
        matched is not None,
        f"{name.text!r} matches SAN {matched!r}"
        if matched
        else f"{name.text!r} matches none of {shown}",
        cite="RFC 6125 §6.4",
    )


LEAF: list[Callable[[_Validator, x509.Certificate], None]] = [
    leaf_is_not_a_ca,
    leaf_key_usage,
    leaf_extended_key_usage,
    leaf_authority_key_identifier,
    leaf_has_no_name_constraints,
    leaf_subject_alt_name,
    leaf_common_name_copies_a_san,
    leaf_matches_server_name,
]


# =================================================================================================
# Checks on each issuer (RFC 5280 §6.1.3, §6.1.4; CABF 7.1.2.1/7.1.2.2)
# =================================================================================================


def issuer_own_checks(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """Every-certificate checks on the candidate issuer (run once, replayed on other paths)."""
    v.own_checks(issuer)


def issuer_is_a_ca(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """RFC 5280 §6.1.4 (k): basicConstraints with cA=TRUE; §4.2.1.9: critical in a CA."""
    bc = v.ext(issuer, ExtensionOID.BASIC_CONSTRAINTS)
    ca = bc is not None and isinstance(bc.value, x509.BasicConstraints) and bc.value.ca
    ok = ca and bc is not None and bc.critical
    why = (
        "missing"
        if bc is None
        else "cA=FALSE: this certificate may not issue certificates"
        if not ca
        else "not critical"
    )
    v.record(
        issuer,
        "basicConstraints",
        ok,
        "critical, cA=TRUE" if ok else why,
        cite="RFC 5280 §6.1.4 (k)",
    )


def issuer_path_length(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """RFC 5280 §6.1.4 (l)/(m): pathLenConstraint bounds the non-self-issued intermediates below."""
    bc = v.value(issuer, x509.BasicConstraints)
    limit = bc.path_length if isinstance(bc, x509.BasicConstraints) else None
    ok = limit is None or depth <= limit
    v.record(
        issuer,
        "pathLenConstraint",
        ok,
        f"{depth} intermediate(s) below, limit {'none' if limit is None else limit}",
        cite="RFC 5280 §6.1.4 (l)",
    )


def issuer_key_usage(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """RFC 5280 §6.1.4 (n): if keyUsage is present, keyCertSign is set. Its absence is an
    issuance lint (RFC 5280 §4.2.1.3, CABF 7.1.2.1.b: CAs MUST include it)."""
    ku = v.value(issuer, x509.KeyUsage)
    if ku is None:
        v.lint(
            issuer,
            "keyUsage keyCertSign",
            False,
            "a CA certificate without keyUsage",
            "RFC 5280 §4.2.1.3; CABF BR 7.1.2",
        )
        return
    assert isinstance(ku, x509.KeyUsage)
    v.record(
        issuer,
        "keyUsage keyCertSign",
        ku.key_cert_sign,
        "present" if ku.key_cert_sign else "keyCertSign not asserted",
        cite="RFC 5280 §6.1.4 (n)",
    )


def issuer_extended_key_usage(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """CABF 7.1.2.2.g: a CA's extendedKeyUsage (if any) is non-critical and allows the purpose."""
    eku = v.ext(issuer, ExtensionOID.EXTENDED_KEY_USAGE)
    if eku is None:
        return
    ok = (
        isinstance(eku.value, x509.ExtendedKeyUsage)
        and not eku.critical
        and (v.wanted_eku in eku.value or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku.value)
    )
    v.record(
        issuer,
        "extendedKeyUsage",
        ok,
        f"allows {v.wanted_eku._name}" if ok else f"does not allow {v.wanted_eku._name}",
        cite="CABF 7.1.2.2.g",
    )


def issuer_name_constraints_well_formed(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """RFC 5280 §4.2.1.10: at least one subtree, each well-formed, and critical (the CA/B Forum
    relaxes criticality to MAY, so the webpki profile accepts non-critical)."""
    nc = v.ext(issuer, ExtensionOID.NAME_CONSTRAINTS)
    if nc is None or not isinstance(nc.value, x509.NameConstraints):
        return
    trees = [*(nc.value.permitted_subtrees or []), *(nc.value.excluded_subtrees or [])]
    malformed = [m for m in (malformed_subtree(t) for t in trees) if m]
    why = (
        "empty name constraints"
        if not trees
        else malformed[0]
        if malformed
        else "must be critical"
        if not nc.critical and not v.webpki
        else ""
    )
    v.record(issuer, "nameConstraints", not why, why or "well-formed", cite="RFC 5280 §4.2.1.10")


def issuer_authority_key_identifier(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """CABF 7.1.2.2.c: a CA's AKI, if present, is non-critical and holds only a keyIdentifier.
    Its absence in an intermediate is an issuance lint (RFC 5280 §4.2.1.1)."""
    aki = v.ext(issuer, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
    if aki is None:
        if not v.is_anchor(issuer):
            v.lint(
                issuer,
                "authorityKeyIdentifier",
                False,
                "an intermediate CA without an authorityKeyIdentifier",
                "RFC 5280 §4.2.1.1; CABF BR 7.1.2",
            )
        return
    value = aki.value
    ok = (
        not aki.critical
        and isinstance(value, x509.AuthorityKeyIdentifier)
        and value.key_identifier is not None
        and value.authority_cert_issuer is None
        and value.authority_cert_serial_number is None
    )
    v.record(
        issuer,
        "authorityKeyIdentifier",
        ok,
        "well-formed" if ok else "malformed for a CA (keyIdentifier only)",
        cite="CABF 7.1.2.2.c",
    )


def issuer_subject_key_identifier(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """RFC 5280 §4.2.1.2 / CABF 7.1.2.2: CA certificates MUST carry a subjectKeyIdentifier
    (an issuance rule: path building works without it)."""
    ok = v.ext(issuer, ExtensionOID.SUBJECT_KEY_IDENTIFIER) is not None
    v.lint(
        issuer,
        "subjectKeyIdentifier",
        ok,
        "a CA certificate without a subjectKeyIdentifier",
        "RFC 5280 §4.2.1.2; CABF BR 7.1.2",
    )


def child_signature_algorithm(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """CABF 7.1.3.2: PKCS #1 v1.5 or ECDSA with SHA-256/384/512, or RSASSA-PSS with SHA-256/384/512,
    MGF1 with the same hash and a salt as long as the hash (RFC 4055 §3.1). SHA-1 in no form."""
    oid = child.signature_algorithm_oid
    name = getattr(oid, "_name", oid.dotted_string)
    if oid == SignatureAlgorithmOID.RSASSA_PSS:
        try:
            params = pss_parameters(v.der(child))
        except ValueError as exc:
            params, why = None, str(exc)
        if params is not None:
            digest, mgf, salt, trailer = params
            ok = (
                digest in _PSS_SALT and mgf == digest and salt == _PSS_SALT[digest] and trailer == 1
            )
            why = f"RSASSA-PSS {digest}, MGF1-{mgf}, salt {salt}" + (
                "" if ok else " (need SHA-256/384/512, the same MGF1 hash, salt = hash length)"
            )
            v.record(
                child, "signature algorithm", ok, why, UnsupportedCertificate, "CABF 7.1.3.2.1"
            )
            return
        v.record(
            child,
            "signature algorithm",
            False,
            f"RSASSA-PSS parameters: {why}",
            UnsupportedCertificate,
            "RFC 4055 §3.1",
        )
    v.record(
        child,
        "signature algorithm",
        oid in _PKCS1_SIGNATURES or oid in MLDSA_SIGNATURES,
        name,
        UnsupportedCertificate,
        "CABF 7.1.3.2",
    )


_EDDSA_SIGNATURES = {
    ed25519.Ed25519PublicKey: SignatureAlgorithmOID.ED25519,
    ed448.Ed448PublicKey: SignatureAlgorithmOID.ED448,
}


def verify_certificate_signature(issuer_key: Any, child: x509.Certificate) -> None:
    """RFC 5280 §4.1.1.3, §6.1.3 (a)(1): the issuer's public key verifies ``signatureValue`` over
    the DER of ``tbsCertificate`` with the algorithm ``signatureAlgorithm`` names (RSA PKCS#1 v1.5
    or PSS, ECDSA, Ed25519/Ed448, ML-DSA). The algorithm must fit the key's type. Raises
    InvalidSignature, or TypeError/ValueError/UnsupportedAlgorithm for a mismatch."""
    signature, tbs = child.signature, child.tbs_certificate_bytes
    oid = child.signature_algorithm_oid
    if isinstance(issuer_key, rsa.RSAPublicKey):
        padding = child.signature_algorithm_parameters  # PKCS1v15() or PSS(...)
        hash_algorithm = child.signature_hash_algorithm
        if hash_algorithm is None or isinstance(padding, ec.ECDSA):
            raise ValueError(f"{oid.dotted_string} is not an RSA signature algorithm")
        issuer_key.verify(signature, tbs, padding, hash_algorithm)  # type: ignore[arg-type]
    elif isinstance(issuer_key, ec.EllipticCurvePublicKey):
        ecdsa = child.signature_algorithm_parameters
        if not isinstance(ecdsa, ec.ECDSA):
            raise ValueError(f"{oid.dotted_string} is not an ECDSA signature algorithm")
        issuer_key.verify(signature, tbs, ecdsa)
    elif isinstance(issuer_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        expected = next(o for k, o in _EDDSA_SIGNATURES.items() if isinstance(issuer_key, k))
        if oid != expected:
            raise ValueError(f"{oid.dotted_string} is not {expected._name}")
        issuer_key.verify(signature, tbs)
    elif mldsa_parameter_set(issuer_key) is not None:
        if getattr(oid, "_name", "") != mldsa_parameter_set(issuer_key):
            raise ValueError(f"{oid.dotted_string} is not {mldsa_parameter_set(issuer_key)}")
        issuer_key.verify(signature, tbs)
    else:
        raise UnsupportedAlgorithm(f"issuer key {type(issuer_key).__name__}")


def child_signature_verifies(
    v: _Validator, issuer: x509.Certificate, child: x509.Certificate, depth: int
) -> None:
    """RFC 5280 §6.1.3 (a)(1): the child's signature verifies with the issuer's public key. A
    name match proves nothing; only this does."""
    verdict = v.signature_verdict(issuer, child)
    if verdict is None:
        v.exhausted = True
        v.record(
            child,
            "signature",
            False,
            f"more than {SIGNATURE_BUDGET} signature verifications: refusing (denial of service)",
            UnknownCA,
            "RFC 4158 §3",
        )
    assert verdict is not None
    ok, why = verdict

    def detail() -> str:
        if ok:
            return f"signed by {v.label(issuer)}'s key"
        return f"does not verify with {v.label(issuer)}'s key ({why})"

    alert = UnknownCA if v.is_anchor(issuer) else BadCertificate  # a wrong root is an unknown CA
    v.record(child, "signature", ok, detail, alert, "RFC 5280 §6.1.3 (a)(1)")


ISSUER: list[Callable[[_Validator, x509.Certificate, x509.Certificate, int], None]] = [
    issuer_own_checks,
    issuer_is_a_ca,
    issuer_path_length,
    issuer_key_usage,
    issuer_extended_key_usage,
    issuer_name_constraints_well_formed,
    issuer_authority_key_identifier,
    issuer_subject_key_identifier,
    child_signature_algorithm,
    child_signature_verifies,
]


def name_constraints(
    v: _Validator, issuer: x509.Certificate, below: list[x509.Certificate]
) -> None:
    """RFC 5280 §6.1.3 (b)/(c): every name of every certificate below the CA (its subject DN, its
    subject emailAddress and its SANs; a self-issued intermediate's excepted) is within a
    permitted subtree of its form and in no excluded subtree."""
    nc = v.value(issuer, x509.NameConstraints)
    if not isinstance(nc, x509.NameConstraints):
        return
    trees = len(nc.permitted_subtrees or []) + len(nc.excluded_subtrees or [])
    for cert in below:
        if v.self_issued(cert) and cert is not below[0]:
            continue  # self-issued intermediates are exempt (RFC 5280 §6.1.4 (b))
        names = _names_of(v, cert)
        v.nc_budget -= len(names) * trees
        if v.nc_budget < 0:
            v.exhausted = True
            v.record(
                issuer,
                "name constraints",
                False,
                f"more than {NAME_CONSTRAINT_BUDGET} name/constraint comparisons: refusing (denial of service)",
                cite="RFC 5280 §6.1.3 (b)",
            )
        for general in names:
            verdict = constraint_verdict(nc, general)
            if verdict is not None:
                v.record(
                    issuer,
                    "name constraints",
                    False,
                    f"{v.label(cert)}: {verdict}",
                    cite="RFC 5280 §6.1.3 (b)",
                )
        v.record(
            issuer,
            "name constraints",
            True,
            f"{v.label(cert)}: all {len(names)} name(s) allowed",
            cite="RFC 5280 §6.1.3 (b)",
        )


def _names_of(v: _Validator, cert: x509.Certificate) -> list[x509.GeneralName]:
    san = v.value(cert, x509.SubjectAlternativeName)
    names: list[x509.GeneralName] = (
        list(san) if isinstance(san, x509.SubjectAlternativeName) else []
    )
    subject = cert.subject
    if len(subject):
        names.append(x509.DirectoryName(subject))
    names += [SubjectEmail(e) for e in subject_emails(subject)]
    return names


# =================================================================================================
# Checks on the trust anchor (CABF 7.1.2.1)
# =================================================================================================


def anchor_authority_key_identifier(v: _Validator, root: x509.Certificate) -> None:
    """RFC 5280 §4.2.1.1: a cross-signed (not self-issued) anchor carries an AKI like any
    certificate a CA issued: an issuance rule, so a lint."""
    if not v.self_issued(root):
        ok = v.ext(root, ExtensionOID.AUTHORITY_KEY_IDENTIFIER) is not None
        v.lint(
            root,
            "authorityKeyIdentifier",
            ok,
            "a cross-signed trust anchor without an authorityKeyIdentifier",
            "RFC 5280 §4.2.1.1; CABF BR 7.1.2",
        )


def anchor_has_no_eku(v: _Validator, root: x509.Certificate) -> None:
    """CABF 7.1.2.1.d: a root certificate carries no extendedKeyUsage."""
    if v.webpki and v.self_issued(root):
        ok = v.ext(root, ExtensionOID.EXTENDED_KEY_USAGE) is None
        v.record(
            root,
            "root has no EKU",
            ok,
            "none" if ok else "a root certificate must not carry extendedKeyUsage",
            cite="CABF 7.1.2.1.d",
        )


def anchor_aki_names_itself(v: _Validator, root: x509.Certificate) -> None:
    """CABF 7.1.2.1.b: a self-signed root's AKI (if any) holds only a keyIdentifier equal to its SKI."""
    aki = v.value(root, x509.AuthorityKeyIdentifier)
    if not v.webpki or not v.self_issued(root) or not isinstance(aki, x509.AuthorityKeyIdentifier):
        return
    ski = v.value(root, x509.SubjectKeyIdentifier)
    same = (
        isinstance(ski, x509.SubjectKeyIdentifier)
        and aki.key_identifier == ski.digest
        and aki.authority_cert_issuer is None
        and aki.authority_cert_serial_number is None
    )
    v.record(
        root,
        "root AKI = SKI",
        same,
        "matches" if same else "a self-signed root's AKI must hold only its own SKI",
        cite="CABF 7.1.2.1.b",
    )


ANCHOR: list[Callable[[_Validator, x509.Certificate], None]] = [
    anchor_authority_key_identifier,
    anchor_has_no_eku,
    anchor_aki_names_itself,
]


# =================================================================================================
# Entry points
# =================================================================================================


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
    crls: Sequence[x509.CertificateRevocationList] = (),
    strict: bool = False,
    compare_with_production: bool = True,
) -> ValidationReport:
    """Validate ``leaf`` for ``server_name`` at ``now`` and explain every check (module doc).

    ``profile``: ``"webpki"`` (the production verdict; issuance rules as lints), ``"strict"``
    (every lint fails the chain) or ``"rfc5280"`` (RFC 5280 alone). ``purpose="client"``
    validates a TLS client certificate (clientAuth, no server name). ``crls`` are checked for
    every certificate on the path (RFC 5280 §6.3). ``max_depth`` bounds the intermediates: at most that many that are not self-issued, and twice
    that many in all, so no chain of self-issued certificates grows the path without end.
    With ``strict=True`` a failure raises the matching TLS error."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}")
    if purpose not in ("server", "client"):
        raise ValueError("purpose must be 'server' or 'client'")
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    now = now.replace(microsecond=0)  # X.509 times have one-second granularity
    report = ValidationReport(server_name, now, profile=profile)
    validator = _Validator(report, intermediates, trust_roots, max_depth, profile, purpose, crls)
    validator.leaf_certificate = leaf
    try:
        validator.own_checks(leaf)
        for check in LEAF:
            check(validator, leaf)
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


# -- the engine's one entry point for a peer's certificate chain ------------------------------------


@dataclass(frozen=True)
class PeerChain:
    """A peer's certificate chain as the handshake received it: parsed, and validated unless the
    caller chose not to (``report`` is then None)."""

    certificates: tuple[x509.Certificate, ...]
    report: ValidationReport | None

    @property
    def leaf(self) -> x509.Certificate:
        return self.certificates[0]

    def __repr__(self) -> str:
        verdict = "not validated" if self.report is None else f"{len(self.report.checks)} checks"
        return f"<PeerChain {len(self.certificates)} certificates, {verdict}>"


def validate_peer_chain(
    der_chain: Sequence[bytes],
    trust_roots: Sequence[x509.Certificate],
    name: str,
    now: dt.datetime,
    purpose: str = "server",
    *,
    validate: bool = True,
) -> PeerChain:
    """Parse the DER chain of a Certificate message (leaf first) and validate it for ``name`` at
    ``now`` (RFC 8446 §4.4.2.4, RFC 5246 §7.4.2; RFC 5280 §6). Client and server both call this.

    Every way the bytes can fail to be a certificate (bad DER, an unsupported key, an extension
    that does not parse) raises :class:`BadCertificate`; a chain that parses but is not trusted
    raises the alert :func:`validate_chain` names. ``validate=False`` only parses (the client's
    insecure mode). Taught in notebooks 03 and 08."""
    if not der_chain:
        raise BadCertificate("the certificate chain is empty", expected=">= 1 certificate", seen=0)
    try:
        parsed = tuple(x509.load_der_x509_certificate(bytes(der)) for der in der_chain)
        parsed[0].public_key()
        if not validate:
            return PeerChain(parsed, None)
        report = validate_chain(
            parsed[0],
            parsed[1:],
            trust_roots,
            name,
            now,
            purpose=purpose,
            strict=True,
            compare_with_production=False,
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise BadCertificate(f"{purpose} certificate does not parse: {exc}") from None
    return PeerChain(parsed, report)


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
